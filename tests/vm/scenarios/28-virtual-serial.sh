#!/bin/sh
# Virtual serial ports (cdc-acm, usbipcored's virtual plugin) -> the real kernel: upstream
# `usbip attach` gives /dev/ttyACM0, bytes pass both ways between it and the daemon's
# pseudo-terminal; a loopback port echoes; readers killed mid-transfer (each kill unlinks the
# pending reads: an unlink storm) leave the session working.
. "$VMH_SRC/lib.sh"
need_daemon
PTY_ID=1209:0003
LB_ID=1209:0004
scratch_dir virtual-28
tty_of() { _d=$(vhci_device "$1") || return 1; ls "/sys/bus/usb/devices/$_d:1.0/tty" 2>/dev/null; }
mountpoint -q /dev/pts || run mount -t devpts -o ptmxmode=666 devpts /dev/pts
# no udev in the guest to load the driver when the device appears
run modprobe -d "$VMH_MODROOT" cdc-acm

start_usbipcored --listen 127.0.0.1:3240 \
  --virtual "cdc-acm:mode=pty,name=tty,vendor-id=1209,product-id=0003" \
  --virtual "cdc-acm:mode=loopback,name=loop,vendor-id=1209,product-id=0004"
pty=$(sed -n 's/.*virtual-tty: its other end is \(\/dev\/pts\/[0-9]*\).*/\1/p' "$_log" | head -n1)
[ -n "$pty" ] || fail "usbipcored did not log the pseudo-terminal of virtual-tty"
say "virtual-tty's other end: $pty"

run usbip attach -r 127.0.0.1 -b virtual-tty
wait_for 20 tty_of "$PTY_ID" || fail "no tty appeared behind the virtual serial port"
acm=/dev/$(tty_of "$PTY_ID")
wait_for 10 test -c "$acm" || fail "$acm is not a character device"
run stty -F "$acm" raw -echo 115200
# USB host -> pty
cat "$pty" > "$D/from-usb" &
reader=$!
printf 'hello from the usb side\n' > "$acm"
wait_for 10 has "$D/from-usb" "hello from the usb side" || fail "$pty did not receive what $acm sent"
kill "$reader"
# pty -> USB host
cat "$acm" > "$D/from-pty" &
reader=$!
printf 'hello from the pty side\n' > "$pty"
wait_for 10 has "$D/from-pty" "hello from the pty side" || fail "$acm did not receive what $pty sent"
kill "$reader"

run usbip attach -r 127.0.0.1 -b virtual-loop
wait_for 20 tty_of "$LB_ID" || fail "no tty appeared behind the loopback serial port"
lb=/dev/$(tty_of "$LB_ID")
wait_for 10 test -c "$lb" || fail "$lb is not a character device"
run stty -F "$lb" raw -echo
# the unlink storm: readers killed while their reads are pending
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  cat "$lb" > /dev/null &
  kill "$!"
  wait "$!" 2>/dev/null
done
# one open of the port for both ends: the echo must not reach a writer that closed already
exec 3<> "$lb"
cat <&3 > "$D/echo" &
reader=$!
printf 'echo after the storm\n' >&3
wait_for 10 has "$D/echo" "echo after the storm" || fail "the loopback port does not echo after the unlink storm"
kill "$reader"
exec 3>&-
grep -q "session ended" "$_log" && fail "a session ended during the test: $(grep 'session ended' "$_log")"

for id in "$PTY_ID" "$LB_ID"; do
  detach_upstream "$id"
done
stop_usbipcored
rm -rf "$D"
say "virtual serial ports passed"
