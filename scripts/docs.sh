#!/bin/sh
# Builds the API reference (gi-docgen over Usbip-1.0.gir) with warnings as errors, and checks
# every symbol has `Since:`: the CI gate `docs`. Output: $BUILD_DOCS/docs/reference/usbip-1.0/index.html.
#   scripts/docs.sh            (BUILD_DOCS defaults to build-docs)
set -eu
cd "$(dirname "$0")/.."
dir=${BUILD_DOCS:-build-docs}
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" --werror -Ddocs=true -Dintrospection=enabled -Dtests=false -Dman=disabled
else
  meson configure "$dir" -Ddocs=true -Dintrospection=enabled
fi
# g-ir-scanner runs with --warn-all --warn-error, gi-docgen with --fatal-warnings
ninja -C "$dir" docs/reference/usbip-1.0
test -f "$dir/docs/reference/usbip-1.0/index.html"
# every documented symbol says since which version it exists (the GIR's version attribute)
tests/abi/check-since.py "$dir/libusbipcore/Usbip-1.0.gir"
echo "reference: $dir/docs/reference/usbip-1.0/index.html"
