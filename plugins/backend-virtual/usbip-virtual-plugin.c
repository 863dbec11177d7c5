/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-virtual-backend.h"

gboolean usbip_virtual_plugin_register (UsbipPluginContext *ctx, GError **error);

/* a drain stops new connections; a virtual session would only end with the process:
 * end them at once, cleanly */
static void
exporter_draining (GObject *exporter, GParamSpec *pspec, gpointer backend)
{
  gboolean draining = FALSE;

  g_object_get (exporter, "draining", &draining, NULL);
  if (draining)
    usbip_virtual_backend_close_sessions (backend, "the exporter is shutting down");
}

static void
exporter_added (GObject *registry, GObject *exporter, gpointer backend)
{
  g_signal_connect_object (exporter, "notify::draining", G_CALLBACK (exporter_draining), backend, 0);
}

gboolean
usbip_virtual_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  GObject *registry = usbip_plugin_context_get_registry (ctx);
  gboolean check_only = FALSE;
  g_autoptr (UsbipVirtualBackend) backend = NULL;
  GKeyFile *keyfile = usbip_plugin_context_get_keyfile (ctx);

  /* `usbipcored --check-config`: the devices are validated, no pty, FIFO or image opened */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (registry), "check-only") != NULL)
    g_object_get (registry, "check-only", &check_only, NULL);
  backend = usbip_virtual_backend_new (check_only);

  if (!usbip_virtual_backend_reload (backend, keyfile, error))
    return FALSE;
  g_signal_connect_object (registry, "object-added::UsbipExporter", G_CALLBACK (exporter_added), backend, 0);
  if (usbip_virtual_backend_get_n_devices (backend) == 0)
    g_message ("the virtual plugin is enabled but no [virtual-device NAME] group declares a device");
  usbip_plugin_context_add_export_backend (ctx, usbip_plugin_context_get_name (ctx), USBIP_EXPORT_BACKEND (backend));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (virtual, usbip_virtual_plugin_register)
