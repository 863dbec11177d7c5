#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Lists the devices a USB/IP server exports, like `usbip list -r HOST`.
   ./list-remote.py 192.0.2.10:3240"""
import sys

import gi

gi.require_version("Usbip", "1.0")
from gi.repository import GLib, Usbip  # noqa: E402

try:
    remote = Usbip.remote_parse(sys.argv[1], Usbip.DEFAULT_TCP_PORT)
except GLib.Error as e:
    sys.exit(e.message)
loop = GLib.MainLoop()
importer = Usbip.Importer.new(None, None)  # listing needs no import backend


def listed(importer, result):
    try:
        for d in importer.list_devices_finish(result):
            print(f"{d.get_busid()} {d.idVendor:04x}:{d.idProduct:04x} {Usbip.speed_to_nick(d.speed)}")
    except GLib.Error as e:
        print(e.message, file=sys.stderr)
        if e.matches(Usbip.error_quark(), Usbip.Error.CONNECTION):
            print("is usbipcored (or usbipd) running there?", file=sys.stderr)
    loop.quit()


importer.list_devices_async(remote, None, listed)
loop.run()
