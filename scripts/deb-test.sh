#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Heavy gate (not part of `meson test`; ~10 min, needs root and the Debian mirror): installs,
# upgrades and purges the packages on a fresh Debian 12 made by debootstrap, and checks what
# a user relies on: the socket unit is enabled (deb-systemd-helper's state and the
# sockets.target.wants symlink), systemctl knows the units, `man usbipcored` works, Tab
# completes `usbip-tool att`, bus IDs and ports (tests/packaging/test-completion.sh against
# the installed completion and programs), the default configuration is a conffile that
# validates, the typelib, the D-Bus service with its polkit actions, the plugins and the
# GTK app are in place, a local edit survives an upgrade, and purge removes the
# configuration and the unit state. Every package built is installed.
#   scripts/deb-test.sh                 build HEAD once; the upgrade goes to the same build
#                                       relabelled as the next Debian revision
#   scripts/deb-test.sh V1DIR           the same with prebuilt .debs
#   scripts/deb-test.sh V1DIR V2DIR     use prebuilt .debs for both (V2 must be newer than V1)
# The relabelled upgrade is the same files under a newer version: it tests what an upgrade
# does to the system (maintainer scripts, conffiles, unit state), not a change of code.
# env: CHROOT_CACHE (pristine chroot, default /var/cache/usbipcore-deb-chroot), MIRROR.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cache=${CHROOT_CACHE:-/var/cache/usbipcore-deb-chroot}
mirror=${MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "deb-test: needs root (debootstrap, chroot)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/usbipcore-deb-test.XXXXXX")
root=$work/root
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $# -ge 1 ]; then
  v1=$(cd "$1" && pwd)
else
  v1=$work/v1
  "$src/scripts/deb-build.sh" "$v1" >"$work/build1.log" 2>&1 || { tail -30 "$work/build1.log"; exit 1; }
fi
if [ $# -ge 2 ]; then
  v2=$(cd "$2" && pwd)
else
  # the next revision: every package of V1 repacked with Version (and the = dependencies
  # between them) raised from X-N to X-(N+1)
  v2=$work/v2
  mkdir -p "$v2"
  for deb in "$v1"/*.deb; do
    old=$(dpkg-deb -f "$deb" Version)
    new="${old%-*}-$((${old##*-} + 1))"
    rm -rf "$work/repack"
    dpkg-deb -R "$deb" "$work/repack"
    sed -i "s/(= $old)/(= $new)/g; s/^Version: $old\$/Version: $new/" "$work/repack/DEBIAN/control"
    dpkg-deb -b --root-owner-group "$work/repack" "$v2/$(dpkg-deb -f "$deb" Package)_${new}_$(dpkg-deb -f "$deb" Architecture).deb" >/dev/null
  done
fi

if [ ! -x "$cache/usr/bin/apt-get" ]; then
  echo "deb-test: making a Debian 12 chroot in $cache (once)"
  rm -rf "$cache.new"
  nice -n 15 debootstrap --variant=minbase --include=systemd,man-db,bash-completion bookworm "$cache.new" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
  mv "$cache.new" "$cache"
fi
echo "deb-test: fresh copy of $cache"
cp -a "$cache" "$root"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir "$root/debs1" "$root/debs2"
cp "$src/tests/packaging/test-completion.sh" "$root/test-completion.sh"
cp "$v1"/*.deb "$root/debs1/"
cp "$v2"/*.deb "$root/debs2/"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
passed=0 failed=0
check() { # check DESCRIPTION COMMAND... (run in the chroot by sh -c)
  name=$1
  shift
  if out=$(in_root sh -c "$*" 2>&1); then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    printf '%s\n' "$out" | sed 's/^/#   /'
  fi
}
# bash as a user's interactive shell does it: bash-completion loads the completion on demand
complete_cmd='. /usr/share/bash-completion/bash_completion; _completion_loader usbip-tool;
  COMP_WORDS=(usbip-tool att); COMP_CWORD=1; _usbip_tool usbip-tool att usbip-tool; [ "${COMPREPLY[*]}" = attach ]'

in_root apt-get update -qq
echo "== install $(ls "$v1" | grep '^usbipcore_.*deb$')"
in_root sh -c 'apt-get install -y -qq --no-install-recommends /debs1/*.deb' >"$work/install.log" 2>&1 ||
  { tail -30 "$work/install.log"; exit 1; }
packages=$(for deb in "$v1"/*.deb; do dpkg-deb -f "$deb" Package; done | sort | xargs)
check "every package built is installed ($packages)" \
  "dpkg -s $packages | grep -c '^Status: install ok installed' | grep -qx $(echo "$packages" | wc -w)"
check "usbipcored.socket is enabled (systemctl)" 'systemctl is-enabled usbipcored.socket | grep -qx enabled'
check "usbipcored.socket is enabled (sockets.target.wants link)" \
  'test "$(readlink /etc/systemd/system/sockets.target.wants/usbipcored.socket)" = /lib/systemd/system/usbipcored.socket'
check "deb-systemd-helper recorded the socket as installed" 'DPKG_MAINTSCRIPT_PACKAGE=usbipcore deb-systemd-helper debian-installed usbipcored.socket'
check "systemctl knows usbipcored.service (not enabled alone)" 'test "$(systemctl is-enabled usbipcored.service)" = disabled'
check "the default configuration is a conffile" 'dpkg-query -W -f="\${Conffiles}" usbipcore | grep -q " /etc/usbipcore/usbipcore.conf "'
check "the shipped configuration validates" 'usbipcored --check-config'
check "usbip-tool runs" 'usbip-tool --version | grep -q usbipcore'
check "man usbipcored works" 'man -P cat usbipcored | grep -q "serve USB devices over USB/IP"'
check "man usbipcore.conf works" 'man -P cat 5 usbipcore.conf | grep -q max-sessions-per-peer'
check "Tab completes usbip-tool att" "bash -c '$complete_cmd'"
check "Tab completes bus IDs (list -l, a remote's list) and ports (installed completion)" \
  'bash /test-completion.sh /usr/share/bash-completion/completions/usbip-tool /usr/bin/usbip-tool /usr/sbin/usbipcored >/tmp/completion.tap; rc=$?; grep -v "^ok" /tmp/completion.tap; exit $rc'
check "the Usbip-1.0 typelib loads (gir1.2-usbip-1.0)" \
  'python3 -c "import gi; gi.require_version(\"Usbip\", \"1.0\"); from gi.repository import Usbip; Usbip.Importer"'
check "systemctl knows usbipcore-dbus.service (D-Bus activated, not enabled)" 'test "$(systemctl is-enabled usbipcore-dbus.service)" = static'
check "the bus activation file starts the installed service" \
  'grep -qx "SystemdService=usbipcore-dbus.service" /usr/share/dbus-1/system-services/org.usbipcore.Usbip1.service && test -x "$(sed -n "s/^Exec=//p" /usr/share/dbus-1/system-services/org.usbipcore.Usbip1.service)"'
check "the polkit actions and the bus policy are installed" \
  'grep -q "<action id=\"org.usbipcore.Usbip1" /usr/share/polkit-1/actions/org.usbipcore.Usbip1.policy && grep -q org.usbipcore.Usbip1 /usr/share/dbus-1/system.d/org.usbipcore.Usbip1.conf'
check "man usbipcore-dbusd works" 'man -P cat usbipcore-dbusd >/dev/null'
check "the transport and virtual plugins are installed" \
  'dpkg -S libusbip-plugin-vsock.so libusbip-plugin-unix.so | grep -c "^libusbipcore1:" | grep -qx 2 && dpkg -S libusbip-plugin-virtual.so | grep -q "^usbipcore:"'
check "the app's settings schema is compiled (usbipcore-gtk)" \
  'python3 -c "from gi.repository import Gio; Gio.Settings.new(\"org.usbipcore.RemoteUsb\")" && test -x /usr/bin/usbipcore-gtk && test -x "$(sed -n "s/^Exec=\([^ ]*\).*/\1/p" /usr/share/applications/org.usbipcore.RemoteUsb.desktop)"'
check "the kernel modules load at boot (modules-load.d)" 'grep -qx usbip-host /usr/lib/modules-load.d/usbipcore.conf && grep -qx vhci-hcd /usr/lib/modules-load.d/usbipcore.conf'
check "the plugins are installed" 'ls /usr/lib/*/usbipcore-1/plugins/libusbip-plugin-host.so'
check "the metrics plugin is usbipcore's (libsoup is not the library's dependency)" \
  'dpkg -S libusbip-plugin-metrics.so | grep -q "^usbipcore:" && ! dpkg -s libusbipcore1 | grep "^Depends:" | grep -q libsoup'
check "pkg-config finds usbipcore-1 with its dependencies" 'apt-get install -y -qq pkgconf >/dev/null && pkg-config --print-errors --cflags --libs usbipcore-1'

echo "== upgrade to $(ls "$v2" | grep '^usbipcore_.*deb$')"
in_root sh -c 'echo "# local edit" >>/etc/usbipcore/usbipcore.conf'
in_root sh -c 'apt-get install -y -qq --no-install-recommends /debs2/*.deb' >"$work/upgrade.log" 2>&1 ||
  { tail -30 "$work/upgrade.log"; exit 1; }
v2ver=$(dpkg-deb -f "$(ls "$v2"/usbipcore_*.deb)" Version)
check "upgraded to $v2ver" "dpkg-query -W -f='\${Version}' usbipcore | grep -qx '$v2ver'"
check "the local configuration edit survived the upgrade" 'tail -1 /etc/usbipcore/usbipcore.conf | grep -qx "# local edit"'
check "usbipcored.socket is still enabled" 'systemctl is-enabled usbipcored.socket | grep -qx enabled'

echo "== purge"
in_root apt-get purge -y -qq $packages >"$work/purge.log" 2>&1 ||
  { tail -30 "$work/purge.log"; exit 1; }
check "the packages are gone" "! dpkg -s $packages 2>/dev/null | grep -q '^Status: install'"
check "purge removed the configuration" 'test ! -e /etc/usbipcore'
check "purge removed the socket's enablement" 'test ! -e /etc/systemd/system/sockets.target.wants/usbipcored.socket && ! DPKG_MAINTSCRIPT_PACKAGE=usbipcore deb-systemd-helper debian-installed usbipcored.socket'
check "purge removed deb-systemd-helper's state" '! ls /var/lib/systemd/deb-systemd-helper-enabled/ | grep -q usbipcored'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
