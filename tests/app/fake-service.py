#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A stand-in for the usbipcore system service on a test bus, until the app's test runs the
real one: the part of org.usbipcore.Usbip1 the app uses (Manager, one Attachment object per
attachment through org.freedesktop.DBus.ObjectManager, PropertiesChanged, named errors), with
the devices of each remote read from a JSON file. The test steers it through
org.usbipcore.Test.Fake on /org/usbipcore/Test: Calls (what was called, in order), Lose and
Reconnect (what the service does when a supervised attachment's connection drops and comes
back) and FailNext (the next call of a method fails with a named error).

usage: fake-service.py DEVICES_JSON"""
import json
import sys

from gi.repository import Gio, GLib

DEVICES = sys.argv[1]
ROOT = "/org/usbipcore/Usbip1"
PREFIX = "org.usbipcore.Usbip1"
TEST_XML = """<node><interface name="org.usbipcore.Test.Fake">
  <method name="Calls"><arg type="as" direction="out"/></method>
  <method name="Lose"><arg type="o" direction="in"/><arg type="s" direction="in"/></method>
  <method name="Reconnect"><arg type="o" direction="in"/></method>
  <method name="FailNext"><arg type="s" direction="in"/><arg type="s" direction="in"/>
    <arg type="s" direction="in"/></method>
</interface></node>"""
OM_XML = """<node><interface name="org.freedesktop.DBus.ObjectManager">
  <method name="GetManagedObjects"><arg type="a{oa{sa{sv}}}" direction="out"/></method>
  <signal name="InterfacesAdded"><arg type="o"/><arg type="a{sa{sv}}"/></signal>
  <signal name="InterfacesRemoved"><arg type="o"/><arg type="as"/></signal>
</interface></node>"""
TYPES = {"Port": "i", "VendorId": "q", "ProductId": "q", "Supervised": "b", "ReconnectAttempts": "u",
         "MaxAttempts": "u"}

api = Gio.DBusNodeInfo.new_for_xml("""<node>
<interface name="org.usbipcore.Usbip1.Manager">
  <property name="Version" type="s" access="read"/>
  <method name="ListRemoteDevices">
    <arg type="s" direction="in"/><arg type="a{sv}" direction="in"/><arg type="aa{sv}" direction="out"/>
  </method>
  <method name="ListPorts"><arg type="aa{sv}" direction="out"/></method>
  <method name="Attach">
    <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="a{sv}" direction="in"/>
    <arg type="o" direction="out"/><arg type="a{sv}" direction="out"/><arg type="b" direction="out"/>
  </method>
</interface>
<interface name="org.usbipcore.Usbip1.Attachment">
""" + "".join(f'<property name="{n}" type="{TYPES.get(n, "s")}" access="read"/>' for n in (
    "Port", "Remote", "RemoteHost", "RemotePort", "Busid", "LocalBusid", "Speed", "VendorId", "ProductId",
    "VendorName", "ProductName", "State", "Supervised", "ReconnectAttempts", "MaxAttempts", "LastError",
    "LastErrorName")) + """
  <method name="Detach"/>
  <signal name="Lost"/><signal name="Reconnected"/>
  <signal name="GaveUp"><arg type="s"/><arg type="s"/></signal>
</interface></node>""")
with open(DEVICES) as f:
    remotes = json.load(f)  # "host:port" -> [device record with JSON-able values]
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
calls = []
failures = {}  # method -> (error name, message)
attachments = {}  # path -> {property: value}
registrations = {}  # path -> registration id
next_id = [0]
free_ports = list(range(8))


def variant(name, value):
    return GLib.Variant(TYPES.get(name, "s"), value)


def device_variant(d):
    types = {"busnum": "u", "devnum": "u", "speed-code": "u", "vendor-id": "q", "product-id": "q",
             "bcd-device": "q", "device-class": "y", "device-subclass": "y", "device-protocol": "y",
             "configuration-value": "y", "num-configurations": "y", "num-interfaces": "y", "status": "u"}
    out = {k: GLib.Variant(types.get(k, "s"), v) for k, v in d.items() if k != "interfaces"}
    out["interfaces"] = GLib.Variant("a(yyy)", [tuple(i) for i in d.get("interfaces", [])])
    return out


def props_of(path):
    return {k: variant(k, v) for k, v in attachments[path].items()}


def change(path, **values):
    attachments[path].update(values)
    bus.emit_signal(None, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                    GLib.Variant("(sa{sv}as)", (PREFIX + ".Attachment", {k: variant(k, v) for k, v in values.items()}, [])))


def signal(path, name, params=None):
    bus.emit_signal(None, path, PREFIX + ".Attachment", name, params)


def remove(path):
    del attachments[path]
    bus.unregister_object(registrations.pop(path))
    bus.emit_signal(None, ROOT, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                    GLib.Variant("(oas)", (path, [PREFIX + ".Attachment"])))


def split(remote):
    host, _, port = remote.rpartition(":") if remote.count(":") == 1 else (remote, "", "3240")
    return host, port or "3240"


def attach(remote, busid, options):
    host, port = split(remote)
    devices = remotes.get(f"{host}:{port}")
    if devices is None:
        raise Failure("Connection", f"could not connect to {remote}: Connection refused")
    device = next((d for d in devices if d["busid"] == busid), None)
    if device is None:
        raise Failure("NoDevice", f"{remote} does not export {busid}")
    supervised = options.get("auto-reconnect", False)
    path = f"{ROOT}/attachment/{next_id[0]}"
    next_id[0] += 1
    attachments[path] = dict(
        Port=free_ports.pop(0), Remote=f"{host}:{port}", RemoteHost=host, RemotePort=port, Busid=busid,
        LocalBusid="", Speed=device["speed"], VendorId=device["vendor-id"], ProductId=device["product-id"],
        VendorName=device.get("vendor-name", ""), ProductName=device.get("product-name", ""),
        State="attached", Supervised=supervised, ReconnectAttempts=0, MaxAttempts=0, LastError="",
        LastErrorName="")
    registrations[path] = bus.register_object(path, api.lookup_interface(PREFIX + ".Attachment"), on_attachment, on_get, None)
    bus.emit_signal(None, ROOT, "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                    GLib.Variant("(oa{sa{sv}})", (path, {PREFIX + ".Attachment": props_of(path)})))
    port = {"port": GLib.Variant("u", attachments[path]["Port"])}
    return GLib.Variant("(oa{sv}b)", (path, port, False))


class Failure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.name = f"{PREFIX}.Error.{code}"


def answer(invocation, method, what, fn):
    """Records WHAT (METHOD and its arguments) and returns FN()'s value or its Failure."""
    calls.append(what)
    try:
        if method in failures:
            raise Failure(*failures.pop(method))
        invocation.return_value(fn())
    except Failure as e:
        invocation.return_dbus_error(e.name, str(e))


def on_manager(_conn, _sender, _path, _iface, method, params, invocation):
    args = params.unpack()
    if method == "ListRemoteDevices":
        def listing():
            devices = remotes.get("%s:%s" % split(args[0]))
            if devices is None:
                raise Failure("Connection", f"could not connect to {args[0]}: Connection refused")
            return GLib.Variant("(aa{sv})", ([device_variant(d) for d in devices],))
        answer(invocation, method, f"{method} {args[0]}", listing)
    elif method == "Attach":
        answer(invocation, method, f"{method} {args[0]} {args[1]} auto-reconnect={args[2].get('auto-reconnect', False)}",
               lambda: attach(*args))
    elif method == "ListPorts":
        answer(invocation, method, method, lambda: GLib.Variant("(aa{sv})", ([],)))
    else:
        def missing():
            raise Failure("Failed", f"{method}: not in the fake")
        answer(invocation, method, method, missing)


def on_attachment(_conn, _sender, path, _iface, method, _params, invocation):
    def detach():
        free_ports.insert(0, attachments[path]["Port"])
        remove(path)
    answer(invocation, method, f"{method} {attachments[path]['Busid']}", detach if method == "Detach" else lambda: None)


def on_get(_conn, _sender, path, _iface, name):
    return variant(name, attachments[path][name])


def on_manager_get(*_args):
    return GLib.Variant("s", "0.1.0")  # Version


def on_om(_conn, _sender, _path, _iface, method, _params, invocation):
    objects = {p: {PREFIX + ".Attachment": props_of(p)} for p in attachments}
    invocation.return_value(GLib.Variant("(a{oa{sa{sv}}})", (objects,)))


def on_test(_conn, _sender, _path, _iface, method, params, invocation):
    args = params.unpack()
    if method == "Calls":
        invocation.return_value(GLib.Variant("(as)", (calls,)))
        return
    if method == "Lose":
        change(args[0], State="waiting", Port=-1, ReconnectAttempts=0, LastError=args[1],
               LastErrorName=PREFIX + ".Error.Connection")
        signal(args[0], "Lost")
    elif method == "Reconnect":
        change(args[0], State="attached", Port=attachments[args[0]]["Port"] if attachments[args[0]]["Port"] >= 0 else 0,
               ReconnectAttempts=0, LastError="", LastErrorName="")
        signal(args[0], "Reconnected")
    elif method == "FailNext":
        failures[args[0]] = (args[1], args[2])
    invocation.return_value(None)


bus.register_object(ROOT, Gio.DBusNodeInfo.new_for_xml(OM_XML).interfaces[0], on_om, None, None)
bus.register_object(ROOT + "/Manager", api.lookup_interface(PREFIX + ".Manager"), on_manager, on_manager_get, None)
bus.register_object("/org/usbipcore/Test", Gio.DBusNodeInfo.new_for_xml(TEST_XML).interfaces[0], on_test, None, None)
loop = GLib.MainLoop()
Gio.bus_own_name_on_connection(bus, PREFIX, Gio.BusNameOwnerFlags.NONE, lambda *_: print("ready", flush=True),
                               lambda *_: loop.quit())
loop.run()
