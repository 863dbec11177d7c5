/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* usbip-tool is two pieces (docs/performance.md, "Start-up"): the executable, a front linked
 * to libc alone, and this module, which holds every verb and links libusbipcore, GIO
 * and json-glib. The front prints the version itself (`usbip-tool version`, `--version`,
 * `-V`, nothing else on the line), so that answer maps one library as upstream's does; it
 * attaches in the plain case itself (usbip-tool-quick.h); for every other command line it loads USBIP_TOOL_MAIN_MODULE and runs usbip_tool_main() with
 * the same arguments. Plain C: the front includes this without GLib. */

#define USBIP_TOOL_MAIN_MODULE "usbip-tool-main.so"
/* what `version` prints, from the front and from the module alike */
#define USBIP_TOOL_VERSION_LINE "usbip-tool (usbipcore) " PACKAGE_VERSION "\n"

typedef int (*UsbipToolMainFunc) (int argc, char **argv);
__attribute__ ((visibility ("default"))) int usbip_tool_main (int argc, char **argv);
