/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process_* metrics from /proc/self (proc(5)), named as Prometheus client libraries name them. */
#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "usbip-metrics-process.h"
#include "usbip-metrics-text.h"

gboolean
usbip_metrics_process_parse_stat (const gchar *stat, guint64 *utime, guint64 *stime, guint64 *starttime, guint64 *vsize,
                                  guint64 *rss_pages)
{
  const gchar *after = strrchr (stat, ')');
  g_auto (GStrv) fields = NULL;

  if (after == NULL)
    return FALSE;
  fields = g_strsplit_set (after + 1, " \n", -1);
  /* after ')' comes a space, so fields[0] is empty and fields[i] is field i + 2 */
  if (g_strv_length (fields) < 23)
    return FALSE;
  *utime = g_ascii_strtoull (fields[12], NULL, 10);
  *stime = g_ascii_strtoull (fields[13], NULL, 10);
  *starttime = g_ascii_strtoull (fields[20], NULL, 10);
  *vsize = g_ascii_strtoull (fields[21], NULL, 10);
  *rss_pages = g_ascii_strtoull (fields[22], NULL, 10);
  return TRUE;
}

gboolean
usbip_metrics_process_parse_btime (const gchar *proc_stat, guint64 *btime)
{
  const gchar *line = strstr (proc_stat, "\nbtime ");

  if (line == NULL)
    return FALSE;
  *btime = g_ascii_strtoull (line + strlen ("\nbtime "), NULL, 10);
  return TRUE;
}

static guint
count_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n > 0 ? n - 1 : 0; /* minus the one reading the directory */
}

void
usbip_metrics_process_write (GString *out)
{
  g_autofree gchar *stat = NULL, *proc_stat = NULL;
  guint64 utime, stime, starttime, vsize, rss, btime;
  gdouble ticks = (gdouble) sysconf (_SC_CLK_TCK);
  struct rlimit limit;

  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)
      && usbip_metrics_process_parse_stat (stat, &utime, &stime, &starttime, &vsize, &rss))
    {
      usbip_metrics_text_family (out, "process_cpu_seconds_total", "counter",
                                 "Total user and system CPU time spent in seconds.");
      usbip_metrics_text_sample (out, "process_cpu_seconds_total", NULL, (gdouble) (utime + stime) / ticks);
      usbip_metrics_text_family (out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
      usbip_metrics_text_sample (out, "process_resident_memory_bytes", NULL,
                                 (gdouble) rss * (gdouble) sysconf (_SC_PAGESIZE));
      usbip_metrics_text_family (out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
      usbip_metrics_text_sample (out, "process_virtual_memory_bytes", NULL, (gdouble) vsize);
      if (g_file_get_contents ("/proc/stat", &proc_stat, NULL, NULL)
          && usbip_metrics_process_parse_btime (proc_stat, &btime))
        {
          usbip_metrics_text_family (out, "process_start_time_seconds", "gauge",
                                     "Start time of the process since unix epoch in seconds.");
          usbip_metrics_text_sample (out, "process_start_time_seconds", NULL,
                                     (gdouble) btime + (gdouble) starttime / ticks);
        }
    }
  usbip_metrics_text_family (out, "process_open_fds", "gauge", "Number of open file descriptors.");
  usbip_metrics_text_sample (out, "process_open_fds", NULL, count_fds ());
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
    {
      usbip_metrics_text_family (out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
      usbip_metrics_text_sample (out, "process_max_fds", NULL,
                                 limit.rlim_cur == RLIM_INFINITY ? G_MAXINT64 : (gdouble) limit.rlim_cur);
    }
}
