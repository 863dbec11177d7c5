/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"

G_BEGIN_DECLS

/**
 * USBIP_SOCKET_FAMILY_VSOCK:
 *
 * `AF_VSOCK` as a #GSocketFamily (GIO has no name for it): the family of a #UsbipPeer on a vsock connection.
 *
 * Since: 1.0
 */
#define USBIP_SOCKET_FAMILY_VSOCK ((GSocketFamily) 40)

#define USBIP_TYPE_PEER (usbip_peer_get_type ())

/**
 * UsbipPeer:
 * @family: %G_SOCKET_FAMILY_IPV4, %G_SOCKET_FAMILY_IPV6, %G_SOCKET_FAMILY_UNIX,
 *   %USBIP_SOCKET_FAMILY_VSOCK, or %G_SOCKET_FAMILY_INVALID when unknown
 * @address: (nullable): IP: the peer's address
 * @port: IP or vsock: the peer's port
 * @uid: Unix: the peer's user id from `SO_PEERCRED`, -1 when unknown
 * @gid: Unix: its group id, -1 when unknown
 * @pid: Unix: its process id, -1 when unknown
 * @cid: vsock: the peer's context id, -1 when unknown
 *
 * Who is at the other end of an accepted connection, per socket family: what the policy
 * judges and what logs, signals and the status API name.
 *
 * Since: 1.0
 */
typedef struct {
  GSocketFamily family;
  GInetAddress *address;
  guint32 port;
  gint64 uid;
  gint64 gid;
  gint64 pid;
  gint64 cid;
} UsbipPeer;

USBIP_PUBLIC GType usbip_peer_get_type (void) G_GNUC_CONST;
/* an unknown peer (family INVALID) */
USBIP_PUBLIC UsbipPeer *usbip_peer_new (void);
USBIP_PUBLIC UsbipPeer *usbip_peer_new_inet (GInetAddress *address, guint16 port);
/* from a connected socket: getpeername(), and SO_PEERCRED on Unix sockets */
USBIP_PUBLIC UsbipPeer *usbip_peer_new_from_socket (GSocket *socket);
USBIP_PUBLIC UsbipPeer *usbip_peer_copy (const UsbipPeer *peer);
USBIP_PUBLIC void usbip_peer_free (UsbipPeer *peer);
/* `192.0.2.7:40000`, `[2001:db8::1]:40000`, `uid=1000 pid=4242`, `cid=3 port=1025`, `unknown` */
USBIP_PUBLIC gchar *usbip_peer_to_string (const UsbipPeer *peer);
/* what per-peer limits count as one peer: an IPv4 address, an IPv6 /64, `uid=N`, `cid=N` */
USBIP_PUBLIC gchar *usbip_peer_get_key (const UsbipPeer *peer);
/* `ip`, `unix`, `vsock` or `unknown` */
USBIP_PUBLIC const gchar *usbip_peer_get_family_name (const UsbipPeer *peer);

/* a user or group by number or name (for allow-uid, allow-gid, socket-user, socket-group) */
USBIP_PUBLIC gboolean usbip_peer_parse_uid (const gchar *text, guint32 *uid, GError **error);
USBIP_PUBLIC gboolean usbip_peer_parse_gid (const gchar *text, guint32 *gid, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipPeer, usbip_peer_free)

G_END_DECLS
