#!/bin/sh
# Figures, ours against upstream in the same boot (written as `FIGURE name value unit` lines;
# tests/vm/collect-figures.sh turns them into docs/performance-vm.md):
#  (a) attach -> enumerated on vhci: usbip-tool attach vs usbip attach, 9 runs each
#      (interleaved, the order alternating), against upstream usbipd; medians; and attach -> the command returned
#      (the rest is the kernel enumerating the device after the sysfs attach write)
#  (b) mass-storage read throughput, dd 16 MiB iflag=direct from the imported disk, exported by
#      usbipcored vs usbipd (upstream usbip attaches both), 3 reads each; medians
#  (c) OP_REQ_DEVLIST handshakes/s against usbipcored vs usbipd: one client for 10 s without
#      process start-up (bench/devlist-bench, compiled; devlist-bench.py when it is not built),
#      64 concurrent clients for 10 s (each bench run after a 2 s warm-up that counts for
#      nothing; handshakes still waiting when the 10 s end are unfinished, not failures),
#      and $FIG_LISTS (10) sequential `usbip list -r 127.0.0.1` (one process each: under
#      TCG their start-up dominates, 200 of them take ~75 s per daemon); peak RSS (VmHWM) of
#      each daemon after all of it
#  (d) process start-up: 10 x `usbip-tool version` vs 10 x `usbip version`, and the same for
#      `port` (no port in use)
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
RUNS=${FIG_RUNS:-9}
LISTS=${FIG_LISTS:-10}
PY=/usr/bin/python3
# the compiled load client (bench/devlist-bench.c) next to our build, else the Python one
CBENCH=${DEVLIST_BENCH:-$(dirname "$USBIP_TOOL")/../../bench/devlist-bench}
# given by path (meson's vm test does) but missing: a figure from the wrong client would mislead
[ -z "${DEVLIST_BENCH:-}" ] || [ -x "$DEVLIST_BENCH" ] || fail "DEVLIST_BENCH=$DEVLIST_BENCH is not an executable (build bench/devlist-bench)"
if [ -x "$CBENCH" ]; then BENCH=$CBENCH; elif [ -x $PY ]; then BENCH="$PY $VMH_SRC/devlist-bench.py"; else BENCH=; fi

# t_now: sets T to the uptime (builtins only, no fork)
t_now() { read -r T _ < /proc/uptime; }
no_ports() { [ "$(vhci_attached_count)" -eq 0 ]; }
# attach_time IMPORTER: attaches the loopback gadget with IMPORTER, prints seconds from the
# command's start to its return and to the device's appearance on vhci (polled every 20 ms),
# then detaches
attach_time() {
  t_now; _a=$T
  "$1" attach -r 127.0.0.1 -b "$LB_BUSID" > /tmp/attach.out 2>&1 || { cat /tmp/attach.out; return 1; }
  t_now; _r=$T
  _n=1000
  while ! vhci_device "$LB_ID" > /dev/null; do
    _n=$((_n - 1)); [ $_n -gt 0 ] || return 1
    sleep 0.02  # allowed sleep: poll interval of a bounded wait
  done
  t_now
  awk -v a="$_a" -v r="$_r" -v b="$T" 'BEGIN { printf "%.3f %.3f\n", r - a, b - a }'
  _p=$(upstream_port "$LB_ID") || return 1
  usbip detach -p "$_p" > /dev/null 2>&1 || return 1
  wait_for 10 absent vhci_device "$LB_ID" || return 1
  wait_for 10 no_ports
}

# --- (a) attach -> enumerated
start_usbipd
run usbip bind -b "$LB_BUSID"
: > /tmp/a-ours; : > /tmp/a-up; : > /tmp/r-ours; : > /tmp/r-up
i=0
time_ours() {
  x=$(attach_time "$USBIP_TOOL") || fail "usbip-tool attach run $i failed"
  say "run $i: usbip-tool attach -> returned, enumerated $x s"; echo "${x#* }" >> /tmp/a-ours; echo "${x% *}" >> /tmp/r-ours
  sleep 0.5  # allowed sleep: pacing between benchmark runs
}
time_upstream() {
  x=$(attach_time usbip) || fail "usbip attach run $i failed"
  say "run $i: usbip attach -> returned, enumerated $x s"; echo "${x#* }" >> /tmp/a-up; echo "${x% *}" >> /tmp/r-up
  sleep 0.5  # allowed sleep: pacing between benchmark runs
}
# the order alternates (ours first in odd runs, upstream first in even ones), so neither tool
# always runs first after the cold start or always right after the other's detach
while [ $i -lt "$RUNS" ]; do
  i=$((i + 1))
  if [ $((i % 2)) -eq 1 ]; then time_ours; time_upstream; else time_upstream; time_ours; fi
done
ms() { awk -v v="$1" 'BEGIN { printf "%.0f", v * 1000 }'; }
figure attach_enumerated.ours "$(ms "$(median < /tmp/a-ours)")" ms
figure attach_enumerated.upstream "$(ms "$(median < /tmp/a-up)")" ms
figure attach_returned.ours "$(ms "$(median < /tmp/r-ours)")" ms
figure attach_returned.upstream "$(ms "$(median < /tmp/r-up)")" ms
say "runs (s): usbip-tool $(tr '\n' ' ' < /tmp/a-ours)| usbip $(tr '\n' ' ' < /tmp/a-up)"

# --- (c) handshakes/s with one exported device (the loopback gadget stays bound)
lists() { # lists DAEMON: $LISTS sequential `usbip list -r`
  usbip list -r 127.0.0.1 > /dev/null 2>&1   # warm-up
  _f=0; _i=0
  t_now; _a=$T
  while [ $_i -lt "$LISTS" ]; do
    _i=$((_i + 1))
    usbip list -r 127.0.0.1 > /dev/null 2>&1 || _f=$((_f + 1))
  done
  t_now
  _r=$(awk -v n="$LISTS" -v f="$_f" -v a="$_a" -v b="$T" 'BEGIN { printf "%.1f", (n - f) / (b - a) }')
  say "$1: $LISTS x usbip list -r in $(awk -v a="$_a" -v b="$T" 'BEGIN { printf "%.2f", b - a }') s, $_f failed, $_r/s"
  [ "$_f" -eq 0 ] || fail "$_f of $LISTS usbip list -r against $1 failed"
  LISTS_RATE=$_r
}
bench() { # bench NAME ARGS...: devlist-bench.py, sets BENCH_RATE, BENCH_FAIL
  _n=$1; shift
  $BENCH 127.0.0.1 3240 "$@" > /tmp/bench.out 2>&1 || fail "$BENCH $*: $(cat /tmp/bench.out)"
  say "$_n devlist-bench $*: $(cat /tmp/bench.out)"
  BENCH_RATE=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' /tmp/bench.out)
  BENCH_FAIL=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' /tmp/bench.out)
  BENCH_UNFINISHED=$(sed -n 's/.*unfinished=\([0-9]*\).*/\1/p' /tmp/bench.out)
  # a daemon that answered nothing (usbipd's forks at 64 clients on a loaded host) gets its
  # 0/s and its failures as figures; any answer must list the one exported device
  [ "$(sed -n 's/^handshakes=\([0-9]*\).*/\1/p' /tmp/bench.out)" = 0 ] || grep -q "devices=1" /tmp/bench.out \
    || fail "devlist-bench did not see the one exported device"
}
lists usbipd
figure devlist_usbip_list_per_s.upstream "$LISTS_RATE" 1/s
if [ -n "$BENCH" ]; then
  say "load client: $BENCH"
  bench usbipd --concurrency 1 --duration 10 --timeout 5 --warmup 2
  [ "$BENCH_FAIL" -eq 0 ] || fail "$BENCH_FAIL sequential handshakes against usbipd failed"
  figure devlist_seq_per_s.upstream "$BENCH_RATE" 1/s
  bench usbipd --concurrency 64 --duration 10 --timeout 5 --warmup 2
  figure devlist_64clients_per_s.upstream "$BENCH_RATE" 1/s
  figure devlist_64clients_failed.upstream "$BENCH_FAIL" requests
  figure devlist_64clients_unfinished.upstream "$BENCH_UNFINISHED" requests
fi
upid=$(cat /tmp/usbipd.pid)
figure peak_rss.upstream "$(vm_hwm "$upid")" KiB
say "usbipd (pid $upid) status: $(grep -E '^Vm(HWM|RSS)' /proc/$upid/status | tr -s ' \t\n' ' ')"
stop_usbipd

start_usbipcored --listen 127.0.0.1:3240
figure idle_rss.ours "$(awk '/^VmRSS:/ { print $2 }' /proc/$USBIPCORED_PID/status)" KiB
lists usbipcored
figure devlist_usbip_list_per_s.ours "$LISTS_RATE" 1/s
if [ -n "$BENCH" ]; then
  bench usbipcored --concurrency 1 --duration 10 --timeout 5 --warmup 2
  [ "$BENCH_FAIL" -eq 0 ] || fail "$BENCH_FAIL sequential handshakes against usbipcored failed"
  figure devlist_seq_per_s.ours "$BENCH_RATE" 1/s
  bench usbipcored --concurrency 64 --duration 10 --timeout 5 --warmup 2
  figure devlist_64clients_per_s.ours "$BENCH_RATE" 1/s
  figure devlist_64clients_failed.ours "$BENCH_FAIL" requests
  figure devlist_64clients_unfinished.ours "$BENCH_UNFINISHED" requests
fi
figure peak_rss.ours "$(vm_hwm "$USBIPCORED_PID")" KiB
say "usbipcored (pid $USBIPCORED_PID) status: $(grep -E '^Vm(HWM|RSS)' /proc/$USBIPCORED_PID/status | tr -s ' \t\n' ' ')"
stop_usbipcored
run usbip unbind -b "$LB_BUSID"

# --- (d) start-up of the importers (no network: `version`)
startup() { # startup CMD...: prints the median of 10 runs in ms
  for _i in 1 2 3 4 5 6 7 8 9 10; do
    t_now; _a=$T
    "$@" > /dev/null 2>&1 || return 1
    t_now
    awk -v a="$_a" -v b="$T" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }'
  done | median
}
x=$(startup "$USBIP_TOOL" version) || fail "usbip-tool version failed"
figure startup_version.ours "$x" ms
x=$(startup usbip version) || fail "usbip version failed"
figure startup_version.upstream "$x" ms
x=$(startup "$USBIP_TOOL" port) || fail "usbip-tool port failed"
figure startup_port.ours "$x" ms
x=$(startup usbip port) || fail "usbip port failed"
figure startup_port.upstream "$x" ms

# --- (b) mass-storage read throughput
read_runs() { # read_runs LABEL: 3 direct reads of the whole 16 MiB disk; prints MiB/s lines
  wait_for 30 vhci_block "$MS_ID" || fail "no disk behind the imported $MS_ID ($1)"
  _sd=$(vhci_block "$MS_ID")
  wait_for 10 test -b "/dev/$_sd" || fail "/dev/$_sd is not a block device"
  dd if="/dev/$_sd" of=/dev/null bs=1M count=1 iflag=direct status=none   # warm-up
  for _i in 1 2 3; do
    t_now; _a=$T
    dd if="/dev/$_sd" of=/dev/null bs=1M count=16 iflag=direct status=none || fail "dd from /dev/$_sd failed"
    t_now
    awk -v a="$_a" -v b="$T" 'BEGIN { printf "%.1f\n", 16 / (b - a) }'
  done
}
run usbip bind -b "$MS_BUSID"
for exporter in usbipd usbipcored usbipd usbipcored; do
  if [ $exporter = usbipd ]; then start_usbipd; else start_usbipcored --listen 127.0.0.1:3240; fi
  run usbip attach -r 127.0.0.1 -b "$MS_BUSID"
  read_runs $exporter > /tmp/r.out || fail "reads through $exporter failed: $(cat /tmp/r.out)"
  say "$exporter: dd 16 MiB iflag=direct: $(tr '\n' ' ' < /tmp/r.out) MiB/s"
  cat /tmp/r.out >> /tmp/tp-$exporter
  p=$(upstream_port "$MS_ID") || fail "usbip port does not show $MS_ID"
  run usbip detach -p "$p"
  wait_for 10 absent vhci_device "$MS_ID" || fail "still attached"
  if [ $exporter = usbipd ]; then stop_usbipd; else stop_usbipcored; fi
done
run usbip unbind -b "$MS_BUSID"
figure ms_read_throughput.ours "$(median < /tmp/tp-usbipcored)" MiB/s
figure ms_read_throughput.upstream "$(median < /tmp/tp-usbipd)" MiB/s
say "figures done"
