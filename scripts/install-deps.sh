#!/bin/sh
# Installs everything the build and the tests need on Debian 12 (run as root, or with sudo).
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS="meson ninja-build pkg-config gcc clang llvm libclang-rt-14-dev gcovr python3 python3-jsonschema
libglib2.0-dev libgudev-1.0-dev libjson-glib-dev libsoup-3.0-dev libsystemd-dev
gobject-introspection libgirepository1.0-dev python3-gi gir1.2-glib-2.0
umockdev libumockdev-dev systemd valgrind tshark tcpdump usbip
prometheus curl
qemu-system-x86 busybox-static cpio kmod usbutils hwdata iproute2 scdoc bash-completion zsh"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # tshark asks whether non-root users may capture; answer no without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
