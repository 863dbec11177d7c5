#!/bin/sh
# Mass storage, upstream usbipd -> usbip-tool (ours): attach the mass-storage gadget, write 4
# MiB of random data to the imported disk, read it back (O_DIRECT) and compare; after detach the
# gadget's backing file must hold the same bytes.
. "$VMH_SRC/lib.sh"
need_tool
B=$MS_BUSID

start_usbipd
run usbip bind -b "$B"
driver_is "$B" usbip-host || fail "$B not bound to usbip-host"
t=$(now)
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$MS_ID" || fail "no $MS_ID device appeared on vhci"
say "attach -> enumerated in $(elapsed "$t") s"
disk_roundtrip "$MS_ID"
say "attach -> verified in $(elapsed "$t") s"

port=$(upstream_port "$MS_ID") || fail "usbip port does not show $MS_ID"
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$MS_ID" || fail "device still present after detach"
run usbip unbind -b "$B"
stop_usbipd
backing_matches "$RT_MD5"
say "mass storage (usbipd -> tool) passed"
