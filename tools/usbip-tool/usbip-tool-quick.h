/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* usbip-tool's quick attach: a plain one-shot `attach -r ADDRESS -b BUSID` as root, done by the
 * libc-only front without loading the module (docs/performance.md, "Start-up in the guest").
 * Returns the exit code when it attached; USBIP_TOOL_QUICK_NOT_HANDLED when the module must
 * run the command line instead: anything it is not certain to do and print exactly as the
 * module does, and every failure but a connect timeout (the module then makes its own attempt
 * and reports it).
 * USBIP_TOOL_QUICK=0 in the environment turns it off. */
#define USBIP_TOOL_QUICK_NOT_HANDLED (-1)

int usbip_tool_quick_attach (int argc, char **argv);
