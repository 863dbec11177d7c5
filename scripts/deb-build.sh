#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the .deb packages from a clean export of a commit (default HEAD) with
# `dpkg-buildpackage -us -uc -b`, runs lintian on them (no error or warning allowed), and
# copies the .debs, .buildinfo and .changes to OUTDIR (default dist/deb).
#   scripts/deb-build.sh [OUTDIR]        env: COMMIT=<rev>, DEB_VERSION=<x.y.z-n>
# SOURCE_DATE_EPOCH defaults to the commit's time, so two builds of a commit are identical.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/dist/deb}
commit=${COMMIT:-HEAD}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/usbipcore-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ] && [ "$commit" = HEAD ]; then
  echo "deb-build: note: uncommitted changes are not built (building $(git -C "$src" rev-parse --short HEAD))" >&2
fi
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct "$commit")}
export SOURCE_DATE_EPOCH
mkdir "$work/usbipcore"
git -C "$src" archive --format=tar "$commit" | tar -xf - -C "$work/usbipcore"
cd "$work/usbipcore"
if [ -n "${DEB_VERSION:-}" ] && [ "$(dpkg-parsechangelog -S Version)" != "$DEB_VERSION" ]; then
  # a release not yet in debian/changelog: add its entry, dated by SOURCE_DATE_EPOCH
  { printf 'usbipcore (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n\n' \
      "$DEB_VERSION" "${DEB_VERSION%-*}" "$(dpkg-parsechangelog -S Maintainer)" \
      "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"; cat debian/changelog; } >debian/changelog.new
  mv debian/changelog.new debian/changelog
fi
nice -n 15 dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
cd "$work"
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
cp ./*.deb ./*.buildinfo ./*.changes "$out/"
cd "$out"
# informational tags (I:) are printed; an error or a warning fails the build
rc=0
lintian --fail-on error,warning --display-info ./*.changes >lintian.txt 2>&1 || rc=$?
grep -v 'running with root privileges' lintian.txt || true
[ "$rc" -eq 0 ] || { echo "deb-build: lintian reports errors or warnings (above)" >&2; exit 1; }
echo "deb-build: lintian: no errors or warnings; packages in $out"
