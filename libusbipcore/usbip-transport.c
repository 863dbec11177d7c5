/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-transport.h"

/**
 * UsbipTransport:
 *
 * How the importer reaches a peer and how the exporter listens: TCP is built in
 * ([class@TransportTcp]); other stream sockets can implement this interface.
 *
 * Since: 1.0
 */
G_DEFINE_INTERFACE (UsbipTransport, usbip_transport, G_TYPE_OBJECT)

static void
usbip_transport_default_init (UsbipTransportInterface *iface)
{
}

/**
 * usbip_transport_connect_async:
 * @self: a transport
 * @remote: the peer
 * @options: (nullable): socket options; %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when connected or failed
 * @user_data: data for @callback
 *
 * Connects to @remote within the connect timeout of @options and applies @options
 * to the connected socket.
 *
 * Since: 1.0
 */
void
usbip_transport_connect_async (UsbipTransport *self,
                               const UsbipRemote *remote,
                               const UsbipSocketOptions *options,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail (USBIP_IS_TRANSPORT (self));
  g_return_if_fail (remote != NULL);
  USBIP_TRANSPORT_GET_IFACE (self)->connect_async (self, remote, options, cancellable, callback, user_data);
}

/**
 * usbip_transport_connect_finish:
 * @self: a transport
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the connection, or %NULL with @error in the %USBIP_ERROR
 *   domain (%USBIP_ERROR_TIMEOUT, %USBIP_ERROR_CONNECTION), or %G_IO_ERROR_CANCELLED
 *
 * Since: 1.0
 */
GSocketConnection *
usbip_transport_connect_finish (UsbipTransport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (USBIP_IS_TRANSPORT (self), NULL);
  return USBIP_TRANSPORT_GET_IFACE (self)->connect_finish (self, result, error);
}

/**
 * usbip_transport_add_listener:
 * @self: a transport
 * @listener: the listener to add a socket to
 * @address: what to listen on, e.g. `127.0.0.1:3240`, `[::]:3240`
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_transport_add_listener (UsbipTransport *self, GSocketListener *listener, const gchar *address, GError **error)
{
  g_return_val_if_fail (USBIP_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET_LISTENER (listener), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  return USBIP_TRANSPORT_GET_IFACE (self)->add_listener (self, listener, address, error);
}
