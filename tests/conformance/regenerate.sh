#!/bin/sh
# Regenerates the captures in tests/conformance/captures/ from the real kernel: boots the VM
# suite's guest (tests/vm/run-vm.sh) and runs the scenarios that record the wire:
#   01  upstream usbip  <-> upstream usbipd   -> upstream.pcap
#   10  upstream usbip  <-> usbipcored        -> usbipcored-export.pcap
#   11  usbip-tool      <-> upstream usbipd   -> usbip-tool-import.pcap
# Usage: tests/conformance/regenerate.sh BUILD_DIR   (a build dir with the tools built)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: regenerate.sh BUILD_DIR}" && pwd)
work="$build/conformance-regen"
mkdir -p "$work"
plugins="$build/plugins"
"$top/tests/vm/run-vm.sh" --cache "$work/cache" --results "$work/results" \
  --usbip-tool "$build/tools/usbip-tool/usbip-tool" \
  --usbipcored "$build/tools/usbipcored/usbipcored" \
  --plugin-dir "$plugins" '01-*' '10-*' '11-*'
for f in upstream.pcap usbipcored-export.pcap usbip-tool-import.pcap; do
  cp "$work/results/$f" "$here/captures/$f"
  echo "updated captures/$f"
done
echo "now run: meson test -C $build conformance"
