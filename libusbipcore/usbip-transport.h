/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"
#include "usbip-remote.h"
#include "usbip-socket-options.h"

G_BEGIN_DECLS

#define USBIP_TYPE_TRANSPORT (usbip_transport_get_type ())
USBIP_PUBLIC G_DECLARE_INTERFACE (UsbipTransport, usbip_transport, USBIP, TRANSPORT, GObject)

/**
 * UsbipTransportInterface:
 * @g_iface: parent
 * @connect_async: open a stream connection to @remote honouring @options
 *   (connect timeout -> USBIP_ERROR_TIMEOUT, refused -> USBIP_ERROR_CONNECTION with advice)
 * @connect_finish: finish it
 * @add_listener: add a listening address ("ADDR:PORT", "[v6]:PORT", ":PORT" for all) to
 *   @listener
 *
 * How USB/IP bytes travel. TCP is built in (usbip_transport_tcp_new()); Unix-socket and
 * vsock transports come as plugins later. The kernel only needs a connected SOCK_STREAM fd.
 *
 * Since: 1.0
 */
struct _UsbipTransportInterface {
  GTypeInterface g_iface;

  void (*connect_async) (UsbipTransport *self,
                         const UsbipRemote *remote,
                         const UsbipSocketOptions *options,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
  GSocketConnection *(*connect_finish) (UsbipTransport *self, GAsyncResult *result, GError **error);
  gboolean (*add_listener) (UsbipTransport *self, GSocketListener *listener, const gchar *address, GError **error);

  /*< private >*/
  gpointer padding[8];
};

USBIP_PUBLIC void usbip_transport_connect_async (UsbipTransport *self,
                                                 const UsbipRemote *remote,
                                                 const UsbipSocketOptions *options,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data);
USBIP_PUBLIC GSocketConnection *usbip_transport_connect_finish (UsbipTransport *self, GAsyncResult *result, GError **error);
USBIP_PUBLIC gboolean usbip_transport_add_listener (UsbipTransport *self, GSocketListener *listener, const gchar *address, GError **error);

G_END_DECLS
