#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Cross-builds usbipcore for Debian architectures with Debian multiarch and runs the unit
# suite under qemu-user-static (meson's exe_wrapper):
#   scripts/cross.sh ARCH...        ARCH: arm64 armhf i386 riscv64 ppc64el s390x, or all
# For each ARCH: adds the architecture to dpkg, installs crossbuild-essential-ARCH, the
# libraries' -dev:ARCH packages and qemu-user-static (INSTALL=0 skips this; it needs root and
# downloads a few hundred MB per architecture), writes a meson cross file
# (build-cross-ARCH/cross.txt; usable on its own with meson setup --cross-file), builds in
# build-cross-ARCH, checks that the programs are ELF files for that machine, and runs
# `meson test --suite unit`. Prints one summary line per architecture.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || { echo "usage: scripts/cross.sh ARCH... | all   (arm64 armhf i386 riscv64 ppc64el s390x)" >&2; exit 2; }
[ "$1" = all ] && set -- arm64 armhf i386 riscv64 ppc64el s390x
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# ARCH -> meson cpu_family cpu endian, qemu binary, what file(1) says about its ELF files
machine() {
  case $1 in
    arm64) echo "aarch64 aarch64 little qemu-aarch64-static ARM.aarch64" ;;
    armhf) echo "arm armv7hl little qemu-arm-static 32-bit.*ARM" ;;
    i386) echo "x86 i686 little qemu-i386-static 32-bit.*Intel.80386" ;;
    riscv64) echo "riscv64 riscv64 little qemu-riscv64-static RISC-V" ;;
    ppc64el) echo "ppc64 ppc64le little qemu-ppc64le-static 64-bit.LSB.*PowerPC" ;;
    s390x) echo "s390x s390x big qemu-s390x-static IBM.S/390" ;;
    *) return 1 ;;
  esac
}

results=""
for arch in "$@"; do
  m=$(machine "$arch") || { echo "cross: unknown architecture $arch (arm64 armhf i386 riscv64 ppc64el s390x)" >&2; exit 2; }
  set -- $m
  cpu_family=$1 cpu=$2 endian=$3 qemu=$4 elf=$5
  triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)
  if [ "${INSTALL:-1}" != 0 ]; then
    echo "cross: $arch: installing the cross toolchain and $arch libraries"
    $SUDO dpkg --add-architecture "$arch"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "crossbuild-essential-$arch" qemu-user-static \
      "libglib2.0-dev:$arch" "libgudev-1.0-dev:$arch" "libjson-glib-dev:$arch" "libsystemd-dev:$arch" "libsoup-3.0-dev:$arch" >/dev/null
  fi
  build=$src/build-cross-$arch
  mkdir -p "$build"
  cat >"$build/cross.txt" <<EOC
# meson cross file for Debian $arch (written by scripts/cross.sh)
[binaries]
c = '$triplet-gcc'
ar = '$triplet-ar'
strip = '$triplet-strip'
pkgconfig = '$triplet-pkg-config'
exe_wrapper = '$qemu'

[host_machine]
system = 'linux'
cpu_family = '$cpu_family'
cpu = '$cpu'
endian = '$endian'
EOC
  echo "cross: $arch: building in $build"
  if [ ! -f "$build/build.ninja" ]; then
    nice -n 15 meson setup "$build" "$src" --cross-file "$build/cross.txt" -Dvm_tests=false -Dman=disabled \
      >"$build/setup.log" 2>&1 || { tail -20 "$build/setup.log"; exit 1; }
  fi
  nice -n 15 ninja -C "$build" >"$build/ninja.log" 2>&1 || { tail -30 "$build/ninja.log"; exit 1; }
  for f in tools/usbip-tool/usbip-tool tools/usbipcored/usbipcored libusbipcore/libusbipcore.so.1.0.0; do
    file -L "$build/$f" | grep -q "ELF.*$elf" || { echo "cross: $arch: $f is not an $arch ELF: $(file -L "$build/$f")" >&2; exit 1; }
  done
  echo "cross: $arch: $(file -b "$build/tools/usbip-tool/usbip-tool" | cut -d, -f1-2)"
  if nice -n 15 meson test -C "$build" --suite unit --num-processes 2 >"$build/test.log" 2>&1; then
    summary="$arch: $(grep -E '^Ok:' "$build/test.log" | tr -s ' ') unit tests passed under $qemu"
  else
    tail -25 "$build/test.log"
    echo "cross: $arch: unit tests failed (log: $build/meson-logs/testlog.txt)" >&2
    exit 1
  fi
  echo "cross: $summary"
  results="$results$summary
"
done
printf '%s' "$results"
