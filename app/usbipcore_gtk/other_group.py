# SPDX-License-Identifier: GPL-2.0-or-later
"""The attachments here whose host is not in the list (attached by usbip-tool, upstream
usbip or from a host removed from the list): one DeviceRow each, whose switch detaches."""
from gi.repository import Adw, GObject

from .device_row import DeviceRow


class OtherGroup(Adw.PreferencesGroup):
    """"toggle-requested" (object path, on) asks to detach (on is False) an attachment."""

    __gsignals__ = {
        "toggle-requested": (GObject.SignalFlags.RUN_FIRST, None, (str, bool)),
    }

    def __init__(self):
        super().__init__(title="Other Attached Devices",
                         description="Attached here from hosts that are not in the list")
        self.rows = {}  # object path -> DeviceRow

    def show_attachments(self, attachments):
        """ATTACHMENTS: the attachments no host group shows."""
        by_path = {att.path: att for att in attachments}
        for path in list(self.rows):
            if path not in by_path:
                self.remove(self.rows.pop(path))
        for path, att in by_path.items():
            row = self.rows.get(path)
            if row is None:
                row = self.rows[path] = DeviceRow(att.remote_key[2], att.remote)
                row.connect("toggle-requested", lambda _r, on, p=path: self.emit("toggle-requested", p, on))
                self.add(row)
            row.attachment = att
            row.update()
        self.set_visible(bool(self.rows))
