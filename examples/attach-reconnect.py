#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Attaches a remote device and keeps it attached across outages, printing each event.
Needs root (vhci_hcd) and the vhci plugin.
   ./attach-reconnect.py 192.0.2.10:3240 1-1"""
import sys

import gi

gi.require_version("Usbip", "1.0")
from gi.repository import GLib, Usbip  # noqa: E402

registry = Usbip.PluginRegistry.new(None, None)
registry.load()
importer = Usbip.Importer.new(registry.get_import_backend("vhci"), None)
supervisor = Usbip.Supervisor.new(importer, Usbip.remote_parse(sys.argv[1], Usbip.DEFAULT_TCP_PORT), sys.argv[2])

supervisor.connect("notify::state", lambda s, _p: print("state", s.props.state.value_nick, flush=True))
supervisor.connect("attached", lambda _s, port: print("attached on port", port.port, flush=True))
supervisor.connect("lost", lambda _s, port: print("lost port", port.port, flush=True))
supervisor.connect("reconnecting", lambda _s, n, ms, err: print(f"retry {n} in {ms} ms: {err.message}", flush=True))
supervisor.connect("reconnected", lambda _s, port: print("back on port", port.port, flush=True))
supervisor.connect("gave-up", lambda _s, err: (print("gave up:", err.message, flush=True), loop.quit()))
supervisor.connect("detached", lambda _s, port: (print("detached by someone", flush=True), loop.quit()))

loop = GLib.MainLoop()
supervisor.start()
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, lambda: (supervisor.stop(), loop.quit()))  # SIGINT
loop.run()
