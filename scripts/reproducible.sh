#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks that a commit builds reproducibly: clones it twice, into directories of different
# names and depths, and runs scripts/release.sh in each, one after the other (so at different
# times), with SOURCE_DATE_EPOCH from the commit. The second build also runs under another
# umask, time zone and locale, another host name (its own UTS namespace), another kernel
# release as uname reports it (setarch --uname-2.6) and, when run as root, as another user
# (nobody, owning its clone, with its own HOME). The source tarball, the binary tarball and
# the .debs must be byte-identical; otherwise diffoscope (if installed) explains each
# difference. What is varied and what is not: docs/release.md. Heavy: two full release builds.
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

# the second build's other host name and user: a UTS namespace needs root (or an
# unprivileged user namespace, which maps us to root in it); switching users needs root
other_user=nobody
if [ "$(id -u)" -eq 0 ]; then
  uts="unshare --uts"
elif unshare --user --map-root-user --uts true 2>/dev/null; then
  uts="unshare --user --map-root-user --uts" other_user=''
else
  uts='' other_user=''
fi

build() { # build DIR UMASK TZ LOCALE [HOSTNAME [USER]]: with a HOSTNAME also another kernel
  # release; the USER owns DIR and runs release.sh in it
  dir=$1 user=${6:-} name=
  [ -z "$uts" ] || name=${5:-} # never set the host's own name: only in a namespace of ours
  git clone -q --no-hardlinks "$src" "$dir"
  git -C "$dir" checkout -q "$commit"
  home=$dir.home
  mkdir -p "$home"
  as_user=
  if [ -n "$user" ]; then
    chown -R "$user:" "$dir" "$home"
    as_user="setpriv --reuid=$user --regid=$(id -g "$user") --clear-groups"
  fi
  # shellcheck disable=SC2016,SC2086 # $1.. expand in the inner shell; $uts, $as_user are commands
  ( umask "$2" && TZ=$3 LC_ALL=$4 LANG=$4 HOME=$home DIST="$dir/dist" MINISIGN_KEY="$work/throwaway.key" \
    ${name:+$uts} sh -c 'if [ -n "$1" ]; then hostname "$1"; fi; shift; exec "$@"' sh "$name" \
    ${5:+setarch "$(uname -m)" --uname-2.6} $as_user "$dir/scripts/release.sh" "$version" ) \
    >"$dir.log" 2>&1 || { tail -30 "$dir.log"; echo "reproducible: the build in $dir failed" >&2; exit 1; }
}
echo "reproducible: building $commit in two places"
build "$work/a" 0022 UTC POSIX
# the second user reaches its clone, the throwaway key and its HOME under $work
chmod 0755 "$work"
chmod 0644 "$work/throwaway.key"
mkdir -p "$work/second-build/with/a/longer"
chmod -R 0755 "$work/second-build"
build "$work/second-build/with/a/longer/path" 0002 Asia/Tokyo C.UTF-8 repro-second-host "$other_user"
b=$work/second-build/with/a/longer/path
if [ -n "$uts" ]; then
  host=repro-second-host
else
  host="$(hostname) (not varied: no UTS namespace without root or user namespaces)"
fi
echo "reproducible: second build: umask 0002, TZ=Asia/Tokyo, LC_ALL=C.UTF-8, kernel release" \
  "$(setarch "$(uname -m)" --uname-2.6 uname -r), host name $host," \
  "user ${other_user:-$(id -un) (not varied: switching users needs root)}"

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
