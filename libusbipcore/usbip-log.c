/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-log.h"

/* the syslog priority of @level, as g_log_structured() gives it: g_log_structured_array()
 * adds no PRIORITY field, and the journal would store every record at its default */
static const gchar *
priority (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "3";
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return "4";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "5";
  if (level & G_LOG_LEVEL_INFO)
    return "6";
  return "7";
}

void
usbip_log_event (GLogLevelFlags level, const UsbipLogFields *f, const gchar *format, ...)
{
  g_autofree gchar *message = NULL;
  gchar status[24], duration[24];
  GLogField fields[10];
  gsize n = 0;
  va_list args;

  /* a debug event nobody shows is not formatted (it was 40 % of a DEVLIST handshake's
   * instructions): shown with G_MESSAGES_DEBUG or g_log_set_debug_enabled() */
  if ((level & G_LOG_LEVEL_DEBUG) && g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

#define ADD(k, v)                                                                                                      \
  G_STMT_START                                                                                                         \
  {                                                                                                                    \
    fields[n].key = (k);                                                                                               \
    fields[n].value = (v);                                                                                             \
    fields[n].length = -1;                                                                                             \
    n++;                                                                                                               \
  }                                                                                                                    \
  G_STMT_END
  ADD ("PRIORITY", priority (level));
  ADD ("GLIB_DOMAIN", G_LOG_DOMAIN);
  ADD ("MESSAGE", message);
  if (f->peer != NULL)
    ADD ("USBIP_PEER", f->peer);
  if (f->op != NULL)
    ADD ("USBIP_OP", f->op);
  if (f->busid != NULL)
    ADD ("USBIP_BUSID", f->busid);
  if (f->status >= 0)
    {
      g_snprintf (status, sizeof status, "%" G_GINT64_FORMAT, f->status);
      ADD ("USBIP_STATUS", status);
    }
  if (f->duration_ms >= 0)
    {
      g_snprintf (duration, sizeof duration, "%" G_GINT64_FORMAT, f->duration_ms);
      ADD ("USBIP_DURATION_MS", duration);
    }
  if (f->rule != NULL)
    ADD ("USBIP_RULE", f->rule);
#undef ADD
  g_log_structured_array (level, fields, n);
}

gboolean
usbip_log_limit_pass (UsbipLogLimit *limit, gint64 now_us, gint64 interval_us, guint *suppressed)
{
  if (now_us < limit->next_us)
    {
      limit->suppressed++;
      return FALSE;
    }
  *suppressed = limit->suppressed;
  limit->suppressed = 0;
  limit->next_us = now_us + interval_us;
  return TRUE;
}
