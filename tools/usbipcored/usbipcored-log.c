/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbipcored's log writers: text (stderr), JSON (one object per line on stderr) and the
 * journal. Records come from GLib's structured log API; the library adds the fields
 * USBIP_PEER, USBIP_OP, USBIP_BUSID, USBIP_STATUS, USBIP_DURATION_MS and USBIP_RULE.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <usbipcore.h>

#include "usbip-tools-text.h"
#include "usbipcored-log.h"

static UsbipcoredLogFormat log_format = USBIPCORED_LOG_TEXT;
static gboolean log_debug = FALSE;

gboolean
usbipcored_log_format_parse (const gchar *text, UsbipcoredLogFormat *out)
{
  if (g_strcmp0 (text, "text") == 0)
    *out = USBIPCORED_LOG_TEXT;
  else if (g_strcmp0 (text, "json") == 0)
    *out = USBIPCORED_LOG_JSON;
  else if (g_strcmp0 (text, "journal") == 0)
    *out = USBIPCORED_LOG_JOURNAL;
  else
    return FALSE;
  return TRUE;
}

static const gchar *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "error";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "critical";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

static const struct {
  const gchar *field;
  const gchar *json;
  gboolean number;
} field_map[] = {
  { "USBIP_PEER", "peer", FALSE },
  { "USBIP_OP", "op", FALSE },
  { "USBIP_BUSID", "busid", FALSE },
  { "USBIP_STATUS", "status", TRUE },
  { "USBIP_DURATION_MS", "duration_ms", TRUE },
  { "USBIP_RULE", "rule", FALSE },
};

static const gchar *
field_value (const GLogField *fields, gsize n, const gchar *key)
{
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (fields[i].key, key) == 0)
      return fields[i].value;
  return NULL;
}

gchar *
usbipcored_log_format_json (GLogLevelFlags level, const GLogField *fields, gsize n, gint64 now_us)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) base = g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) dt = g_date_time_add (base, now_us % G_USEC_PER_SEC);
  g_autofree gchar *ts = g_date_time_format_iso8601 (dt);
  g_autofree gchar *message = usbip_tools_message_text (field_value (fields, n, "MESSAGE") ?: "");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ts");
  json_builder_add_string_value (b, ts);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, level_name (level));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  for (guint i = 0; i < G_N_ELEMENTS (field_map); i++)
    {
      const gchar *v = field_value (fields, n, field_map[i].field);
      if (v == NULL)
        continue;
      json_builder_set_member_name (b, field_map[i].json);
      if (field_map[i].number)
        json_builder_add_int_value (b, g_ascii_strtoll (v, NULL, 10));
      else
        {
          g_autofree gchar *shown = usbip_tools_message_text (v);
          json_builder_add_string_value (b, shown);
        }
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n, gpointer user_data)
{
  g_autofree gchar *message = NULL;

  if ((level & G_LOG_LEVEL_DEBUG) && !log_debug)
    return G_LOG_WRITER_HANDLED;
  switch (log_format)
    {
    case USBIPCORED_LOG_JOURNAL:
      if (g_log_writer_journald (level, fields, n, NULL) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;
      break; /* no journal: fall back to text */
    case USBIPCORED_LOG_JSON:
      {
        g_autofree gchar *line = usbipcored_log_format_json (level, fields, n, g_get_real_time ());
        fprintf (stderr, "%s\n", line);
        fflush (stderr);
        return G_LOG_WRITER_HANDLED;
      }
    case USBIPCORED_LOG_TEXT:
    default:
      break;
    }
  message = usbip_tools_message_text (field_value (fields, n, "MESSAGE") ?: "");
  fprintf (stderr, "usbipcored: %s: %s\n", level_name (level), message);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
usbipcored_log_setup (UsbipcoredLogFormat format, gboolean debug)
{
  static gboolean installed = FALSE;

  log_format = format;
  log_debug = debug;
  /* libusbipcore formats its debug events only when they can be shown */
  g_log_set_debug_enabled (debug);
  if (!installed)
    {
      g_log_set_writer_func (writer, NULL, NULL);
      installed = TRUE;
    }
}
