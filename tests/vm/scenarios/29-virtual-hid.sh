#!/bin/sh
# Virtual HID keyboard and mouse (usbipcored's virtual plugin) -> the real kernel: after
# upstream `usbip attach`, a line written to the keyboard's FIFO arrives as key events on
# its /dev/input/eventN (usbhid, hid-generic, evdev; read with evtest), and a mouse line as a
# relative move and a button press.
. "$VMH_SRC/lib.sh"
need_daemon
KBD_ID=1209:0005
MOUSE_ID=1209:0006
scratch_dir virtual-29
event_of() {
  _d=$(vhci_device "$1") || return 1
  for _e in /sys/bus/usb/devices/"$_d":1.0/*/input/input*/event*; do
    [ -e "$_e" ] && { basename "$_e"; return 0; }
  done
  return 1
}
# no udev in the guest to load the drivers when the devices appear
for m in usbhid hid-generic evdev; do run modprobe -d "$VMH_MODROOT" "$m"; done

start_usbipcored --listen 127.0.0.1:3240 \
  --virtual "hid-keyboard:input=$D/kbd,name=kbd,vendor-id=1209,product-id=0005" \
  --virtual "hid-mouse:input=$D/mouse,name=mouse,vendor-id=1209,product-id=0006"
test -p "$D/kbd" || fail "usbipcored did not create the FIFO $D/kbd"

for id in "$KBD_ID" "$MOUSE_ID"; do
  case $id in "$KBD_ID") b=virtual-kbd ;; *) b=virtual-mouse ;; esac
  run usbip attach -r 127.0.0.1 -b "$b"
  wait_for 20 event_of "$id" || fail "no input device appeared behind $b"
done
kbd=/dev/input/$(event_of "$KBD_ID")
mouse=/dev/input/$(event_of "$MOUSE_ID")
wait_for 10 test -c "$kbd" || fail "$kbd is not a character device"
wait_for 10 test -c "$mouse" || fail "$mouse is not a character device"

stdbuf -o0 evtest "$kbd" > "$D/kbd-events" 2>&1 &
kbd_reader=$!
stdbuf -o0 evtest "$mouse" > "$D/mouse-events" 2>&1 &
mouse_reader=$!
wait_for 20 has "$D/kbd-events" "Testing ..." || fail "evtest did not start on $kbd: $(cat "$D/kbd-events")"
wait_for 20 has "$D/mouse-events" "Testing ..." || fail "evtest did not start on $mouse: $(cat "$D/mouse-events")"
echo "q" > "$D/kbd"
wait_for 20 has "$D/kbd-events" "(KEY_Q), value 1" || fail "no KEY_Q press from the FIFO: $(cat "$D/kbd-events")"
wait_for 10 has "$D/kbd-events" "(KEY_ENTER), value 0" || fail "no Enter after the line"
echo "7 -2 1" > "$D/mouse"
wait_for 20 has "$D/mouse-events" "(REL_X), value 7" || fail "no REL_X 7 from the FIFO: $(cat "$D/mouse-events")"
wait_for 10 has "$D/mouse-events" "(BTN_LEFT), value 1" || fail "no left button press"
kill "$kbd_reader" "$mouse_reader"

for id in "$KBD_ID" "$MOUSE_ID"; do
  detach_upstream "$id"
done
stop_usbipcored
rm -rf "$D"
say "virtual HID keyboard and mouse passed"
