# SPDX-License-Identifier: GPL-2.0-or-later
"""One remote host: the devices it exports (ListRemoteDevices) and those of its devices
that are attached here, one DeviceRow each, with a refresh and a remove button."""
from gi.repository import Adw, GObject, Gtk

from .device_row import DeviceRow
from .service import split_remote


class HostGroup(Adw.PreferencesGroup):
    """The devices of REMOTE (as the user typed it). "toggle-requested" (busid, on) asks for
    an attach or a detach; "remove-requested" asks to forget the host."""

    __gsignals__ = {
        "toggle-requested": (GObject.SignalFlags.RUN_FIRST, None, (str, bool)),
        "remove-requested": (GObject.SignalFlags.RUN_FIRST, None, ()),
        "refresh-requested": (GObject.SignalFlags.RUN_FIRST, None, ()),
    }

    def __init__(self, remote):
        super().__init__(title=remote)
        self.remote = remote
        self.host, self.port = split_remote(remote)
        self.devices = {}  # busid -> device record of the last listing
        self.attachments = {}  # busid -> Attachment of this host
        self.rows = {}  # busid -> DeviceRow
        buttons = Gtk.Box(spacing=6)
        for icon, tip, signal in (("view-refresh-symbolic", f"Refresh {remote}", "refresh-requested"),
                                  ("user-trash-symbolic", f"Remove {remote}", "remove-requested")):
            button = Gtk.Button(icon_name=icon, tooltip_text=tip, valign=Gtk.Align.CENTER)
            button.add_css_class("flat")
            button.update_property([Gtk.AccessibleProperty.LABEL], [tip])
            button.connect("clicked", lambda _b, s=signal: self.emit(s))
            buttons.append(button)
        self.set_header_suffix(buttons)
        self.set_description("Looking for devices…")

    def show_devices(self, devices):
        """Shows the listing DEVICES (device records)."""
        self.devices = {d["busid"]: d for d in devices}
        self.set_description(None if devices else "This host exports no devices.")
        self._sync()

    def show_error(self, message):
        """The listing failed: MESSAGE (the service's words) replaces the devices."""
        self.devices = {}
        self.set_description(message)
        self._sync()

    def show_attachments(self, attachments):
        """ATTACHMENTS: every attachment here; keeps those of this host."""
        self.attachments = {}
        for att in attachments:
            host, port, busid = att.remote_key
            if (host, port) == (self.host, self.port) and busid:
                self.attachments[busid] = att
        self._sync()

    def row(self, busid):
        return self.rows.get(busid)

    def _sync(self):
        wanted = sorted(set(self.devices) | set(self.attachments))
        for busid in list(self.rows):
            if busid not in wanted:
                self.remove(self.rows.pop(busid))
        for busid in wanted:
            row = self.rows.get(busid)
            if row is None:
                row = self.rows[busid] = DeviceRow(busid)
                row.connect("toggle-requested", lambda _r, on, b=busid: self.emit("toggle-requested", b, on))
                self.add(row)
            row.device = self.devices.get(busid, {})
            row.attachment = self.attachments.get(busid)
            row.update()
