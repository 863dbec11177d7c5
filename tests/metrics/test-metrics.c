/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Prometheus text exposition writer (format 0.0.4) and the /proc parsers, byte for byte. */
#include "config.h"

#include <math.h>

#include "usbip-metrics-process.h"
#include "usbip-metrics-text.h"

static void
test_escaping (void)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const gchar *labels[] = { "rule", "a\"b\\c\nd", "op", "x", NULL };

  usbip_metrics_text_family (out, "m_total", "counter", "help with \\ and\nnewline \"quoted\"");
  usbip_metrics_text_sample (out, "m_total", labels, 3);
  g_assert_cmpstr (out->str, ==,
                   "# HELP m_total help with \\\\ and\\nnewline \"quoted\"\n"
                   "# TYPE m_total counter\n"
                   "m_total{rule=\"a\\\"b\\\\c\\nd\",op=\"x\"} 3\n");
}

static void
test_values (void)
{
  g_autoptr (GString) out = g_string_new (NULL);

  usbip_metrics_text_value (out, 0);
  g_string_append_c (out, ' ');
  usbip_metrics_text_value (out, 18446744073709551615.0); /* beyond 2^53: the shortest form that reads back the same */
  g_string_append_c (out, ' ');
  usbip_metrics_text_value (out, 0.0025);
  g_string_append_c (out, ' ');
  usbip_metrics_text_value (out, INFINITY);
  g_string_append_c (out, ' ');
  usbip_metrics_text_value (out, -INFINITY);
  g_string_append_c (out, ' ');
  usbip_metrics_text_value (out, NAN);
  g_assert_cmpstr (out->str, ==, "0 1.8446744073709552e+19 0.0025 +Inf -Inf NaN");
}

static void
test_counter_sorted_and_exact (void)
{
  static const gchar *const names[] = { "op", "status", NULL };
  UsbipMetricsCounter c;
  g_autoptr (GString) out = g_string_new (NULL);
  const gchar *b[] = { "import", "ST_NODEV" }, *a[] = { "devlist", "ST_OK" };

  usbip_metrics_counter_init (&c, "h_total", "Handshakes.", names);
  for (guint i = 0; i < 1000; i++)
    usbip_metrics_counter_inc (&c, b);
  usbip_metrics_counter_inc (&c, a);
  g_assert_cmpuint (usbip_metrics_counter_get (&c, b), ==, 1000);
  usbip_metrics_counter_write (&c, out);
  g_assert_cmpstr (out->str, ==,
                   "# HELP h_total Handshakes.\n# TYPE h_total counter\n"
                   "h_total{op=\"devlist\",status=\"ST_OK\"} 1\n"
                   "h_total{op=\"import\",status=\"ST_NODEV\"} 1000\n");
  usbip_metrics_counter_clear (&c);
}

static void
test_histogram_cumulative (void)
{
  static const gdouble bounds[] = { 0.1, 1 };
  UsbipMetricsHistogram h;
  g_autoptr (GString) out = g_string_new (NULL);

  usbip_metrics_histogram_init (&h, "d_seconds", "Durations.", bounds, G_N_ELEMENTS (bounds));
  usbip_metrics_histogram_observe (&h, 0.1); /* le is inclusive */
  usbip_metrics_histogram_observe (&h, 0.5);
  usbip_metrics_histogram_observe (&h, 7);
  usbip_metrics_histogram_write (&h, out);
  g_assert_cmpstr (out->str, ==,
                   "# HELP d_seconds Durations.\n# TYPE d_seconds histogram\n"
                   "d_seconds_bucket{le=\"0.1\"} 1\n"
                   "d_seconds_bucket{le=\"1\"} 2\n"
                   "d_seconds_bucket{le=\"+Inf\"} 3\n"
                   "d_seconds_sum 7.6\n"
                   "d_seconds_count 3\n");
}

static void
test_proc_parsers (void)
{
  /* a command name with spaces and ')' must not shift the fields */
  const gchar *stat = "1234 (a) b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 "
                      "250 50 0 0 20 0 1 0 987654 12345678 321 18446744073709551615";
  guint64 utime, stime, start, vsize, rss, btime;

  g_assert_true (usbip_metrics_process_parse_stat (stat, &utime, &stime, &start, &vsize, &rss));
  g_assert_cmpuint (utime, ==, 250);
  g_assert_cmpuint (stime, ==, 50);
  g_assert_cmpuint (start, ==, 987654);
  g_assert_cmpuint (vsize, ==, 12345678);
  g_assert_cmpuint (rss, ==, 321);
  g_assert_false (usbip_metrics_process_parse_stat ("1234 (x) S 1", &utime, &stime, &start, &vsize, &rss));
  g_assert_true (usbip_metrics_process_parse_btime ("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n", &btime));
  g_assert_cmpuint (btime, ==, 1700000000);
  g_assert_false (usbip_metrics_process_parse_btime ("cpu 1\n", &btime));
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/text/escaping", test_escaping);
  g_test_add_func ("/metrics/text/values", test_values);
  g_test_add_func ("/metrics/text/counter", test_counter_sorted_and_exact);
  g_test_add_func ("/metrics/text/histogram", test_histogram_cumulative);
  g_test_add_func ("/metrics/process/parsers", test_proc_parsers);
  return g_test_run ();
}
