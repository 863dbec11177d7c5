#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the RPMs of contrib/rpm/usbipcore.spec from the meson dist tarball of HEAD, with
# `rpmbuild -bb` (--nodeps where the build dependencies are Debian packages, RPMBUILD_NODEPS=0
# on an RPM distribution), and copies them to OUTDIR (default dist/rpm).
#   scripts/rpm-build.sh [OUTDIR]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/dist/rpm}
version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$src/meson.build")
spec_version=$(sed -n 's/^Version: *//p' "$src/contrib/rpm/usbipcore.spec")
[ "$version" = "$spec_version" ] || {
  echo "rpm-build: meson.build's version $version is not the spec's $spec_version: update contrib/rpm/usbipcore.spec (Version, %changelog)" >&2
  exit 2
}
work=$(mktemp -d "${TMPDIR:-/tmp}/usbipcore-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct HEAD)}
export SOURCE_DATE_EPOCH
mkdir -p "$work/SOURCES" "$out"
meson setup "$work/dist" "$src" -Dtests=false -Dman=disabled >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
meson dist -C "$work/dist" --formats xztar --no-tests --allow-dirty >>"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
cp "$work/dist/meson-dist/usbipcore-$version.tar.xz" "$work/SOURCES/"
nodeps=--nodeps
[ "${RPMBUILD_NODEPS:-1}" = 0 ] && nodeps=
nice -n 15 rpmbuild -bb $nodeps --define "_topdir $work" --define "use_source_date_epoch_as_buildtime 1" \
  --define "clamp_mtime_to_source_date_epoch 1" "$src/contrib/rpm/usbipcore.spec" >"$work/rpmbuild.log" 2>&1 ||
  { tail -40 "$work/rpmbuild.log"; exit 1; }
find "$work/RPMS" -name '*.rpm' -exec cp {} "$out/" \;
for r in "$out"/*.rpm; do
  echo "== $(basename "$r")"
  rpm -qpl "$r" 2>/dev/null
done
