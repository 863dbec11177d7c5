/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-common.h"

G_BEGIN_DECLS

/**
 * USBIP_BUSID_SIZE:
 *
 * Width of a busid on the wire, including the terminating NUL (at most 31 characters).
 *
 * Since: 1.0
 */
#define USBIP_BUSID_SIZE 32

/* Validates a busid as upstream accepts it: `<bus>-<port>[.<port>...]` (e.g. `1-1`,
 * `1-1.2.3`) or a platform device name such as `usbip-vudc.0`; non-empty, at most 31
 * bytes, printable ASCII without spaces or '/'. Sets USBIP_ERROR_INVALID_ARGUMENT naming
 * the problem. */
USBIP_PUBLIC gboolean usbip_busid_validate (const gchar *busid, GError **error);

G_END_DECLS
