/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "usbip-error.h"
#include "usbip-io.h"
#include "usbip-transport-tcp.h"

/**
 * UsbipTransportTcp:
 *
 * USB/IP over TCP, IPv4 and IPv6.
 *
 * Since: 1.0
 */
struct _UsbipTransportTcp {
  GObject parent_instance;
};

static void usbip_transport_tcp_iface_init (UsbipTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipTransportTcp, usbip_transport_tcp, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_TRANSPORT, usbip_transport_tcp_iface_init))

static void
tcp_connect_async (UsbipTransport *transport, const UsbipRemote *remote, const UsbipSocketOptions *options,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  /* an address written out (127.0.0.1, fe80::1%eth0) is connected to directly: no
   * resolver, no GSocketClient (docs/performance.md, "Start-up"); names resolve as before */
  g_autoptr (GSocketConnectable) addr =
      G_SOCKET_CONNECTABLE (g_inet_socket_address_new_from_string (remote->host, remote->port));

  if (addr == NULL)
    addr = g_network_address_new (remote->host, remote->port);
  usbip_transport_connect_address_async (transport, remote, addr, options, cancellable, callback, user_data);
}

static GSocket *
tcp_create_listener (UsbipTransport *transport, const gchar *address, GError **error)
{
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) sockaddr = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autofree gchar *not_local = NULL;
  GError *local_error = NULL;

  remote = usbip_remote_parse (address, USBIP_DEFAULT_TCP_PORT, error);
  if (remote == NULL)
    return NULL;
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_TCP) != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "cannot listen on %s with the TCP transport: it is a %s address", address, remote->scheme);
      return NULL;
    }
  inet = g_inet_address_new_from_string (remote->host);
  if (inet == NULL)
    {
      g_autoptr (GResolver) resolver = g_resolver_get_default ();
      GList *list = g_resolver_lookup_by_name (resolver, remote->host, NULL, &local_error);

      if (list == NULL)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "cannot listen on %s: %s (give an address such as 127.0.0.1 or [::])", address,
                       local_error->message);
          g_error_free (local_error);
          return NULL;
        }
      inet = g_object_ref (list->data);
      g_resolver_free_addresses (list);
    }
  sockaddr = g_inet_socket_address_new (inet, remote->port);
  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &local_error);
  if (socket == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED, "cannot listen on %s: %s", address, local_error->message);
      g_error_free (local_error);
      return NULL;
    }
  g_socket_set_option (socket, SOL_SOCKET, SO_REUSEADDR, 1, NULL);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 && g_inet_address_get_is_any (inet))
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 0, NULL); /* dual stack for [::] */
  not_local = g_strdup_printf ("%s is not an address of this host (see `ip address`); listen on one of this "
                               "host's addresses, or on all of them with [::]:%u",
                               remote->host, remote->port);
  if (!usbip_transport_bind (socket, sockaddr, address, not_local, error)
      || !usbip_transport_listen (socket, address, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static void
usbip_transport_tcp_iface_init (UsbipTransportInterface *iface)
{
  iface->connect_async = tcp_connect_async;
  iface->connect_finish = usbip_transport_connect_address_finish;
  iface->create_listener = tcp_create_listener;
}

static void
usbip_transport_tcp_class_init (UsbipTransportTcpClass *klass)
{
}

static void
usbip_transport_tcp_init (UsbipTransportTcp *self)
{
}

/**
 * usbip_transport_tcp_new:
 *
 * Returns: (transfer full): the TCP transport
 *
 * Since: 1.0
 */
UsbipTransport *
usbip_transport_tcp_new (void)
{
  return g_object_new (USBIP_TYPE_TRANSPORT_TCP, NULL);
}
