#!/bin/sh
# build-guest.sh OUTDIR
#
# Prepares a guest for run-vm.sh in OUTDIR:
#   OUTDIR/kernel/<pkg>.deb           the downloaded Debian 12 kernel package (cached)
#   OUTDIR/kernel/root/               its extracted contents (cached)
#   OUTDIR/vmlinuz, OUTDIR/kver       the kernel image and its version
#   OUTDIR/initramfs.img              busybox, kmod, the modules below, and /init
#
# The initramfs holds only what the guest needs before it can mount the host's root over
# virtio-9p; everything else (usbip, usbipd, tcpdump, ip, our own binaries and the GLib they
# link) is used from the host's root, read-only, inside a chroot (see guest-init.sh).
#
# Environment: VM_KERNEL_PKG=linux-image-6.1.0-NN-amd64 picks a kernel package instead of the
# newest one linux-image-amd64 depends on. VM_EXTRA_MODULES adds modules.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT/kernel"
OUT=$(cd "$OUT" && pwd)

MODULES="usbip-core usbip-host vhci-hcd usbip-vudc dummy_hcd libcomposite usb_f_ss_lb
usb_f_mass_storage usb-storage sd_mod sch_netem veth 9p 9pnet_virtio virtio_pci af_packet overlay
vsock vsock_loopback vsock_diag usbhid hid-generic evdev cdc-acm ext4
${VM_EXTRA_MODULES:-}"

log() { echo "build-guest: $*" >&2; }

# --- 1. the kernel package -----------------------------------------------------------------
pkg=${VM_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
if [ -z "$pkg" ]; then
  # offline and no apt lists: reuse whatever was downloaded before
  deb=$(ls -t "$OUT"/kernel/linux-image-*.deb 2>/dev/null | head -n1 || true)
  [ -n "$deb" ] || { log "cannot find a linux-image package (apt-cache) and none is cached"; exit 1; }
else
  deb=$(ls -t "$OUT"/kernel/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    log "downloading $pkg"
    (cd "$OUT/kernel" && apt-get download -q "$pkg" >&2) || {
      # as root, apt's _apt sandbox user may not write here; retry through a temp dir
      tmp=$(mktemp -d); chmod 777 "$tmp"
      (cd "$tmp" && apt-get download -q "$pkg" >&2)
      mv "$tmp"/*.deb "$OUT/kernel/"; rmdir "$tmp"
    }
    deb=$(ls -t "$OUT"/kernel/"${pkg}"_*.deb | head -n1)
  fi
fi

kroot=$OUT/kernel/root
stamp=$kroot/.from
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(basename "$deb")" ]; then
  log "extracting $(basename "$deb")"
  rm -rf "$kroot"
  mkdir -p "$kroot"
  dpkg-deb -x "$deb" "$kroot"
  kv=$(ls "$kroot/lib/modules" | head -n1)
  depmod -b "$kroot" "$kv"   # the package ships no modules.dep; modprobe -d needs it
  basename "$deb" > "$stamp"
fi
kver=$(ls "$kroot/lib/modules" | head -n1)
[ -n "$kver" ] && [ -f "$kroot/boot/vmlinuz-$kver" ] || { log "no kernel in $deb"; exit 1; }
cp -f "$kroot/boot/vmlinuz-$kver" "$OUT/vmlinuz"
echo "$kver" > "$OUT/kver"

# --- 2. the initramfs tree -----------------------------------------------------------------
ir=$OUT/initramfs-root
rm -rf "$ir"
mkdir -p "$ir/bin" "$ir/sbin" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/host" "$ir/results" "$ir/stage" \
         "$ir/tmp" "$ir/lib/modules/$kver"

# modules and their dependencies
: > "$OUT/modules.list"
for m in $MODULES; do
  modprobe -d "$kroot" -S "$kver" --show-depends "$m" >> "$OUT/modules.list" || {
    log "module $m not found for $kver"; exit 1; }
done
awk '$1 == "insmod" { print $2 }' "$OUT/modules.list" | sort -u | while read -r ko; do
  rel=${ko#"$kroot"}
  mkdir -p "$ir$(dirname "$rel")"
  cp "$ko" "$ir$rel"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "$kroot/lib/modules/$kver/$f" ] && cp "$kroot/lib/modules/$kver/$f" "$ir/lib/modules/$kver/"
done
depmod -b "$ir" "$kver"

# busybox (static) and its applets
cp /bin/busybox "$ir/bin/busybox"
for a in $(/bin/busybox --list); do
  case $a in busybox|modprobe|insmod|rmmod|lsmod|modinfo|depmod) continue ;; esac
  ln -sf busybox "$ir/bin/$a"
done

# kmod (the kernel calls /sbin/modprobe to autoload modules) and its ldd closure
copy_with_libs() {
  cp -L "$1" "$ir$2"
  ldd "$1" | awk '/=>/ { print $3 } /^\t\// { print $1 }' | while read -r lib; do
    [ -f "$lib" ] || continue
    mkdir -p "$ir$(dirname "$lib")"
    cp -L "$lib" "$ir$lib"
  done
}
copy_with_libs /bin/kmod /bin/kmod
for a in modprobe insmod rmmod lsmod modinfo; do ln -sf ../bin/kmod "$ir/sbin/$a"; done

install -m 0755 "$HERE/init" "$ir/init"
echo "$kver" > "$ir/kver"

(cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$OUT/initramfs.img.tmp"
mv "$OUT/initramfs.img.tmp" "$OUT/initramfs.img"
log "kernel $kver, initramfs $(du -h "$OUT/initramfs.img" | cut -f1) in $OUT"
