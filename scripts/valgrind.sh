#!/bin/sh
# memcheck over the test programs and the tools they drive: `meson test --setup valgrind`
# (tests/meson.build, tests/valgrind-wrapper.sh): GLib's suppressions, --leak-check=full
# --errors-for-leak-kinds=definite, --track-fds=yes; any error fails the test.
#
#   scripts/valgrind.sh          the CI subset (below)
#   scripts/valgrind.sh --all    every non-VM suite (about 10 min on 2 cores)
#
# Build: BUILD (default build; configured if missing). The CI subset runs usbipcored under
# memcheck through the journal test; it leaves out trace, conformance and reconnect (2-4 min
# each under memcheck; they pass with --all), cli (hundreds of tool runs: over its 20 min
# timeout under memcheck) and exporter, whose concurrency case uses 1 s handshake timeouts that
# memcheck's slowdown exceeds (its hostile suite runs: the same handshake code, one client at a
# time).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SUBSET="core codec fuzz-replay platform platform-builtin backends importer devlist metrics hostile journal"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is missing: run scripts/install-deps.sh" >&2; exit 1; }
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --werror -Dvm_tests=false
fi
ninja -C "$BUILD"
if [ "${1:-}" = "--all" ]; then
  set -- --no-suite vm --no-suite install --no-suite packaging --no-suite abi
else
  # shellcheck disable=SC2086
  set -- $SUBSET
fi
meson test -C "$BUILD" --setup valgrind --print-errorlogs --num-processes 2 "$@"
