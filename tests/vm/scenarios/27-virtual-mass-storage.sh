#!/bin/sh
# Virtual mass storage (usbipcored's virtual plugin, no gadget) -> the real kernel: upstream
# `usbip attach` gives a /dev/sdX whose content is the image (md5), fsck of its ext4 passes, a
# write lands in the image; detach, then re-attach with usbip-tool and read it again (the
# read-only mode's write protection is shown by tests/virtual, mass-storage/write-read-only).
# Then the bench: read throughput of the virtual disk against the kernel's path (usbip-host
# exporting the configfs mass-storage gadget), same daemon, same boot (docs/performance.md).
. "$VMH_SRC/lib.sh"
need_daemon
need_tool
ID=1209:0001
scratch_dir virtual-27
mkdir -p "$D/content"
head -c 65536 /dev/urandom > "$D/content/payload.bin"
run mkfs.ext4 -q -F -d "$D/content" "$D/disk.img" 8M
IMG_MD5=$(md5sum < "$D/disk.img" | cut -d' ' -f1)

start_usbipcored --listen 127.0.0.1:3240 \
  --virtual "mass-storage:image=$D/disk.img,name=disk,vendor-id=1209,product-id=0001" \
  --virtual "mass-storage:image=$D/disk.img,read-only=true,speed=super,name=ssd,vendor-id=1209,product-id=0008"
run usbip list -r 127.0.0.1 > "$D/list.txt"
grep -q "virtual-disk: .*($ID)" "$D/list.txt" || fail "usbip list -r does not show virtual-disk: $(cat "$D/list.txt")"

t=$(now)
run usbip attach -r 127.0.0.1 -b virtual-disk
wait_for 20 vhci_device "$ID" || fail "no $ID device appeared on vhci"
wait_for 30 vhci_block "$ID" || fail "no disk appeared behind the virtual device"
sd=$(vhci_block "$ID")
wait_for 10 test -b "/dev/$sd" || fail "/dev/$sd is not a block device"
say "upstream attach -> /dev/$sd in $(elapsed "$t") s"
[ "$(cat "/sys/block/$sd/size")" = 16384 ] || fail "/dev/$sd has $(cat "/sys/block/$sd/size") sectors, not 16384"
t=$(now)
got=$(dd if="/dev/$sd" bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1)
say "read 8 MiB and md5: $(elapsed "$t") s"
[ "$got" = "$IMG_MD5" ] || fail "/dev/$sd reads $got, the image is $IMG_MD5"
run fsck.ext4 -n -f "/dev/$sd"
# a write lands in the image: 1 MiB of random data over the file system's last MiB
head -c 1048576 /dev/urandom > "$D/rand.bin"
t=$(now)
run dd if="$D/rand.bin" of="/dev/$sd" bs=1M seek=7 oflag=direct conv=fsync status=none
say "write 1 MiB: $(elapsed "$t") s"
W_MD5=$(md5sum < "$D/rand.bin" | cut -d' ' -f1)
got=$(dd if="$D/disk.img" bs=1M skip=7 count=1 status=none | md5sum | cut -d' ' -f1)
[ "$got" = "$W_MD5" ] || fail "the image does not hold what was written through /dev/$sd"
detach_upstream "$ID"

# again, with usbip-tool: the session ended cleanly and the device is free
t=$(now)
run "$USBIP_TOOL" attach -r 127.0.0.1 -b virtual-disk
wait_for 30 vhci_block "$ID" || fail "no disk appeared on re-attach"
sd=$(vhci_block "$ID")
wait_for 10 test -b "/dev/$sd" || fail "/dev/$sd is not a block device"
say "usbip-tool attach -> /dev/$sd in $(elapsed "$t") s"
got=$(dd if="/dev/$sd" bs=1M skip=7 count=1 iflag=direct status=none | md5sum | cut -d' ' -f1)
[ "$got" = "$W_MD5" ] || fail "/dev/$sd after re-attach does not read what was written"
port=$(upstream_port "$ID") || fail "usbip port does not show $ID"
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$ID" || fail "device still present after usbip-tool detach"


# bench, same boot: direct reads through the virtual disk (high and super speed) and through
# the kernel's path (usbip-host exporting the configfs mass-storage gadget, high speed on
# dummy_hcd), all three served by this usbipcored and attached at once; the reads alternate
# between them round by round, so a change in the host's load weighs on all three alike
disk_of() { # disk_of VID:PID: sets _sd to the block device behind the imported device
  wait_for 30 vhci_block "$1" || fail "no disk behind the imported $1"
  _sd=$(vhci_block "$1")
  wait_for 10 test -b "/dev/$_sd" || fail "/dev/$_sd is not a block device"
  dd if="/dev/$_sd" of=/dev/null bs=1M count=1 iflag=direct status=none
}
read_mibs() { # read_mibs SD: one direct read of 8 MiB, prints MiB/s
  _a=$(now)
  dd if="/dev/$1" of=/dev/null bs=1M count=8 iflag=direct status=none || fail "dd from /dev/$1 failed"
  awk -v a="$_a" -v b="$(now)" 'BEGIN { printf "%.1f\n", 8 / (b - a) }'
}
# each attach waits for the previous disk: upstream usbip's attach reads every used vhci port
# and fails ("usbip: error: open vhci_driver", after the exporter has handed the device over)
# while another port's device is still enumerating (seen in a CI run, 2 Dec)
run usbip attach -r 127.0.0.1 -b virtual-disk
disk_of "$ID"
sd_virtual=$_sd
run usbip attach -r 127.0.0.1 -b virtual-ssd
disk_of 1209:0008
sd_super=$_sd
run usbip bind -b "$MS_BUSID"
run usbip attach -r 127.0.0.1 -b "$MS_BUSID"
disk_of "$MS_ID"
sd_kernel=$_sd
: > "$D/virtual.out"
: > "$D/super.out"
: > "$D/kernel.out"
for _round in 1 2 3 4 5; do
  read_mibs "$sd_virtual" >> "$D/virtual.out"
  read_mibs "$sd_super" >> "$D/super.out"
  read_mibs "$sd_kernel" >> "$D/kernel.out"
done
detach_upstream "$ID"
detach_upstream 1209:0008
detach_upstream "$MS_ID"
run usbip unbind -b "$MS_BUSID"
say "virtual: $(tr '\n' ' ' < "$D/virtual.out") MiB/s; virtual super speed: $(tr '\n' ' ' < "$D/super.out") MiB/s; usbip-host gadget: $(tr '\n' ' ' < "$D/kernel.out") MiB/s"
figure ms_read_virtual "$(median < "$D/virtual.out")" MiB/s
figure ms_read_virtual_super "$(median < "$D/super.out")" MiB/s
figure ms_read_usbip_host_gadget "$(median < "$D/kernel.out")" MiB/s

stop_usbipcored
rm -rf "$D"
say "virtual mass storage passed"
