/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-virtual-backend.h"

gboolean usbip_virtual_plugin_register (UsbipPluginContext *ctx, GError **error);

gboolean
usbip_virtual_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_autoptr (UsbipVirtualBackend) backend = usbip_virtual_backend_new ();
  GKeyFile *keyfile = usbip_plugin_context_get_keyfile (ctx);

  if (!usbip_virtual_backend_add_from_keyfile (backend, keyfile, error))
    return FALSE;
  if (usbip_virtual_backend_get_n_devices (backend) == 0)
    g_message ("the virtual plugin is enabled but no [virtual-device NAME] group declares a device");
  usbip_plugin_context_add_export_backend (ctx, usbip_plugin_context_get_name (ctx), USBIP_EXPORT_BACKEND (backend));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (virtual, usbip_virtual_plugin_register)
