/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-vhci-backend.h"

gboolean usbip_vhci_plugin_register (UsbipPluginContext *ctx, GError **error);

gboolean
usbip_vhci_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_autoptr (UsbipVhciBackend) backend = usbip_vhci_backend_new (usbip_plugin_context_get_sysfs (ctx));

  usbip_plugin_context_add_import_backend (ctx, usbip_plugin_context_get_name (ctx), USBIP_IMPORT_BACKEND (backend));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (vhci, usbip_vhci_plugin_register)
