#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Serves the devices bound to usbip-host (`usbip-tool bind -b BUSID` first) to one subnet
only, at most 4 handshakes at once, printing who connects and what is exported.
Needs root (usbip-host) and the host plugin.
   ./serve-policy.py 0.0.0.0:3240 192.0.2.0/24"""
import sys

import gi

gi.require_version("Usbip", "1.0")
from gi.repository import GLib, Usbip  # noqa: E402

registry = Usbip.PluginRegistry.new(None, None)
registry.load()
exporter = Usbip.Exporter.new(registry.get_export_backend("host"))
policy = Usbip.Policy.new()
try:
    policy.add_allow_cidr(sys.argv[2])
except GLib.Error as e:
    sys.exit(e.message)
policy.set_max_sessions(4)
exporter.set_policy(policy)

exporter.connect("session-opened", lambda _e, peer: print("connected", peer, flush=True))
exporter.connect("device-exported", lambda _e, busid, peer: print("exported", busid, "to", peer, flush=True))
exporter.connect("import-refused", lambda _e, peer, busid, st, why: print("refused", busid, "to", peer, why, flush=True))
exporter.connect("connection-refused", lambda _e, peer, rule: print("refused", peer, "by", rule, flush=True))

exporter.listen(Usbip.TransportTcp.new(), sys.argv[1])
exporter.start()
print("serving on", sys.argv[1], flush=True)
loop = GLib.MainLoop()
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, loop.quit)  # SIGINT
loop.run()
