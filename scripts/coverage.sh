#!/bin/bash
# Line coverage of the codec and the domain types by the unit tests; fails under 90 %.
#
#   scripts/coverage.sh
#
# Build: build-cov (override with COV_BUILD), gcc with -Db_coverage=true. Runs the meson
# suite 'unit', then gcovr over the files below only. g_return_* precondition lines are
# not counted (they guard against programming errors, not inputs).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${COV_BUILD:-build-cov}
MIN_LINE=${COV_MIN_LINE:-90}
FILES="usbip-proto.c usbip-busid.c usbip-remote.c usbip-speed.c usbip-error.c
usbip-device-info.c usbip-port-info.c"

command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing: run scripts/install-deps.sh" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --werror -Db_coverage=true -Dvm_tests=false -Dtests=true || exit 1
fi
ninja -C "$BUILD" || exit 1
# stale counters from an earlier run would count lines no test ran this time
find "$BUILD" -name '*.gcda' -delete
meson test -C "$BUILD" --suite unit --print-errorlogs --num-processes 2 || {
  echo "coverage.sh: the unit tests failed; fix them first" >&2; exit 1; }

filters=()
for f in $FILES; do
  filters+=(--filter "libusbipcore/${f//./\\.}\$")
done
gcovr --root . --object-directory "$BUILD" "${filters[@]}" \
  --exclude-lines-by-pattern '.*g_return_.*' \
  --txt "$BUILD/coverage.txt" --print-summary --fail-under-line "$MIN_LINE" "$BUILD" \
  > "$BUILD/coverage-summary.txt"
rc=$?
cat "$BUILD/coverage.txt"
cat "$BUILD/coverage-summary.txt"
line=$(sed -n 's/^lines: *\([0-9.]*\)%.*/\1/p' "$BUILD/coverage-summary.txt")
if [ $rc -ne 0 ]; then
  echo "coverage: FAILED: line coverage ${line:-?} % is under ${MIN_LINE} % (or gcovr failed, exit $rc)"
  exit 1
fi
echo "coverage: ok, line coverage ${line} % (at least ${MIN_LINE} %)"
