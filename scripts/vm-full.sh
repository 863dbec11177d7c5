#!/bin/sh
# vm-full.sh [BUILD-DIR]: the whole real-kernel suite in its full profile (reconnect outages of
# 55 s, the netem matrix at RTT 50/200/800 ms; ~10 minutes more than the default quick
# profile `meson test --suite vm` and .ci/run use), then its figures as markdown into
# docs/performance-vm.md. Needs root and qemu (scripts/install-deps.sh). BUILD-DIR defaults to
# build-vm (set up here if missing).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build-vm}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD"
ninja -C "$BUILD"
VM_PROFILE=full meson test -C "$BUILD" --suite vm --print-errorlogs
tests/vm/collect-figures.sh "$BUILD/tests/vm/results" docs/performance-vm.md
echo "vm-full: every scenario passed in the full profile; figures in docs/performance-vm.md"
