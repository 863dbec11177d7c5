#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints each vhci port as it is attached or released, by this program or any other
(upstream `usbip attach` included). Needs the vhci plugin; reading needs no root.
   ./watch-ports.py"""
import gi

gi.require_version("Usbip", "1.0")
from gi.repository import GLib, Usbip  # noqa: E402

registry = Usbip.PluginRegistry.new(None, None)
registry.load()
monitor = Usbip.PortMonitor.new(registry.get_import_backend("vhci"))
monitor.connect("port-added", lambda _m, p: print(f"port {p.port}: {p.remote_host}:{p.remote_port} {p.remote_busid}",
                                                  flush=True))
monitor.connect("port-removed", lambda _m, p, kept: print(f"port {p.port}: released{' (link lost)' if kept else ''}",
                                                          flush=True))
monitor.start()
print("watching the vhci ports", flush=True)
loop = GLib.MainLoop()
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, loop.quit)  # SIGINT
loop.run()
