#!/bin/sh
# polkit refuses on the real stack: a user outside group usbip (no rule, no agent to ask a
# password) cannot attach, and is told which polkit action and what to do (exit 7); nothing
# is attached. A user the rule lets attach still cannot export this machine's devices.
. "$VMH_SRC/lib.sh"
. "$VMH_SRC/desktop.sh"
need_tool
need_daemon
B=$LB_BUSID

start_desktop
start_usbipcored
run "$USBIP_TOOL" bind -b "$B"
expect_rc 7 /tmp/refused.txt as_user daemon "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
grep -q "not authorized" /tmp/refused.txt || fail "the refusal does not say the user is not authorized"
grep -q "org.usbipcore.Usbip1.attach" /tmp/refused.txt || fail "the refusal does not name the polkit action"
[ "$(vhci_attached_count)" -eq 0 ] || fail "a vhci port is in use after the refusal"
expect_rc 7 /tmp/unbind.txt as_user nobody "$USBIP_TOOL" unbind -b "$B"
grep -q "org.usbipcore.Usbip1.bind" /tmp/unbind.txt || fail "the refusal does not name org.usbipcore.Usbip1.bind"
run "$USBIP_TOOL" unbind -b "$B"
stop_usbipcored
stop_desktop
say "polkit refusals passed"
