#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks that a commit builds reproducibly: clones it twice, into directories of different
# names and depths, and runs scripts/release.sh in each, one after the other (so at different
# times; the second also under another umask and time zone), with SOURCE_DATE_EPOCH from the
# commit. The source tarball, the binary tarball and the .debs must be byte-identical;
# otherwise diffoscope (if installed) explains each difference. Heavy: two full release builds.
#   scripts/reproducible.sh [COMMIT]     env: NO_DEB=1 skips the .debs; KEEP_DIST=DIR keeps the
#                                        first build's dist/ (signed with a throwaway key,
#                                        whose public half is DIR/throwaway.pub)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$src" rev-parse "${1:-HEAD}")
version=$(git -C "$src" show "$commit:meson.build" | sed -n "s/^  version: '\(.*\)',$/\1/p")
work=$(mktemp -d "${TMPDIR:-/tmp}/usbipcore-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
minisign -G -W -p "$work/throwaway.pub" -s "$work/throwaway.key" >/dev/null

build() { # build DIR UMASK TZ
  dir=$1
  git clone -q --no-hardlinks "$src" "$dir"
  git -C "$dir" checkout -q "$commit"
  (umask "$2" && TZ=$3 DIST="$dir/dist" MINISIGN_KEY="$work/throwaway.key" "$dir/scripts/release.sh" "$version") \
    >"$dir.log" 2>&1 || { tail -30 "$dir.log"; echo "reproducible: the build in $dir failed" >&2; exit 1; }
}
echo "reproducible: building $commit in two places"
build "$work/a" 0022 UTC
build "$work/second-build/with/a/longer/path" 0002 Asia/Tokyo
b=$work/second-build/with/a/longer/path

arch=$(dpkg --print-architecture)
same=0 differ=0
for f in "usbipcore-$version.tar.xz" "usbipcore_${version}_linux_$arch.tar.gz" $(cd "$work/a/dist" && ls ./*.deb 2>/dev/null | sed 's,^\./,,'); do
  if cmp -s "$work/a/dist/$f" "$b/dist/$f"; then
    same=$((same + 1))
    echo "ok - $f is identical ($(sha256sum <"$work/a/dist/$f" | cut -c1-16))"
  else
    differ=$((differ + 1))
    echo "not ok - $f differs"
    if command -v diffoscope >/dev/null; then
      diffoscope --text - "$work/a/dist/$f" "$b/dist/$f" | head -60 | sed 's/^/#   /'
    fi
  fi
done
if [ -n "${KEEP_DIST:-}" ]; then
  mkdir -p "$KEEP_DIST"
  cp "$work/a/dist"/* "$work/throwaway.pub" "$KEEP_DIST/"
fi
echo "$same passed, $differ failed"
[ "$differ" -eq 0 ] && [ "$same" -gt 0 ]
