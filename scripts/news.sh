#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Adds the section for VERSION at the top of NEWS: one line per commit since the previous
# release tag (vX.Y.Z), or since the start for the first release, oldest first. Edit the
# result into prose if you like, commit it, tag vVERSION, then run scripts/release.sh VERSION
# (which refuses a VERSION that NEWS does not have).
#   scripts/news.sh VERSION [DATE]      DATE defaults to today (UTC)
set -eu
[ $# -ge 1 ] || { echo "usage: scripts/news.sh VERSION [YYYY-MM-DD]" >&2; exit 2; }
version=$1
date=${2:-$(date -u +%Y-%m-%d)}
src=$(cd "$(dirname "$0")/.." && pwd)
news=$src/NEWS
if [ -f "$news" ] && grep -q "^usbipcore $version " "$news"; then
  echo "news: NEWS already has usbipcore $version" >&2
  exit 1
fi
prev=$(git -C "$src" describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null || true)
range=${prev:+$prev..}HEAD
{
  echo "usbipcore $version ($date)"
  echo "$(echo "usbipcore $version ($date)" | sed 's/./=/g')"
  echo
  git -C "$src" log --reverse --no-merges --format='%s' "$range" | fold -s -w 92 | sed 's/^/  /; s/^  \([^ ]\)/- \1/'
  echo
  [ -f "$news" ] && cat "$news"
} >"$news.new"
mv "$news.new" "$news"
echo "news: NEWS has usbipcore $version ($(git -C "$src" rev-list --no-merges --count "$range") changes${prev:+ since $prev})"
