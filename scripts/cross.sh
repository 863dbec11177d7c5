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
# `meson test --suite unit` with the timeouts times CROSS_TIMEOUT_MULTIPLIER (default 4:
# emulation is slow) (-Dgtk_app=false: the app is Python, the same on every
# architecture, and its tests need a display). Every architecture is tried; one summary line each, and the
# exit status is 1 if any of them failed.
# libsoup-3.0-dev:ARCH and libpolkit-gobject-1-dev:ARCH cannot be installed on Debian 12
# next to the host's -dev packages (libsoup's pulls the GTK 4 -dev stack of ARCH and
# gobject-introspection is not Multi-Arch; polkit's depends on gir1.2-polkit-1.0, which is
# not Multi-Arch: same, so apt would remove the host's polkit and libsoup -dev packages):
# their runtime libraries and the -dev packages of libsoup's private dependencies are
# installed, and libsoup-3.0-dev, libsysprof-4-dev and libpolkit-gobject-1-dev of ARCH are
# unpacked into build-cross-ARCH/sysroot, where the cross file's pkg_config_path finds them.
# apt-get runs with --no-remove: it never takes a package away from the host.
# When the ARCH libraries cannot be installed next to the host's (s390x: bookworm-security
# does not build s390x any more, so a host with its security updates has Multi-Arch: same
# libraries such as zlib1g in versions that have no s390x twin), ARCH is built in a chroot
# of Debian 12 from bookworm's point release alone (one suite, so every architecture has
# the same versions). When the host's release has no ARCH at all (riscv64: Debian 12 does
# not release it and debian-ports is not reachable from every build host; Debian 13 trixie
# is the first release with riscv64 on deb.debian.org), ARCH is built in a chroot of
# Debian 13 trixie; meson.build's GLIB_VERSION_MIN_REQUIRED/MAX_ALLOWED (2.74) still hold
# the code to Debian 12's GLib API there, but the other libraries are trixie's. The chroots
# are CROSS_CHROOT/bookworm and CROSS_CHROOT/trixie (CROSS_CHROOT defaults to
# /var/cache/usbipcore-cross; each is made once by debootstrap), with the source tree
# bind-mounted at the same path. Package names that differ between releases (trixie's
# libsoup and sysprof) are read from the -dev packages' Depends. Needs root.
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

# in_chroot ARCH SUITE: runs cross_arch ARCH in the chroot of Debian SUITE (see above)
in_chroot() {
  root=${CROSS_CHROOT:-/var/cache/usbipcore-cross}/$2
  if [ ! -x "$root/usr/bin/apt-get" ]; then
    echo "cross: $1: making a Debian $2 chroot in $root (once)"
    mkdir -p "$(dirname "$root")"
    rm -rf "$root.new"
    nice -n 15 debootstrap --variant=minbase "$2" "$root.new" "${MIRROR:-http://deb.debian.org/debian}" \
      >"$build/debootstrap.log" 2>&1 || { tail -20 "$build/debootstrap.log"; echo "cross: $1: debootstrap failed"; return 1; }
    mv "$root.new" "$root"
  fi
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # the build's native tools (the ARCH libraries come with cross_arch's install); tshark
  # for the conformance suite, which skips without it
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    meson ninja-build pkgconf gcc libc6-dev libglib2.0-dev-bin python3 file dpkg-dev tshark >"$build/chroot-apt.log" 2>&1 ||
    { tail -8 "$build/chroot-apt.log"; echo "cross: $1: cannot install the build tools in $root"; return 1; }
  echo "cross: $1: building in the Debian $2 chroot $root"
  mkdir -p "$root$src"
  mount --bind "$src" "$root$src"
  mount -t proc proc "$root/proc"
  rc=0
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 CROSS_IN_CHROOT=1 \
    sh "$src/scripts/cross.sh" "$1" || rc=$?
  umount "$root/proc" "$root$src"
  return $rc
}

# depends_of PACKAGE: the names of the packages PACKAGE depends on, one a line
depends_of() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$1" 2>/dev/null |
    sed -n 's/^ *|\{0,1\}Depends: \([^<][^ :]*\).*/\1/p' | sort -u
}

# release_names ARCH: sets the names of packages that differ between Debian releases:
# soup_rt and polkit_rt (the runtime libraries the -dev packages depend on; trixie's t64
# renames), soup_devs (the -dev packages of libsoup's private dependencies, which its .pc
# file names: Debian 13 adds libkrb5-dev) and sysprof_dev (where sysprof-capture-4.pc is: libsysprof-4-dev in Debian 12,
# libsysprof-capture-4-dev in Debian 13)
release_names() {
  soup_rt=$(depends_of "libsoup-3.0-dev:$1" | grep -E '^libsoup-3\.0-0' | head -n 1)
  polkit_rt=$(depends_of "libpolkit-gobject-1-dev:$1" | grep -E '^libpolkit-gobject-1-0' | head -n 1)
  : "${soup_rt:=libsoup-3.0-0}" "${polkit_rt:=libpolkit-gobject-1-0}"
  soup_devs=$(depends_of "libsoup-3.0-dev:$1" | grep -E -e '-dev$' | grep -v -E '^(libsysprof|gir1\.2-)' | sed "s/\$/:$1/")
  : "${soup_devs:=libglib2.0-dev:$1 libsqlite3-dev:$1 libpsl-dev:$1 libbrotli-dev:$1 zlib1g-dev:$1 libnghttp2-dev:$1}"
  sysprof_dev=libsysprof-4-dev
  for p in libsysprof-4-dev libsysprof-capture-4-dev; do
    if apt-cache show --no-all-versions "$p:$1" 2>/dev/null | grep -q '^Package:'; then
      sysprof_dev=$p
      break
    fi
  done
}

# cross_arch ARCH: install, build, check and test one architecture (0 = passed); prints
# the reason of a failure as its last line
cross_arch() {
  arch=$1
  set -- $(machine "$arch")
  cpu_family=$1 cpu=$2 endian=$3 qemu=$4 elf=$5
  triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)
  multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
  build=$src/build-cross-$arch
  mkdir -p "$build"
  if [ "${INSTALL:-1}" != 0 ]; then
    echo "cross: $arch: installing the cross toolchain and $arch libraries"
    $SUDO dpkg --add-architecture "$arch"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
    if ! apt-cache show "libglib2.0-dev:$arch" >"$build/apt-cache.log" 2>&1; then
      # only "No packages found" means the release has no ARCH (another apt run that
      # changed the architectures meanwhile makes it fail too)
      if ! grep -q 'No packages found' "$build/apt-cache.log"; then
        tail -3 "$build/apt-cache.log"
        echo "cross: $arch: apt-cache cannot tell whether the release has $arch libraries (above)"
        return 1
      fi
      if [ -n "${CROSS_IN_CHROOT:-}" ]; then
        echo "cross: $arch: Debian $(. /etc/os-release && echo "$VERSION_CODENAME") has no $arch libraries"
        return 1
      fi
      # not a foreign architecture of the host: its apt would warn on every update
      $SUDO dpkg --remove-architecture "$arch"
      echo "cross: $arch: the host's Debian release has no $arch libraries (riscv64 is a release architecture from Debian 13): building in a Debian 13 trixie chroot"
      in_chroot "$arch" trixie
      return
    fi
    release_names "$arch"
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-remove --no-install-recommends \
      "crossbuild-essential-$arch" qemu-user-static \
      "libglib2.0-dev:$arch" "libjson-glib-dev:$arch" "libsystemd-dev:$arch" \
      "$soup_rt:$arch" $soup_devs "$polkit_rt:$arch" >"$build/apt.log" 2>&1; then
      grep -E '^ [^ ].* : Depends|^E:' "$build/apt.log" | head -8
      if [ -n "${CROSS_IN_CHROOT:-}" ] || [ "$(id -u)" -ne 0 ]; then
        echo "cross: $arch: the $arch libraries cannot be installed (above)"
        return 1
      fi
      echo "cross: $arch: the $arch libraries cannot be installed next to the host's (above; Multi-Arch: same packages need one version on every architecture): building in a Debian 12 bookworm chroot"
      in_chroot "$arch" bookworm
      return
    fi
  fi
  sysroot=$build/sysroot
  release_names "$arch"
  if [ ! -f "$sysroot/usr/lib/$multiarch/pkgconfig/polkit-gobject-1.pc" ]; then
    rm -rf "$sysroot" "$build/debs"
    mkdir -p "$sysroot" "$build/debs"
    (cd "$build/debs" && apt-get download "libsoup-3.0-dev:$arch" "libpolkit-gobject-1-dev:$arch" \
      "$sysprof_dev:$arch") \
      >"$build/download.log" 2>&1 ||
      { tail -5 "$build/download.log"; echo "cross: $arch: cannot download the -dev packages unpacked in $sysroot (above)"; return 1; }
    for d in "$build"/debs/*.deb; do dpkg-deb -x "$d" "$sysroot"; done
    sed -i "s|^prefix=/usr\$|prefix=$sysroot/usr|" "$sysroot/usr/lib/$multiarch/pkgconfig"/*.pc
    # the -dev packages' lib*.so links name the runtime library beside them: point them at
    # the installed one
    for so in "$sysroot/usr/lib/$multiarch"/lib*.so; do
      if [ -L "$so" ]; then ln -sf "/usr/lib/$multiarch/$(basename "$(readlink "$so")")" "$so"; fi
    done
  fi
  cat >"$build/cross.txt" <<EOC
# meson cross file for Debian $arch (written by scripts/cross.sh)
[binaries]
c = '$triplet-gcc'
ar = '$triplet-ar'
strip = '$triplet-strip'
pkgconfig = '$triplet-pkg-config'
exe_wrapper = '$qemu'

[properties]
# always through qemu: a host kernel without 32-bit emulation (IA32_EMULATION off, as in
# some VMs) cannot run i386 programs itself, and meson would try to
needs_exe_wrapper = true

[host_machine]
system = 'linux'
cpu_family = '$cpu_family'
cpu = '$cpu'
endian = '$endian'

[built-in options]
pkg_config_path = '$sysroot/usr/lib/$multiarch/pkgconfig'
EOC
  echo "cross: $arch: building in $build"
  if [ ! -f "$build/build.ninja" ]; then
    nice -n 15 meson setup "$build" "$src" --cross-file "$build/cross.txt" -Dvm_tests=false -Dman=disabled -Dgtk_app=false \
      >"$build/setup.log" 2>&1 || { tail -20 "$build/setup.log"; echo "cross: $arch: meson setup failed"; return 1; }
  fi
  nice -n 15 ninja -C "$build" >"$build/ninja.log" 2>&1 || { tail -30 "$build/ninja.log"; echo "cross: $arch: the build failed"; return 1; }
  for f in tools/usbip-tool/usbip-tool tools/usbipcored/usbipcored libusbipcore/libusbipcore.so.1.0.0; do
    file -L "$build/$f" | grep -q "ELF.*$elf" || { echo "cross: $arch: $f is not an $arch ELF: $(file -L "$build/$f")"; return 1; }
  done
  echo "cross: $arch: $(file -b "$build/tools/usbip-tool/usbip-tool" | cut -d, -f1-2)"
  # emulated programs are slower: riscv64's trace suite ran out of meson's 30 s under
  # qemu-riscv64 on a loaded 2-core host (arm64's takes 10 s)
  if ! nice -n 15 meson test -C "$build" --suite unit --num-processes 2 \
    --timeout-multiplier "${CROSS_TIMEOUT_MULTIPLIER:-4}" >"$build/test.log" 2>&1; then
    tail -25 "$build/test.log"
    echo "cross: $arch: unit tests failed under $qemu (log: $build/meson-logs/testlog.txt)"
    return 1
  fi
  # a skipped test did not pass (conformance skips without tshark)
  skipped=$(grep -E '^ok [0-9].* # SKIP' "$build/meson-logs/testlog.txt" | head -n 3)
  if [ -n "$skipped" ]; then
    echo "$skipped"
    echo "cross: $arch: $(grep -cE '^ok [0-9].* # SKIP' "$build/meson-logs/testlog.txt") unit tests skipped under $qemu (above; log: $build/meson-logs/testlog.txt)"
    return 1
  fi
  # meson counts the suites' programs; the TAP lines of their logs count the tests
  echo "cross: $arch: $(grep -E '^Ok:' "$build/test.log" | tr -s ' ' | cut -d' ' -f2) unit suites, $(grep -cE '^ok [0-9]' "$build/meson-logs/testlog.txt") unit tests passed under $qemu"
}

for arch in "$@"; do
  machine "$arch" >/dev/null || { echo "cross: unknown architecture $arch (arm64 armhf i386 riscv64 ppc64el s390x)" >&2; exit 2; }
done
if [ -n "${CROSS_IN_CHROOT:-}" ]; then # in_chroot's inner run: one architecture, no summary
  cross_arch "$1"
  exit
fi
results="" failed=0
for arch in "$@"; do
  mkdir -p "$src/build-cross-$arch"
  log=$src/build-cross-$arch/cross.log
  if cross_arch "$arch" 2>&1 | tee "$log"; [ "$(tail -n 1 "$log" | grep -c 'unit tests passed')" -eq 1 ]; then
    results="$results$(tail -n 1 "$log" | sed 's/^cross: //')
"
  else
    failed=$((failed + 1))
    results="${results}FAILED $(tail -n 1 "$log" | sed 's/^cross: //')
"
  fi
done
echo "cross: summary"
printf '%s' "$results"
[ "$failed" -eq 0 ]
