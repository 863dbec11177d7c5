#!/bin/sh
# install-deps.sh [--build|--all]: installs the Debian 12 packages usbipcore needs (run as root,
# or with sudo).
#   --build  what building and running need (scripts/run.sh)
#   --all    that plus the test toolchain: sanitizers, coverage, tshark, qemu for the
#            real-kernel suite, ... (the default; scripts/test.sh and .ci/run)
# When another apt-get or dpkg holds the lock, waits for it (up to APT_LOCK_WAIT seconds,
# default 600) instead of failing.
set -eu
# Add a package to the list it belongs to: BUILD_PKGS if building or running usbipcore needs
# it, TEST_PKGS if only a test, a CI gate or the VM suite does.
BUILD_PKGS="meson ninja-build pkg-config gcc
libglib2.0-dev libjson-glib-dev libsystemd-dev libsoup-3.0-dev scdoc bash-completion
gobject-introspection libgirepository1.0-dev libpolkit-gobject-1-dev"
TEST_PKGS="gi-docgen abigail-tools clang llvm libclang-rt-14-dev gcovr python3 python3-jsonschema
gobject-introspection libgirepository1.0-dev python3-gi gir1.2-glib-2.0
umockdev libumockdev-dev systemd valgrind tshark tcpdump usbip binutils prometheus curl
qemu-system-x86 busybox-static cpio kmod usbutils hwdata iproute2 evtest zsh
debhelper dpkg-dev lintian debootstrap rpm minisign jq diffoscope-minimal
clang-tidy clang-format clang-tools cppcheck python3-clang util-linux
xvfb dbus python3-dbusmock gir1.2-gtk-4.0 gir1.2-adw-1 gir1.2-atspi-2.0 at-spi2-core appstream
desktop-file-utils fonts-dejavu-core
python3-dbus polkitd"

case ${1:---all} in
  --build) PKGS=$BUILD_PKGS ;;
  --all) PKGS="$BUILD_PKGS $TEST_PKGS" ;;
  *) echo "usage: $0 [--build|--all]" >&2; exit 2 ;;
esac
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
LOCK_WAIT=${APT_LOCK_WAIT:-600}
LOCK_POLL=${APT_LOCK_POLL:-5}

# apt_get ARGS...: apt-get, retried while another package manager holds the lock (apt-get
# exits 100 and says "Could not get lock"), up to LOCK_WAIT seconds; any other error at once
apt_get() {
  waited=0
  while :; do
    rc=0
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@" 2> "$errf" || rc=$?
    if [ $rc -eq 0 ]; then cat "$errf" >&2; return 0; fi
    if [ $rc -ne 100 ] || ! grep -q 'Could not get lock' "$errf"; then cat "$errf" >&2; return $rc; fi
    if [ "$waited" -ge "$LOCK_WAIT" ]; then
      cat "$errf" >&2
      echo "install-deps.sh: the apt lock is still held after ${LOCK_WAIT} s; let the other apt-get or" \
        "dpkg (above) finish, or raise APT_LOCK_WAIT, then run this again" >&2
      return $rc
    fi
    [ "$waited" -gt 0 ] ||
      echo "install-deps.sh: another apt-get or dpkg holds the lock ($(grep -o 'held by process [0-9]* ([^)]*)' "$errf" | head -n1 || true)); waiting up to ${LOCK_WAIT} s" >&2
    sleep "$LOCK_POLL"
    waited=$((waited + LOCK_POLL))
  done
}

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  errf=$(mktemp)
  trap 'rm -f "$errf"' EXIT
  apt_get update -qq
  # tshark asks whether non-root users may capture; answer no without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  apt_get install -y -qq --no-install-recommends $missing >/dev/null
fi
