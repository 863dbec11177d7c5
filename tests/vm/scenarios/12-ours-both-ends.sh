#!/bin/sh
# Ours at both ends: usbipcored exports the loopback gadget, usbip-tool lists it with the right
# VID:PID, attaches it (it enumerates on vhci with that VID:PID), `usbip-tool --json port`
# writes schema-1 port objects, upstream `usbip port` reads our port record, detach.
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
B=$LB_BUSID

start_usbipcored --listen 127.0.0.1:3240
run usbip bind -b "$B"
t=$(now)
run "$USBIP_TOOL" list -r 127.0.0.1 > /tmp/list.txt
say "list -r: $(elapsed "$t") s"
cat /tmp/list.txt
grep -q "^ *$B: .*($LB_ID)" /tmp/list.txt || fail "usbip-tool list -r does not show $B with ($LB_ID)"

t=$(now)
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device appeared on vhci"
dev=$(vhci_device "$LB_ID")
say "attach -> $dev enumerated in $(elapsed "$t") s"
wait_for 10 test -e "/sys/bus/usb/devices/$dev:1.0" || fail "$dev has no configured interface"
say "$dev: $(cat /sys/bus/usb/devices/$dev/idVendor):$(cat /sys/bus/usb/devices/$dev/idProduct), speed $(cat /sys/bus/usb/devices/$dev/speed)"

run "$USBIP_TOOL" --json port > /tmp/port.json
cat /tmp/port.json
grep -q '"schema":1' /tmp/port.json || fail "--json port has no \"schema\":1"
grep -q '"type":"port"' /tmp/port.json || fail "--json port has no \"type\":\"port\" object"
grep '"type":"port"' /tmp/port.json | grep -q "\"$B\"" || fail "--json port does not name $B"

run usbip port > /tmp/port.txt
cat /tmp/port.txt
port=$(upstream_port "$LB_ID") || fail "upstream usbip port does not show $LB_ID"
grep -q "usbip://127.0.0.1:3240/$B\$" /tmp/port.txt ||
  fail "upstream usbip port does not show usbip://127.0.0.1:3240/$B (our port record)"

t=$(now)
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$dev still present after detach"
say "detach -> gone in $(elapsed "$t") s"
run usbip port > /tmp/port.txt
grep -q "$LB_ID" /tmp/port.txt && fail "usbip port still lists $LB_ID after detach"
run usbip unbind -b "$B"
stop_usbipcored
say "ours at both ends passed"
