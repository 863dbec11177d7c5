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

typedef struct {
  UsbipDeadline *deadline;
  UsbipSocketOptions *options;
  gchar *peer;
} ConnectData;

static void
connect_data_free (gpointer p)
{
  ConnectData *cd = p;

  usbip_deadline_free (cd->deadline);
  usbip_socket_options_free (cd->options);
  g_free (cd->peer);
  g_free (cd);
}

static void
connect_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ConnectData *cd = g_task_get_task_data (task);
  g_autoptr (GSocketConnection) conn = NULL;
  GError *error = NULL;

  conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (conn == NULL)
    {
      if (usbip_deadline_expired (cd->deadline))
        {
          g_clear_error (&error);
          g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_TIMEOUT,
                                   "cannot connect to %s: no answer within %u ms "
                                   "(is the host up and the port reachable through firewalls?)",
                                   cd->peer, cd->options->connect_timeout_ms);
          return;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, error);
          return;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                                 "cannot connect to %s: connection refused "
                                 "(is usbipd or usbipcored running there, on this port?)",
                                 cd->peer);
      else if (error->domain == G_RESOLVER_ERROR)
        g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                                 "cannot resolve %s: %s (check the host name)", cd->peer, error->message);
      else
        g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                                 "cannot connect to %s: %s", cd->peer, error->message);
      g_error_free (error);
      return;
    }
  if (!usbip_socket_options_apply (cd->options, g_socket_connection_get_socket (conn), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&conn), g_object_unref);
}

static void
tcp_connect_async (UsbipTransport *transport,
                   const UsbipRemote *remote,
                   const UsbipSocketOptions *options,
                   GCancellable *cancellable,
                   GAsyncReadyCallback callback,
                   gpointer user_data)
{
  GTask *task = g_task_new (transport, cancellable, callback, user_data);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnectable) addr = g_network_address_new (remote->host, remote->port);
  ConnectData *cd = g_new0 (ConnectData, 1);

  g_task_set_source_tag (task, tcp_connect_async);
  cd->options = options != NULL ? usbip_socket_options_copy (options) : usbip_socket_options_new ();
  cd->deadline = usbip_deadline_new (cancellable, cd->options->connect_timeout_ms);
  cd->peer = usbip_remote_to_string (remote);
  g_task_set_task_data (task, cd, connect_data_free);
  g_socket_client_set_protocol (client, G_SOCKET_PROTOCOL_TCP);
  /* no proxy lookup (libproxy can take tens of ms): USB/IP goes straight to the peer */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_connect_async (client, addr, usbip_deadline_get_cancellable (cd->deadline), connect_done, task);
}

static GSocketConnection *
tcp_connect_finish (UsbipTransport *transport, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
tcp_add_listener (UsbipTransport *transport, GSocketListener *listener, const gchar *address, GError **error)
{
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) sockaddr = NULL;
  g_autoptr (GSocket) socket = NULL;
  GError *local_error = NULL;
  struct sockaddr_storage native;
  gint bind_errno = 0;

  remote = usbip_remote_parse (address, USBIP_DEFAULT_TCP_PORT, error);
  if (remote == NULL)
    return FALSE;
  inet = g_inet_address_new_from_string (remote->host);
  if (inet == NULL)
    {
      g_autoptr (GResolver) resolver = g_resolver_get_default ();
      GList *list = g_resolver_lookup_by_name (resolver, remote->host, NULL, &local_error);

      if (list == NULL)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "cannot listen on %s: %s (give an address such as 127.0.0.1 or [::])",
                       address, local_error->message);
          g_error_free (local_error);
          return FALSE;
        }
      inet = g_object_ref (list->data);
      g_resolver_free_addresses (list);
    }
  sockaddr = g_inet_socket_address_new (inet, remote->port);
  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &local_error);
  if (socket == NULL)
    goto fail;
  g_socket_set_option (socket, SOL_SOCKET, SO_REUSEADDR, 1, NULL);
  /* GSocket's default backlog is 10: a burst of clients would see dropped SYNs and wait
   * seconds for the retransmit; let the kernel queue as many as it allows */
  g_socket_set_listen_backlog (socket, SOMAXCONN);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 && g_inet_address_get_is_any (inet))
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 0, NULL); /* dual stack for [::] */
  /* bind() itself: GLib folds EADDRNOTAVAIL into G_IO_ERROR_FAILED, and that one needs
   * its own advice */
  if (!g_socket_address_to_native (sockaddr, &native, sizeof native, &local_error))
    goto fail;
  if (bind (g_socket_get_fd (socket), (struct sockaddr *) &native, (socklen_t) g_socket_address_get_native_size (sockaddr)) != 0)
    {
      bind_errno = errno;
      local_error = g_error_new (G_IO_ERROR, g_io_error_from_errno (bind_errno), "%s", g_strerror (bind_errno));
      goto fail;
    }
  if (!g_socket_listen (socket, &local_error) || !g_socket_listener_add_socket (listener, socket, NULL, &local_error))
    goto fail;
  return TRUE;

fail:
  if (bind_errno == EADDRNOTAVAIL)
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                 "cannot listen on %s: %s is not an address of this host (see `ip address`); "
                 "listen on one of this host's addresses, or on all of them with [::]:%u",
                 address, remote->host, remote->port);
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
                 "cannot listen on %s: the address is in use (is another usbipd or usbipcored running? "
                 "stop it or pick another port with --tcp-port)",
                 address);
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                 "cannot listen on %s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                 address);
  else
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED, "cannot listen on %s: %s", address, local_error->message);
  g_error_free (local_error);
  return FALSE;
}

static void
usbip_transport_tcp_iface_init (UsbipTransportInterface *iface)
{
  iface->connect_async = tcp_connect_async;
  iface->connect_finish = tcp_connect_finish;
  iface->add_listener = tcp_add_listener;
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
