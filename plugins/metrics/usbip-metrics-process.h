/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The standard process_* metrics of this process, read from /proc: CPU seconds, resident
 * and virtual memory, open and maximum file descriptors, start time. */
void usbip_metrics_process_write (GString *out);

/* parsers, apart for tests: the fields after the command name in /proc/PID/stat (the text
 * after the last ')'), and the btime line of /proc/stat */
gboolean usbip_metrics_process_parse_stat (const gchar *stat, guint64 *utime, guint64 *stime, guint64 *starttime,
                                           guint64 *vsize, guint64 *rss_pages);
gboolean usbip_metrics_process_parse_btime (const gchar *proc_stat, guint64 *btime);

G_END_DECLS
