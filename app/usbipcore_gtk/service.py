# SPDX-License-Identifier: GPL-2.0-or-later
"""The client side of the usbipcore system service (org.usbipcore.Usbip1, see
data/dbus/org.usbipcore.Usbip1.xml): the manager's methods as asynchronous calls, and the
attachment objects kept current through org.freedesktop.DBus.ObjectManager and
PropertiesChanged. Errors reach the callbacks as the service words them (the library's
message, without the D-Bus error name)."""
from gi.repository import Gio, GLib, GObject

BUS_NAME = "org.usbipcore.Usbip1"
ROOT_PATH = "/org/usbipcore/Usbip1"
MANAGER_PATH = ROOT_PATH + "/Manager"
MANAGER_IFACE = BUS_NAME + ".Manager"
ATTACHMENT_IFACE = BUS_NAME + ".Attachment"
DEFAULT_PORT = "3240"
LIST_TIMEOUT_MS = 30_000
# an attach may wait for a polkit password prompt
ATTACH_TIMEOUT_MS = 300_000


def split_remote(text):
    """(host, port) of a remote as usbip-tool's -r takes it: "host", "host:port",
    "[v6]:port" or a bare IPv6 address; the port defaults to 3240."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") and rest[1:] else DEFAULT_PORT
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port or DEFAULT_PORT
    return text, DEFAULT_PORT


# the bus's own errors when nothing owns (or can start) the service
MISSING_SERVICE = ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
                   "org.freedesktop.DBus.Error.Spawn.ChildExited", "org.freedesktop.DBus.Error.NoReply")


def error_message(error):
    """The service's message of ERROR (a GLib.Error from a D-Bus call), without the
    "GDBus.Error:org.usbipcore.Usbip1.Error.X: " prefix GLib puts before it; when the bus
    could not reach the service at all, what to do about that."""
    if not Gio.DBusError.is_remote_error(error):
        return error.message
    message = error.message.split(": ", 1)[-1]
    if Gio.DBusError.get_remote_error(error) in MISSING_SERVICE:
        return (f"The usbipcore system service ({BUS_NAME}) cannot be reached: {message}. Install usbipcore "
                "with its D-Bus service (usbipcore-dbusd), which the system bus starts on demand.")
    return message


class Attachment(GObject.Object):
    """One attached (or supervised, reconnecting) vhci port: a view of its D-Bus object.
    "changed" fires when any property changes; "lost", "reconnected" and "gave-up" are the
    service's signals of a supervised attachment."""

    __gsignals__ = {
        "changed": (GObject.SignalFlags.RUN_FIRST, None, ()),
        "lost": (GObject.SignalFlags.RUN_FIRST, None, ()),
        "reconnected": (GObject.SignalFlags.RUN_FIRST, None, ()),
        "gave-up": (GObject.SignalFlags.RUN_FIRST, None, (str,)),
    }

    def __init__(self, proxy):
        super().__init__()
        self.proxy = proxy
        proxy.connect("g-properties-changed", lambda *_: self.emit("changed"))
        proxy.connect("g-signal", self._on_signal)

    def _on_signal(self, _proxy, _sender, name, params):
        if name == "Lost":
            self.emit("lost")
        elif name == "Reconnected":
            self.emit("reconnected")
        elif name == "GaveUp":
            self.emit("gave-up", params.unpack()[1])

    def _get(self, name, default):
        value = self.proxy.get_cached_property(name)
        return default if value is None else value.unpack()

    @property
    def path(self):
        return self.proxy.get_object_path()

    @property
    def remote_key(self):
        """(host, port, busid): what a host's device row matches."""
        return self._get("RemoteHost", ""), self._get("RemotePort", ""), self._get("Busid", "")

    @property
    def remote(self):
        return self._get("Remote", "")

    @property
    def port(self):
        return self._get("Port", -1)

    @property
    def state(self):
        return self._get("State", "")

    @property
    def supervised(self):
        return self._get("Supervised", False)

    @property
    def attempts(self):
        return self._get("ReconnectAttempts", 0)

    @property
    def last_error(self):
        return self._get("LastError", "")

    @property
    def speed(self):
        return self._get("Speed", "")

    @property
    def ids(self):
        return self._get("VendorId", 0), self._get("ProductId", 0)

    @property
    def names(self):
        return self._get("VendorName", ""), self._get("ProductName", "")

    def detach(self, callback):
        """Detaches it; CALLBACK(error message or None)."""
        _call(self.proxy, "Detach", None, ATTACH_TIMEOUT_MS, callback)


def _call(proxy, method, params, timeout, callback, unpack=lambda v: None):
    """PROXY.METHOD(PARAMS) with polkit allowed to ask; CALLBACK(error or None[, result])."""

    def done(source, res):
        try:
            value = source.call_finish(res)
        except GLib.Error as e:
            callback(error_message(e))
            return
        result = unpack(value)
        if result is None:
            callback(None)
        else:
            callback(None, result)

    proxy.call(method, params, Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION, timeout, None, done)


class Service(GObject.Object):
    """The system service: its manager and the attachments it exports. "attachments-changed"
    fires when an attachment appears, goes away or changes; "attachment-added" hands each new
    one over once (to connect to its events)."""

    __gsignals__ = {
        "attachments-changed": (GObject.SignalFlags.RUN_FIRST, None, ()),
        "attachment-added": (GObject.SignalFlags.RUN_FIRST, None, (Attachment,)),
    }

    def __init__(self, connection):
        super().__init__()
        self.attachments = {}  # object path -> Attachment
        # creating the manager proxy starts the service (D-Bus activation)
        self.manager = Gio.DBusProxy.new_sync(connection, Gio.DBusProxyFlags.NONE, None,
                                              BUS_NAME, MANAGER_PATH, MANAGER_IFACE, None)
        self.objects = Gio.DBusObjectManagerClient.new_sync(
            connection, Gio.DBusObjectManagerClientFlags.NONE, BUS_NAME, ROOT_PATH, None, None, None)
        self.objects.connect("object-added", lambda _m, obj: self._add(obj))
        self.objects.connect("object-removed", lambda _m, obj: self._remove(obj))
        self.objects.connect("interface-added", lambda _m, obj, _i: self._add(obj))
        for obj in self.objects.get_objects():
            self._add(obj)

    def _add(self, obj):
        proxy = obj.get_interface(ATTACHMENT_IFACE)
        if proxy is None or obj.get_object_path() in self.attachments:
            return
        att = Attachment(proxy)
        self.attachments[att.path] = att
        att.connect("changed", lambda _a: self.emit("attachments-changed"))
        self.emit("attachment-added", att)
        self.emit("attachments-changed")

    def _remove(self, obj):
        if self.attachments.pop(obj.get_object_path(), None) is not None:
            self.emit("attachments-changed")

    def find(self, host, port, busid):
        """The attachment of BUSID from HOST:PORT, or None."""
        for att in self.attachments.values():
            if att.remote_key == (host, port, busid):
                return att
        return None

    def list_remote_devices(self, remote, callback):
        """CALLBACK(error message or None[, list of device dicts]) with what REMOTE exports."""
        _call(self.manager, "ListRemoteDevices", GLib.Variant("(sa{sv})", (remote, {})),
              LIST_TIMEOUT_MS, callback, unpack=lambda v: v.unpack()[0])

    def attach(self, remote, busid, auto_reconnect, callback):
        """Attaches BUSID from REMOTE (supervised with AUTO_RECONNECT); CALLBACK(error or None)."""
        options = {"auto-reconnect": GLib.Variant("b", auto_reconnect)}
        _call(self.manager, "Attach", GLib.Variant("(ssa{sv})", (remote, busid, options)),
              ATTACH_TIMEOUT_MS, callback)
