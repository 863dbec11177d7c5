/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"
#include "usbip-import-backend.h"
#include "usbip-port-info.h"

G_BEGIN_DECLS

/**
 * USBIP_PORT_MONITOR_DEFAULT_INTERVAL_MS:
 *
 * How often a #UsbipPortMonitor polls the vhci ports by default, in milliseconds (the kernel's USB uevents are seen at once).
 *
 * Since: 1.0
 */
#define USBIP_PORT_MONITOR_DEFAULT_INTERVAL_MS 500

#define USBIP_TYPE_PORT_MONITOR (usbip_port_monitor_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipPortMonitor, usbip_port_monitor, USBIP, PORT_MONITOR, GObject)

USBIP_PUBLIC UsbipPortMonitor *usbip_port_monitor_new (UsbipImportBackend *backend);
USBIP_PUBLIC void usbip_port_monitor_set_interval (UsbipPortMonitor *self, guint interval_ms);
USBIP_PUBLIC gboolean usbip_port_monitor_start (UsbipPortMonitor *self, GError **error);
USBIP_PUBLIC void usbip_port_monitor_stop (UsbipPortMonitor *self);
USBIP_PUBLIC void usbip_port_monitor_check_now (UsbipPortMonitor *self);

G_END_DECLS
