/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"
#include "usbip-device-cache.h"
#include "usbip-export-backend.h"
#include "usbip-exporter-session.h"
#include "usbip-policy.h"
#include "usbip-socket-options.h"
#include "usbip-transport.h"

G_BEGIN_DECLS

#define USBIP_TYPE_EXPORTER (usbip_exporter_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipExporter, usbip_exporter, USBIP, EXPORTER, GObject)

USBIP_PUBLIC UsbipExporter *usbip_exporter_new (UsbipExportBackend *backend);
USBIP_PUBLIC UsbipDeviceCache *usbip_exporter_get_device_cache (UsbipExporter *self);
USBIP_PUBLIC void usbip_exporter_set_policy (UsbipExporter *self, UsbipPolicy *policy);
USBIP_PUBLIC UsbipPolicy *usbip_exporter_get_policy (UsbipExporter *self);
USBIP_PUBLIC void usbip_exporter_set_socket_options (UsbipExporter *self, const UsbipSocketOptions *options);
USBIP_PUBLIC void usbip_exporter_set_handshake_timeout (UsbipExporter *self, guint timeout_ms);
USBIP_PUBLIC gboolean usbip_exporter_listen (UsbipExporter *self, UsbipTransport *transport, const gchar *address,
                                             GError **error);
USBIP_PUBLIC gboolean usbip_exporter_add_socket (UsbipExporter *self, GSocket *socket, GError **error);
USBIP_PUBLIC void usbip_exporter_start (UsbipExporter *self);
USBIP_PUBLIC guint usbip_exporter_get_n_sessions (UsbipExporter *self);
/* (element-type UsbipExporterSession) (transfer full): handshakes in progress, oldest first */
USBIP_PUBLIC GPtrArray *usbip_exporter_list_sessions (UsbipExporter *self);
/* (element-type utf8 utf8) (transfer full): bus ID -> peer of every device this exporter
 * handed to the kernel (the latest peer per device; whether the kernel still holds it is
 * the backend's device status) */
USBIP_PUBLIC GHashTable *usbip_exporter_list_exports (UsbipExporter *self);
/* TRUE once usbip_exporter_shutdown_async() was called */
USBIP_PUBLIC gboolean usbip_exporter_get_draining (UsbipExporter *self);
USBIP_PUBLIC void usbip_exporter_shutdown_async (UsbipExporter *self, guint timeout_ms, GCancellable *cancellable,
                                                 GAsyncReadyCallback callback, gpointer user_data);
USBIP_PUBLIC gboolean usbip_exporter_shutdown_finish (UsbipExporter *self, GAsyncResult *result, guint *n_aborted,
                                                      GError **error);

G_END_DECLS
