/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* `usbip-tool trace ...`: argv[0] is "trace". Returns the process exit code. */
int usbip_tool_trace_main (int argc, char **argv);

/* One line (no newline) describing a trace event: text form, or a JSON object (schema 1)
 * when @json. Exposed for tests; @event is a const UsbipTraceEvent *. */
gchar *usbip_tool_trace_format_event (gconstpointer event, gboolean json);
