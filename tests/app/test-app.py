#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Remote USB (usbipcore-gtk) as a user drives it: launched on its own X server (Xvfb) with a
private session bus (accessibility, notifications: python-dbusmock's notification_daemon) and
a private system bus carrying a stand-in for the usbipcore service (SERVICE: fake-service.py,
until this test runs the real service on the fake kernel). Hosts are added through the
app's GActions (org.gtk.Actions); switches are read and turned through the accessibility tree
(AT-SPI), as a screen reader would. Saves a screenshot (SHOT). Prints TAP.

usage: test-app.py LAUNCHER SCHEMA_DIR ICON SHOT -- SERVICE..."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import gi

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import check, run_tests, test, wait_until  # noqa: E402

gi.require_version("Atspi", "2.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, Gio, GLib  # noqa: E402

LAUNCHER, SCHEMA_DIR, ICON, SHOT = sys.argv[1:5]
SERVICE = sys.argv[sys.argv.index("--") + 1:]
APP_ID = "org.usbipcore.RemoteUsb"
TMP = tempfile.mkdtemp(prefix="usbipcore-app-")
procs = []
SYSTEM_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir=%s</listen>
  <policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy>
</busconfig>
"""


def spawn(argv, env=None, ready=None):
    """Starts ARGV; with READY, waits for its first stdout line and returns (process, line)."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE if ready else subprocess.DEVNULL, text=True)
    procs.append(p)
    line = p.stdout.readline().strip() if ready else None
    if ready:
        check(line, f"{argv[0]} ended before it was ready (exit {p.poll()})")
    return p, line


def cleanup():
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(TMP, ignore_errors=True)


# the X server, writing its screen to a file (the screenshot), and the two buses
try:
    os.environ["XDG_RUNTIME_DIR"] = TMP  # the accessibility bus's socket goes there, not to a shared path
    fbdir = os.path.join(TMP, "fb")
    os.makedirs(fbdir)
    xread, xwrite = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(xwrite), "-screen", "0", "800x680x24", "-fbdir", fbdir,
                             "-nolisten", "tcp"], pass_fds=[xwrite], stderr=subprocess.DEVNULL)
    procs.append(xvfb)
    os.close(xwrite)
    with os.fdopen(xread) as f:
        os.environ["DISPLAY"] = ":" + f.readline().strip()
    _, os.environ["DBUS_SESSION_BUS_ADDRESS"] = spawn(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                                                      ready=True)
    with open(os.path.join(TMP, "system.conf"), "w") as f:
        f.write(SYSTEM_BUS_CONF % TMP)
    _, os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = spawn(["dbus-daemon", "--config-file", os.path.join(TMP, "system.conf"),
                                                      "--nofork", "--print-address=1"], ready=True)
    service_proc, _ = spawn(SERVICE, ready=True)
    spawn([sys.executable, "-m", "dbusmock", "--template", "notification_daemon"])
    from gi.repository import Atspi  # noqa: E402  (reads the session bus address once)

    session = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    system = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    wait_until(lambda: session.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                         "NameHasOwner", GLib.Variant("(s)", ("org.freedesktop.Notifications",)),
                                         None, Gio.DBusCallFlags.NONE, -1, None).unpack()[0],
               "the notification daemon")

    # the app, with its icon where the icon theme looks and settings that start empty
    icons = os.path.join(TMP, "share", "icons", "hicolor", "scalable", "apps")
    os.makedirs(icons)
    shutil.copy(ICON, icons)
    app_env = dict(os.environ, GSETTINGS_SCHEMA_DIR=SCHEMA_DIR, GSETTINGS_BACKEND="memory", GSK_RENDERER="cairo",
                   XDG_DATA_DIRS=os.path.join(TMP, "share") + ":/usr/share",
                   XDG_CONFIG_HOME=os.path.join(TMP, "config"), GTK_A11Y="atspi", PYTHONFAULTHANDLER="1",
                   PYTHONDONTWRITEBYTECODE="1")
    app_proc, _ = spawn([sys.executable, LAUNCHER], env=app_env)
except Exception as e:  # noqa: BLE001 - nothing to test without them
    cleanup()
    print(f"Bail out! the test environment did not start: {e}", flush=True)
    print(f"app-ui: the test environment did not start: {e!r}", file=sys.stderr)
    sys.exit(1)


def call(bus, name, path, iface, method, args=None, reply=None):
    """A synchronous D-Bus call; its unpacked reply."""
    return bus.call_sync(name, path, iface, method, args, GLib.VariantType(reply) if reply else None,
                         Gio.DBusCallFlags.NONE, 30_000, None).unpack()


def activate(action, param):
    """Activates the app's GAction ACTION with PARAM (a GLib.Variant or None), as `gapplication action` does."""
    call(session, APP_ID, "/" + APP_ID.replace(".", "/"), "org.gtk.Actions", "Activate",
         GLib.Variant("(sava{sv})", (action, [param] if param is not None else [], {})))


def notifications():
    """The (summary, body) of every notification the app sent."""
    got = call(session, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
               "org.freedesktop.DBus.Mock", "GetCalls", None, "(a(tsav))")[0]
    return [(args[3], args[4]) for _, method, args in got if method == "Notify"]


def app_root():
    check(app_proc.poll() is None, f"the app ended (exit status {app_proc.poll()})")
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        child = desktop.get_child_at_index(i)
        if child is not None and child.get_process_id() == app_proc.pid:
            return child
    return None


def nodes(node=None):
    """Every accessible of the app, depth first."""
    node = node or app_root()
    if node is None:
        return
    yield node
    for i in range(node.get_child_count()):
        child = node.get_child_at_index(i)
        if child is not None:
            yield from nodes(child)


def find(pred):
    for n in nodes():
        if pred(n):
            return n
    return None


def labelled(text):
    """The first accessible whose name is TEXT."""
    return find(lambda n: n.get_name() == text)


def containing(text):
    """The first label whose text contains TEXT."""
    return find(lambda n: n.get_role() == Atspi.Role.LABEL and text in (n.get_name() or ""))


def checked(node):
    return node.get_state_set().contains(Atspi.StateType.CHECKED)


def switch(title):
    """The switch of the device row TITLE (the row's title names it)."""
    return wait_until(lambda: find(lambda n: n.get_role() == Atspi.Role.CHECK_BOX and n.get_name() == title),
                      f"the switch of {title!r}")


def toggle(node):
    node.get_action_iface().do_action(0)


def screenshot(path):
    """Saves the app's window (the lit part of the X screen) as PNG to PATH."""
    with open(os.path.join(fbdir, "Xvfb_screen0"), "rb") as f:
        data = f.read()
    head = struct.unpack(">25I", data[:100])  # XWDFileHeader
    size, width, height, bpl, ncolors = head[0], head[4], head[5], head[12], head[19]
    check(head[11] == 32 and head[7] == 0, "Xvfb screen is not 32 bits per pixel, LSB first", head)
    px = data[size + ncolors * 12:][:bpl * height]
    rows = [px[y * bpl:y * bpl + width * 4] for y in range(height)]
    lit = [y for y in range(height) if rows[y].strip(b"\0")]
    w = max(len(r.rstrip(b"\0")) for r in rows) // 4 + 1
    rgb = bytearray()
    for y in range(lit[0], lit[-1] + 1):
        row = rows[y][:w * 4]
        line = bytearray(w * 3)
        line[0::3], line[1::3], line[2::3] = row[2::4], row[1::4], row[0::4]
        rgb += line
    pixbuf = GdkPixbuf.Pixbuf.new_from_bytes(GLib.Bytes.new(bytes(rgb)), GdkPixbuf.Colorspace.RGB, False, 8,
                                             w, lit[-1] - lit[0] + 1, w * 3)
    pixbuf.savev(path, "png", [], [])


def fake_calls():
    return call(system, "org.usbipcore.Usbip1", "/org/usbipcore/Test", "org.usbipcore.Test.Fake", "Calls")[0]


def attachment_of(busid):
    """The object path of BUSID's attachment (from the service's ObjectManager), or None."""
    objects = call(system, "org.usbipcore.Usbip1", "/org/usbipcore/Usbip1", "org.freedesktop.DBus.ObjectManager",
                   "GetManagedObjects")[0]
    for path, ifaces in objects.items():
        if ifaces.get("org.usbipcore.Usbip1.Attachment", {}).get("Busid") == busid:
            return path
    return None


STICK = "DataTraveler 100 G3/G4/SE9 G2/50 Kyson"
RECEIVER = "Unifying Receiver"


@test
def app_starts_empty():
    wait_until(app_root, "the app on the accessibility bus", timeout=30)
    wait_until(lambda: labelled("No Hosts"), "the empty page")


@test
def added_host_lists_devices_with_usb_ids_names():
    activate("add-host", GLib.Variant("s", "127.0.0.1"))
    for title in (STICK, RECEIVER):
        wait_until(lambda: labelled(title), f"the row of {title!r}")
    check("ListRemoteDevices 127.0.0.1" in fake_calls(), fake_calls())
    check(containing("Logitech, Inc. · 046d:c52b · bus ID 1-2 · 12 Mbit/s"), "the receiver's vendor, ids and speed")
    check(not checked(switch(RECEIVER)), "the switch is on before anything was attached")


@test
def switch_attaches_with_auto_reconnect():
    toggle(switch(RECEIVER))
    wait_until(lambda: "Attach 127.0.0.1 1-2 auto-reconnect=True" in fake_calls(), "the Attach call")
    wait_until(lambda: checked(switch(RECEIVER)), "the switch on")
    wait_until(lambda: containing("Attached on port 0 · reconnects automatically"), "the attached state")


@test
def lost_and_back_are_notified_and_shown():
    path = attachment_of("1-2")
    call(system, "org.usbipcore.Usbip1", "/org/usbipcore/Test", "org.usbipcore.Test.Fake", "Lose",
         GLib.Variant("(os)", (path, "connection to 127.0.0.1:3240 lost: Connection reset by peer")))
    wait_until(lambda: containing("Connection lost, reconnecting (attempt 1): connection to 127.0.0.1:3240 lost"),
               "the reconnecting state")
    lost = wait_until(lambda: [n for n in notifications() if n[0] == "USB device lost"], "the lost notification")
    check(lost[0][1] == f"{RECEIVER} from 127.0.0.1:3240 lost its connection. Reconnecting…", lost)
    check(checked(switch(RECEIVER)), "a device that reconnects still shows as attached")
    call(system, "org.usbipcore.Usbip1", "/org/usbipcore/Test", "org.usbipcore.Test.Fake", "Reconnect",
         GLib.Variant("(o)", (path,)))
    back = wait_until(lambda: [n for n in notifications() if n[0] == "USB device back"], "the back notification")
    check(back[0][1] == f"{RECEIVER} from 127.0.0.1:3240 is attached again.", back)
    wait_until(lambda: containing("Attached on port 0"), "the attached state again")


@test
def service_side_changes_move_the_switches():
    # another client attaches the stick and detaches the receiver: the app follows the service
    call(system, "org.usbipcore.Usbip1", "/org/usbipcore/Usbip1/Manager", "org.usbipcore.Usbip1.Manager", "Attach",
         GLib.Variant("(ssa{sv})", ("127.0.0.1", "1-1", {})))
    wait_until(lambda: checked(switch(STICK)), "the stick's switch on")
    call(system, "org.usbipcore.Usbip1", attachment_of("1-2"), "org.usbipcore.Usbip1.Attachment", "Detach")
    wait_until(lambda: not checked(switch(RECEIVER)), "the receiver's switch off")


@test
def switch_detaches():
    toggle(switch(STICK))
    wait_until(lambda: "Detach 1-1" in fake_calls(), "the Detach call")
    wait_until(lambda: not checked(switch(STICK)), "the switch off")
    check(attachment_of("1-1") is None, "the stick is still attached")


@test
def attach_error_is_shown_in_the_library_words():
    message = ("1-2 on 127.0.0.1:3240 is busy (ST_DEV_BUSY): another client has imported it; detach it "
               "there or wait")
    call(system, "org.usbipcore.Usbip1", "/org/usbipcore/Test", "org.usbipcore.Test.Fake", "FailNext",
         GLib.Variant("(sss)", ("Attach", "DeviceBusy", message)))
    toggle(switch(RECEIVER))
    dialog = wait_until(lambda: find(lambda n: n.get_role() == Atspi.Role.DIALOG), "the error dialog")
    check(dialog.get_name() == f"Could not attach {RECEIVER}", "the dialog's heading:", dialog.get_name())
    check(any(n.get_name() == message for n in nodes(dialog)), "the service's message is not in the dialog")
    wait_until(lambda: not checked(switch(RECEIVER)), "the switch back off")
    toggle(next(n for n in nodes(dialog) if n.get_role() == Atspi.Role.PUSH_BUTTON and "Close" in n.get_name()))
    wait_until(lambda: labelled(message) is None, "the dialog closed")


@test
def unreachable_host_shows_the_service_error():
    activate("add-host", GLib.Variant("s", "192.0.2.9"))
    wait_until(lambda: labelled("could not connect to 192.0.2.9: Connection refused"), "the host's error")


@test
def screenshot_with_an_attached_device():
    toggle(switch(STICK))
    wait_until(lambda: containing("Attached on port"), "the stick attached")
    screenshot(SHOT)
    check(GdkPixbuf.Pixbuf.new_from_file(SHOT).get_width() >= 360, "the screenshot is too small")



@test
def service_gone_says_what_to_do():
    service_proc.terminate()  # the service leaves the bus; nothing can start it again
    service_proc.wait(10)
    activate("refresh", None)
    wait_until(lambda: containing("The usbipcore system service (org.usbipcore.Usbip1) cannot be reached: "),
               "the hint")
    check(containing("Install usbipcore with its D-Bus service (usbipcore-dbusd)"), "no fix named")


@test
def no_system_bus_exits_with_the_fix():
    app_proc.terminate()  # a second instance would only hand over to the running one
    app_proc.wait(10)
    env = dict(app_env, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + os.path.join(TMP, "none"))
    p = subprocess.run([sys.executable, LAUNCHER], env=env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 1, "exit status", p.returncode, p.stderr)
    check("usbipcore-gtk: cannot connect to the system bus (" in p.stderr and "start the D-Bus system message bus"
          in p.stderr, p.stderr)


run_tests(cleanup)
