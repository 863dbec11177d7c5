/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "usbip-error.h"
#include "usbip-peer-private.h"
#include "usbip-policy.h"

G_DEFINE_BOXED_TYPE (UsbipPeer, usbip_peer, usbip_peer_copy, usbip_peer_free)

G_STATIC_ASSERT (USBIP_SOCKET_FAMILY_VSOCK == AF_VSOCK);

/**
 * usbip_peer_new:
 *
 * Returns: (transfer full): a peer of unknown family
 *
 * Since: 1.0
 */
UsbipPeer *
usbip_peer_new (void)
{
  UsbipPeer *peer = g_new0 (UsbipPeer, 1);

  peer->family = G_SOCKET_FAMILY_INVALID;
  peer->uid = peer->gid = peer->pid = peer->cid = -1;
  return peer;
}

/**
 * usbip_peer_new_inet:
 * @address: the peer's IP address
 * @port: its port
 *
 * Returns: (transfer full): an IP peer
 *
 * Since: 1.0
 */
UsbipPeer *
usbip_peer_new_inet (GInetAddress *address, guint16 port)
{
  UsbipPeer *peer = usbip_peer_new ();

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), peer);
  peer->family = g_inet_address_get_family (address);
  peer->address = g_object_ref (address);
  peer->port = port;
  return peer;
}

/* @n in decimal at @out; returns the end (glibc's inet_ntop() and printf() cost more than
 * the rest of a DEVLIST handshake's peer handling together) */
static gchar *
put_decimal (gchar *out, guint n)
{
  gchar digits[10];
  guint len = 0;

  do
    {
      digits[len++] = (gchar) ('0' + n % 10);
      n /= 10;
    }
  while (n > 0);
  while (len > 0)
    *out++ = digits[--len];
  return out;
}

/* an IP address as inet_ntop() writes it (what g_inet_address_to_string() returns); @size
 * is at least INET6_ADDRSTRLEN */
static void
format_ip (gint family, const void *bytes, gchar *out, gsize size)
{
  if (family == AF_INET)
    {
      const guint8 *b = bytes;

      for (guint i = 0; i < 4; i++)
        {
          out = put_decimal (out, b[i]);
          *out++ = i < 3 ? '.' : '\0';
        }
      return;
    }
  if (inet_ntop (family, bytes, out, (socklen_t) size) == NULL)
    g_strlcpy (out, "unknown", size);
}

/* usbip_policy_peer_key() of an IP address: IPv4 (also mapped into IPv6), else the /64 */
static void
format_ip_key (gint family, const guint8 *bytes, gchar *out, gsize size)
{
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  guint8 net[16] = { 0 };
  gsize len;

  if (family == AF_INET)
    {
      format_ip (AF_INET, bytes, out, size);
      return;
    }
  if (memcmp (bytes, v4_mapped, sizeof v4_mapped) == 0)
    {
      format_ip (AF_INET, bytes + 12, out, size);
      return;
    }
  memcpy (net, bytes, 8);
  format_ip (AF_INET6, net, out, size);
  len = strlen (out);
  g_strlcpy (out + len, "/64", size - len);
}

/**
 * usbip_peer_info_read: (skip)
 * @info: where to put the peer
 * @fd: a connected socket
 * @with_address: also make @info->peer.address (a #GInetAddress) for an IP peer
 *
 * Reads who is at the other end of @fd: getpeername(), and `SO_PEERCRED` on a Unix socket.
 * What cannot be read stays unknown (family %G_SOCKET_FAMILY_INVALID, text `unknown`).
 * Clear with usbip_peer_info_clear().
 */
void
usbip_peer_info_read (UsbipPeerInfo *info, gint fd, gboolean with_address)
{
  UsbipPeer *peer = &info->peer;
  struct sockaddr_storage ss = { 0 };
  socklen_t len = sizeof ss;

  memset (peer, 0, sizeof *peer);
  peer->family = G_SOCKET_FAMILY_INVALID;
  peer->uid = peer->gid = peer->pid = peer->cid = -1;
  g_strlcpy (info->text, "unknown", sizeof info->text);
  g_strlcpy (info->key, "unknown", sizeof info->key);
  if (getpeername (fd, (struct sockaddr *) &ss, &len) != 0)
    return;
  if (ss.ss_family == AF_UNIX)
    {
      struct ucred cred;
      socklen_t cred_len = sizeof cred;

      peer->family = G_SOCKET_FAMILY_UNIX;
      if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0 && cred_len == sizeof cred)
        {
          peer->uid = cred.uid;
          peer->pid = cred.pid;
          peer->gid = cred.gid;
        }
      if (peer->uid < 0)
        {
          g_strlcpy (info->text, "uid=unknown", sizeof info->text);
          g_strlcpy (info->key, "uid=unknown", sizeof info->key);
          return;
        }
      g_snprintf (info->text, sizeof info->text, "uid=%" G_GINT64_FORMAT " pid=%" G_GINT64_FORMAT, peer->uid,
                  peer->pid);
      g_snprintf (info->key, sizeof info->key, "uid=%" G_GINT64_FORMAT, peer->uid);
    }
  else if (ss.ss_family == AF_VSOCK && len >= sizeof (struct sockaddr_vm))
    {
      const struct sockaddr_vm *svm = (const struct sockaddr_vm *) &ss;

      peer->family = USBIP_SOCKET_FAMILY_VSOCK;
      peer->cid = svm->svm_cid;
      peer->port = svm->svm_port;
      g_snprintf (info->text, sizeof info->text, "cid=%" G_GINT64_FORMAT " port=%u", peer->cid, peer->port);
      g_snprintf (info->key, sizeof info->key, "cid=%" G_GINT64_FORMAT, peer->cid);
    }
  else if (ss.ss_family == AF_INET && len >= sizeof (struct sockaddr_in))
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) &ss;
      gchar *end;

      peer->family = G_SOCKET_FAMILY_IPV4;
      peer->port = g_ntohs (sin->sin_port);
      format_ip (AF_INET, &sin->sin_addr, info->key, sizeof info->key);
      end = g_stpcpy (info->text, info->key);
      *end++ = ':';
      *put_decimal (end, peer->port) = '\0';
      if (with_address)
        peer->address = g_inet_address_new_from_bytes ((const guint8 *) &sin->sin_addr, G_SOCKET_FAMILY_IPV4);
    }
  else if (ss.ss_family == AF_INET6 && len >= sizeof (struct sockaddr_in6))
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) &ss;
      gchar host[INET6_ADDRSTRLEN];

      peer->family = G_SOCKET_FAMILY_IPV6;
      peer->port = g_ntohs (sin6->sin6_port);
      format_ip (AF_INET6, &sin6->sin6_addr, host, sizeof host);
      g_snprintf (info->text, sizeof info->text, "[%s]:%u", host, peer->port);
      format_ip_key (AF_INET6, (const guint8 *) &sin6->sin6_addr, info->key, sizeof info->key);
      if (with_address)
        peer->address = g_inet_address_new_from_bytes ((const guint8 *) &sin6->sin6_addr, G_SOCKET_FAMILY_IPV6);
    }
}

/* releases what usbip_peer_info_read() made */
void
usbip_peer_info_clear (UsbipPeerInfo *info)
{
  g_clear_object (&info->peer.address);
}

/* who is at the other end of a connected socket @fd (usbip-peer-private.h) */
UsbipPeer *
usbip_peer_new_from_fd (gint fd)
{
  UsbipPeerInfo info;

  usbip_peer_info_read (&info, fd, TRUE);
  return g_memdup2 (&info.peer, sizeof info.peer);
}

/**
 * usbip_peer_new_from_socket:
 * @socket: a connected socket
 *
 * Reads who is at the other end: the address (getpeername()) of an IP or vsock peer, the
 * credentials (`SO_PEERCRED`) of a Unix one. What cannot be read stays unknown.
 *
 * Returns: (transfer full): the peer
 *
 * Since: 1.0
 */
UsbipPeer *
usbip_peer_new_from_socket (GSocket *socket)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), usbip_peer_new ());
  return usbip_peer_new_from_fd (g_socket_get_fd (socket));
}

/**
 * usbip_peer_copy:
 * @peer: a #UsbipPeer
 *
 * Returns: (transfer full): a copy
 *
 * Since: 1.0
 */
UsbipPeer *
usbip_peer_copy (const UsbipPeer *peer)
{
  UsbipPeer *c;

  g_return_val_if_fail (peer != NULL, NULL);
  c = g_memdup2 (peer, sizeof *peer);
  if (c->address != NULL)
    g_object_ref (c->address);
  return c;
}

/**
 * usbip_peer_free:
 * @peer: (nullable): a #UsbipPeer
 *
 * Since: 1.0
 */
void
usbip_peer_free (UsbipPeer *peer)
{
  if (peer == NULL)
    return;
  g_clear_object (&peer->address);
  g_free (peer);
}

/**
 * usbip_peer_to_string:
 * @peer: a #UsbipPeer
 *
 * Returns: (transfer full): how logs and signals name the peer: `192.0.2.7:40000`,
 *   `[2001:db8::1]:40000`, `uid=1000 pid=4242`, `cid=3 port=1025` or `unknown`
 *
 * Since: 1.0
 */
gchar *
usbip_peer_to_string (const UsbipPeer *peer)
{
  g_autofree gchar *host = NULL;

  g_return_val_if_fail (peer != NULL, NULL);
  switch ((gint) peer->family)
    {
    case G_SOCKET_FAMILY_IPV4:
    case G_SOCKET_FAMILY_IPV6:
      host = g_inet_address_to_string (peer->address);
      if (peer->family == G_SOCKET_FAMILY_IPV6)
        return g_strdup_printf ("[%s]:%u", host, peer->port);
      return g_strdup_printf ("%s:%u", host, peer->port);
    case G_SOCKET_FAMILY_UNIX:
      if (peer->uid < 0)
        return g_strdup ("uid=unknown");
      return g_strdup_printf ("uid=%" G_GINT64_FORMAT " pid=%" G_GINT64_FORMAT, peer->uid, peer->pid);
    case USBIP_SOCKET_FAMILY_VSOCK:
      return g_strdup_printf ("cid=%" G_GINT64_FORMAT " port=%u", peer->cid, peer->port);
    default:
      return g_strdup ("unknown");
    }
}

/**
 * usbip_peer_get_key:
 * @peer: a #UsbipPeer
 *
 * Returns: (transfer full): what per-peer limits count as one peer: an IPv4 address, an
 *   IPv6 /64 (see usbip_policy_peer_key()), `uid=N` (Unix), `cid=N` (vsock), `unknown`
 *
 * Since: 1.0
 */
gchar *
usbip_peer_get_key (const UsbipPeer *peer)
{
  g_return_val_if_fail (peer != NULL, NULL);
  switch ((gint) peer->family)
    {
    case G_SOCKET_FAMILY_IPV4:
    case G_SOCKET_FAMILY_IPV6:
      return usbip_policy_peer_key (peer->address);
    case G_SOCKET_FAMILY_UNIX:
      return peer->uid < 0 ? g_strdup ("uid=unknown") : g_strdup_printf ("uid=%" G_GINT64_FORMAT, peer->uid);
    case USBIP_SOCKET_FAMILY_VSOCK:
      return g_strdup_printf ("cid=%" G_GINT64_FORMAT, peer->cid);
    default:
      return g_strdup ("unknown");
    }
}

/**
 * usbip_peer_get_family_name:
 * @peer: a #UsbipPeer
 *
 * Returns: `ip`, `unix`, `vsock` or `unknown`
 *
 * Since: 1.0
 */
const gchar *
usbip_peer_get_family_name (const UsbipPeer *peer)
{
  g_return_val_if_fail (peer != NULL, "unknown");
  switch ((gint) peer->family)
    {
    case G_SOCKET_FAMILY_IPV4:
    case G_SOCKET_FAMILY_IPV6:
      return "ip";
    case G_SOCKET_FAMILY_UNIX:
      return "unix";
    case USBIP_SOCKET_FAMILY_VSOCK:
      return "vsock";
    default:
      return "unknown";
    }
}

/* the id of user or group NAME, with the reentrant lookups (a library may be called from
 * any thread); FALSE when there is no such name or the lookup fails */
static gboolean
lookup_name (const gchar *name, gboolean group, guint32 *id)
{
  long hint = sysconf (group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
  gsize size = hint > 0 ? (gsize) hint : 1024;
  gboolean found = FALSE;
  int rc;

  do
    {
      gchar *buf = g_malloc (size);

      if (group)
        {
          struct group gr, *res = NULL;
          rc = getgrnam_r (name, &gr, buf, size, &res);
          if (rc == 0 && res != NULL)
            {
              *id = res->gr_gid;
              found = TRUE;
            }
        }
      else
        {
          struct passwd pw, *res = NULL;
          rc = getpwnam_r (name, &pw, buf, size, &res);
          if (rc == 0 && res != NULL)
            {
              *id = res->pw_uid;
              found = TRUE;
            }
        }
      g_free (buf);
      size *= 2;
    }
  while (rc == ERANGE && size <= (gsize) 1024 * 1024);
  return found;
}

static gboolean
parse_id (const gchar *text, gboolean group, guint32 *id, GError **error)
{
  guint64 n;

  if (text != NULL && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32 - 1, &n, NULL))
    {
      *id = (guint32) n;
      return TRUE;
    }
  if (text != NULL && *text != '\0' && lookup_name (text, group, id))
    return TRUE;
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
               "\"%s\" is neither a %s id nor the name of one (see %s)", text != NULL ? text : "",
               group ? "group" : "user", group ? "getent group" : "getent passwd");
  return FALSE;
}

/**
 * usbip_peer_parse_uid:
 * @text: a user id or user name
 * @uid: (out): the id
 * @error: return location for a #GError
 *
 * Returns: %FALSE with %USBIP_ERROR_INVALID_ARGUMENT when @text names no user
 *
 * Since: 1.0
 */
gboolean
usbip_peer_parse_uid (const gchar *text, guint32 *uid, GError **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (uid != NULL, FALSE);
  return parse_id (text, FALSE, uid, error);
}

/**
 * usbip_peer_parse_gid:
 * @text: a group id or group name
 * @gid: (out): the id
 * @error: return location for a #GError
 *
 * Returns: %FALSE with %USBIP_ERROR_INVALID_ARGUMENT when @text names no group
 *
 * Since: 1.0
 */
gboolean
usbip_peer_parse_gid (const gchar *text, guint32 *gid, GError **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (gid != NULL, FALSE);
  return parse_id (text, TRUE, gid, error);
}
