#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Serves the devices bound to usbip-host with the metrics plugin enabled from the program
(no configuration file): Prometheus scrapes the exporter's counters at http://METRICS/metrics.
Needs root (usbip-host) and the host and metrics plugins.
   ./serve-metrics.py 0.0.0.0:3240 127.0.0.1:9240
   curl http://127.0.0.1:9240/metrics"""
import sys

import gi

gi.require_version("Usbip", "1.0")
from gi.repository import GLib, Usbip  # noqa: E402

address, metrics = sys.argv[1:3]
config = Usbip.Config.new()
# what usbipcore.conf would say: the plugins to load, and the [metrics] group
conf = f"[plugins]\nenabled=host;metrics\n[metrics]\nlisten={metrics}\n"
config.load_data(conf, len(conf))
registry = Usbip.PluginRegistry.new(config, None)
registry.load()
exporter = Usbip.Exporter.new(registry.get_export_backend("host"))
registry.add_object(exporter)  # the plugins see the exporter (the metrics plugin counts its events)
exporter.listen(Usbip.TransportTcp.new(), address)
exporter.start()
print(f"serving on {address}, metrics at http://{metrics}/metrics", flush=True)
loop = GLib.MainLoop()
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, loop.quit)  # SIGINT
loop.run()
