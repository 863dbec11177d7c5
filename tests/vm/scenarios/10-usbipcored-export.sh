#!/bin/sh
# Our exporter, upstream importer: usbipcored serves the loopback gadget (bound to usbip-host
# with upstream `usbip bind`), upstream usbip lists, attaches, shows and detaches it.
. "$VMH_SRC/lib.sh"
[ -n "${USBIPCORED:-}" ] || skip "USBIPCORED not set (usbipcored not built)"
[ -x "$USBIPCORED" ] || skip "$USBIPCORED not executable"
B=$LB_BUSID

start_capture "$RESULTS/usbipcored-export.pcap"
say "+ $USBIPCORED --listen 127.0.0.1:3240"
"$USBIPCORED" --listen 127.0.0.1:3240 > "$RESULTS/logs/usbipcored.log" 2>&1 &
echo $! > /tmp/usbipcored.pid
started "$(cat /tmp/usbipcored.pid)" 3240 usbipcored "$(cat "$RESULTS/logs/usbipcored.log")"
run usbip bind -b "$B"
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
run usbip port
port=$(upstream_port "$LB_ID") || fail "usbip port does not show $LB_ID"
run usbip detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$dev still present after detach"
run usbip unbind -b "$B"
kill "$(cat /tmp/usbipcored.pid)"; rm -f /tmp/usbipcored.pid
stop_capture
say "usbipcored export passed"
