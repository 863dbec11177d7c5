# The desktop stack for scenarios 30-31 (docs/desktop.md), without systemd: the real
# `dbus-daemon --system` with the installed bus policy, the real polkitd with the documented
# rule (group usbip may attach), and usbipcore-dbusd owning org.usbipcore.Usbip1.
# /etc is read-only in the guest: group usbip (member nobody) and the rule come from tmpfs
# and bind mounts. Source after lib.sh.
DBUSD=${USBIPCORE_DBUSD:-/usr/libexec/usbipcore-dbusd}

has_owner() {
  gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}

# as_user USER CMD...: CMD as USER with its groups from /etc/group
as_user() {
  _u=$1; shift
  setpriv --reuid="$(id -u "$_u")" --regid="$(id -g "$_u")" --init-groups "$@"
}

start_desktop() {
  [ -x "$DBUSD" ] || skip "$DBUSD not installed (run with --stage or --build)"
  command -v dbus-daemon >/dev/null || skip "dbus-daemon missing: scripts/install-deps.sh (dbus)"
  [ -x /usr/lib/polkit-1/polkitd ] || skip "polkitd missing: scripts/install-deps.sh (polkitd)"
  cp /etc/group /tmp/desktop-group
  echo "usbip:x:4242:nobody" >> /tmp/desktop-group
  mount --bind /tmp/desktop-group /etc/group || fail "cannot add group usbip"
  mount -t tmpfs -o mode=0755 tmpfs /etc/polkit-1/rules.d || fail "cannot mount the polkit rules dir"
  cp /usr/share/doc/usbipcore/examples/50-usbipcore-usbip-group.rules /etc/polkit-1/rules.d/ ||
    fail "the example rule is not installed"
  mkdir -p /run/dbus
  run dbus-daemon --system --fork || fail "dbus-daemon --system did not start"
  /usr/lib/polkit-1/polkitd --no-debug > "$RESULTS/logs/polkitd-$(basename "$0" .sh).log" 2>&1 &
  POLKITD_PID=$!
  wait_for 20 has_owner org.freedesktop.PolicyKit1 || fail "polkitd did not take its name"
  "$DBUSD" --idle-timeout 0 > "$RESULTS/logs/usbipcore-dbusd-$(basename "$0" .sh).log" 2>&1 &
  DBUSD_PID=$!
  wait_for 20 has_owner org.usbipcore.Usbip1 || fail "usbipcore-dbusd did not take its name:
$(cat "$RESULTS/logs/usbipcore-dbusd-$(basename "$0" .sh).log")"
}

stop_desktop() {
  kill "$DBUSD_PID" "$POLKITD_PID" 2>/dev/null
  wait "$DBUSD_PID" "$POLKITD_PID" 2>/dev/null
  kill "$(cat /run/dbus/pid)" 2>/dev/null
  wait_for 10 absent test -e /proc/"$(cat /run/dbus/pid)" || fail "dbus-daemon did not stop"
  rm -f /run/dbus/pid /run/dbus/system_bus_socket
  umount /etc/polkit-1/rules.d
  umount /etc/group
}
