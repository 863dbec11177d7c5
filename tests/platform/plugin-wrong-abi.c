/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plugin built for a future ABI major: the loader must refuse it. */
#include <usbipcore-plugin.h>

__attribute__ ((visibility ("default"))) const UsbipPluginAbi usbip_plugin_abi = { USBIP_PLUGIN_ABI_MAJOR + 1, 0 };
__attribute__ ((visibility ("default"))) gboolean usbip_plugin_register (UsbipPluginContext *ctx, GError **error);

gboolean
usbip_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_error ("a refused plugin must never be called");
  return FALSE;
}
