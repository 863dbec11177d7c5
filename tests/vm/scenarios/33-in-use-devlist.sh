#!/bin/sh
# A device in use (imported by a client, usbip_status 2) in OP_REP_DEVLIST: what upstream
# usbipd answers, and that usbipcored answers the same. Both gadgets bound to usbip-host, the
# loopback one attached with upstream `usbip attach`; while it is in use `usbip list -r`,
# `usbip-tool list -r` and a raw OP_REQ_DEVLIST (the device count on the wire) are recorded
# against each exporter, a second import is refused (both importers' text kept), and after
# the detach the device is listed again (usbipcored's device-list cache follows the session).
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
B=$LB_BUSID

# wire_count: the device count (u32 after the 8-byte header) of an OP_REP_DEVLIST from
# 127.0.0.1:3240, asked for with a raw OP_REQ_DEVLIST (version 0x0111) over bash's /dev/tcp
wire_count() {
  bash -c 'exec 3<>/dev/tcp/127.0.0.1/3240 || exit 1; printf "\001\021\200\005\000\000\000\000" >&3; exec cat <&3' \
    > /tmp/devlist.bin || fail "raw OP_REQ_DEVLIST: cannot connect"
  od -An -tu1 -j8 -N4 /tmp/devlist.bin | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'
}
status_of() { cat "/sys/bus/usb/devices/$1/usbip_status"; }
status_is() { [ "$(status_of "$1")" = "$2" ]; }

# in_use_listing NAME: the checks against the exporter now listening (NAME: usbipd, usbipcored)
in_use_listing() {
  n=$(wire_count)
  say "$1, both free: OP_REP_DEVLIST has $n devices"
  [ "$n" -eq 2 ] || fail "$1 lists $n devices with both gadgets bound and free, expected 2"
  run usbip attach -r 127.0.0.1 -b "$B"
  wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device appeared on vhci"
  wait_for 10 status_is "$B" 2 || fail "usbip_status of $B is $(status_of "$B"), expected 2 (in use)"
  say "$1: $B imported, usbip_status $(status_of "$B")"

  n=$(wire_count)
  say "$1, $B in use: OP_REP_DEVLIST has $n devices"
  say "+ usbip list -r 127.0.0.1; $USBIP_TOOL list -r 127.0.0.1"
  usbip list -r 127.0.0.1 > "/tmp/$1-usbip.txt" 2>&1 || fail "usbip list -r exited with $?"
  cat "/tmp/$1-usbip.txt"
  "$USBIP_TOOL" list -r 127.0.0.1 > "/tmp/$1-tool.txt" 2>&1 || fail "usbip-tool list -r exited with $?"
  cat "/tmp/$1-tool.txt"
  [ "$n" -eq 1 ] || fail "$1 lists $n devices while $B is in use, expected 1 (only $MS_BUSID)"
  for f in "/tmp/$1-usbip.txt" "/tmp/$1-tool.txt"; do
    grep -q "$B:" "$f" && fail "$f lists $B while it is in use"
    grep -q "$MS_BUSID:" "$f" || fail "$f does not list the free $MS_BUSID"
  done

  # a second import (another spelling of the remote: a different pair) is refused, busy
  expect_rc 1 "/tmp/$1-busy-usbip.txt" usbip attach -r localhost -b "$B"
  grep -qi "busy" "/tmp/$1-busy-usbip.txt" || fail "upstream usbip's refusal through $1 does not say busy"
  expect_rc 4 "/tmp/$1-busy-tool.txt" "$USBIP_TOOL" attach -r localhost -b "$B"
  grep -qi "busy" "/tmp/$1-busy-tool.txt" || fail "usbip-tool's refusal through $1 does not say busy"
  [ "$(vhci_attached_count)" -eq 1 ] || fail "a refused import changed the vhci ports"

  port=$(upstream_port "$LB_ID") || fail "usbip port does not show $LB_ID"
  run usbip detach -p "$port"
  wait_for 10 absent vhci_device "$LB_ID" || fail "$LB_ID still present after detach"
  wait_for 10 status_is "$B" 1 || fail "usbip_status of $B is $(status_of "$B") after detach, expected 1"
  n=$(wire_count)
  say "$1, after detach: OP_REP_DEVLIST has $n devices"
  [ "$n" -eq 2 ] || fail "$1 lists $n devices after the detach, expected 2 ($B free again)"
  run "$USBIP_TOOL" list -r 127.0.0.1 > "/tmp/$1-after.txt"
  grep -q "$B:" "/tmp/$1-after.txt" || fail "$1: $B is not listed again after the detach"
}

run usbip bind -b "$B"
run usbip bind -b "$MS_BUSID"

start_usbipd
in_use_listing usbipd
stop_usbipd

start_usbipcored
in_use_listing usbipcored
stop_usbipcored

# the same human output from either exporter, and from either tool
same_as_upstream in-use-list-r-exporter /tmp/usbipd-usbip.txt /tmp/usbipcored-usbip.txt
same_as_upstream in-use-list-r /tmp/usbipd-usbip.txt /tmp/usbipd-tool.txt
run usbip unbind -b "$B"
run usbip unbind -b "$MS_BUSID"
say "in-use devlist passed"
