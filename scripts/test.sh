#!/bin/sh
# The whole test suite: installs dependencies, builds with warnings as errors, runs every
# meson suite (unit, plugins, importer, exporter, hostile, trace, abi and the real-kernel vm
# suite), and prints "N passed, N failed, N skipped" (scripts/summarize-tests.py; under
# USBIPCORE_STRICT=1 a skip outside .ci/allowed-skips is a failure).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD=${BUILD:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --werror
else # e.g. made by scripts/run.sh, which leaves the tests out
  meson configure "$BUILD" -Dtests=true -Dwerror=true
fi
ninja -C "$BUILD"
rc=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@" || rc=$?
python3 scripts/summarize-tests.py "$BUILD/meson-logs/testlog.json" || rc=1
exit $rc
