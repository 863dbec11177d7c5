/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The Prometheus text exposition format, version 0.0.4: families (HELP and TYPE lines),
 * samples with escaped label values, counters keyed by label values, histograms. */

#include <glib.h>

G_BEGIN_DECLS

#define USBIP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* `# HELP name help` (escaped) and `# TYPE name type` */
void usbip_metrics_text_family (GString *out, const gchar *name, const gchar *type, const gchar *help);
/* `name{k="v",...} value`; labels: (nullable): name, value, name, value, ..., NULL */
void usbip_metrics_text_sample (GString *out, const gchar *name, const gchar *const *labels, gdouble value);
/* a value as the format writes it: integers exactly, +Inf, -Inf, NaN */
void usbip_metrics_text_value (GString *out, gdouble value);

/* a counter family with labels: one count per combination of label values */
typedef struct {
  const gchar *name;
  const gchar *help;
  const gchar *const *label_names; /* NULL-terminated */
  GHashTable *values;              /* label values joined by '\n' -> guint64 count */
} UsbipMetricsCounter;

void usbip_metrics_counter_init (UsbipMetricsCounter *c, const gchar *name, const gchar *help,
                                 const gchar *const *label_names);
void usbip_metrics_counter_clear (UsbipMetricsCounter *c);
/* label_values: one per label name */
void usbip_metrics_counter_inc (UsbipMetricsCounter *c, const gchar *const *label_values);
guint64 usbip_metrics_counter_get (UsbipMetricsCounter *c, const gchar *const *label_values);
/* family and samples, sorted by label values (a family with no sample yet writes only
 * the HELP and TYPE lines) */
void usbip_metrics_counter_write (UsbipMetricsCounter *c, GString *out);

#define USBIP_METRICS_MAX_BUCKETS 16

typedef struct {
  const gchar *name;
  const gchar *help;
  guint n_bounds;
  gdouble bounds[USBIP_METRICS_MAX_BUCKETS];     /* upper bounds, ascending; +Inf implied */
  guint64 counts[USBIP_METRICS_MAX_BUCKETS + 1]; /* per bucket, not cumulative */
  gdouble sum;
  guint64 count;
} UsbipMetricsHistogram;

/* bounds: ascending, at most USBIP_METRICS_MAX_BUCKETS */
void usbip_metrics_histogram_init (UsbipMetricsHistogram *h, const gchar *name, const gchar *help,
                                   const gdouble *bounds, guint n_bounds);
void usbip_metrics_histogram_observe (UsbipMetricsHistogram *h, gdouble value);
/* cumulative `_bucket{le=...}`, `_sum` and `_count` */
void usbip_metrics_histogram_write (const UsbipMetricsHistogram *h, GString *out);

G_END_DECLS
