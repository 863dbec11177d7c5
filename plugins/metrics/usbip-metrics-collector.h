/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

#define USBIP_TYPE_METRICS_COLLECTOR (usbip_metrics_collector_get_type ())
G_DECLARE_FINAL_TYPE (UsbipMetricsCollector, usbip_metrics_collector, USBIP, METRICS_COLLECTOR, GObject)

UsbipMetricsCollector *usbip_metrics_collector_new (void);
/* counts the events of @object (an exporter, importer or supervisor; other types are
 * ignored) from now on, and reads its gauges at each render */
void usbip_metrics_collector_watch (UsbipMetricsCollector *self, GObject *object);
/* the whole scrape, text exposition format 0.0.4 */
gchar *usbip_metrics_collector_render (UsbipMetricsCollector *self);
/* the label for an error: the USBIP_ERROR code's name (`no-device`, `timeout`, ...) */
const gchar *usbip_metrics_error_label (const GError *error);

G_END_DECLS
