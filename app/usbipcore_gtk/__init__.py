# SPDX-License-Identifier: GPL-2.0-or-later
"""Remote USB: the GNOME app of usbipcore (GTK 4 + libadwaita), a client of the
org.usbipcore.Usbip1 system service."""
import gi

gi.require_version("Gtk", "4.0")
gi.require_version("Adw", "1")
