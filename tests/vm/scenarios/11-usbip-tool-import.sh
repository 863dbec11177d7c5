#!/bin/sh
# Upstream exporter, our importer: upstream usbipd serves the loopback gadget; our usbip tool
# lists, attaches, shows and detaches it.
. "$VMH_SRC/lib.sh"
[ -n "${USBIP_TOOL:-}" ] || skip "USBIP_TOOL not set (usbip-tool not built)"
[ -x "$USBIP_TOOL" ] || skip "$USBIP_TOOL not executable"
B=$LB_BUSID

start_capture "$RESULTS/usbip-tool-import.pcap"
start_usbipd
run usbip bind -b "$B"
run "$USBIP_TOOL" list -r 127.0.0.1 > /tmp/list.txt
cat /tmp/list.txt
grep -q "$B" /tmp/list.txt || fail "$USBIP_TOOL list -r does not show $B"
t=$(now)
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device appeared on vhci"
dev=$(vhci_device "$LB_ID")
say "attach -> $dev enumerated in $(elapsed "$t") s"
wait_for 10 test -e "/sys/bus/usb/devices/$dev:1.0" || fail "$dev has no configured interface"
run "$USBIP_TOOL" port > /tmp/port.txt
cat /tmp/port.txt
# the port number as the kernel sees it (cross-checked against upstream's view)
port=$(upstream_port "$LB_ID") || fail "upstream usbip port does not show $LB_ID"
grep -q "$B" /tmp/port.txt || fail "$USBIP_TOOL port does not show $B"
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$dev still present after detach"
run usbip unbind -b "$B"
stop_usbipd
stop_capture
say "usbip-tool import passed"
