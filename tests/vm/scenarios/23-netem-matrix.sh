#!/bin/sh
# usbip-tool against usbipcored over an impaired link with the default timeouts: netem on lo
# with 25, 100, 400 ms delay (lo carries both directions: RTT 50, 200, 800 ms; the quick profile
# the default run uses: RTT 200 ms only), each with 1 % loss. Per RTT: list -r, attach (the mass-storage gadget), attach -> /dev/sdX, 1 MiB random
# write and read back with O_DIRECT (md5 equal), the device left idle for NETEM_IDLE_S (20 s:
# five keepalive rounds; a false dead-link verdict would take the disk away), a second read,
# detach, and the exporter seeing the close.
# Then one auto-reconnect (exporter unbind/bind of the loopback gadget) at 200 ms RTT.
# FIGURE netem_rttN.<step> for each step (ms); FIGURE netem_rtt200.reconnect (ms)
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
trap '$TC qdisc del dev lo root 2>/dev/null; stop_supervisor' EXIT
if [ "${VMH_PROFILE:-quick}" = full ]; then RTTS="50 200 800"; else RTTS=200; fi

# t_now: sets T to the uptime (no fork)
t_now() { read -r T _ < /proc/uptime; }
ms_since() { t_now; ms_between "$1" "$T"; }
exporter_free() { [ "$(cat /sys/bus/usb/devices/$1/usbip_status 2>/dev/null)" = 1 ]; }

netem() { # netem RTT-MS
  $TC qdisc del dev lo root 2>/dev/null
  run $TC qdisc add dev lo root netem delay "$(($1 / 2))ms" loss 1%
  $TC qdisc show dev lo
}

step() { # step RTT NAME MS: a FIGURE line and a row cell
  figure "netem_rtt$1.$2" "$3" ms
  ROW="$ROW $3 |"
}

start_usbipcored --listen 127.0.0.1:3240
run usbip bind -b "$MS_BUSID"
# 1 MiB keeps the 800 ms row to about a minute (4 MiB took 4 minutes); NETEM_MIB=4 for more
MIB=${NETEM_MIB:-1}
echo "| RTT (ms), loss 1 % | list -r | attach | attach -> /dev/sdX | write $MIB MiB | read $MIB MiB | detach | exporter released |" > "$RESULTS/netem-matrix.md"
echo "|---|---|---|---|---|---|---|---|" >> "$RESULTS/netem-matrix.md"
head -c $((MIB * 1048576)) /dev/urandom > /tmp/rand.bin
want=$(md5sum < /tmp/rand.bin | cut -d' ' -f1)
for rtt in $RTTS; do
  say "=== RTT $rtt ms, loss 1 %"
  ROW="| $rtt |"
  netem "$rtt"
  t_now; a=$T
  run "$USBIP_TOOL" list -r 127.0.0.1 > /tmp/list.txt
  step "$rtt" list "$(ms_since "$a")"
  grep -q "$MS_BUSID" /tmp/list.txt || fail "list -r does not show $MS_BUSID at RTT $rtt"

  t_now; a=$T
  run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$MS_BUSID"
  step "$rtt" attach "$(ms_since "$a")"
  wait_for 120 vhci_block "$MS_ID" || fail "no disk behind the imported $MS_ID at RTT $rtt"
  sd=$(vhci_block "$MS_ID")
  wait_for 60 test -b "/dev/$sd" || fail "/dev/$sd is not a block device"
  step "$rtt" disk "$(ms_since "$a")"

  t_now; a=$T
  run dd if=/tmp/rand.bin of="/dev/$sd" bs=1M oflag=direct conv=fsync status=none
  step "$rtt" "write_${MIB}MiB" "$(ms_since "$a")"
  echo 3 > /proc/sys/vm/drop_caches
  t_now; a=$T
  run dd if="/dev/$sd" of=/tmp/back.bin bs=1M count="$MIB" iflag=direct status=none
  step "$rtt" "read_${MIB}MiB" "$(ms_since "$a")"
  got=$(md5sum < /tmp/back.bin | cut -d' ' -f1)
  say "md5 written $want, read back $got"
  [ "$want" = "$got" ] || fail "data read back differs at RTT $rtt"
  # idle: only keepalive probes cross the lossy link (default 4 s idle, user timeout 16 s)
  sleep "${NETEM_IDLE_S:-20}" # allowed: idle time is what is tested (keepalive rounds)
  [ "$(vhci_block "$MS_ID")" = "$sd" ] || fail "the disk went away while idle at RTT $rtt (false dead link)"
  echo 3 > /proc/sys/vm/drop_caches
  run dd if="/dev/$sd" of=/tmp/back.bin bs=1M count="$MIB" iflag=direct status=none
  say "still attached after ${NETEM_IDLE_S:-20} s idle at RTT $rtt; read again"

  port=$(upstream_port "$MS_ID") || fail "usbip port does not show $MS_ID"
  t_now; a=$T
  run "$USBIP_TOOL" detach -p "$port"
  wait_for 60 absent vhci_device "$MS_ID" || fail "$MS_ID still on vhci after detach at RTT $rtt"
  step "$rtt" detach "$(ms_since "$a")"
  wait_for 120 exporter_free "$MS_BUSID" || fail "$MS_BUSID still in use on the exporting side at RTT $rtt"
  step "$rtt" released "$(ms_since "$a")"
  echo "$ROW" >> "$RESULTS/netem-matrix.md"
  say "row: $ROW"
done
run $TC qdisc del dev lo root
c=$(head -c $((MIB * 1048576)) "$MS_IMAGE" | md5sum | cut -d" " -f1)
[ "$c" = "$want" ] || fail "the gadget's backing file does not hold the data ($c)"
run usbip unbind -b "$MS_BUSID"
cat "$RESULTS/netem-matrix.md"

# --- one reconnect at 200 ms RTT
say "=== auto-reconnect at RTT 200 ms, loss 1 %"
ev=$RESULTS/events-23.json
run usbip bind -b "$LB_BUSID"
netem 200
start_supervisor "$ev" "$LB_BUSID"
wait_for 120 vhci_device "$LB_ID" || fail "no $LB_ID on vhci at RTT 200: $(cat "$ev" "$ev.err")"
wait_for 30 has_events "$ev" attached 1 || fail "no 'attached' event: $(cat "$ev" "$ev.err")"
run usbip unbind -b "$LB_BUSID"
wait_for 60 has_events "$ev" lost 1 || fail "no 'lost' event after unbind at RTT 200: $(events "$ev")"
wait_for 60 has_events "$ev" reconnecting 1 || fail "no 'reconnecting' event at RTT 200: $(events "$ev")"
run usbip bind -b "$LB_BUSID"
t_now; a=$T
b=$(wait_vhci_fast 120 "$LB_ID") || fail "$LB_ID not back 120 s after bind at RTT 200: $(events "$ev")"
figure netem_rtt200.reconnect "$(ms_between "$a" "$b")" ms
wait_for 30 has_events "$ev" reconnected 1 || fail "no 'reconnected' event: $(events "$ev")"
say "events: $(events "$ev")"
events "$ev" | grep -Eq '^attached lost (reconnecting )+reconnected$' || fail "unexpected events: $(events "$ev")"
port=$(last_event_port "$ev" reconnected)
run "$USBIP_TOOL" detach -p "$port"
wait_for 30 has_events "$ev" detached 1 || fail "no 'detached' event: $(events "$ev")"
stop_supervisor
run $TC qdisc del dev lo root
wait_for 60 exporter_free "$LB_BUSID" || fail "$LB_BUSID still in use on the exporting side 60 s after the detach"
run usbip unbind -b "$LB_BUSID"
stop_usbipcored
say "netem matrix passed"
