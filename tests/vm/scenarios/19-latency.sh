#!/bin/sh
# A slow, lossy network (netem on lo: 100 ms, 400 ms each way, 100 ms with 1 % loss):
# usbip-tool list -r and attach/detach against upstream usbipd and against usbipcored succeed
# with default timeouts; the times are recorded.
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
B=$LB_BUSID
trap '$TC qdisc del dev lo root 2>/dev/null' EXIT

exporter_free() { [ "$(cat /sys/bus/usb/devices/$B/usbip_status 2>/dev/null)" = 1 ]; }

round() { # round EXPORTER NETEM-DESCRIPTION
  t=$(now)
  run "$USBIP_TOOL" list -r 127.0.0.1 > /tmp/list.txt
  tl=$(elapsed "$t")
  grep -q "$B" /tmp/list.txt || fail "list -r via $1 ($2) does not show $B"
  t=$(now)
  run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
  ta=$(elapsed "$t")
  wait_for 90 vhci_device "$LB_ID" || fail "no $LB_ID on vhci via $1 ($2)"
  te=$(elapsed "$t")
  dev=$(vhci_device "$LB_ID")
  wait_for 60 test -e "/sys/bus/usb/devices/$dev:1.0" || fail "$dev not configured via $1 ($2)"
  tc_=$(elapsed "$t")
  port=$(upstream_port "$LB_ID") || fail "usbip port does not show $LB_ID"
  t=$(now)
  run "$USBIP_TOOL" detach -p "$port"
  wait_for 30 absent vhci_device "$LB_ID" || fail "$dev still present after detach via $1 ($2)"
  td=$(elapsed "$t")
  # the exporter learns of the close over the impaired link too; the next round needs the
  # device available again (usbip_status 1) or it is not listed
  wait_for 60 exporter_free || fail "$B still in use on the exporting side 60 s after detach ($1, $2)"
  tr=$(elapsed "$t")
  say "TIMES $1 [$2]: list -r ${tl} s, attach returned ${ta} s, enumerated ${te} s, configured ${tc_} s, detach ${td} s, exporter released ${tr} s"
  echo "| $1 | $2 | $tl | $ta | $te | $td | $tr |" >> "$RESULTS/latency.md"
}

netem() { # netem DESCRIPTION ARGS...
  _d=$1; shift
  $TC qdisc del dev lo root 2>/dev/null
  run $TC qdisc add dev lo root netem "$@"
  $TC qdisc show dev lo
  NET=$_d
}

echo "| exporter | netem on lo | list -r (s) | attach returns (s) | enumerated (s) | detach (s) | released (s) |" > "$RESULTS/latency.md"
echo "|---|---|---|---|---|---|---|" >> "$RESULTS/latency.md"
run usbip bind -b "$B"
for exporter in usbipd usbipcored; do
  if [ $exporter = usbipd ]; then start_usbipd; else start_usbipcored --listen 127.0.0.1:3240; fi
  netem "none" delay 0ms
  round $exporter "$NET"
  netem "delay 100ms" delay 100ms
  round $exporter "$NET"
  netem "delay 400ms" delay 400ms
  round $exporter "$NET"
  netem "delay 100ms loss 1%" delay 100ms loss 1%
  round $exporter "$NET"
  run $TC qdisc del dev lo root
  if [ $exporter = usbipd ]; then stop_usbipd; else stop_usbipcored; fi
done
run usbip unbind -b "$B"
cat "$RESULTS/latency.md"
say "latency passed"
