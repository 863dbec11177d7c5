/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"
#include "usbip-port-info.h"
#include "usbip-speed.h"

G_BEGIN_DECLS

#define USBIP_TYPE_IMPORT_BACKEND (usbip_import_backend_get_type ())
USBIP_PUBLIC
G_DECLARE_INTERFACE (UsbipImportBackend, usbip_import_backend, USBIP, IMPORT_BACKEND, GObject)

/**
 * UsbipImportBackendInterface:
 * @g_iface: parent
 * @list_ports: every port of every controller, with port records merged in
 * @attach: hand a connected stream socket to a free port of the right speed class, write
 *   the port record; returns the port number or -1 with @error set
 *   (USBIP_ERROR_NO_FREE_PORT, USBIP_ERROR_MODULE_MISSING, USBIP_ERROR_PERMISSION, ...)
 * @detach: release a port and remove its record
 * @find_port: (nullable): the used port whose record names (host, service, busid); a
 *   backend may answer this more cheaply than a full list_ports()
 *
 * The importer side of the kernel (vhci_hcd). Calls are synchronous and quick (sysfs
 * writes); the importer makes them from the thread of its main context, with no worker
 * thread. Implementations must still be thread-safe: several importers, or a program's
 * own threads, may call one backend at once.
 *
 * Since: 1.0
 */
struct _UsbipImportBackendInterface {
  GTypeInterface g_iface;

  GPtrArray *(*list_ports) (UsbipImportBackend *self, GError **error);
  gint (*attach) (UsbipImportBackend *self, gint sockfd, guint32 devid, UsbipSpeed speed, const gchar *remote_host,
                  const gchar *remote_service, const gchar *remote_busid, GError **error);
  gboolean (*detach) (UsbipImportBackend *self, guint port, GError **error);
  UsbipPortInfo *(*find_port) (UsbipImportBackend *self, const gchar *remote_host, const gchar *remote_service,
                               const gchar *remote_busid);

  /*< private >*/
  gpointer padding[7];
};

/* (element-type UsbipPortInfo) (transfer container) */
USBIP_PUBLIC GPtrArray *usbip_import_backend_list_ports (UsbipImportBackend *self, GError **error);
USBIP_PUBLIC gint usbip_import_backend_attach (UsbipImportBackend *self, gint sockfd, guint32 devid, UsbipSpeed speed,
                                               const gchar *remote_host, const gchar *remote_service,
                                               const gchar *remote_busid, GError **error);
USBIP_PUBLIC gboolean usbip_import_backend_detach (UsbipImportBackend *self, guint port, GError **error);
USBIP_PUBLIC UsbipPortInfo *usbip_import_backend_find_port (UsbipImportBackend *self, const gchar *remote_host,
                                                            const gchar *remote_service, const gchar *remote_busid);

G_END_DECLS
