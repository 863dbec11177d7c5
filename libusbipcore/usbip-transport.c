/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "usbip-error.h"
#include "usbip-io.h"
#include "usbip-text.h"
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
usbip_transport_connect_async (UsbipTransport *self, const UsbipRemote *remote, const UsbipSocketOptions *options,
                               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
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
  UsbipTransportInterface *iface;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (USBIP_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET_LISTENER (listener), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  iface = USBIP_TRANSPORT_GET_IFACE (self);
  if (iface->create_listener == NULL)
    return iface->add_listener (self, listener, address, error);
  socket = usbip_transport_create_listener (self, address, error);
  if (socket == NULL)
    return FALSE;
  if (!g_socket_listener_add_socket (listener, socket, NULL, &local_error))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED, "cannot listen on %s: %s", address, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/**
 * usbip_transport_create_listener:
 * @self: a transport
 * @address: what to listen on, as for usbip_transport_add_listener()
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a socket listening on @address, or %NULL with
 *   @error set (%USBIP_ERROR_NOT_AVAILABLE when the transport only implements add_listener)
 *
 * Since: 1.0
 */
GSocket *
usbip_transport_create_listener (UsbipTransport *self, const gchar *address, GError **error)
{
  UsbipTransportInterface *iface;

  g_return_val_if_fail (USBIP_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (address != NULL, NULL);
  iface = USBIP_TRANSPORT_GET_IFACE (self);
  if (iface->create_listener == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE,
                   "the %s transport cannot make a listening socket itself: add its listener to a GSocketListener",
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }
  return iface->create_listener (self, address, error);
}

typedef struct {
  UsbipDeadline *deadline;
  UsbipSocketOptions *options;
  UsbipRemote *remote;
  gchar *peer;
} ConnectData;

static void
connect_data_free (gpointer p)
{
  ConnectData *cd = p;

  usbip_deadline_free (cd->deadline);
  usbip_socket_options_free (cd->options);
  usbip_remote_free (cd->remote);
  g_free (cd->peer);
  g_free (cd);
}

/* what to check when a connection fails, per scheme */
static const gchar *
refused_hint (const UsbipRemote *remote)
{
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_UNIX) == 0)
    return "nobody listens on it: is usbipcored running with --listen on this path, "
           "or is this a socket file left behind by one that stopped?";
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_VSOCK) == 0)
    return "is usbipcored listening on this vsock port of that CID?";
  return "is usbipd or usbipcored running there, on this port?";
}

static const gchar *
timeout_hint (const UsbipRemote *remote)
{
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_VSOCK) == 0)
    return "is the CID a running VM, the host (2) or this machine (1, needs vsock_loopback)?";
  return "is the host up and the port reachable through firewalls?";
}

static void
return_connect_error (GTask *task, ConnectData *cd, GError *error)
{
  const UsbipRemote *r = cd->remote;
  gboolean is_unix = g_strcmp0 (r->scheme, USBIP_REMOTE_SCHEME_UNIX) == 0;
  gboolean is_vsock = g_strcmp0 (r->scheme, USBIP_REMOTE_SCHEME_VSOCK) == 0;

  /* every caller passes the error of a failed connect: GIO sets one whenever it fails */
  g_assert (error != NULL);
  if (usbip_deadline_expired (cd->deadline))
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_TIMEOUT,
                             "cannot connect to %s: no answer within %u ms (%s)", cd->peer,
                             cd->options->connect_timeout_ms, timeout_hint (r));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_TIMEOUT, "cannot connect to %s: %s (%s)", cd->peer,
                             error->message, timeout_hint (r));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION, "cannot connect to %s: connection refused (%s)",
                             cd->peer, refused_hint (r));
  else if (is_unix && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                             "cannot connect to %s: no such socket (start usbipcored with --listen %s, "
                             "or bind-mount its socket here)",
                             cd->peer, cd->peer);
  else if (is_unix && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                             "cannot connect to %s: permission denied (the socket file's mode and owner do not "
                             "let this user in: see the daemon's [unix] socket-mode and socket-group)",
                             cd->peer);
  else if (is_vsock)
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                             "cannot connect to %s: %s (vsock needs a transport in the kernel: vhost_vsock on a "
                             "host, vmw_vsock_virtio_transport in a guest, vsock_loopback for CID 1)",
                             cd->peer, error->message);
  else if (error->domain == G_RESOLVER_ERROR)
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION, "cannot resolve %s: %s (check the host name)",
                             cd->peer, error->message);
  else
    g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION, "cannot connect to %s: %s", cd->peer,
                             error->message);
  g_error_free (error);
}

static void
connect_done (GTask *task, GSocketConnection *conn, GError *error)
{
  ConnectData *cd = g_task_get_task_data (task);

  if (conn == NULL)
    return_connect_error (task, cd, error);
  else if (!usbip_socket_options_apply (cd->options, g_socket_connection_get_socket (conn), &error))
    {
      g_task_return_error (task, error);
      g_object_unref (conn);
    }
  else
    g_task_return_pointer (task, conn, g_object_unref);
  g_object_unref (task);
}

static void
client_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  GSocketConnection *conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);

  connect_done (user_data, conn, error);
}

/* a non-blocking connect() in progress has finished (or the deadline passed) */
static gboolean
socket_writable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  GTask *task = user_data;
  ConnectData *cd = g_task_get_task_data (task);
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (usbip_deadline_get_cancellable (cd->deadline), &error)
      || !g_socket_check_connect_result (socket, &error))
    connect_done (task, NULL, error);
  else
    {
      g_socket_set_blocking (socket, TRUE);
      connect_done (task, g_socket_connection_factory_create_connection (socket), NULL);
    }
  return G_SOURCE_REMOVE;
}

/* connect to one address without GSocketClient (whose resolver set-up and proxy checks a
 * socket address does not need; and GSocket's family property knows no AF_VSOCK, so it
 * cannot make such a socket): make the socket here (any family), then connect without
 * blocking, within the deadline */
static void
connect_socket_address (GTask *task, GSocketAddress *address)
{
  ConnectData *cd = g_task_get_task_data (task);
  GCancellable *cancellable = usbip_deadline_get_cancellable (cd->deadline);
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GSource) source = NULL;
  GError *error = NULL;
  gint fd = socket (g_socket_address_get_family (address), SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    {
      gint saved = errno;
      connect_done (task, NULL, g_error_new (G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved)));
      return;
    }
  sock = g_socket_new_from_fd (fd, &error);
  if (sock == NULL)
    {
      close (fd);
      connect_done (task, NULL, error);
      return;
    }
  g_socket_set_blocking (sock, FALSE);
  if (g_socket_connect (sock, address, cancellable, &error))
    {
      g_socket_set_blocking (sock, TRUE);
      connect_done (task, g_socket_connection_factory_create_connection (sock), NULL);
      return;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
    {
      connect_done (task, NULL, error);
      return;
    }
  g_clear_error (&error);
  source = g_socket_create_source (sock, G_IO_OUT, cancellable);
  g_source_set_callback (source, G_SOURCE_FUNC (socket_writable), task, NULL);
  g_source_attach (source, g_task_get_context (task));
}

/**
 * usbip_transport_connect_address_async:
 * @self: the transport
 * @remote: the peer as the user named it
 * @address: where to connect: a #GSocketAddress (connected to directly), or a #GNetworkAddress
 *   to resolve (TCP names)
 * @options: (nullable): socket options; %NULL for the defaults
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when connected or failed
 * @user_data: data for @callback
 *
 * The common part of a transport's connect: connects within the connect timeout of
 * @options, applies @options to the socket (usbip_socket_options_apply()), and turns
 * failures into %USBIP_ERROR_TIMEOUT, %USBIP_ERROR_CONNECTION or %USBIP_ERROR_PERMISSION
 * with advice for @remote's scheme.
 *
 * Since: 1.0
 */
void
usbip_transport_connect_address_async (UsbipTransport *self, const UsbipRemote *remote, GSocketConnectable *address,
                                       const UsbipSocketOptions *options, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = NULL;
  g_autoptr (GSocketClient) client = NULL;
  ConnectData *cd = NULL;

  g_return_if_fail (USBIP_IS_TRANSPORT (self));
  g_return_if_fail (remote != NULL);
  g_return_if_fail (G_IS_SOCKET_CONNECTABLE (address));
  task = g_task_new (self, cancellable, callback, user_data);
  cd = g_new0 (ConnectData, 1);
  g_task_set_source_tag (task, usbip_transport_connect_address_async);
  cd->options = options != NULL ? usbip_socket_options_copy (options) : usbip_socket_options_new ();
  cd->deadline = usbip_deadline_new (cancellable, cd->options->connect_timeout_ms);
  cd->remote = usbip_remote_copy (remote);
  {
    /* for messages: a socket path may hold characters to escape (usbip_remote_parse refuses
     * them in host names only) */
    g_autofree gchar *peer = usbip_remote_to_string (remote);
    cd->peer = usbip_text_escape (peer, -1);
  }
  g_task_set_task_data (task, cd, connect_data_free);
  if (G_IS_SOCKET_ADDRESS (address))
    {
      connect_socket_address (task, G_SOCKET_ADDRESS (address));
      return;
    }
  client = g_socket_client_new ();
  g_socket_client_set_protocol (client, G_SOCKET_PROTOCOL_TCP);
  /* no proxy lookup (libproxy can take tens of ms): USB/IP goes straight to the peer */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_connect_async (client, address, usbip_deadline_get_cancellable (cd->deadline), client_connected,
                                 task);
}

/**
 * usbip_transport_connect_address_finish:
 * @self: the transport
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the connection, or %NULL with @error set
 *
 * Since: 1.0
 */
GSocketConnection *
usbip_transport_connect_address_finish (UsbipTransport *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
listen_failed (const gchar *text, const gchar *not_local, gint bind_errno, GError *local_error, GError **error)
{
  if (bind_errno == EADDRNOTAVAIL)
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "cannot listen on %s: %s", text,
                 not_local != NULL ? not_local : "not an address of this machine");
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
                 "cannot listen on %s: the address is in use (is another usbipd or usbipcored running? "
                 "stop it, or listen elsewhere: --tcp-port, --listen)",
                 text);
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                 "cannot listen on %s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; "
                 "a socket path needs a directory this user may write)",
                 text);
  else
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED, "cannot listen on %s: %s", text, local_error->message);
  g_error_free (local_error);
  return FALSE;
}

/**
 * usbip_transport_bind:
 * @socket: a new stream socket
 * @address: where to bind it
 * @text: the address as the user wrote it, for messages
 * @not_local: (nullable): what to say when the address is not this machine's (EADDRNOTAVAIL)
 * @error: return location for a #GError
 *
 * Binds, wording the usual failures: %USBIP_ERROR_BUSY (address in use),
 * %USBIP_ERROR_PERMISSION, %USBIP_ERROR_INVALID_ARGUMENT (not this machine's address),
 * else %USBIP_ERROR_FAILED. Then set up what must be in place before clients can connect
 * (a socket file's mode), and call usbip_transport_listen().
 *
 * Returns: %TRUE when bound
 *
 * Since: 1.0
 */
gboolean
usbip_transport_bind (GSocket *socket, GSocketAddress *address, const gchar *text, const gchar *not_local,
                      GError **error)
{
  struct sockaddr_storage native;
  GError *local_error = NULL;
  gint bind_errno;

  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);
  /* bind() itself: GLib folds EADDRNOTAVAIL into G_IO_ERROR_FAILED, and that one needs
   * its own advice */
  if (!g_socket_address_to_native (address, &native, sizeof native, &local_error))
    return listen_failed (text, not_local, 0, local_error, error);
  if (bind (g_socket_get_fd (socket), (struct sockaddr *) &native,
            (socklen_t) g_socket_address_get_native_size (address))
      != 0)
    {
      bind_errno = errno;
      local_error = g_error_new (G_IO_ERROR, g_io_error_from_errno (bind_errno), "%s", g_strerror (bind_errno));
      return listen_failed (text, not_local, bind_errno, local_error, error);
    }
  return TRUE;
}

/**
 * usbip_transport_listen:
 * @socket: a bound stream socket
 * @text: the address as the user wrote it, for messages
 * @error: return location for a #GError
 *
 * Listens with the kernel's largest backlog.
 *
 * Returns: %TRUE when listening
 *
 * Since: 1.0
 */
gboolean
usbip_transport_listen (GSocket *socket, const gchar *text, GError **error)
{
  GError *local_error = NULL;

  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);
  /* GSocket's default backlog is 10: a burst of clients would wait for retransmits; let
   * the kernel queue as many as it allows */
  g_socket_set_listen_backlog (socket, SOMAXCONN);
  if (!g_socket_listen (socket, &local_error))
    return listen_failed (text, NULL, 0, local_error, error);
  return TRUE;
}
