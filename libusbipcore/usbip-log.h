/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal: one structured log record per event, through GLib's structured log API.
 * Fields: USBIP_PEER, USBIP_OP, USBIP_BUSID, USBIP_STATUS, USBIP_DURATION_MS, USBIP_RULE
 * (omitted when NULL / negative). Writers (text, JSON, journald) live in the daemon. */

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *peer;
  const gchar *op;
  const gchar *busid;
  gint64 status;      /* -1 = none */
  gint64 duration_ms; /* -1 = none */
  const gchar *rule;
} UsbipLogFields;

#define USBIP_LOG_FIELDS_INIT                                                                                          \
  {                                                                                                                    \
    NULL, NULL, NULL, -1, -1, NULL                                                                                     \
  }

/* a G_LOG_LEVEL_DEBUG event is neither formatted nor written unless debug output is on
 * (G_MESSAGES_DEBUG, or g_log_set_debug_enabled() for a custom writer) */
void usbip_log_event (GLogLevelFlags level, const UsbipLogFields *fields, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

/* At most one line per interval: usbip_log_limit_pass() says whether to log now and how
 * many lines were held back since the last one (say so in the line). */
typedef struct {
  gint64 next_us;
  guint suppressed;
} UsbipLogLimit;

gboolean usbip_log_limit_pass (UsbipLogLimit *limit, gint64 now_us, gint64 interval_us, guint *suppressed);

G_END_DECLS
