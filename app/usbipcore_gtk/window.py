# SPDX-License-Identifier: GPL-2.0-or-later
"""The main window: the auto-reconnect option, one group per remote host with its devices,
the other attachments here, and errors as the service words them."""
from gi.repository import Adw, GLib, Gtk

from .host_group import HostGroup
from .other_group import OtherGroup


class Window(Adw.ApplicationWindow):
    """Shows SERVICE's state for the hosts in SETTINGS ("hosts") and asks SERVICE to attach
    and detach when a switch is turned."""

    def __init__(self, app, service, settings):
        super().__init__(application=app, title="Remote USB", default_width=640, default_height=520)
        self.service = service
        self.settings = settings
        self.groups = {}  # remote -> HostGroup

        header = Adw.HeaderBar()
        add = Gtk.Button(icon_name="list-add-symbolic", tooltip_text="Add Host", action_name="app.new-host")
        add.update_property([Gtk.AccessibleProperty.LABEL], ["Add Host"])
        header.pack_start(add)
        menu = Gtk.MenuButton(icon_name="open-menu-symbolic", tooltip_text="Main Menu", primary=True)
        model = Gtk.Builder.new_from_string(MENU, -1).get_object("menu")
        menu.set_menu_model(model)
        header.pack_end(menu)

        self.hosts_box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=24,
                                 margin_top=24, margin_bottom=24, margin_start=12, margin_end=12)
        options = Adw.PreferencesGroup()
        auto = Adw.ActionRow(
            title="Reconnect Automatically", use_markup=False, subtitle_lines=0,
            subtitle="Devices attached from now on are attached again when the network or the host drops")
        auto_switch = Gtk.Switch(valign=Gtk.Align.CENTER, action_name="app.auto-reconnect")
        auto.add_suffix(auto_switch)
        auto.set_activatable_widget(auto_switch)
        options.add(auto)
        self.hosts_box.append(options)
        self.other = OtherGroup()
        self.other.connect("toggle-requested", self._on_other_toggle)
        self.hosts_box.append(self.other)
        clamp = Adw.Clamp(child=self.hosts_box, maximum_size=720)
        scrolled = Gtk.ScrolledWindow(child=clamp, hscrollbar_policy=Gtk.PolicyType.NEVER, vexpand=True)

        empty = Adw.StatusPage(icon_name="org.usbipcore.RemoteUsb", title="No Hosts",
                               description="Add a computer that exports USB devices to see them here")
        empty_add = Gtk.Button(label="Add Host", halign=Gtk.Align.CENTER, action_name="app.new-host")
        empty_add.add_css_class("pill")
        empty_add.add_css_class("suggested-action")
        empty.set_child(empty_add)

        self.stack = Gtk.Stack()
        self.stack.add_named(empty, "empty")
        self.stack.add_named(scrolled, "hosts")
        self.toasts = Adw.ToastOverlay(child=self.stack, vexpand=True)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
        box.append(header)
        box.append(self.toasts)
        self.set_content(box)

        service.connect("attachments-changed", lambda _s: self._show_attachments())
        settings.connect("changed::hosts", lambda *_: self._sync_hosts())
        self._sync_hosts()

    def _sync_hosts(self):
        hosts = self.settings.get_strv("hosts")
        for remote in list(self.groups):
            if remote not in hosts:
                self.hosts_box.remove(self.groups.pop(remote))
        for remote in hosts:
            if remote not in self.groups:
                group = self.groups[remote] = HostGroup(remote)
                group.connect("toggle-requested", self._on_toggle)
                group.connect("refresh-requested", self.refresh_host)
                group.connect("remove-requested", lambda g: self.get_application().activate_action(
                    "remove-host", GLib.Variant("s", g.remote)))
                self.hosts_box.insert_child_after(group, self._last_group())
                self.refresh_host(group)
        self._show_attachments()

    def _last_group(self):
        """The widget a new host group goes after: the last host group, else the options."""
        return self.other.get_prev_sibling()

    def _show_attachments(self):
        attachments = list(self.service.attachments.values())
        for group in self.groups.values():
            group.show_attachments(attachments)
        shown = {att.path for g in self.groups.values() for att in g.attachments.values()}
        self.other.show_attachments([a for a in attachments if a.path not in shown])
        self.stack.set_visible_child_name("hosts" if self.groups or self.other.rows else "empty")

    def refresh(self):
        """Lists the devices of every host again."""
        for group in self.groups.values():
            self.refresh_host(group)

    def refresh_host(self, group):
        def listed(error, devices=None):
            if error is not None:
                group.show_error(error)
            else:
                group.show_devices(devices)

        self.service.list_remote_devices(group.remote, listed)

    def _on_toggle(self, group, busid, on):
        row = group.row(busid)

        def done(error):
            row.done()
            if error is not None:
                self.show_error(f"Could not {'attach' if on else 'detach'} {row.get_title()}", error)

        if on:
            auto = self.get_application().get_action_state("auto-reconnect").unpack()
            self.service.attach(group.remote, busid, auto, done)
        elif busid in group.attachments:
            group.attachments[busid].detach(done)
        else:  # it went away meanwhile: nothing to detach
            row.done()

    def _on_other_toggle(self, other, path, on):
        row = other.rows[path]

        def done(error):
            row.done()
            if error is not None:
                self.show_error(f"Could not detach {row.get_title()}", error)

        if on or path not in self.service.attachments:  # nothing to attach from here, or gone meanwhile
            row.done()
        else:
            self.service.attachments[path].detach(done)

    def show_error(self, heading, message):
        """A dialog with HEADING and MESSAGE (the service's words, cause and fix)."""
        dialog = Adw.MessageDialog(transient_for=self, modal=True, heading=heading, body=message)
        dialog.add_response("close", "Close")
        dialog.present()


MENU = """
<interface>
  <menu id="menu">
    <section>
      <item><attribute name="label">Refresh</attribute><attribute name="action">app.refresh</attribute></item>
      <item><attribute name="label">About Remote USB</attribute><attribute name="action">app.about</attribute></item>
    </section>
  </menu>
</interface>
"""
