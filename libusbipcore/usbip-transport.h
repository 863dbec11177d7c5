/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"
#include "usbip-remote.h"
#include "usbip-socket-options.h"

G_BEGIN_DECLS

#define USBIP_TYPE_TRANSPORT (usbip_transport_get_type ())
USBIP_PUBLIC
G_DECLARE_INTERFACE (UsbipTransport, usbip_transport, USBIP, TRANSPORT, GObject)

/**
 * UsbipTransportInterface:
 * @g_iface: parent
 * @connect_async: open a stream connection to @remote honouring @options
 *   (connect timeout -> USBIP_ERROR_TIMEOUT, refused -> USBIP_ERROR_CONNECTION with advice)
 * @connect_finish: finish it
 * @add_listener: add a listening address ("ADDR:PORT", "[v6]:PORT", ":PORT" for all) to
 *   @listener; not needed when @create_listener is set
 * @create_listener: make a socket listening on an address (as @add_listener takes
 *   it) and return it. Set by the built-in transports: usbip_transport_add_listener() then adds
 *   that socket to the listener, and #UsbipExporter accepts on it itself (accept4() until
 *   the queue is empty, no #GSocket for a connection answered at once)
 *
 * How USB/IP bytes travel. TCP is built in (usbip_transport_tcp_new()); Unix-socket and
 * vsock transports are plugins (usbip_plugin_context_add_transport()), chosen by the
 * scheme of the address (#UsbipRemote). The kernel only needs a connected SOCK_STREAM fd.
 *
 * Since: 1.0
 */
struct _UsbipTransportInterface {
  GTypeInterface g_iface;

  void (*connect_async) (UsbipTransport *self, const UsbipRemote *remote, const UsbipSocketOptions *options,
                         GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
  GSocketConnection *(*connect_finish) (UsbipTransport *self, GAsyncResult *result, GError **error);
  gboolean (*add_listener) (UsbipTransport *self, GSocketListener *listener, const gchar *address, GError **error);
  GSocket *(*create_listener) (UsbipTransport *self, const gchar *address, GError **error);

  /*< private >*/
  gpointer padding[7];
};

USBIP_PUBLIC void usbip_transport_connect_async (UsbipTransport *self, const UsbipRemote *remote,
                                                 const UsbipSocketOptions *options, GCancellable *cancellable,
                                                 GAsyncReadyCallback callback, gpointer user_data);
USBIP_PUBLIC GSocketConnection *usbip_transport_connect_finish (UsbipTransport *self, GAsyncResult *result,
                                                                GError **error);
USBIP_PUBLIC gboolean usbip_transport_add_listener (UsbipTransport *self, GSocketListener *listener,
                                                    const gchar *address, GError **error);
USBIP_PUBLIC GSocket *usbip_transport_create_listener (UsbipTransport *self, const gchar *address, GError **error);

/* for implementations: connects to @address (the resolved form of @remote) within the
 * connect timeout of @options, applies @options, and words failures for @remote's scheme;
 * finish with usbip_transport_connect_address_finish() */
USBIP_PUBLIC void usbip_transport_connect_address_async (UsbipTransport *self, const UsbipRemote *remote,
                                                         GSocketConnectable *address, const UsbipSocketOptions *options,
                                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                                         gpointer user_data);
USBIP_PUBLIC GSocketConnection *usbip_transport_connect_address_finish (UsbipTransport *self, GAsyncResult *result,
                                                                        GError **error);
/* for implementations: binds @socket to @address, then listens, errors worded for @text;
 * @not_local: (nullable): the advice when the address is not this machine's */
USBIP_PUBLIC gboolean usbip_transport_bind (GSocket *socket, GSocketAddress *address, const gchar *text,
                                            const gchar *not_local, GError **error);
USBIP_PUBLIC gboolean usbip_transport_listen (GSocket *socket, const gchar *text, GError **error);

G_END_DECLS
