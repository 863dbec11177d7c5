/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-vsock-transport.h"

gboolean usbip_vsock_plugin_register (UsbipPluginContext *ctx, GError **error);

gboolean
usbip_vsock_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_autoptr (UsbipVsockTransport) transport = usbip_vsock_transport_new ();

  usbip_plugin_context_add_transport (ctx, USBIP_REMOTE_SCHEME_VSOCK, USBIP_TRANSPORT (transport));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (vsock, usbip_vsock_plugin_register)
