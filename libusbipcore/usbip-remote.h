/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"

G_BEGIN_DECLS

#define USBIP_TYPE_REMOTE (usbip_remote_get_type ())

/**
 * UsbipRemote:
 * @host: TCP: host name or address literal, without brackets; `unix`: the socket path, or
 *   `@name` for a name in the abstract namespace; `vsock`: the CID in decimal, `-1` for any
 * @port: TCP or vsock port; 0 for `unix`
 * @scheme: the transport: `tcp`, `unix` or `vsock`
 *
 * A USB/IP peer address. Parsed from `host`, `host:port`, `[v6]` or `[v6]:port` (TCP),
 * `unix:/path`, `unix:@name` or `vsock:CID:PORT`.
 *
 * Since: 1.0
 */
typedef struct {
  gchar *host;
  guint16 port;
  gchar *scheme;
} UsbipRemote;

/* the schemes the parser knows; TCP is built in, the others need their transport plugin */
/**
 * USBIP_REMOTE_SCHEME_TCP:
 *
 * The scheme of a TCP remote (`host`, `host:port`, `[ipv6]:port`): built in.
 *
 * Since: 1.0
 */
#define USBIP_REMOTE_SCHEME_TCP "tcp"
/**
 * USBIP_REMOTE_SCHEME_UNIX:
 *
 * The scheme of a Unix-socket remote (`unix:/path`): the `unix` transport plugin.
 *
 * Since: 1.0
 */
#define USBIP_REMOTE_SCHEME_UNIX "unix"
/**
 * USBIP_REMOTE_SCHEME_VSOCK:
 *
 * The scheme of a vsock remote (`vsock:CID:PORT`): the `vsock` transport plugin.
 *
 * Since: 1.0
 */
#define USBIP_REMOTE_SCHEME_VSOCK "vsock"
/**
 * USBIP_REMOTE_VSOCK_CID_ANY:
 *
 * `VMADDR_CID_ANY` as the parser writes a vsock remote's host.
 *
 * Since: 1.0
 */
#define USBIP_REMOTE_VSOCK_CID_ANY "-1"

USBIP_PUBLIC GType usbip_remote_get_type (void) G_GNUC_CONST;
USBIP_PUBLIC UsbipRemote *usbip_remote_new (const gchar *host, guint16 port);
USBIP_PUBLIC UsbipRemote *usbip_remote_new_full (const gchar *scheme, const gchar *host, guint16 port);
/* default_port is used when the text names none (pass USBIP_DEFAULT_TCP_PORT) */
USBIP_PUBLIC UsbipRemote *usbip_remote_parse (const gchar *text, guint16 default_port, GError **error);
USBIP_PUBLIC UsbipRemote *usbip_remote_copy (const UsbipRemote *remote);
USBIP_PUBLIC void usbip_remote_free (UsbipRemote *remote);
/* "host:port", "[v6]:port", "unix:/path", "vsock:CID:PORT" */
USBIP_PUBLIC gchar *usbip_remote_to_string (const UsbipRemote *remote);
/* the host and port fields of a vhci port record (upstream's `<host> <port> <busid>`) */
USBIP_PUBLIC void usbip_remote_to_record (const UsbipRemote *remote, gchar **host, gchar **service);
USBIP_PUBLIC UsbipRemote *usbip_remote_from_record (const gchar *host, const gchar *service);
USBIP_PUBLIC gboolean usbip_remote_equal (const UsbipRemote *a, const UsbipRemote *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipRemote, usbip_remote_free)

G_END_DECLS
