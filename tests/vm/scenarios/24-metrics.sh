#!/bin/sh
# The metrics plugin on the real kernel (issue 11): an attach through usbipcored moves
# usbip_exporter_devices_exported_total by exactly one (scraped with curl before and after),
# and an exporter restart under `usbip-tool attach --auto-reconnect --metrics ADDR:PORT` moves
# usbip_supervisor_reconnects_total. The session is ended from the exporting side (usbip
# unbind, as in scenario 21): stopping the daemon alone leaves the kernel's session alone.
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
B=$LB_BUSID
EXP_M=127.0.0.1:9240
IMP_M=127.0.0.1:9241
conf=$RESULTS/metrics-24.conf
ev=$RESULTS/events-24.json
printf '[plugins]\nenabled=host;vhci;vudc;metrics\n\n[metrics]\nlisten=%s\n' "$EXP_M" > "$conf"
trap 'stop_supervisor' EXIT

# metric ADDR NAME: the sum of NAME's samples (every label set) in a scrape of ADDR; 0 when
# the family has no sample yet; fails when the scrape fails
metric() {
  curl -sf --max-time 10 "http://$1/metrics" > /tmp/scrape-24 || return 1
  awk -v n="$2" '{ split($1, a, "{") } a[1] == n { s += $2 } END { print s + 0 }' /tmp/scrape-24
}
# metric_is ADDR NAME VALUE / metric_at_least ADDR NAME VALUE (for wait_for)
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
metric_at_least() { _v=$(metric "$1" "$2") && [ "$_v" -ge "$3" ]; }
# the exporting side has the device available again (usbip_status 1)
exporter_free() { [ "$(cat /sys/bus/usb/devices/$B/usbip_status 2>/dev/null)" = 1 ]; }

start_usbipcored --config "$conf" --listen 127.0.0.1:3240
wait_for 10 metric "$EXP_M" usbip_exporter_devices_exported_total || fail "no metrics on $EXP_M: $(cat "$RESULTS"/logs/usbipcored-24-metrics.log)"
run usbip bind -b "$B"

# 1. one attach through usbipcored: the counter moves by exactly one
before=$(metric "$EXP_M" usbip_exporter_devices_exported_total) || fail "scrape of $EXP_M failed"
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 30 vhci_device "$LB_ID" || fail "no $LB_ID on vhci after usbip-tool attach"
after=$(metric "$EXP_M" usbip_exporter_devices_exported_total) || fail "scrape of $EXP_M failed"
say "usbip_exporter_devices_exported_total: $before before the attach, $after after"
[ "$after" -eq $((before + 1)) ] || fail "devices_exported_total moved from $before to $after on one attach"
port=$(upstream_port "$LB_ID")
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$LB_ID still on vhci after detach"
wait_for 10 exporter_free || fail "$B still in use on the exporting side after detach"

# 2. a supervisor serving its own metrics; the exporter restarts under it
start_supervisor "$ev" "$B" --metrics "$IMP_M"
wait_for 30 vhci_device "$LB_ID" || fail "no $LB_ID on vhci ($(cat "$ev" "$ev.err"))"
wait_for 10 has_events "$ev" attached 1 || fail "no 'attached' event: $(cat "$ev" "$ev.err")"
wait_for 10 metric "$IMP_M" usbip_supervisor_reconnects_total || fail "no metrics on $IMP_M: $(cat "$ev.err")"
r0=$(metric "$IMP_M" usbip_supervisor_reconnects_total) || fail "scrape of $IMP_M failed"
stop_usbipcored
run usbip unbind -b "$B"
wait_for 30 has_events "$ev" lost 1 || fail "no 'lost' event after usbip unbind: $(events "$ev")"
run usbip bind -b "$B"
start_usbipcored --config "$conf" --listen 127.0.0.1:3240
wait_for 90 has_events "$ev" reconnected 1 || fail "no 'reconnected' event after the restart: $(events "$ev")"
wait_for 10 metric_at_least "$IMP_M" usbip_supervisor_reconnects_total $((r0 + 1)) ||
  fail "usbip_supervisor_reconnects_total stayed at $(metric "$IMP_M" usbip_supervisor_reconnects_total) (was $r0) across the restart"
r1=$(metric "$IMP_M" usbip_supervisor_reconnects_total)
say "usbip_supervisor_reconnects_total: $r0 before the restart, $r1 after ($(event_count "$ev" reconnecting) reconnecting events)"
grep '^usbip_supervisor_reconnects_total' /tmp/scrape-24 | sed 's/^/  > /'
stop_supervisor
port=$(upstream_port "$LB_ID")
run "$USBIP_TOOL" detach -p "$port"
run usbip unbind -b "$B"
stop_usbipcored
say "metrics moved by attach and reconnect"
