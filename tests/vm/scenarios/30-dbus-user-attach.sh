#!/bin/sh
# The desktop path on the real kernel: a user in group usbip (the documented polkit rule)
# attaches a device that usbipcored exports with `usbip-tool attach`, which goes through
# dbus-daemon --system, polkitd and usbipcore-dbusd without a password; the device
# enumerates on vhci; `usbip-tool port` as the user names it; the user detaches it.
. "$VMH_SRC/lib.sh"
. "$VMH_SRC/desktop.sh"
need_tool
need_daemon
B=$LB_BUSID

start_desktop
start_usbipcored
run "$USBIP_TOOL" bind -b "$B"
t=$(now)
expect_rc 0 /tmp/attach.txt as_user nobody "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device appeared on vhci after the user's attach"
say "user attach through D-Bus -> $(vhci_device "$LB_ID") enumerated in $(elapsed "$t") s"
port=$(upstream_port "$LB_ID") || fail "upstream usbip port does not show $LB_ID"
expect_rc 0 /tmp/port.txt as_user nobody "$USBIP_TOOL" port
grep -q "usbip://127.0.0.1:3240/$B" /tmp/port.txt || fail "the user's usbip-tool port does not show $B"
expect_rc 0 /tmp/detach.txt as_user nobody "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$LB_ID still on vhci after the user's detach"
run "$USBIP_TOOL" unbind -b "$B"
stop_usbipcored
stop_desktop
say "user attach through D-Bus and polkit passed"
