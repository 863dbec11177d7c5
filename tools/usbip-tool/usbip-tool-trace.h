/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* `usbip-tool trace ...`: argv[0] is "trace". Returns the process exit code. */
int usbip_tool_trace_main (int argc, char **argv);
