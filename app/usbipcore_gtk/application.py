# SPDX-License-Identifier: GPL-2.0-or-later
"""The application: its actions (also reachable over D-Bus through org.gtk.Actions), the
settings, the connection to the system service and the notifications of lost and
returning devices."""
import sys

from gi.repository import Adw, Gio, GLib, Gtk

from .device_row import device_title
from .service import Service
from .window import Window

APP_ID = "org.usbipcore.RemoteUsb"


class Application(Adw.Application):
    """Remote USB. Actions: new-host (asks for a host), add-host(s), remove-host(s),
    refresh, auto-reconnect (boolean state, saved), about, quit."""

    def __init__(self, version):
        super().__init__(application_id=APP_ID, flags=Gio.ApplicationFlags.DEFAULT_FLAGS)
        self.version = version
        self.settings = Gio.Settings.new(APP_ID)
        self.service = None
        self.window = None
        self.status = 0  # the exit status when the app could not start
        self.add_action(self.settings.create_action("auto-reconnect"))
        for name, param, handler in (
                ("new-host", None, self._on_new_host),
                ("add-host", "s", self._on_add_host),
                ("remove-host", "s", self._on_remove_host),
                ("refresh", None, lambda *_: self.window and self.window.refresh()),
                ("about", None, self._on_about),
                ("quit", None, lambda *_: self.quit())):
            action = Gio.SimpleAction.new(name, GLib.VariantType(param) if param else None)
            action.connect("activate", handler)
            self.add_action(action)
        self.set_accels_for_action("app.quit", ["<Control>q"])
        self.set_accels_for_action("app.new-host", ["<Control>n"])
        self.set_accels_for_action("app.refresh", ["F5", "<Control>r"])

    def do_activate(self):
        if self.window is None:
            if self.service is None:
                try:
                    self.service = Service(Gio.bus_get_sync(Gio.BusType.SYSTEM, None))
                except GLib.Error as e:
                    print(f"usbipcore-gtk: cannot connect to the system bus ({e.message}): start the D-Bus "
                          "system message bus (dbus), then the app again", file=sys.stderr)
                    self.status = 1
                    self.quit()
                    return
                self.service.connect("attachment-added", self._watch)
            self.window = Window(self, self.service, self.settings)
            self.window.connect("close-request", self._on_close)
        self.window.present()

    def _on_close(self, _window):
        self.window = None
        return False

    def _watch(self, _service, att):
        """Notifies when ATT (supervised) loses its connection, comes back or is given up."""
        def notify(title, body):
            note = Gio.Notification.new(title)
            note.set_body(body)
            note.set_icon(Gio.ThemedIcon.new(APP_ID))
            self.send_notification(f"device:{att.remote}:{att.remote_key[2]}", note)

        def name():
            return f"{device_title(*att.names, *att.ids)} from {att.remote}"

        att.connect("lost", lambda _a: notify("USB device lost", f"{name()} lost its connection. Reconnecting…"))
        att.connect("reconnected", lambda _a: notify("USB device back", f"{name()} is attached again."))
        att.connect("gave-up", lambda _a, message: notify("USB device not reconnected", f"{name()}: {message}"))

    def _on_new_host(self, *_):
        self.activate()
        dialog = Adw.MessageDialog(transient_for=self.window, modal=True, heading="Add Host",
                                   body="A computer that exports USB devices: its name or address, with :port "
                                        "when it does not listen on 3240")
        entry = Gtk.Entry(placeholder_text="host, host:port or [IPv6]:port", activates_default=True)
        dialog.set_extra_child(entry)
        dialog.add_response("cancel", "Cancel")
        dialog.add_response("add", "Add")
        dialog.set_response_appearance("add", Adw.ResponseAppearance.SUGGESTED)
        dialog.set_default_response("add")
        dialog.set_response_enabled("add", False)
        entry.connect("changed", lambda e: dialog.set_response_enabled("add", bool(e.get_text().strip())))
        dialog.connect("response", lambda _d, r: r == "add" and self.activate_action(
            "add-host", GLib.Variant("s", entry.get_text().strip())))
        dialog.present()

    def _on_add_host(self, _action, param):
        remote = param.unpack().strip()
        hosts = self.settings.get_strv("hosts")
        if remote and remote not in hosts:
            self.settings.set_strv("hosts", hosts + [remote])
        self.activate()

    def _on_remove_host(self, _action, param):
        self.settings.set_strv("hosts", [h for h in self.settings.get_strv("hosts") if h != param.unpack()])

    def _on_about(self, *_):
        Adw.AboutWindow(transient_for=self.window, application_name="Remote USB", application_icon=APP_ID,
                        version=self.version, developer_name="usbipcore maintainers",
                        license_type=Gtk.License.GPL_2_0,
                        comments="Use USB devices plugged into other computers (USB/IP)").present()


def main(version):
    """Runs the application; returns its exit status."""
    app = Application(version)
    return app.run(sys.argv) or app.status
