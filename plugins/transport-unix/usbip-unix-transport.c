/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB/IP over a Unix stream socket: `unix:/path` (a socket file) or `unix:@name` (Linux's
 * abstract namespace). The kernel takes any connected SOCK_STREAM socket, so vhci_hcd and
 * usbip-host carry the session over it as over TCP. A listener's socket file gets its mode
 * and owner before listen(), so no client connects through looser permissions; a stale
 * file (nobody listening) is replaced, a live one is not, and the file is removed when the
 * listener goes away (if it is still ours).
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gunixsocketaddress.h>

#include "usbip-unix-transport.h"

struct _UsbipUnixTransport {
  GObject parent_instance;
  guint mode;
  gint64 uid;
  gint64 gid;
};

static void usbip_unix_transport_iface_init (UsbipTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipUnixTransport, usbip_unix_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_TRANSPORT, usbip_unix_transport_iface_init))

static GSocketAddress *
socket_address (const UsbipRemote *remote)
{
  if (remote->host[0] == '@')
    return g_unix_socket_address_new_with_type (remote->host + 1, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  return g_unix_socket_address_new (remote->host);
}

static UsbipRemote *
parse_unix (const gchar *text, GError **error)
{
  g_autoptr (UsbipRemote) remote = usbip_remote_parse (text, 0, error);

  if (remote == NULL)
    return NULL;
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_UNIX) != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s is not a unix: address (write unix:/path or unix:@name)", text);
      return NULL;
    }
  return g_steal_pointer (&remote);
}

static void
unix_connect_async (UsbipTransport *transport, const UsbipRemote *remote, const UsbipSocketOptions *options,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GSocketAddress) addr = socket_address (remote);

  usbip_transport_connect_address_async (transport, remote, G_SOCKET_CONNECTABLE (addr), options, cancellable, callback,
                                         user_data);
}

/* A socket file already at @path: stale (nobody accepts on it) is removed, live is busy,
 * anything else is not ours to remove */
static gboolean
clear_stale (const gchar *path, const gchar *text, GError **error)
{
  g_autoptr (GSocket) probe = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GError) local_error = NULL;
  struct stat st;

  if (lstat (path, &st) != 0)
    return TRUE;
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
                   "cannot listen on %s: %s exists and is not a socket: remove it or pick another path", text, path);
      return FALSE;
    }
  probe = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL);
  addr = g_unix_socket_address_new (path);
  /* only a refusal says nobody listens: a full accept queue (EAGAIN) is a live listener
   * too busy to accept, and any other failure tells nothing */
  if (probe != NULL
      && (g_socket_connect (probe, addr, NULL, &local_error)
          || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
                   "cannot listen on %s: another process listens on it (is another usbipcored running? "
                   "stop it or pick another path)",
                   text);
      return FALSE;
    }
  if (probe != NULL && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
                   "cannot listen on %s: cannot tell whether a process listens on %s (%s): remove it if it is "
                   "stale, or pick another path",
                   text, path, local_error->message);
      return FALSE;
    }
  if (unlink (path) != 0 && errno != ENOENT)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                   "cannot listen on %s: cannot remove the stale socket %s: %s", text, path, g_strerror (errno));
      return FALSE;
    }
  g_info ("removed the stale socket %s (nobody listened on it)", path);
  return TRUE;
}

/* the socket file goes when its listener does, unless another process has replaced it */
typedef struct {
  gchar *path;
  dev_t dev;
  ino_t ino;
} SocketFile;

static void
socket_file_remove (gpointer data, GObject *where_the_socket_was)
{
  SocketFile *f = data;
  struct stat st;

  if (lstat (f->path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
    unlink (f->path);
  g_free (f->path);
  g_free (f);
}

static gboolean
set_file_access (UsbipUnixTransport *self, const gchar *path, const gchar *text, GError **error)
{
  if (chmod (path, self->mode) != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PERMISSION, "cannot listen on %s: chmod %04o: %s", text, self->mode,
                   g_strerror (errno));
      return FALSE;
    }
  if ((self->uid >= 0 || self->gid >= 0)
      && chown (path, self->uid >= 0 ? (uid_t) self->uid : (uid_t) -1, self->gid >= 0 ? (gid_t) self->gid : (gid_t) -1)
             != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PERMISSION,
                   "cannot listen on %s: cannot give the socket file to user %" G_GINT64_FORMAT
                   " group %" G_GINT64_FORMAT
                   ": %s (changing the owner needs root or CAP_CHOWN; a group needs membership)",
                   text, self->uid, self->gid, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static GSocket *
unix_create_listener (UsbipTransport *transport, const gchar *address, GError **error)
{
  UsbipUnixTransport *self = USBIP_UNIX_TRANSPORT (transport);
  g_autoptr (UsbipRemote) remote = parse_unix (address, error);
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean is_file;
  struct stat st;

  if (remote == NULL)
    return NULL;
  is_file = remote->host[0] != '@';
  if (is_file)
    {
      g_autofree gchar *dir = g_path_get_dirname (remote->host);

      /* no directory is made: as root, a typo in the path would make a tree of them */
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                       "cannot listen on %s: no directory %s: create it (under systemd, RuntimeDirectory= makes one "
                       "in /run), or give a path in an existing directory",
                       address, dir);
          return NULL;
        }
      if (!clear_stale (remote->host, address, error))
        return NULL;
    }
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &local_error);
  if (socket == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED, "cannot listen on %s: %s", address, local_error->message);
      return NULL;
    }
  addr = socket_address (remote);
  if (!usbip_transport_bind (socket, addr, address, NULL, error))
    return NULL;
  if (is_file)
    {
      SocketFile *f = g_new0 (SocketFile, 1);

      f->path = g_strdup (remote->host);
      if (lstat (f->path, &st) == 0)
        {
          f->dev = st.st_dev;
          f->ino = st.st_ino;
        }
      g_object_weak_ref (G_OBJECT (socket), socket_file_remove, f);
      /* before listen(): until then a connect is refused, so nobody gets in through the
       * permissions bind() left */
      if (!set_file_access (self, remote->host, address, error))
        return NULL;
    }
  if (!usbip_transport_listen (socket, address, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static void
usbip_unix_transport_iface_init (UsbipTransportInterface *iface)
{
  iface->connect_async = unix_connect_async;
  iface->connect_finish = usbip_transport_connect_address_finish;
  iface->create_listener = unix_create_listener;
}

static void
usbip_unix_transport_class_init (UsbipUnixTransportClass *klass)
{
}

static void
usbip_unix_transport_init (UsbipUnixTransport *self)
{
  self->mode = 0660;
  self->uid = self->gid = -1;
}

UsbipUnixTransport *
usbip_unix_transport_new (guint mode, gint64 uid, gint64 gid)
{
  UsbipUnixTransport *self = g_object_new (USBIP_TYPE_UNIX_TRANSPORT, NULL);

  self->mode = mode;
  self->uid = uid;
  self->gid = gid;
  return self;
}
