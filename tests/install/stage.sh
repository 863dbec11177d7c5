#!/bin/sh
# stage.sh SRCDIR BUILDDIR STAGEDIR STAMP [MESON-OPTION...]
#
# Builds the tree the way a distribution package does (--prefix=/usr --sysconfdir=/etc, in its
# own build dir BUILDDIR, configured once) and installs it with DESTDIR=STAGEDIR, so STAGEDIR
# holds usr/bin, usr/sbin, usr/lib/<triplet>/usbipcore-1/plugins and etc/usbipcore as a
# package lays them out. The install suite and the VM suite run the tools from there.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 SRCDIR BUILDDIR STAGEDIR STAMP [MESON-OPTION...]" >&2; exit 2; }
src=$1 build=$2 stage=$3 stamp=$4
shift 4
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" --prefix=/usr --sysconfdir=/etc -Dtests=false -Dvm_tests=false "$@" \
    > "$build.setup.log" 2>&1 || { cat "$build.setup.log" >&2; exit 1; }
fi
ninja -C "$build" > "$build.ninja.log" 2>&1 || { cat "$build.ninja.log" >&2; exit 1; }
rm -rf "$stage"
meson install -C "$build" --no-rebuild --quiet --destdir "$stage" > "$build.install.log" 2>&1 ||
  { cat "$build.install.log" >&2; exit 1; }
echo "$stage" > "$stamp"
