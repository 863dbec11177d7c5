# Helpers for scenarios (POSIX sh; sourced). Runs inside the guest's chroot of the host root.
#
# Set by guest-run.sh: RESULTS (writable results dir), VMH_SRC (tests/vm), LB_BUSID, MS_BUSID
# (busids of the loopback and mass-storage gadgets on the dummy_hcd host side), LB_ID, MS_ID
# (their vid:pid), MS_IMAGE (the mass-storage backing file), and, when given to run-vm.sh,
# USBIP_TOOL, USBIPCORED, USBIP_PLUGIN_DIR.

IP=/usr/sbin/ip
TC=/usr/sbin/tc

say() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() { echo "SKIP $*"; exit 77; }

# now: seconds since boot with fractions; elapsed START: seconds since START
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds; fails after SECONDS
# (counts iterations instead of reading the clock: forks are slow under TCG)
wait_for() {
  _n=$(($1 * 10)); shift
  while ! "$@" >/dev/null 2>&1; do
    _n=$((_n - 1))
    [ $_n -gt 0 ] || return 1
    sleep 0.1  # allowed sleep: poll interval of a bounded wait
  done
}

# run CMD...: logs and runs CMD, fails the scenario when it fails
run() {
  say "+ $*"
  "$@" || fail "'$*' exited with $?"
}

# tcp_listening PORT: something listens on 127.0.0.1/0.0.0.0/:: PORT
tcp_listening() {
  _hex=$(printf '%04X' "$1")
  awk -v p=":$_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6
}

tcp_free() { ! tcp_listening "$1"; }

# pid_listens PID PORT: process PID itself owns a socket listening on PORT (its fds against
# the inodes in /proc/net/tcp{,6}): "something answers on PORT" is not enough. Also true when
# PID is gone (so a wait ends at once); callers check `kill -0` after.
pid_listens() {
  kill -0 "$1" 2>/dev/null || return 0
  ls -l "/proc/$1/fd" 2>/dev/null | awk -v p=":$(printf '%04X' "$2")" '
    FILENAME == "-" { if (match($0, /socket:\[[0-9]+\]/)) ino[substr($0, RSTART + 8, RLENGTH - 9)] = 1; next }
    $4 == "0A" && substr($2, length($2) - 4) == p && ($10 in ino) { f = 1 }
    END { exit !f }' - /proc/net/tcp /proc/net/tcp6
}
# started PID PORT WHAT: waits until PID listens on PORT; fails if it died or never listened
started() {
  wait_for 10 pid_listens "$1" "$2" && kill -0 "$1" 2>/dev/null ||
    fail "$3 (pid $1) is not listening on $2${4:+: $4}"
}

# _usb_device_under GLOB VID:PID: prints the name of the first usb device (not a root hub,
# not an interface) below sysfs dirs matching GLOB with that id. Uses only shell builtins.
_usb_device_under() {
  for _d in $1/usb*/[0-9]*-*; do
    case ${_d##*/} in *:*) continue ;; esac
    [ -f "$_d/idVendor" ] || continue
    read -r _v < "$_d/idVendor"; read -r _p < "$_d/idProduct"
    [ "$_v:$_p" = "$2" ] || continue
    echo "${_d##*/}"; return 0
  done
  return 1
}

# vhci_device VID:PID: prints the sysfs name of a device with that id under vhci_hcd
vhci_device() { _usb_device_under "/sys/devices/platform/vhci_hcd.*" "$1"; }

# local_busid VID:PID: prints the busid of a device with that id on a dummy_hcd (exportable)
local_busid() { _usb_device_under "/sys/devices/platform/dummy_hcd.*" "$1"; }

# vhci_block VID:PID: prints the sdX of a disk behind a vhci-attached device with that id
vhci_block() {
  _dev=$(vhci_device "$1") || return 1
  for b in /sys/block/sd*; do
    [ -e "$b" ] || continue
    case $(readlink -f "$b") in */"$_dev"/*) echo "${b##*/}"; return 0 ;; esac
  done
  return 1
}

# upstream_port VID:PID: prints the vhci port number `usbip port` lists for that id
upstream_port() {
  usbip port 2>/dev/null | awk -v id="($1)" '
    /^Port [0-9]+:/ { p = $2; sub(":", "", p); p += 0 }
    index($0, id) { print p; found = 1; exit }
    END { exit !found }'
}

# driver_of BUSID: prints the driver a usb device is bound to (empty when none)
# scratch_dir NAME: D=/tmp/NAME, made empty
scratch_dir() { D=/tmp/$1; rm -rf "$D" && mkdir -p "$D"; }

# has FILE TEXT: FILE holds TEXT (grep pattern)
has() { grep -q "$2" "$1" 2>/dev/null; }

# detach_upstream VID:PID: detaches it with upstream `usbip detach` and waits until vhci drops it
detach_upstream() {
  _port=$(upstream_port "$1") || fail "usbip port does not show $1"
  run usbip detach -p "$_port"
  wait_for 10 absent vhci_device "$1" || fail "$1 still present after detach"
}

driver_of() {
  [ -e "/sys/bus/usb/devices/$1/driver" ] && basename "$(readlink -f "/sys/bus/usb/devices/$1/driver")"
}

# Start tcpdump on lo for port 3240 into FILE; sets TCPDUMP_PID. stop_capture ends it.
start_capture() {
  tcpdump -i lo -U -s 0 -w "$1" port 3240 2> "$1.log" &
  TCPDUMP_PID=$!
  wait_for 10 grep -q "listening on" "$1.log" || fail "tcpdump did not start: $(cat "$1.log")"
}
stop_capture() {
  [ -n "${TCPDUMP_PID:-}" ] || return 0
  # lets tcpdump read the last packets from its buffer (SIGINT drops what is still queued);
  # the capture's content is checked by whoever reads it
  sleep 0.2  # allowed sleep: tcpdump drains its buffer
  kill -INT "$TCPDUMP_PID" 2>/dev/null
  wait "$TCPDUMP_PID" 2>/dev/null
  TCPDUMP_PID=
}

# Start upstream usbipd in the background and wait for its socket
start_usbipd() {
  run usbipd -D --pid=/tmp/usbipd.pid
  wait_for 10 test -s /tmp/usbipd.pid || fail "usbipd -D wrote no pid file"
  started "$(cat /tmp/usbipd.pid)" 3240 usbipd
}
stop_usbipd() {
  [ -f /tmp/usbipd.pid ] && kill "$(cat /tmp/usbipd.pid)" 2>/dev/null
  rm -f /tmp/usbipd.pid
  wait_for 10 tcp_free 3240 || fail "port 3240 still listening 10 s after stopping usbipd"
}

# absent CMD...: succeeds when CMD fails (for wait_for)
absent() { ! "$@"; }
# driver_is BUSID DRIVER
driver_is() { [ "$(driver_of "$1")" = "$2" ]; }

# need_tool / need_daemon: skip the scenario when our usbip-tool / usbipcored was not given
need_tool() {
  [ -n "${USBIP_TOOL:-}" ] || skip "USBIP_TOOL not set (usbip-tool not built)"
  [ -x "$USBIP_TOOL" ] || skip "$USBIP_TOOL not executable"
}
need_daemon() {
  [ -n "${USBIPCORED:-}" ] || skip "USBIPCORED not set (usbipcored not built)"
  [ -x "$USBIPCORED" ] || skip "$USBIPCORED not executable"
}

# start_usbipcored [ARGS...]: our daemon in the foreground of a background job, listening on
# 127.0.0.1:3240 unless ARGS say otherwise; log in $RESULTS/logs/usbipcored-<scenario>.log.
# Sets USBIPCORED_PID (also in /tmp/usbipcored.pid for the runner's cleanup).
start_usbipcored() {
  _log=$RESULTS/logs/usbipcored-$(basename "$0" .sh).log
  [ $# -gt 0 ] || set -- --listen 127.0.0.1:3240
  say "+ $USBIPCORED $* (log: $_log)"
  "$USBIPCORED" "$@" >> "$_log" 2>&1 &
  USBIPCORED_PID=$!
  echo "$USBIPCORED_PID" > /tmp/usbipcored.pid
  started "$USBIPCORED_PID" 3240 usbipcored "$(cat "$_log")"
}
stop_usbipcored() {
  [ -n "${USBIPCORED_PID:-}" ] || return 0
  kill "$USBIPCORED_PID" 2>/dev/null
  wait "$USBIPCORED_PID" 2>/dev/null
  USBIPCORED_PID=
  rm -f /tmp/usbipcored.pid
  wait_for 10 tcp_free 3240 || fail "port 3240 still listening 10 s after stopping usbipcored"
}

# expect_rc CODE OUTFILE CMD...: runs CMD with stdout+stderr into OUTFILE (and the log);
# fails the scenario unless it exits with CODE
expect_rc() {
  _want=$1 _out=$2; shift 2
  say "+ $* (expecting exit $_want)"
  "$@" > "$_out" 2>&1
  _rc=$?
  sed 's/^/  > /' "$_out"
  [ "$_rc" -eq "$_want" ] || fail "'$*' exited with $_rc, expected $_want"
}

# same_as_upstream NAME THEIRS OURS: our human output OURS must equal upstream's THEIRS byte
# for byte, except for the intended differences checked in as
# $VMH_SRC/upstream-differences/NAME.diff (the output of `diff THEIRS OURS`, each difference
# explained in upstream-differences/README.md): a new, changed or vanished difference fails.
# The diff seen is kept as $RESULTS/upstream-differences/NAME.diff.
same_as_upstream() {
  mkdir -p "$RESULTS/upstream-differences"
  _seen=$RESULTS/upstream-differences/$1.diff
  diff "$2" "$3" > "$_seen"
  _want=$VMH_SRC/upstream-differences/$1.diff
  [ -f "$_want" ] || _want=/dev/null
  diff -u "$_want" "$_seen" > "$_seen.unexpected" ||
    fail "$1: our output differs from upstream's other than as listed in upstream-differences/$1.diff:
$(cat "$_seen.unexpected")"
  say "$1: identical to upstream's$( [ -s "$_seen" ] && echo ", but for the listed differences")"
}

# vhci_attached_count: number of used vhci ports (all controllers)
vhci_attached_count() {
  cat /sys/devices/platform/vhci_hcd.*/status* 2>/dev/null |
    awk '$1 ~ /^(hs|ss)$/ && $3 != "004" { n++ } END { print n + 0 }'
}

# median: prints the median of the numbers on stdin (one a line)
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# figure NAME VALUE UNIT: a measured number for tests/vm/collect-figures.sh
figure() { echo "FIGURE $1 $2 $3"; say "figure $1 = $2 $3"; }

# vm_hwm PID: peak RSS of a process in KiB (VmHWM)
vm_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# disk_roundtrip VID:PID: waits for the imported disk, writes 4 MiB of random data with
# O_DIRECT, reads it back and compares; sets RT_MD5 (the md5 of the data written)
disk_roundtrip() {
  _t=$(now)
  wait_for 30 vhci_block "$1" || fail "no disk appeared behind the imported $1"
  _sd=$(vhci_block "$1")
  say "attach -> /dev/$_sd in $(elapsed "$_t") s (from the wait)"
  wait_for 10 test -b "/dev/$_sd" || fail "/dev/$_sd is not a block device"
  say "/dev/$_sd: $(cat "/sys/block/$_sd/size") sectors"
  head -c 4194304 /dev/urandom > /tmp/rand.bin
  _t=$(now)
  run dd if=/tmp/rand.bin of="/dev/$_sd" bs=1M oflag=direct conv=fsync status=none
  say "write 4 MiB: $(elapsed "$_t") s"
  echo 3 > /proc/sys/vm/drop_caches
  _t=$(now)
  run dd if="/dev/$_sd" of=/tmp/back.bin bs=1M count=4 iflag=direct status=none
  say "read 4 MiB: $(elapsed "$_t") s"
  RT_MD5=$(md5sum < /tmp/rand.bin | cut -d' ' -f1)
  _b=$(md5sum < /tmp/back.bin | cut -d' ' -f1)
  say "md5 written $RT_MD5, read back $_b"
  [ "$RT_MD5" = "$_b" ] || fail "data read back differs"
}

# backing_matches MD5: the first 4 MiB of the gadget's backing file have that md5
backing_matches() {
  _c=$(head -c 4194304 "$MS_IMAGE" | md5sum | cut -d' ' -f1)
  say "md5 of the gadget's backing file: $_c"
  [ "$1" = "$_c" ] || fail "the gadget's backing file does not hold the data"
}

# --- auto-reconnect (usbip-tool attach --auto-reconnect)

# start_supervisor EVENTS-FILE BUSID [ARGS...]: `usbip-tool --json attach -r 127.0.0.1 -b BUSID
# --auto-reconnect ARGS` in the background, one JSON event a line into EVENTS-FILE (stderr into
# EVENTS-FILE.err). Sets SUP_PID (also in /tmp/supervisor.pid; stop_supervisor ends it).
start_supervisor() {
  _ev=$1 _b=$2; shift 2
  : > "$_ev"
  say "+ $USBIP_TOOL --json attach -r ${SUP_HOST:-127.0.0.1} -b $_b --auto-reconnect $* > $_ev &"
  "$USBIP_TOOL" --json attach -r "${SUP_HOST:-127.0.0.1}" -b "$_b" --auto-reconnect "$@" > "$_ev" 2> "$_ev.err" &
  SUP_PID=$!
  echo "$SUP_PID" > /tmp/supervisor.pid
}
# stop_supervisor: SIGTERM to a supervisor still running (the attachment stays), reaps it
stop_supervisor() {
  [ -n "${SUP_PID:-}" ] || return 0
  kill "$SUP_PID" 2>/dev/null
  wait "$SUP_PID" 2>/dev/null
  SUP_PID=
  rm -f /tmp/supervisor.pid
}
# sup_running: the supervisor started last is still alive
sup_running() { [ -n "${SUP_PID:-}" ] && kill -0 "$SUP_PID" 2>/dev/null; }

# events FILE: the event names in FILE, space-separated, in order
events() { sed -n 's/.*"event":"\([a-z-]*\)".*/\1/p' "$1" | tr '\n' ' ' | sed 's/ $//'; }
# event_count FILE NAME: how many NAME events FILE holds
event_count() { grep -c "\"event\":\"$2\"" "$1"; }
# has_events FILE NAME N: FILE holds at least N NAME events (for wait_for)
has_events() { [ "$(event_count "$1" "$2")" -ge "$3" ]; }
# last_event_port FILE NAME: the "port" of the last NAME event
last_event_port() { grep "\"event\":\"$2\"" "$1" | tail -n1 | sed -n 's/.*"port":\([0-9]*\).*/\1/p'; }

# wait_vhci_fast SECONDS VID:PID: polls every 20 ms (builtins only) until the device is on vhci;
# prints the uptime at which it was seen
wait_vhci_fast() {
  _n=$(($1 * 50))
  while ! vhci_device "$2" > /dev/null; do
    _n=$((_n - 1)); [ $_n -gt 0 ] || return 1
    sleep 0.02  # allowed sleep: poll interval of a bounded wait
  done
  read -r _t _ < /proc/uptime; echo "$_t"
}
# ms_between A B: (B - A) seconds as whole milliseconds
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# transport_roundtrip REMOTE LISTEN...: issue 15, USB/IP over a transport other than TCP.
# usbipcored listens on LISTEN (and on 127.0.0.1:3240, which start/stop wait for); the
# mass-storage gadget is attached from REMOTE, 4 MiB written and read back through it,
# `usbip-tool port` (and upstream `usbip port`, reading our record) show REMOTE, it is
# detached; the daemon restarts and the same device attaches again with the data intact.
# the port carrying the gadget, from usbip-tool's JSON (no device names to look up)
_transport_port() { "$USBIP_TOOL" --json port | sed -n "s/.*\"port\":\([0-9]*\).*\"remote_busid\":\"$MS_BUSID\".*/\1/p" | grep .; }
_transport_available() { [ "$(cat "/sys/bus/usb/devices/$1/usbip_status" 2>/dev/null)" = 1 ]; }
transport_roundtrip() {
  _xr=$1; shift
  _xb=$MS_BUSID
  _xlog=$RESULTS/logs/usbipcored-$(basename "$0" .sh).log
  start_usbipcored "$@" --listen 127.0.0.1:3240
  run usbip bind -b "$_xb"
  driver_is "$_xb" usbip-host || fail "$_xb not bound to usbip-host"
  run "$USBIP_TOOL" list -r "$_xr"
  "$USBIP_TOOL" list -r "$_xr" | grep -q " $_xb:" || fail "list -r $_xr does not offer $_xb"
  _xt=$(now)
  run "$USBIP_TOOL" attach -r "$_xr" -b "$_xb"
  wait_for 20 vhci_device "$MS_ID" || fail "no $MS_ID device appeared on vhci over $_xr"
  say "attach over $_xr -> enumerated in $(elapsed "$_xt") s"
  disk_roundtrip "$MS_ID"
  "$USBIP_TOOL" port | tee "$RESULTS/port-$(basename "$0" .sh).txt" | sed 's/^/  > /'
  grep -q -- "-> usbip://$_xr/$_xb\$" "$RESULTS/port-$(basename "$0" .sh).txt" || fail "usbip-tool port does not show usbip://$_xr/$_xb"
  # upstream reads the record too (its port listing is slow under TCG: once)
  usbip port > "$RESULTS/upstream-port-$(basename "$0" .sh).txt" 2>&1
  grep -- "-> usbip://" "$RESULTS/upstream-port-$(basename "$0" .sh).txt" | sed 's/^/  upstream > /'
  grep -q -- "-> usbip://.*/$_xb\$" "$RESULTS/upstream-port-$(basename "$0" .sh).txt" || fail "upstream usbip port does not read our record"
  _xp=$(_transport_port) || fail "no port carries $_xb"
  run "$USBIP_TOOL" detach -p "$_xp"
  wait_for 10 absent vhci_device "$MS_ID" || fail "device still present after detach"
  grep -q "$TRANSPORT_PEER" "$_xlog" || fail "the daemon's log does not name the peer as $TRANSPORT_PEER"
  grep "exported $_xb" "$_xlog" | tail -n1 | sed 's/^/  log > /'

  # the daemon restarts; the same remote attaches again and the data is still there
  stop_usbipcored
  wait_for 10 _transport_available "$_xb" || fail "$_xb not available for export again after the detach"
  start_usbipcored "$@" --listen 127.0.0.1:3240
  _xt=$(now)
  run "$USBIP_TOOL" attach -r "$_xr" -b "$_xb"
  wait_for 30 vhci_block "$MS_ID" || fail "no disk behind $MS_ID after the daemon restarted"
  say "reattach over $_xr after the restart -> disk in $(elapsed "$_xt") s"
  _xsd=$(vhci_block "$MS_ID")
  wait_for 10 test -b "/dev/$_xsd" || fail "/dev/$_xsd is not a block device"
  run dd if="/dev/$_xsd" of=/tmp/again.bin bs=1M count=4 iflag=direct status=none
  [ "$(md5sum < /tmp/again.bin | cut -d' ' -f1)" = "$RT_MD5" ] || fail "data read after the restart differs"
  say "read back after the restart: md5 $RT_MD5"
  _xp=$(_transport_port) || fail "no port for $MS_ID after the reattach"
  run "$USBIP_TOOL" detach -p "$_xp"
  wait_for 10 absent vhci_device "$MS_ID" || fail "device still present after the second detach"
  run usbip unbind -b "$_xb"
  stop_usbipcored
  backing_matches "$RT_MD5"
}
