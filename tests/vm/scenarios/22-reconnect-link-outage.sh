#!/bin/sh
# A link outage (netem loss 100% on lo: every packet both ways dropped) with the default socket
# options (keepalive idle 4 s, interval 3 s, TCP_USER_TIMEOUT 16 s): the idle session's keepalive gives up,
# vhci releases the port, usbip-tool attach --auto-reconnect reports `lost`, its attempts fail
# while the link is down (connect deadline 10 s), and once the link is back the device returns
# to vhci with no action from the test. Exporter: usbipcored (it applies the same keepalive to
# its side, so the stub lets the device go too).
# FIGURE link_outage_lost_seen: link down -> `lost` event (s; bound ~16 s + the 0.5 s poll)
# FIGURE link_outage_reconnect: link back -> device on vhci again (ms)
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
B=$LB_BUSID
trap '$TC qdisc del dev lo root 2>/dev/null; stop_supervisor' EXIT
ev=$RESULTS/events-22.json
exporter_free() { [ "$(cat /sys/bus/usb/devices/$B/usbip_status 2>/dev/null)" = 1 ]; }

start_usbipcored --listen 127.0.0.1:3240
run usbip bind -b "$B"
start_supervisor "$ev" "$B"
wait_for 30 vhci_device "$LB_ID" || fail "no $LB_ID on vhci: $(cat "$ev" "$ev.err")"
wait_for 10 has_events "$ev" attached 1 || fail "no 'attached' event: $(cat "$ev" "$ev.err")"
# the device enumerates (control traffic) before the session goes idle: wait for its
# configured interface
dev=$(vhci_device "$LB_ID")
wait_for 20 test -e "/sys/bus/usb/devices/$dev:1.0" || fail "$dev has no configured interface"

read -r t0 _ < /proc/uptime
run $TC qdisc add dev lo root netem loss 100%
$TC qdisc show dev lo
say "link down"
wait_for 150 has_events "$ev" lost 1 || fail "no 'lost' event 150 s into the outage: $(events "$ev")"
read -r t1 _ < /proc/uptime
figure link_outage_lost_seen "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" s
vhci_device "$LB_ID" > /dev/null && fail "$LB_ID still on vhci after 'lost'"
say "exporting side: usbip_status $(cat /sys/bus/usb/devices/$B/usbip_status) (1 = free, 2 = in use)"
# while the link is down the attempts fail (the SYNs are dropped: connect deadline 10 s)
wait_for 60 has_events "$ev" reconnecting 1 || fail "no 'reconnecting' event while the link is down: $(events "$ev")"
grep '"event":"reconnecting"' "$ev" | tail -n1 | sed 's/^/  > /'
vhci_device "$LB_ID" > /dev/null && fail "$LB_ID back on vhci while the link is down"

run $TC qdisc del dev lo root
read -r t2 _ < /proc/uptime
say "link back"
t3=$(wait_vhci_fast 120 "$LB_ID") || fail "$LB_ID not back on vhci 120 s after the link came back: $(events "$ev")"
figure link_outage_reconnect "$(ms_between "$t2" "$t3")" ms
wait_for 20 has_events "$ev" reconnected 1 || fail "device back but no 'reconnected' event: $(events "$ev")"
seq=$(events "$ev")
say "events: $seq"
echo "$seq" | grep -Eq '^attached lost (reconnecting )+reconnected$' || fail "unexpected event sequence: $seq"
grep '"event":"reconnecting"' "$ev" | sed 's/^/  > /'

port=$(last_event_port "$ev" reconnected)
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 has_events "$ev" detached 1 || fail "no 'detached' event after detach: $(events "$ev")"
wait_for 10 exporter_free || fail "$B still in use on the exporting side after the detach"
stop_supervisor
run usbip unbind -b "$B"
stop_usbipcored
say "link outage passed"
