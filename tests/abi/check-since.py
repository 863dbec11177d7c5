#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every symbol of the Usbip GIR says since which version it exists (`Since:` in its doc
comment becomes the version attribute): classes, interfaces, records, enums and flags,
functions, methods, constructors, virtual methods, properties, signals, callbacks,
constants and aliases. With SYMBOLS and SRCDIR, also every exported function outside the GIR
(the plugin API: wire codec, plugin context) has a gi-docgen comment with `Since:`.
Usage: check-since.py Usbip-1.0.gir [SYMBOLS SRCDIR]. Prints what lacks it."""
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

CORE = "{http://www.gtk.org/introspection/core/1.0}"
GLIB = "{http://www.gtk.org/introspection/glib/1.0}"
KINDS = {CORE + k for k in ("class", "interface", "record", "enumeration", "bitfield", "function", "method",
                           "constructor", "virtual-method", "property", "callback", "constant", "alias",
                           "union")} | {GLIB + "signal"}

missing, total = [], 0


def walk(node, path):
    global total
    for child in node:
        name = child.get("name")
        where = f"{path}.{name}" if path and name else (name or path)
        if child.tag in KINDS:
            # a class's own get-type function and the GType structs are generated
            if child.get(GLIB + "is-gtype-struct-for") is None:
                total += 1
                if child.get("version") is None:
                    missing.append(f"{child.tag.split('}')[1]} {where}")
        if child.tag in KINDS or child.tag == CORE + "namespace":
            walk(child, where if child.tag != CORE + "namespace" else "")


walk(ET.parse(sys.argv[1]).getroot(), "")
if len(sys.argv) > 3:
    texts = [open(f).read() for f in glob.glob(os.path.join(sys.argv[3], "*.[ch]"))]
    for sym in (line.strip() for line in open(sys.argv[2])):
        if not sym or sym.endswith("_get_type") or sym.endswith("_quark"):
            continue  # G_DEFINE_* generated
        total += 1
        docs = [m.group(0) for t in texts for m in re.finditer(r"/\*\*\n \* " + re.escape(sym) + r":.*?\*/", t, re.S)]
        if not any("Since:" in d for d in docs):
            missing.append(f"exported function {sym}" + ("" if docs else " (no doc comment)"))
for m in missing:
    print(f"check-since: no Since: {m}")
print(f"check-since: {total - len(missing)} of {total} symbols have a version")
sys.exit(1 if missing else 0)
