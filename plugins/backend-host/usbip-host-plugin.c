/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-host-backend.h"

gboolean usbip_host_plugin_register (UsbipPluginContext *ctx, GError **error);

gboolean
usbip_host_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_autoptr (UsbipHostBackend) backend = usbip_host_backend_new (usbip_plugin_context_get_sysfs (ctx));

  usbip_plugin_context_add_export_backend (ctx, usbip_plugin_context_get_name (ctx), USBIP_EXPORT_BACKEND (backend));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (host, usbip_host_plugin_register)
