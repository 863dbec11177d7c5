/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  USBIPCORED_LOG_TEXT,
  USBIPCORED_LOG_JSON,
  USBIPCORED_LOG_JOURNAL,
} UsbipcoredLogFormat;

gboolean usbipcored_log_format_parse (const gchar *text, UsbipcoredLogFormat *out);
/* installs the writer; debug: also write G_LOG_LEVEL_DEBUG records */
void usbipcored_log_setup (UsbipcoredLogFormat format, gboolean debug);
/* the JSON form of one record (for tests) */
gchar *usbipcored_log_format_json (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gint64 now_us);

G_END_DECLS
