/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"
#include "usbip-device-info.h"

G_BEGIN_DECLS

#define USBIP_TYPE_EXPORT_BACKEND (usbip_export_backend_get_type ())
USBIP_PUBLIC
G_DECLARE_INTERFACE (UsbipExportBackend, usbip_export_backend, USBIP, EXPORT_BACKEND, GObject)

/**
 * UsbipExportBackendInterface:
 * @g_iface: parent
 * @list_devices: every device bound to this backend's export driver, each with its
 *   #UsbipDeviceInfo.status (a device in use included, marked %USBIP_DEVICE_STATUS_USED:
 *   the status page shows it with its peer); the backend filters on state no further. The
 *   exporter's device cache leaves the devices in use out of OP_REP_DEVLIST, as upstream
 *   usbipd does (those in error stay, their import is refused with ST_DEV_ERR)
 * @list_local_devices: (nullable): every local device, bound or not (for `list -l`);
 *   NULL in backends with no such notion
 * @get_device: one device by busid; USBIP_ERROR_NOT_FOUND if unknown
 * @bind: (nullable): make a device exportable (usbip-host: unbind current driver,
 *   match_busid add, bind, rollback on failure)
 * @unbind: (nullable): give a device back to its normal driver
 * @export_fd: hand an accepted, handshaken socket to the device (write to `usbip_sockfd`)
 * @get_status: (nullable): one device's export state only (its `usbip_status`), cheaply;
 *   with @list_local_devices it lets UsbipDeviceCache serve OP_REQ_DEVLIST without rescanning
 * @export_stream: (nullable): for a backend whose devices live in userspace: takes the
 *   imported connection instead of a kernel driver (see usbip_export_backend_export_stream())
 *
 * The exporter side of the kernel (usbip-host, usbip-vudc). Synchronous and quick;
 * thread-safe.
 *
 * Since: 1.0
 */
struct _UsbipExportBackendInterface {
  GTypeInterface g_iface;

  GPtrArray *(*list_devices) (UsbipExportBackend *self, GError **error);
  GPtrArray *(*list_local_devices) (UsbipExportBackend *self, GError **error);
  UsbipDeviceInfo *(*get_device) (UsbipExportBackend *self, const gchar *busid, GError **error);
  gboolean (*bind) (UsbipExportBackend *self, const gchar *busid, GError **error);
  gboolean (*unbind) (UsbipExportBackend *self, const gchar *busid, GError **error);
  gboolean (*export_fd) (UsbipExportBackend *self, const gchar *busid, gint sockfd, GError **error);
  UsbipDeviceStatus (*get_status) (UsbipExportBackend *self, const gchar *busid, GError **error);
  gboolean (*export_stream) (UsbipExportBackend *self, const gchar *busid, GIOStream *stream, GBytes *reply,
                             gboolean *taken, GError **error);

  /*< private >*/
  gpointer padding[6];
};

/* (element-type UsbipDeviceInfo) (transfer container) */
USBIP_PUBLIC GPtrArray *usbip_export_backend_list_devices (UsbipExportBackend *self, GError **error);
/* falls back to list_devices when the backend has no list_local_devices */
USBIP_PUBLIC GPtrArray *usbip_export_backend_list_local_devices (UsbipExportBackend *self, GError **error);
USBIP_PUBLIC UsbipDeviceInfo *usbip_export_backend_get_device (UsbipExportBackend *self, const gchar *busid,
                                                               GError **error);
/* USBIP_ERROR_NOT_AVAILABLE ("this backend cannot bind") when the vfunc is NULL */
USBIP_PUBLIC gboolean usbip_export_backend_bind (UsbipExportBackend *self, const gchar *busid, GError **error);
USBIP_PUBLIC gboolean usbip_export_backend_unbind (UsbipExportBackend *self, const gchar *busid, GError **error);
/* USBIP_DEVICE_STATUS_UNKNOWN with an error when unknown or the vfunc is NULL */
USBIP_PUBLIC UsbipDeviceStatus usbip_export_backend_get_status (UsbipExportBackend *self, const gchar *busid,
                                                                GError **error);
USBIP_PUBLIC gboolean usbip_export_backend_has_status (UsbipExportBackend *self);
/* a userspace device takes @stream and runs the URB session itself (ABI 1.2) */
USBIP_PUBLIC gboolean usbip_export_backend_export_stream (UsbipExportBackend *self, const gchar *busid,
                                                          GIOStream *stream, GBytes *reply, gboolean *taken,
                                                          GError **error);
USBIP_PUBLIC gboolean usbip_export_backend_export_fd (UsbipExportBackend *self, const gchar *busid, gint sockfd,
                                                      GError **error);

G_END_DECLS
