#!/bin/sh
# memcheck over the test programs and the tools they drive: `meson test --setup valgrind`
# (tests/meson.build, tests/valgrind-wrapper.sh): GLib's suppressions, --leak-check=full
# --errors-for-leak-kinds=definite, --track-fds=yes; any error fails the test.
#
#   scripts/valgrind.sh          the CI set: every non-VM suite that runs our programs but
#                                cli, man-pages and dbus
#   scripts/valgrind.sh --all    the CI set, cli (its 80 cases start the tools hundreds of
#                                times: ~7 min of CPU under memcheck, 24 min at load 10-18;
#                                clean, but ~8.5 min more on a quiet host: docs/quality.md),
#                                man-pages (the tools' --help) and dbus (not parallel with
#                                other tests, and ~10 min under memcheck on a loaded host: it
#                                would double the CI gate)
#
# Build: BUILD (default build; configured if missing). The tools run under memcheck in the
# journal (usbipcored) and trace-json (usbip-tool) suites and, with --all, in cli, man-pages
# and dbus (usbipcore-dbusd, usbip-tool as root and as nobody). The setup sets
# USBIPCORE_TEST_TIME_SCALE=10: the tests' waits and the deadlines they give the code (the
# exporter's 1 s handshake timeout) are ten times longer, as meson's timeouts are
# (tests/meson.build).
# Left out of both, each for its reason:
#   python-gi   the library runs inside python3, which is not ours and is not put under
#               memcheck (PyGObject's own allocations would drown the report); the C suites
#               run the same library code under memcheck
#   app-*       the GTK app is Python; the other two validate data files
#   abi-*, install, packaging (but man-pages), systemd-security*: they run no program of
#               ours (abidiff, a staged install, systemd-analyze), or only through an install
#   vm          the qemu guest
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CI_SET="core codec trace trace-json fuzz-replay platform platform-builtin backends importer
  exporter hostile transports devlist virtual hostile-virtual reconnect metrics journal conformance"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is missing: run scripts/install-deps.sh" >&2; exit 1; }
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --werror -Dvm_tests=false
fi
ninja -C "$BUILD"
if [ "${1:-}" = "--all" ]; then
  # cli's 120 s timeout x 10 (the setup's multiplier) is not enough for it under memcheck
  # shellcheck disable=SC2086
  set -- --timeout-multiplier 40 $CI_SET cli man-pages dbus
else
  # shellcheck disable=SC2086
  set -- $CI_SET
fi
meson test -C "$BUILD" --setup valgrind --print-errorlogs --num-processes 2 "$@"
