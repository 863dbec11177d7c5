/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"

G_BEGIN_DECLS

#define USBIP_TYPE_REMOTE (usbip_remote_get_type ())

/**
 * UsbipRemote:
 * @host: host name or address literal, without brackets
 * @port: TCP port
 *
 * A USB/IP peer address. Parsed from `host`, `host:port`, `[v6]` or `[v6]:port`.
 *
 * Since: 1.0
 */
typedef struct {
  gchar *host;
  guint16 port;
} UsbipRemote;

USBIP_PUBLIC GType usbip_remote_get_type (void) G_GNUC_CONST;
USBIP_PUBLIC UsbipRemote *usbip_remote_new (const gchar *host, guint16 port);
/* default_port is used when the text names none (pass USBIP_DEFAULT_TCP_PORT) */
USBIP_PUBLIC UsbipRemote *usbip_remote_parse (const gchar *text, guint16 default_port, GError **error);
USBIP_PUBLIC UsbipRemote *usbip_remote_copy (const UsbipRemote *remote);
USBIP_PUBLIC void usbip_remote_free (UsbipRemote *remote);
/* "host:port", "[v6]:port" */
USBIP_PUBLIC gchar *usbip_remote_to_string (const UsbipRemote *remote);
USBIP_PUBLIC gboolean usbip_remote_equal (const UsbipRemote *a, const UsbipRemote *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipRemote, usbip_remote_free)

G_END_DECLS
