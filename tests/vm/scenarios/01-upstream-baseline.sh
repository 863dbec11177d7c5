#!/bin/sh
# Baseline, upstream to upstream: usbipd exports the loopback gadget, usbip imports it over lo.
# Proves the harness; the capture ($RESULTS/upstream.pcap) is the reference for our codec.
. "$VMH_SRC/lib.sh"
B=$LB_BUSID

start_capture "$RESULTS/upstream.pcap"
start_usbipd
run usbip bind -b "$B"
[ "$(driver_of "$B")" = usbip-host ] || fail "$B not bound to usbip-host"
run usbip list -r 127.0.0.1 > /tmp/list.txt
cat /tmp/list.txt
grep -q "$B:" /tmp/list.txt || fail "usbip list -r does not show $B"
grep -q "$LB_ID" /tmp/list.txt || fail "usbip list -r does not show $LB_ID"

t=$(now)
run usbip attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device appeared on vhci"
dev=$(vhci_device "$LB_ID")
say "attach -> $dev enumerated in $(elapsed "$t") s"
wait_for 10 test -e "/sys/bus/usb/devices/$dev:1.0" || fail "$dev has no configured interface"
say "$dev: config $(cat /sys/bus/usb/devices/$dev/bConfigurationValue), $(cat /sys/bus/usb/devices/$dev/bNumInterfaces) interface(s), speed $(cat /sys/bus/usb/devices/$dev/speed)"

run usbip port > /tmp/port.txt
cat /tmp/port.txt
port=$(upstream_port "$LB_ID") || fail "usbip port does not show $LB_ID"
grep -q "127.0.0.1:3240/$B" /tmp/port.txt || fail "usbip port does not show the remote busid"

run usbip detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$dev still present after detach"
run usbip unbind -b "$B"
wait_for 10 driver_is "$B" usb || fail "$B not back on the usb driver after unbind"
stop_usbipd
stop_capture
size=$(wc -c < "$RESULTS/upstream.pcap")
say "capture: $size bytes"
[ "$size" -gt 100 ] || fail "capture is empty"
say "baseline passed"
