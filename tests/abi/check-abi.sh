#!/bin/sh
# Compares libusbipcore's ABI (abidw, from the debug info, types limited to the public
# headers) with the checked-in baseline libusbipcore/usbipcore.abi. Any difference fails:
# an incompatible one (a removed or changed function or type) needs a new soname, and a
# compatible one (an addition) needs the baseline updated in the same commit; see
# CONTRIBUTING.md. Regenerate the baseline with:
#   tests/abi/check-abi.sh build/libusbipcore/libusbipcore.so libusbipcore/usbipcore.abi libusbipcore --update
set -eu
lib=$1
baseline=$2
headers=$3
current=$(mktemp)
trap 'rm -f "$current"' EXIT
abidw --no-corpus-path --drop-private-types --headers-dir "$headers" --out-file "$current" "$lib"
if [ "${4:-}" = "--update" ]; then
  cp "$current" "$baseline"
  echo "updated $baseline"
  exit 0
fi
set +e
abidiff --no-added-syms "$baseline" "$current" > "$current.report" 2>&1
rc=$?
abidiff "$baseline" "$current" > "$current.full" 2>&1
full=$?
set -e
cat "$current.full"
rm -f "$current.report" "$current.full"
if [ $((rc & 3)) -ne 0 ] || [ $((full & 3)) -ne 0 ]; then
  echo "abidiff could not compare (exit $rc)"; exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
  echo "INCOMPATIBLE ABI change against $baseline: keep the old ABI, or raise the soname"
  echo "(libusbipcore/meson.build usbipcore_soversion) and then update the baseline"
  exit 1
fi
if [ "$full" -ne 0 ]; then
  echo "the ABI changed compatibly (additions): update the baseline in the same commit:"
  echo "  $0 $lib $baseline $headers --update"
  exit 1
fi
echo "ABI as in $baseline"
