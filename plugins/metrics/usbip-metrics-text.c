/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes the Prometheus text exposition format 0.0.4 (no C client library is packaged in
 * Debian). What the format asks of a writer: HELP text escapes `\` and newline; label values
 * escape `\`, `"` and newline; values are Go-style floats (`+Inf`, `-Inf`, `NaN`); histogram
 * buckets are cumulative, end with `le="+Inf"` and equal `_count`.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "usbip-metrics-text.h"

static void
append_escaped (GString *out, const gchar *text, gboolean quotes)
{
  for (const gchar *p = text; *p != '\0'; p++)
    {
      if (*p == '\\')
        g_string_append (out, "\\\\");
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else if (*p == '"' && quotes)
        g_string_append (out, "\\\"");
      else
        g_string_append_c (out, *p);
    }
}

void
usbip_metrics_text_family (GString *out, const gchar *name, const gchar *type, const gchar *help)
{
  g_string_append_printf (out, "# HELP %s ", name);
  append_escaped (out, help, FALSE);
  g_string_append_printf (out, "\n# TYPE %s %s\n", name, type);
}

void
usbip_metrics_text_value (GString *out, gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    g_string_append (out, "NaN");
  else if (isinf (value))
    g_string_append (out, value > 0 ? "+Inf" : "-Inf");
  else if (value == floor (value) && fabs (value) < 9007199254740992.0)
    g_string_append_printf (out, "%.0f", value);
  else
    {
      /* the shortest form that reads back the same */
      g_ascii_formatd (buf, sizeof buf, "%.15g", value);
      if (g_ascii_strtod (buf, NULL) != value)
        g_ascii_formatd (buf, sizeof buf, "%.17g", value);
      g_string_append (out, buf);
    }
}

void
usbip_metrics_text_sample (GString *out, const gchar *name, const gchar *const *labels, gdouble value)
{
  g_string_append (out, name);
  if (labels != NULL && labels[0] != NULL)
    {
      g_string_append_c (out, '{');
      for (guint i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2)
        {
          g_string_append_printf (out, "%s%s=\"", i > 0 ? "," : "", labels[i]);
          append_escaped (out, labels[i + 1], TRUE);
          g_string_append_c (out, '"');
        }
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, ' ');
  usbip_metrics_text_value (out, value);
  g_string_append_c (out, '\n');
}

void
usbip_metrics_counter_init (UsbipMetricsCounter *c, const gchar *name, const gchar *help,
                            const gchar *const *label_names)
{
  c->name = name;
  c->help = help;
  c->label_names = label_names;
  c->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
usbip_metrics_counter_clear (UsbipMetricsCounter *c)
{
  g_clear_pointer (&c->values, g_hash_table_unref);
}

static gchar *
counter_key (UsbipMetricsCounter *c, const gchar *const *label_values)
{
  GString *key = g_string_new (NULL);

  for (guint i = 0; c->label_names[i] != NULL; i++)
    g_string_append_printf (key, "%s%s", i > 0 ? "\n" : "", label_values[i]);
  return g_string_free (key, FALSE);
}

void
usbip_metrics_counter_inc (UsbipMetricsCounter *c, const gchar *const *label_values)
{
  gchar *key = counter_key (c, label_values);
  guint64 *count = g_hash_table_lookup (c->values, key);

  if (count == NULL)
    {
      count = g_new0 (guint64, 1);
      g_hash_table_insert (c->values, key, count);
    }
  else
    g_free (key);
  (*count)++;
}

guint64
usbip_metrics_counter_get (UsbipMetricsCounter *c, const gchar *const *label_values)
{
  g_autofree gchar *key = counter_key (c, label_values);
  guint64 *count = g_hash_table_lookup (c->values, key);

  return count != NULL ? *count : 0;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (a, b);
}

void
usbip_metrics_counter_write (UsbipMetricsCounter *c, GString *out)
{
  GList *keys = g_list_sort (g_hash_table_get_keys (c->values), compare_strings);

  usbip_metrics_text_family (out, c->name, "counter", c->help);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      g_auto (GStrv) values = g_strsplit (l->data, "\n", -1);
      g_autoptr (GPtrArray) labels = g_ptr_array_new ();

      for (guint i = 0; c->label_names[i] != NULL && values[i] != NULL; i++)
        {
          g_ptr_array_add (labels, (gpointer) c->label_names[i]);
          g_ptr_array_add (labels, values[i]);
        }
      g_ptr_array_add (labels, NULL);
      usbip_metrics_text_sample (out, c->name, (const gchar *const *) labels->pdata,
                                 (gdouble) * (guint64 *) g_hash_table_lookup (c->values, l->data));
    }
  g_list_free (keys);
}

void
usbip_metrics_histogram_init (UsbipMetricsHistogram *h, const gchar *name, const gchar *help, const gdouble *bounds,
                              guint n_bounds)
{
  g_return_if_fail (n_bounds <= USBIP_METRICS_MAX_BUCKETS);
  memset (h, 0, sizeof *h);
  h->name = name;
  h->help = help;
  h->n_bounds = n_bounds;
  for (guint i = 0; i < n_bounds; i++)
    h->bounds[i] = bounds[i];
}

void
usbip_metrics_histogram_observe (UsbipMetricsHistogram *h, gdouble value)
{
  guint i = 0;

  while (i < h->n_bounds && value > h->bounds[i])
    i++;
  h->counts[i]++;
  h->sum += value;
  h->count++;
}

void
usbip_metrics_histogram_write (const UsbipMetricsHistogram *h, GString *out)
{
  g_autofree gchar *bucket = g_strconcat (h->name, "_bucket", NULL);
  g_autofree gchar *sum = g_strconcat (h->name, "_sum", NULL);
  g_autofree gchar *count = g_strconcat (h->name, "_count", NULL);
  guint64 cumulative = 0;

  usbip_metrics_text_family (out, h->name, "histogram", h->help);
  for (guint i = 0; i <= h->n_bounds; i++)
    {
      g_autoptr (GString) le = g_string_new (NULL);
      const gchar *labels[] = { "le", NULL, NULL };

      usbip_metrics_text_value (le, i < h->n_bounds ? h->bounds[i] : INFINITY);
      labels[1] = le->str;
      cumulative += h->counts[i];
      usbip_metrics_text_sample (out, bucket, labels, (gdouble) cumulative);
    }
  usbip_metrics_text_sample (out, sum, NULL, h->sum);
  usbip_metrics_text_sample (out, count, NULL, (gdouble) h->count);
}
