#!/bin/sh
# The main job: installs what building and running need (scripts/install-deps.sh --build),
# builds, and runs the usbipcored daemon in the foreground, serving USB/IP on loopback
# (127.0.0.1:3240, or $LISTEN) with the plugins from the build tree. Without arguments it
# also serves two demo devices emulated by the daemon itself, so `usbip list -r 127.0.0.1`
# shows something even without usbip modules: virtual-demo-disk (a small read-only disk
# image, $BUILD/demo/demo-disk.img) and virtual-demo-serial (a serial port that echoes).
# Extra arguments replace those defaults and go to usbipcored (e.g. --listen
# 0.0.0.0:3240, -e, --debug).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --build
BUILD=${BUILD:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  # the test suites need the test toolchain (install-deps.sh --all), which run.sh does not install
  meson setup "$BUILD" -Dtests=false
fi
ninja -C "$BUILD"
if [ $# -eq 0 ]; then
  demo="$BUILD/demo/demo-disk.img"
  if [ ! -f "$demo" ]; then
    mkdir -p "$BUILD/demo"
    truncate -s 4M "$demo"
    if command -v mkfs.vfat > /dev/null; then
      mkfs.vfat -n USBIPDEMO "$demo" > /dev/null
    fi
  fi
  set -- --listen "${LISTEN:-127.0.0.1:3240}" \
    --virtual "mass-storage:image=$(realpath "$demo"),read-only=true,name=demo-disk" \
    --virtual "cdc-acm:mode=loopback,name=demo-serial"
fi
# the daemon itself in the foreground (not under `meson devenv`, whose Python prints a
# traceback on Ctrl-C): the build tree's binaries find their library by RUNPATH, and
# USBIP_PLUGIN_DIR points at the build tree's plugins, as devenv would set it
case "$BUILD" in /*) ;; *) BUILD="$(pwd)/$BUILD" ;; esac
USBIP_PLUGIN_DIR="$BUILD/plugins"
export USBIP_PLUGIN_DIR
exec "$BUILD/tools/usbipcored/usbipcored" "$@"
