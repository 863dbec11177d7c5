/* SPDX-License-Identifier: GPL-2.0-or-later */
/* placeholder: owned by the trace decoder work */
#include "config.h"

#include <glib.h>

#include "usbip-tool-trace.h"

int
usbip_tool_trace_main (int argc, char **argv)
{
  g_printerr ("usbip-tool: trace is not implemented yet\n");
  return 1;
}
