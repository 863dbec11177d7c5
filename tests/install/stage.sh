#!/bin/sh
# stage.sh SRCDIR BUILDDIR STAGEDIR [MESON-OPTION...] [-- CMD [ARG...]]
#
# Builds the tree the way a distribution package does (--prefix=/usr --sysconfdir=/etc, in its
# own build dir BUILDDIR, configured once) and installs it with DESTDIR=STAGEDIR, so STAGEDIR
# holds usr/bin, usr/sbin, usr/lib/<triplet>/usbipcore-1/plugins and etc/usbipcore as a
# package lays them out; then runs CMD (the install suite's tests and the VM suite run the
# tools from there). Tests call it themselves, so a plain `ninja` never builds the stage.
# Concurrent calls take turns (flock); the stage is reinstalled only when the build changed.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 SRCDIR BUILDDIR STAGEDIR [MESON-OPTION...] [-- CMD...]" >&2; exit 2; }
src=$1 build=$2 stage=$3
shift 3
# absolute: meson install reads a relative --destdir from inside the build dir, which put the
# stage under BUILDDIR (and then failed) when the paths were given relative
mkdir -p "$(dirname "$build")" "$(dirname "$stage")"
src=$(cd "$src" && pwd) build=$(cd "$(dirname "$build")" && pwd)/$(basename "$build")
stage=$(cd "$(dirname "$stage")" && pwd)/$(basename "$stage")
opts=
while [ $# -gt 0 ] && [ "$1" != -- ]; do opts="$opts $1"; shift; done
[ $# -eq 0 ] || shift
mkdir -p "$(dirname "$build")"
exec 9> "$build.lock"
flock 9
if [ ! -f "$build/build.ninja" ]; then
  # shellcheck disable=SC2086 # options are single words
  meson setup "$build" "$src" --prefix=/usr --sysconfdir=/etc -Dtests=false -Dvm_tests=false $opts \
    > "$build.setup.log" 2>&1 || { cat "$build.setup.log" >&2; exit 1; }
fi
ninja -C "$build" > "$build.ninja.log" 2>&1 || { cat "$build.ninja.log" >&2; exit 1; }
if [ ! -d "$stage" ] || ! grep -q 'no work to do' "$build.ninja.log"; then
  rm -rf "$stage.new"
  meson install -C "$build" --no-rebuild --quiet --destdir "$stage.new" > "$build.install.log" 2>&1 ||
    { cat "$build.install.log" >&2; exit 1; }
  rm -rf "$stage"
  mv "$stage.new" "$stage"
fi
exec 9>&-
[ $# -eq 0 ] || exec "$@"
