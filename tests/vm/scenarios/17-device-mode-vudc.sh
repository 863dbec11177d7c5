#!/bin/sh
# Device mode on usbip-vudc: a configfs loopback gadget (1a0a:bade) bound to the UDC
# usbip-vudc.0 is exported by `usbipcored -e` and imported with upstream
# `usbip attach -d usbip-vudc.0`, then exported by upstream `usbipd -e` and imported with
# `usbip-tool attach -d usbip-vudc.0`; each time it must enumerate on vhci with its VID:PID.
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
UDC=usbip-vudc.0
VID=1a0a:bade
G=/sys/kernel/config/usb_gadget/vudc
P=/sys/devices/platform/$UDC

[ -d "$P" ] || fail "no $P: usbip-vudc is not loaded (modules: $(grep -o '^usbip[_a-z]*' /proc/modules | tr '\n' ' '))"
[ -e "/sys/class/udc/$UDC" ] || fail "no UDC $UDC in /sys/class/udc (have: $(ls /sys/class/udc | tr '\n' ' '))"

gadget_up() {
  [ -d $G ] && return 0
  mkdir $G || return 1
  echo 0x1a0a > $G/idVendor
  echo 0xbade > $G/idProduct
  echo 0x0200 > $G/bcdUSB
  mkdir $G/strings/0x409
  echo usbipcore > $G/strings/0x409/manufacturer
  echo "vm vudc loopback" > $G/strings/0x409/product
  echo VUDC0001 > $G/strings/0x409/serialnumber
  mkdir $G/configs/c.1
  mkdir $G/functions/Loopback.vudc
  echo 512 > $G/functions/Loopback.vudc/bulk_buflen
  ln -s $G/functions/Loopback.vudc $G/configs/c.1/
  echo "$UDC" > $G/UDC
}
gadget_down() {
  [ -d $G ] || return 0
  echo "" > $G/UDC 2>/dev/null
  rm -f $G/configs/c.1/Loopback.vudc
  rmdir $G/configs/c.1 $G/functions/Loopback.vudc $G/strings/0x409 $G 2>/dev/null
}
vudc_status() { cat "$P/usbip_status" 2>/dev/null; }
# (a function, so that wait_for reads the file again on every try)
vudc_status_is() { [ "$(vudc_status)" = "$1" ]; }
# rebind the gadget to the UDC: gives a fresh, exportable vudc after an import ended
gadget_rebind() {
  echo "" > $G/UDC && echo "$UDC" > $G/UDC
}
trap 'gadget_down' EXIT

say "+ configfs gadget $VID on $UDC"
gadget_up || fail "cannot bind a configfs gadget to $UDC"
say "$UDC: usbip_status $(vudc_status), dev_desc $(od -An -tx1 "$P/dev_desc" 2>&1 | tr -s ' \n' ' ')"
[ "$(vudc_status)" = 1 ] || fail "$UDC usbip_status is '$(vudc_status)', expected 1 (available)"

# our lister sees it, and so does upstream's
run "$USBIP_TOOL" list -d > /tmp/list-d.txt
cat /tmp/list-d.txt
grep -q "$UDC" /tmp/list-d.txt || fail "usbip-tool list -d does not show $UDC"

# --- 1. usbipcored -e -> upstream usbip attach -d
start_usbipcored -e --listen 127.0.0.1:3240
run usbip list -r 127.0.0.1 > /tmp/list.txt
cat /tmp/list.txt
grep -q "$UDC" /tmp/list.txt || fail "usbip list -r against usbipcored -e does not show $UDC"
t=$(now)
run usbip attach -r 127.0.0.1 -d "$UDC"
wait_for 30 vhci_device "$VID" || fail "no $VID device appeared on vhci (usbipcored -e -> usbip attach -d)"
dev=$(vhci_device "$VID")
say "usbipcored -e: attach -d -> $dev enumerated in $(elapsed "$t") s"
wait_for 10 test -e "/sys/bus/usb/devices/$dev:1.0" || fail "$dev has no configured interface"
[ "$(vudc_status)" = 2 ] || fail "$UDC usbip_status is '$(vudc_status)' while imported, expected 2 (used)"
port=$(upstream_port "$VID") || fail "usbip port does not show $VID"
run usbip detach -p "$port"
wait_for 10 absent vhci_device "$VID" || fail "$dev still present after detach"
stop_usbipcored

# the vudc may stay in its error state after the peer left; a rebind makes it exportable again
wait_for 5 vudc_status_is 1 || { say "usbip_status $(vudc_status) after detach: rebinding the gadget"; gadget_rebind; }
wait_for 10 vudc_status_is 1 || fail "$UDC not available again (usbip_status $(vudc_status))"

# --- 2. upstream usbipd -e -> usbip-tool attach -d
run usbipd -e -D --pid=/tmp/usbipd.pid
wait_for 10 test -s /tmp/usbipd.pid || fail "usbipd -e -D wrote no pid file"
started "$(cat /tmp/usbipd.pid)" 3240 "usbipd -e"
run "$USBIP_TOOL" list -r 127.0.0.1 > /tmp/list.txt
cat /tmp/list.txt
grep -q "$UDC" /tmp/list.txt || fail "usbip-tool list -r against usbipd -e does not show $UDC"
t=$(now)
run "$USBIP_TOOL" attach -r 127.0.0.1 -d "$UDC"
wait_for 30 vhci_device "$VID" || fail "no $VID device appeared on vhci (usbipd -e -> usbip-tool attach -d)"
dev=$(vhci_device "$VID")
say "usbipd -e: usbip-tool attach -d -> $dev enumerated in $(elapsed "$t") s"
wait_for 10 test -e "/sys/bus/usb/devices/$dev:1.0" || fail "$dev has no configured interface"
port=$(upstream_port "$VID") || fail "usbip port does not show $VID"
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$VID" || fail "$dev still present after detach"
stop_usbipd
say "device mode passed"
