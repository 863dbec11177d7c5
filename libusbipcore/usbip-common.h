/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#if !defined(USBIPCORE_INSIDE) && !defined(USBIP_COMPILATION)
#error "Only <usbipcore.h> can be included directly."
#endif

#include <glib.h>

/**
 * USBIP_PUBLIC:
 *
 * Marks a symbol exported from libusbipcore. Everything else is hidden; the exported
 * list is checked in as `usbipcore.symbols` and compared by a test.
 *
 * Since: 1.0
 */
#define USBIP_PUBLIC __attribute__ ((visibility ("default"))) extern

/**
 * USBIP_DEFAULT_TCP_PORT:
 *
 * The IANA port of USB/IP, used when a remote names no port.
 *
 * Since: 1.0
 */
#define USBIP_DEFAULT_TCP_PORT 3240
