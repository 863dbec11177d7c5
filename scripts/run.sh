#!/bin/sh
# The main job: installs what building and running need (scripts/install-deps.sh --build),
# builds, and runs the usbipcored daemon in the foreground, serving USB/IP on loopback
# (127.0.0.1:3240) with the plugins from the build tree. Extra arguments go to usbipcored
# (e.g. --listen 0.0.0.0:3240, -e, --debug).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --build
BUILD=${BUILD:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD"
fi
ninja -C "$BUILD"
if [ $# -eq 0 ]; then
  set -- --listen 127.0.0.1:3240
fi
# the daemon itself in the foreground (not under `meson devenv`, whose Python prints a
# traceback on Ctrl-C): the build tree's binaries find their library by RUNPATH, and
# USBIP_PLUGIN_DIR points at the build tree's plugins, as devenv would set it
case "$BUILD" in /*) ;; *) BUILD="$(pwd)/$BUILD" ;; esac
USBIP_PLUGIN_DIR="$BUILD/plugins"
export USBIP_PLUGIN_DIR
exec "$BUILD/tools/usbipcored/usbipcored" "$@"
