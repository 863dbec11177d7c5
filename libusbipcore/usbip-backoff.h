/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"

G_BEGIN_DECLS

/* the reconnect cadence (usbip_backoff_new_default(), docs/reconnect.md) */
/**
 * USBIP_BACKOFF_DEFAULT_INITIAL_MS:
 *
 * The first delay of usbip_backoff_new_default(), in milliseconds.
 *
 * Since: 1.0
 */
#define USBIP_BACKOFF_DEFAULT_INITIAL_MS 1200
/**
 * USBIP_BACKOFF_DEFAULT_FLOOR_MS:
 *
 * The shortest delay usbip_backoff_new_default() draws, in milliseconds.
 *
 * Since: 1.0
 */
#define USBIP_BACKOFF_DEFAULT_FLOOR_MS 600
/**
 * USBIP_BACKOFF_DEFAULT_FAST_WINDOW_MS:
 *
 * How long an outage is retried at the first delay before the delays grow, in milliseconds.
 *
 * Since: 1.0
 */
#define USBIP_BACKOFF_DEFAULT_FAST_WINDOW_MS 60000
/**
 * USBIP_BACKOFF_DEFAULT_MAX_MS:
 *
 * The ceiling of usbip_backoff_new_default()'s delays, in milliseconds.
 *
 * Since: 1.0
 */
#define USBIP_BACKOFF_DEFAULT_MAX_MS 30000
/**
 * USBIP_BACKOFF_DEFAULT_MULTIPLIER:
 *
 * How much the delay ceiling grows per attempt after the fast window.
 *
 * Since: 1.0
 */
#define USBIP_BACKOFF_DEFAULT_MULTIPLIER 2.0

#define USBIP_TYPE_BACKOFF (usbip_backoff_get_type ())
typedef struct _UsbipBackoff UsbipBackoff;

USBIP_PUBLIC GType usbip_backoff_get_type (void) G_GNUC_CONST;
USBIP_PUBLIC UsbipBackoff *usbip_backoff_new (guint initial_ms, guint max_ms, gdouble multiplier);
USBIP_PUBLIC UsbipBackoff *usbip_backoff_new_default (void);
USBIP_PUBLIC void usbip_backoff_set_floor_ms (UsbipBackoff *self, guint floor_ms);
USBIP_PUBLIC void usbip_backoff_set_fast_window (UsbipBackoff *self, guint window_ms);
USBIP_PUBLIC UsbipBackoff *usbip_backoff_copy (const UsbipBackoff *self);
USBIP_PUBLIC void usbip_backoff_free (UsbipBackoff *self);
USBIP_PUBLIC void usbip_backoff_set_seed (UsbipBackoff *self, guint32 seed);
USBIP_PUBLIC guint usbip_backoff_get_ceiling_ms (const UsbipBackoff *self);
USBIP_PUBLIC guint usbip_backoff_get_attempt (const UsbipBackoff *self);
USBIP_PUBLIC guint usbip_backoff_next_ms (UsbipBackoff *self);
USBIP_PUBLIC guint usbip_backoff_next_ms_in_outage (UsbipBackoff *self, guint64 outage_ms);
USBIP_PUBLIC void usbip_backoff_reset (UsbipBackoff *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipBackoff, usbip_backoff_free)

G_END_DECLS
