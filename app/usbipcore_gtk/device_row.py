# SPDX-License-Identifier: GPL-2.0-or-later
"""One USB device of a remote host: its names, ids, bus ID and speed, the state of its
attachment here, and the switch that attaches and detaches it."""
from gi.repository import Adw, GObject, Gtk

SPEEDS = {
    "low": "1.5 Mbit/s", "full": "12 Mbit/s", "high": "480 Mbit/s", "wireless": "Wireless USB",
    "super": "5 Gbit/s", "super-plus": "10 Gbit/s",
}


def device_title(vendor_name, product_name, vendor_id, product_id):
    """What a device is called: its usb.ids product name, else vendor name, else its ids."""
    if product_name:
        return product_name
    if vendor_name:
        return f"{vendor_name} device"
    return f"Unknown device {vendor_id:04x}:{product_id:04x}"


def attachment_state(att):
    """A sentence about ATT's state, from its D-Bus properties."""
    auto = " · reconnects automatically" if att.supervised else ""
    if att.state == "attached":
        return f"Attached on port {att.port}{auto}"
    if att.state == "connecting":
        return "Connecting…"
    if att.state == "waiting":
        reason = f": {att.last_error}" if att.last_error else ""
        return f"Connection lost, reconnecting (attempt {att.attempts + 1}){reason}"
    if att.state == "gave-up":
        return f"Gave up reconnecting: {att.last_error}"
    return att.state


class DeviceRow(Adw.ActionRow):
    """A row with a switch. The switch shows whether the device is attached here; turning it
    emits "toggle-requested" (the window asks the service) and the switch follows the
    service's state, not the click."""

    __gsignals__ = {
        "toggle-requested": (GObject.SignalFlags.RUN_FIRST, None, (bool,)),
    }

    def __init__(self, busid, remote=""):
        super().__init__(use_markup=False, subtitle_lines=0)
        self.busid = busid
        self.remote = remote  # shown when the row is not under its host's group
        self.device = {}
        self.attachment = None
        self.busy = False
        self.switch = Gtk.Switch(valign=Gtk.Align.CENTER)
        self.switch.connect("state-set", self._on_state_set)
        self.add_suffix(self.switch)
        self.set_activatable_widget(self.switch)
        self._syncing = False

    def _on_state_set(self, _switch, active):
        if self._syncing:
            return False
        self.busy = True
        self.switch.set_sensitive(False)
        self.emit("toggle-requested", active)
        return True  # the state follows the service, not the click

    def done(self):
        """The request ended (either way): show the service's state again."""
        self.busy = False
        self.switch.set_sensitive(True)
        self.update()

    def update(self):
        """Shows DEVICE (a ListRemoteDevices record) and ATTACHMENT (or None)."""
        d, att = self.device, self.attachment
        if att is not None and not d:
            vendor_id, product_id = att.ids
            vendor_name, product_name = att.names
            speed = att.speed
        else:
            vendor_id, product_id = d.get("vendor-id", 0), d.get("product-id", 0)
            vendor_name, product_name = d.get("vendor-name", ""), d.get("product-name", "")
            speed = d.get("speed", "")
        title = device_title(vendor_name, product_name, vendor_id, product_id)
        self.set_title(title)
        facts = [vendor_name, f"{vendor_id:04x}:{product_id:04x}", f"bus ID {self.busid}",
                 f"from {self.remote}" if self.remote else "", SPEEDS.get(speed, "")]
        subtitle = " · ".join(f for f in facts if f)
        if att is not None:
            subtitle += "\n" + attachment_state(att)
        self.set_subtitle(subtitle)
        if not self.busy:
            self._syncing = True
            attached = att is not None
            self.switch.set_active(attached)
            self.switch.set_state(attached)
            self._syncing = False
