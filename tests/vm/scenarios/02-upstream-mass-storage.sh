#!/bin/sh
# Upstream to upstream with a disk: export the mass-storage gadget, attach it, write 4 MiB of
# random data to the imported /dev/sdX, read it back and compare; then check the gadget's
# backing file holds the same bytes.
. "$VMH_SRC/lib.sh"
B=$MS_BUSID

start_usbipd
run usbip bind -b "$B"
driver_is "$B" usbip-host || fail "$B not bound to usbip-host"
t=$(now)
run usbip attach -r 127.0.0.1 -b "$B"
wait_for 30 vhci_block "$MS_ID" || fail "no disk appeared behind the imported $MS_ID"
sd=$(vhci_block "$MS_ID")
say "attach -> /dev/$sd in $(elapsed "$t") s"
wait_for 10 test -b "/dev/$sd" || fail "/dev/$sd is not a block device"
say "/dev/$sd: $(cat /sys/block/$sd/size) sectors"

head -c 4194304 /dev/urandom > /tmp/rand.bin
t=$(now)
run dd if=/tmp/rand.bin of="/dev/$sd" bs=1M oflag=direct conv=fsync status=none
say "write 4 MiB: $(elapsed "$t") s"
echo 3 > /proc/sys/vm/drop_caches
t=$(now)
run dd if="/dev/$sd" of=/tmp/back.bin bs=1M count=4 iflag=direct status=none
say "read 4 MiB: $(elapsed "$t") s"
a=$(md5sum < /tmp/rand.bin | cut -d' ' -f1)
b=$(md5sum < /tmp/back.bin | cut -d' ' -f1)
say "md5 written $a, read back $b"
[ "$a" = "$b" ] || fail "data read back differs"

port=$(upstream_port "$MS_ID") || fail "usbip port does not show $MS_ID"
run usbip detach -p "$port"
wait_for 10 absent vhci_device "$MS_ID" || fail "device still present after detach"
run usbip unbind -b "$B"
stop_usbipd
c=$(head -c 4194304 "$MS_IMAGE" | md5sum | cut -d' ' -f1)
say "md5 of the gadget's backing file: $c"
[ "$a" = "$c" ] || fail "the gadget's backing file does not hold the data"
say "mass storage passed"
