/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"

G_BEGIN_DECLS

#define USBIP_TYPE_SOCKET_OPTIONS (usbip_socket_options_get_type ())

/**
 * UsbipSocketOptions:
 * @connect_timeout_ms: connect deadline, 0 = none (default 10000)
 * @read_timeout_ms: handshake read deadline, 0 = none (default 10000)
 * @write_timeout_ms: handshake write deadline, 0 = none (default 10000)
 * @nodelay: TCP_NODELAY (default %TRUE)
 * @keepalive: SO_KEEPALIVE (default %TRUE)
 * @keepalive_idle_s: TCP_KEEPIDLE, 0 = kernel default (default 4)
 * @keepalive_interval_s: TCP_KEEPINTVL, 0 = kernel default (default 3)
 * @keepalive_probes: TCP_KEEPCNT, 0 = kernel default (default 5; with a user timeout the
 *   kernel ends the connection on the user timeout instead)
 * @user_timeout_ms: TCP_USER_TIMEOUT: how long sent data or keepalive probes may stay
 *   unacknowledged before the kernel ends the connection, 0 = kernel default (default 16000)
 * @sndbuf: SO_SNDBUF bytes, 0 = kernel default
 * @rcvbuf: SO_RCVBUF bytes, 0 = kernel default
 *
 * Socket settings applied to importer connections and exporter sessions.
 *
 * Since: 1.0
 */
typedef struct {
  guint connect_timeout_ms;
  guint read_timeout_ms;
  guint write_timeout_ms;
  gboolean nodelay;
  gboolean keepalive;
  guint keepalive_idle_s;
  guint keepalive_interval_s;
  guint keepalive_probes;
  guint sndbuf;
  guint rcvbuf;
  guint user_timeout_ms;
} UsbipSocketOptions;

USBIP_PUBLIC GType usbip_socket_options_get_type (void) G_GNUC_CONST;
/* with the defaults above */
USBIP_PUBLIC UsbipSocketOptions *usbip_socket_options_new (void);
USBIP_PUBLIC UsbipSocketOptions *usbip_socket_options_copy (const UsbipSocketOptions *opts);
USBIP_PUBLIC void usbip_socket_options_free (UsbipSocketOptions *opts);
/* sets nodelay (TCP only), keepalive, buffer sizes on @socket */
USBIP_PUBLIC gboolean usbip_socket_options_apply (const UsbipSocketOptions *opts, GSocket *socket, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipSocketOptions, usbip_socket_options_free)

G_END_DECLS
