/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"
#include "usbip-device-info.h"
#include "usbip-import-backend.h"
#include "usbip-port-info.h"
#include "usbip-plugin-registry.h"
#include "usbip-remote.h"
#include "usbip-socket-options.h"
#include "usbip-transport.h"

G_BEGIN_DECLS

#define USBIP_TYPE_IMPORTER (usbip_importer_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipImporter, usbip_importer, USBIP, IMPORTER, GObject)

USBIP_PUBLIC UsbipImporter *usbip_importer_new (UsbipImportBackend *backend, UsbipTransport *transport);
USBIP_PUBLIC UsbipImportBackend *usbip_importer_get_backend (UsbipImporter *self);
/* where the transports of remotes other than TCP come from (`unix:`, `vsock:`) */
USBIP_PUBLIC void usbip_importer_set_plugin_registry (UsbipImporter *self, UsbipPluginRegistry *registry);
USBIP_PUBLIC void usbip_importer_set_socket_options (UsbipImporter *self, const UsbipSocketOptions *options);
USBIP_PUBLIC const UsbipSocketOptions *usbip_importer_get_socket_options (UsbipImporter *self);

USBIP_PUBLIC void usbip_importer_list_devices_async (UsbipImporter *self, const UsbipRemote *remote,
                                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                                     gpointer user_data);
USBIP_PUBLIC GPtrArray *usbip_importer_list_devices_finish (UsbipImporter *self, GAsyncResult *result, GError **error);

USBIP_PUBLIC void usbip_importer_attach_async (UsbipImporter *self, const UsbipRemote *remote, const gchar *busid,
                                               const UsbipSocketOptions *options, GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
USBIP_PUBLIC UsbipPortInfo *usbip_importer_attach_finish (UsbipImporter *self, GAsyncResult *result, GError **error);
USBIP_PUBLIC UsbipPortInfo *usbip_importer_attach_finish_full (UsbipImporter *self, GAsyncResult *result,
                                                               gboolean *already_attached, GError **error);

USBIP_PUBLIC gboolean usbip_importer_detach (UsbipImporter *self, guint port, GError **error);
USBIP_PUBLIC GPtrArray *usbip_importer_list_ports (UsbipImporter *self, GError **error);

G_END_DECLS
