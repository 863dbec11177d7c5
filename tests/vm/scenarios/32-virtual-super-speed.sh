#!/bin/sh
# A super speed virtual disk (mass-storage speed=super) -> the real kernel: upstream `usbip
# attach` puts it on vhci's USB 3 root hub, it enumerates at 5000M (sysfs speed) with its
# 1024-byte bulk endpoints, and /dev/sdX reads the image's md5.
. "$VMH_SRC/lib.sh"
need_daemon
ID=1209:0007
scratch_dir virtual-32
head -c 4194304 /dev/urandom > "$D/disk.img"
IMG_MD5=$(md5sum < "$D/disk.img" | cut -d' ' -f1)

start_usbipcored --listen 127.0.0.1:3240 \
  --virtual "mass-storage:image=$D/disk.img,read-only=true,speed=super,name=ssd,vendor-id=1209,product-id=0007"
run usbip attach -r 127.0.0.1 -b virtual-ssd
wait_for 20 vhci_device "$ID" || fail "no $ID device appeared on vhci"
dev=$(vhci_device "$ID")
speed=$(cat "/sys/bus/usb/devices/$dev/speed")
[ "$speed" = 5000 ] || fail "$dev enumerated at ${speed}M, not 5000M (super speed)"
mps=$(cat "/sys/bus/usb/devices/$dev:1.0/ep_81/wMaxPacketSize")
[ "$mps" = 0400 ] || fail "bulk IN of $dev has wMaxPacketSize $mps, not 0400 (1024)"
wait_for 30 vhci_block "$ID" || fail "no disk appeared behind the super speed device"
sd=$(vhci_block "$ID")
wait_for 10 test -b "/dev/$sd" || fail "/dev/$sd is not a block device"
got=$(dd if="/dev/$sd" bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1)
[ "$got" = "$IMG_MD5" ] || fail "/dev/$sd reads $got, the image is $IMG_MD5"
say "virtual-ssd: $dev at ${speed}M, /dev/$sd reads the image"
detach_upstream "$ID"

stop_usbipcored
rm -rf "$D"
say "virtual super speed disk passed"
