#!/bin/sh
# usbip-tool bind/unbind on the real usbip-host driver: the driver link and match_busid in
# sysfs follow; upstream usbipd exports exactly what we bound; our `list -l` / `list -l -p`
# agree byte for byte with upstream's `usbip list -l` / `usbip list -p -l` (and `list -r`,
# `port` with upstream's, but for the differences in ../upstream-differences/); the two tools undo
# each other's binds; the mass-storage gadget goes back to usb-storage after our unbind.
. "$VMH_SRC/lib.sh"
need_tool
B=$LB_BUSID
MB=/sys/bus/usb/drivers/usbip-host/match_busid
in_match() { grep -q "^$1\$" "$MB" 2>/dev/null || grep -qw "$1" "$MB"; }
# the devices upstream usbipd exports (it lists only what is bound to usbip-host)
exported() { usbip list -r 127.0.0.1 2>/dev/null | grep -q "^ *$1: "; }

compare_lists() {
  "$USBIP_TOOL" list -l > /tmp/ours.txt 2>&1 || fail "usbip-tool list -l exited with $?"
  usbip list -l > /tmp/theirs.txt 2>&1 || fail "usbip list -l exited with $?"
  "$USBIP_TOOL" list -l -p > /tmp/ours-p.txt 2>&1 || fail "usbip-tool list -l -p exited with $?"
  usbip list -p -l > /tmp/theirs-p.txt 2>&1 || fail "usbip list -p -l exited with $?"
  say "usbip-tool list -l ($1):"; cat /tmp/ours.txt
  say "usbip-tool list -l -p ($1):"; cat /tmp/ours-p.txt
  grep -q "busid $B ($LB_ID)" /tmp/ours.txt || fail "usbip-tool list -l does not show $B ($LB_ID)"
  grep -q "busid $MS_BUSID ($MS_ID)" /tmp/ours.txt || fail "usbip-tool list -l does not show $MS_BUSID ($MS_ID)"
  grep -qx "busid=$B#usbid=$LB_ID#" /tmp/ours-p.txt || fail "usbip-tool list -l -p has no busid=$B#usbid=$LB_ID#"
  # the parsable form is what scripts read: it must match upstream's exactly
  diff -u /tmp/theirs-p.txt /tmp/ours-p.txt || fail "list -l -p differs from upstream's usbip list -p -l ($1)"
  # the human form: the same devices with the same ids (names come from hwdata on both sides)
  grep -o 'busid [^ ]* ([0-9a-f:]*)' /tmp/theirs.txt > /tmp/theirs-ids.txt
  grep -o 'busid [^ ]* ([0-9a-f:]*)' /tmp/ours.txt > /tmp/ours-ids.txt
  diff -u /tmp/theirs-ids.txt /tmp/ours-ids.txt || fail "list -l devices differ from upstream's usbip list -l ($1)"
  # the human form: byte for byte, but for the differences listed in upstream-differences/
  same_as_upstream "list-l-$(echo "$1" | tr ' ' '-')" /tmp/theirs.txt /tmp/ours.txt
}

start_usbipd
driver_is "$B" usb || fail "$B starts on driver $(driver_of "$B"), expected usb"
compare_lists unbound
exported "$B" && fail "usbipd exports $B before anything bound it"

t=$(now)
run "$USBIP_TOOL" bind -b "$B"
say "bind: $(elapsed "$t") s"
driver_is "$B" usbip-host || fail "after usbip-tool bind, $B is on driver '$(driver_of "$B")', not usbip-host"
in_match "$B" || fail "$B not in $MB: $(cat $MB)"
say "$B -> $(readlink "/sys/bus/usb/devices/$B/driver"), match_busid: $(cat $MB | tr '\n' ' ')"
wait_for 5 exported "$B" || fail "upstream usbipd does not export $B after usbip-tool bind"
compare_lists bound
# what a client sees of the exporter, and of an imported device: list -r and port, human form
usbip list -r 127.0.0.1 > /tmp/theirs-r.txt 2>&1 || fail "usbip list -r exited with $?"
"$USBIP_TOOL" list -r 127.0.0.1 > /tmp/ours-r.txt 2>&1 || fail "usbip-tool list -r exited with $?"
same_as_upstream list-r /tmp/theirs-r.txt /tmp/ours-r.txt
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device appeared on vhci"
usbip port > /tmp/theirs-port.txt 2>&1 || fail "usbip port exited with $?"
"$USBIP_TOOL" port > /tmp/ours-port.txt 2>&1 || fail "usbip-tool port exited with $?"
same_as_upstream port /tmp/theirs-port.txt /tmp/ours-port.txt
port=$(upstream_port "$LB_ID") || fail "usbip port does not show $LB_ID"
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$LB_ID still on vhci after detach"
expect_rc 4 /tmp/again.txt "$USBIP_TOOL" bind -b "$B"
grep -qi "already\|busy\|bound" /tmp/again.txt || fail "binding twice does not say why"

t=$(now)
run "$USBIP_TOOL" unbind -b "$B"
say "unbind: $(elapsed "$t") s"
wait_for 10 driver_is "$B" usb || fail "after usbip-tool unbind, $B is on driver '$(driver_of "$B")', not usb"
in_match "$B" && fail "$B still in $MB after unbind"
exported "$B" && fail "upstream usbipd still exports $B after usbip-tool unbind"
compare_lists "unbound again"

# each tool undoes the other's bind
run usbip bind -b "$B"
driver_is "$B" usbip-host || fail "upstream bind did not take"
run "$USBIP_TOOL" unbind -b "$B"
wait_for 10 driver_is "$B" usb || fail "usbip-tool unbind did not undo upstream's bind"
run "$USBIP_TOOL" bind -b "$B"
run usbip unbind -b "$B"
wait_for 10 driver_is "$B" usb || fail "upstream unbind did not undo usbip-tool's bind"
in_match "$B" && fail "$B still in $MB after upstream unbind"

# the mass-storage gadget: its interface goes back to usb-storage
wait_for 10 driver_is "$MS_BUSID:1.0" usb-storage || fail "$MS_BUSID:1.0 not on usb-storage at the start"
run "$USBIP_TOOL" bind -b "$MS_BUSID"
driver_is "$MS_BUSID" usbip-host || fail "$MS_BUSID not on usbip-host"
test -e "/sys/bus/usb/devices/$MS_BUSID:1.0/driver" && fail "$MS_BUSID:1.0 still has a driver while exported"
run "$USBIP_TOOL" unbind -b "$MS_BUSID"
wait_for 10 driver_is "$MS_BUSID:1.0" usb-storage || fail "$MS_BUSID:1.0 not back on usb-storage after unbind"

# an unknown busid
expect_rc 3 /tmp/nodev.txt "$USBIP_TOOL" bind -b 9-9
stop_usbipd
say "bind/unbind passed"
