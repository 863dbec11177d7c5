#!/bin/sh
# Every suite but the VM one under AddressSanitizer + UndefinedBehaviorSanitizer, leaks
# included (the CLI suite runs the sanitized tools and daemon too). A CI gate.
#   scripts/sanitize.sh          (build dir: build-asan, override with ASAN_BUILD)
set -eu
cd "$(dirname "$0")/.."
BUILD=${ASAN_BUILD:-build-asan}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --werror -Db_sanitize=address,undefined -Db_lundef=false -Dvm_tests=false
fi
ninja -C "$BUILD"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# python: the PyGObject suite loads the sanitized library into an uninstrumented python3,
# which ASan refuses ("runtime does not come first"); its C paths run here through the C suites
meson test -C "$BUILD" --no-suite vm --no-suite python --print-errorlogs --num-processes 2
echo "sanitize: ASan + UBSan clean"
