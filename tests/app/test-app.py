#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Remote USB (usbipcore-gtk) as a user drives it: launched on its own X server (Xvfb) with a
private session bus (accessibility, notifications: python-dbusmock's notification_daemon) and
a private system bus carrying the real service on the fake kernel (SERVICE: tests/dbus's
dbus-fake-service, whose exporter on 127.0.0.1 is the remote host; python-dbusmock's polkitd
template decides). Hosts are added through the app's GActions (org.gtk.Actions); switches are
read and turned through the accessibility tree (AT-SPI), as a screen reader would. Saves a
screenshot (SHOT). Prints TAP.

usage: test-app.py LAUNCHER SCHEMA_DIR ICON USB_IDS SHOT SERVICE"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

import gi

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import taptest  # noqa: E402
from taptest import Lines, check, run_tests, test  # noqa: E402

gi.require_version("Atspi", "2.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, Gio, GLib  # noqa: E402


def gone(error):
    """An accessible went away while the test read it: the UI is live (a row rebuilt, a
    dialog closed), so the read is retried, never taken as an answer."""
    return isinstance(error, GLib.Error) and error.domain == "atspi_error"


def wait_until(pred, what, timeout=10):
    """taptest.wait_until, where PRED reading an accessible that went away is one more try."""
    def attempt():
        try:
            return pred()
        except GLib.Error as e:
            if not gone(e):
                raise
            return None
    return taptest.wait_until(attempt, what, timeout)


LAUNCHER, SCHEMA_DIR, ICON, USB_IDS, SHOT, SERVICE = sys.argv[1:7]
APP_ID = "org.usbipcore.RemoteUsb"
NAME = "org.usbipcore.Usbip1"
MANAGER = ("/org/usbipcore/Usbip1/Manager", NAME + ".Manager")
ATTACH = NAME + ".attach"
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


def spawn(argv, env=None, ready=None, stdin=None):
    """Starts ARGV; with READY, waits for its first stdout line and returns (process, line);
    its stdout is read only through p.out then (a Lines: each read has a deadline)."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE if ready else subprocess.DEVNULL, stdin=stdin,
                         text=True)
    procs.append(p)
    line = None
    if ready:
        p.out = Lines(p.stdout, argv[0])
        line = p.out.readline("its first line", 30).strip()
        check(line, f"{argv[0]} said nothing before it was ready (exit {p.poll()})")
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
    # Xvfb picks a free display and writes its number once it accepts connections; one that
    # ends first (seen once in the CI's sanitize gate: the app then found no display) is
    # started again, and after three the test stops with what Xvfb said
    for attempt in range(3):
        xread, xwrite = os.pipe()
        xlog = os.path.join(TMP, f"xvfb-{attempt}.log")
        with open(xlog, "w") as log:
            xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(xwrite), "-screen", "0", "800x680x24", "-fbdir",
                                     fbdir, "-nolisten", "tcp"], pass_fds=[xwrite], stderr=log)
        procs.append(xvfb)
        os.close(xwrite)
        with os.fdopen(xread) as f:
            try:
                display = Lines(f, "Xvfb").readline("its display number", 30).strip()
            except AssertionError:  # it ended (or hangs) without one: said below, and again
                display = ""
        if display.isdigit() and xvfb.poll() is None:
            break
        with open(xlog) as log:
            print(f"# Xvfb (attempt {attempt + 1}) gave no display: {log.read().strip()!r}", file=sys.stderr)
    else:
        raise RuntimeError("Xvfb did not start three times (its words above)")
    os.environ["DISPLAY"] = ":" + display
    _, os.environ["DBUS_SESSION_BUS_ADDRESS"] = spawn(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                                                      ready=True)
    with open(os.path.join(TMP, "system.conf"), "w") as f:
        f.write(SYSTEM_BUS_CONF % TMP)
    _, os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = spawn(["dbus-daemon", "--config-file", os.path.join(TMP, "system.conf"),
                                                      "--nofork", "--print-address=1"], ready=True)
    spawn([sys.executable, "-m", "dbusmock", "--template", "notification_daemon"])
    spawn([sys.executable, "-m", "dbusmock", "--system", "--template", "polkitd"])
    from gi.repository import Atspi  # noqa: E402  (reads the session bus address once)

    session = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    system = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    for bus, name in ((session, "org.freedesktop.Notifications"), (system, "org.freedesktop.PolicyKit1")):
        wait_until(lambda: bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                         "NameHasOwner", GLib.Variant("(s)", (name,)), None, Gio.DBusCallFlags.NONE,
                                         -1, None).unpack()[0], name)
    fake, line = spawn([SERVICE], env=dict(os.environ, USBIP_USB_IDS=USB_IDS), ready=True, stdin=subprocess.PIPE)
    while line and line != "ready":  # "exporter-port N", then other facts, then "ready"
        if line.startswith("exporter-port "):
            REMOTE = "127.0.0.1:" + line.split()[1]
        line = fake.out.readline("ready", 30).strip()
    check(line == "ready", "the service did not start")

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
        try:
            if pred(n):
                return n
        except GLib.Error as e:  # this one went away while we looked: the others count
            if not gone(e):
                raise
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


def kernel(command):
    """Plays the kernel (or another tool) in the service's fake kernel: drop, take, release, free."""
    fake.stdin.write(command + "\n")
    fake.stdin.flush()
    check(fake.out.readline(f"its answer to {command!r}").strip() == "ok", "the fake kernel refused", command)


def allow(*actions):
    """The polkit actions the (mock) authority grants from now on."""
    call(system, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Mock",
         "SetAllowed", GLib.Variant("(as)", (list(actions),)))


def attachments():
    """Object path -> properties of every attachment the service exports."""
    objects = call(system, NAME, "/org/usbipcore/Usbip1", "org.freedesktop.DBus.ObjectManager",
                   "GetManagedObjects")[0]
    return {p: i[NAME + ".Attachment"] for p, i in objects.items() if NAME + ".Attachment" in i}


def service_error(method, signature, *args):
    """The message of the service's error for METHOD(ARGS), called by the test itself."""
    try:
        call(system, NAME, *MANAGER, method, GLib.Variant(signature, args))
    except GLib.Error as e:
        return e.message.split(": ", 1)[1]
    raise AssertionError(f"{method}{args} succeeded")


GADGET = "Multifunction Composite Gadget"


@test
def app_starts_empty():
    wait_until(app_root, "the app on the accessibility bus", timeout=30)
    wait_until(lambda: labelled("No Hosts"), "the empty page")


@test
def added_host_lists_devices_with_usb_ids_names():
    activate("add-host", GLib.Variant("s", REMOTE))
    wait_until(lambda: labelled(GADGET), f"the row of {GADGET!r}")
    check(containing("Linux Foundation · 1d6b:0104 · bus ID 1-1 · 480 Mbit/s"), "the vendor, ids and speed")
    check(not checked(switch(GADGET)), "the switch is on before anything was attached")


@test
def switch_attaches_with_auto_reconnect():
    allow(ATTACH)
    toggle(switch(GADGET))
    path = wait_until(lambda: list(attachments()), "the attachment")[0]
    check(attachments()[path]["Supervised"], "attached without auto-reconnect", attachments())
    wait_until(lambda: checked(switch(GADGET)), "the switch on")
    # Attach returned at once ("connecting"); the state comes with PropertiesChanged
    wait_until(lambda: containing("Attached on port 0 · reconnects automatically"), "the attached state")


@test
def lost_and_back_are_notified():
    kernel("drop 0 1-1")  # the connection goes; the service reconnects
    lost = wait_until(lambda: [n for n in notifications() if n[0] == "USB device lost"], "the lost notification")
    check(lost[0][1] == f"{GADGET} from {REMOTE} lost its connection. Reconnecting…", lost)
    back = wait_until(lambda: [n for n in notifications() if n[0] == "USB device back"], "the back notification")
    check(back[0][1] == f"{GADGET} from {REMOTE} is attached again.", back)
    wait_until(lambda: containing("Attached on port"), "the attached state again")
    check(checked(switch(GADGET)), "the switch went off")


@test
def switch_detaches():
    toggle(switch(GADGET))
    wait_until(lambda: not attachments(), "the attachment to go")
    wait_until(lambda: not checked(switch(GADGET)), "the switch off")
    kernel("free 1-1")  # the exporter sees its session end, as with the kernel's stub


@test
def attachments_by_other_tools_move_the_switch():
    port = REMOTE.split(":")[1]
    kernel(f"take 1 127.0.0.1 {port} 1-1")  # upstream `usbip attach`
    wait_until(lambda: checked(switch(GADGET)), "the switch on")
    kernel("release 1")  # upstream `usbip detach`
    wait_until(lambda: not checked(switch(GADGET)), "the switch off")


@test
def refused_attach_shows_the_library_words():
    allow()
    message = service_error("Attach", "(ssa{sv})", REMOTE, "1-1", {})
    check(ATTACH in message, "not polkit's refusal:", message)
    toggle(switch(GADGET))
    dialog = wait_until(lambda: find(lambda n: n.get_role() == Atspi.Role.DIALOG), "the error dialog")
    check(dialog.get_name() == f"Could not attach {GADGET}", "the dialog's heading:", dialog.get_name())
    check(any(n.get_name() == message for n in nodes(dialog)), "the service's message is not in the dialog")
    wait_until(lambda: not checked(switch(GADGET)), "the switch back off")
    toggle(next(n for n in nodes(dialog) if n.get_role() == Atspi.Role.PUSH_BUTTON and "Close" in n.get_name()))
    wait_until(lambda: find(lambda n: n.get_role() == Atspi.Role.DIALOG) is None, "the dialog closed")
    check(not attachments(), "attached although refused")


@test
def unreachable_host_shows_the_library_words():
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    remote = f"127.0.0.1:{refused.getsockname()[1]}"
    message = service_error("ListRemoteDevices", "(sa{sv})", remote, {})
    activate("add-host", GLib.Variant("s", remote))
    wait_until(lambda: labelled(message), "the host's error")
    refused.close()
    activate("remove-host", GLib.Variant("s", remote))
    wait_until(lambda: labelled(remote) is None, "the host removed")


@test
def screenshot_with_an_attached_device():
    allow(ATTACH)
    toggle(switch(GADGET))
    wait_until(lambda: containing("Attached on port"), "the device attached")
    screenshot(SHOT)
    check(GdkPixbuf.Pixbuf.new_from_file(SHOT).get_width() >= 360, "the screenshot is too small")


@test
def service_gone_says_what_to_do():
    fake.stdin.close()  # the service ends and leaves the bus; nothing can start it again
    fake.wait(10)
    activate("refresh", None)
    wait_until(lambda: containing(f"The usbipcore system service ({NAME}) cannot be reached: "), "the hint")
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
