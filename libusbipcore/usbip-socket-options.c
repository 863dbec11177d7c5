/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#include "usbip-defaults-private.h"
#include "usbip-error.h"
#include "usbip-socket-options.h"

G_DEFINE_BOXED_TYPE (UsbipSocketOptions, usbip_socket_options, usbip_socket_options_copy, usbip_socket_options_free)

/**
 * usbip_socket_options_new:
 *
 * Returns: (transfer full): options holding the documented defaults
 *
 * Since: 1.0
 */
UsbipSocketOptions *
usbip_socket_options_new (void)
{
  UsbipSocketOptions *opts = g_new0 (UsbipSocketOptions, 1);

  opts->connect_timeout_ms = USBIP_DEFAULT_CONNECT_TIMEOUT_MS;
  opts->read_timeout_ms = USBIP_DEFAULT_READ_TIMEOUT_MS;
  opts->write_timeout_ms = USBIP_DEFAULT_WRITE_TIMEOUT_MS;
  opts->nodelay = TRUE;
  opts->keepalive = TRUE;
  /* a dead link is noticed in ~16 s whether the session is idle (keepalive probes at 4, 7, 10,
   * 13 s unanswered) or busy (data unacknowledged for 16 s); a false loss needs every probe of
   * a window, or the same segment's retransmissions for 16 s, lost (docs/reconnect.md) */
  opts->keepalive_idle_s = USBIP_DEFAULT_KEEPALIVE_IDLE_S;
  opts->keepalive_interval_s = USBIP_DEFAULT_KEEPALIVE_INTERVAL_S;
  opts->keepalive_probes = USBIP_DEFAULT_KEEPALIVE_PROBES;
  opts->user_timeout_ms = USBIP_DEFAULT_USER_TIMEOUT_MS;
  return opts;
}

/**
 * usbip_socket_options_copy:
 * @opts: options
 *
 * Returns: (transfer full): a copy of @opts
 *
 * Since: 1.0
 */
UsbipSocketOptions *
usbip_socket_options_copy (const UsbipSocketOptions *opts)
{
  g_return_val_if_fail (opts != NULL, NULL);
  return g_memdup2 (opts, sizeof *opts);
}

/**
 * usbip_socket_options_free:
 * @opts: (transfer full) (nullable): options
 *
 * Since: 1.0
 */
void
usbip_socket_options_free (UsbipSocketOptions *opts)
{
  g_free (opts);
}

static gboolean
set_int (GSocket *socket, gint level, gint name, gint value, const gchar *what, GError **error)
{
  if (setsockopt (g_socket_get_fd (socket), level, name, &value, sizeof value) < 0)
    {
      usbip_error_set_from_errno (error, errno, "cannot set %s", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_u64 (GSocket *socket, gint level, gint name, guint64 value, const gchar *what, GError **error)
{
  if (setsockopt (g_socket_get_fd (socket), level, name, &value, sizeof value) < 0)
    {
      usbip_error_set_from_errno (error, errno, "cannot set %s", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
apply_tcp (const UsbipSocketOptions *opts, GSocket *socket, GError **error)
{
  if (!set_int (socket, IPPROTO_TCP, TCP_NODELAY, opts->nodelay ? 1 : 0, "TCP_NODELAY", error))
    return FALSE;
  if (!set_int (socket, SOL_SOCKET, SO_KEEPALIVE, opts->keepalive ? 1 : 0, "SO_KEEPALIVE", error))
    return FALSE;
  if (opts->keepalive)
    {
      if (opts->keepalive_idle_s > 0
          && !set_int (socket, IPPROTO_TCP, TCP_KEEPIDLE, (gint) opts->keepalive_idle_s, "TCP_KEEPIDLE", error))
        return FALSE;
      if (opts->keepalive_interval_s > 0
          && !set_int (socket, IPPROTO_TCP, TCP_KEEPINTVL, (gint) opts->keepalive_interval_s, "TCP_KEEPINTVL", error))
        return FALSE;
      if (opts->keepalive_probes > 0
          && !set_int (socket, IPPROTO_TCP, TCP_KEEPCNT, (gint) opts->keepalive_probes, "TCP_KEEPCNT", error))
        return FALSE;
    }
  if (opts->user_timeout_ms > 0
      && !set_int (socket, IPPROTO_TCP, TCP_USER_TIMEOUT, (gint) MIN (opts->user_timeout_ms, G_MAXINT),
                   "TCP_USER_TIMEOUT", error))
    return FALSE;
  return TRUE;
}

/* vsock keeps its own receive buffer (SO_VM_SOCKETS_BUFFER_SIZE, capped by
 * SO_VM_SOCKETS_BUFFER_MAX_SIZE); SO_RCVBUF/SO_SNDBUF do not size it */
static gboolean
apply_vsock (const UsbipSocketOptions *opts, GSocket *socket, GError **error)
{
  guint64 size = MAX (opts->rcvbuf, opts->sndbuf);

  if (size == 0)
    return TRUE;
  return set_u64 (socket, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, size, "SO_VM_SOCKETS_BUFFER_MAX_SIZE", error)
         && set_u64 (socket, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, size, "SO_VM_SOCKETS_BUFFER_SIZE", error);
}

/**
 * usbip_socket_options_apply:
 * @opts: options
 * @socket: a connected or accepted socket
 * @error: return location for a #GError
 *
 * Applies what makes sense for the socket's family. TCP: TCP_NODELAY, the keepalive
 * settings, TCP_USER_TIMEOUT and the buffer sizes. Unix sockets: the buffer sizes only
 * (no Nagle, no keepalive: a peer that goes away closes the socket). vsock: the larger of
 * the two buffer sizes as the vsock buffer size; nothing else. A zero value leaves the
 * kernel's default in place. These stay on the socket the kernel takes over, so they
 * decide when a dead link ends the session.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_socket_options_apply (const UsbipSocketOptions *opts, GSocket *socket, GError **error)
{
  GSocketFamily family;

  g_return_val_if_fail (opts != NULL, FALSE);
  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);

  family = g_socket_get_family (socket);
  if ((gint) family == AF_VSOCK)
    return apply_vsock (opts, socket, error);
  if (g_socket_get_protocol (socket) == G_SOCKET_PROTOCOL_TCP && !apply_tcp (opts, socket, error))
    return FALSE;
  if (opts->sndbuf > 0
      && !set_int (socket, SOL_SOCKET, SO_SNDBUF, (gint) MIN (opts->sndbuf, G_MAXINT), "SO_SNDBUF", error))
    return FALSE;
  if (opts->rcvbuf > 0
      && !set_int (socket, SOL_SOCKET, SO_RCVBUF, (gint) MIN (opts->rcvbuf, G_MAXINT), "SO_RCVBUF", error))
    return FALSE;
  return TRUE;
}
