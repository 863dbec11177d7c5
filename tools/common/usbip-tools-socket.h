/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The socket tunables both tools take as flags (and usbipcored also as [daemon] keys):
 * keepalive, TCP_USER_TIMEOUT, buffer sizes and TCP_NODELAY (UsbipSocketOptions). */

#include <usbipcore.h>

G_BEGIN_DECLS

/* what the flags said; G_MININT (or FALSE) = not given */
typedef struct {
  gint keepalive_idle_s;
  gint keepalive_interval_s;
  gint keepalive_probes;
  gint user_timeout_ms;
  gint sndbuf;
  gint rcvbuf;
  gboolean no_keepalive;
  gboolean no_nodelay;
} UsbipToolsSocketFlags;

#define USBIP_TOOLS_SOCKET_FLAGS_INIT                                                                                  \
  {                                                                                                                    \
    G_MININT, G_MININT, G_MININT, G_MININT, G_MININT, G_MININT, FALSE, FALSE                                           \
  }

/* Adds the tunable flags, writing into @flags, to @ctx's main group. */
void usbip_tools_socket_add_entries (GOptionContext *ctx, UsbipToolsSocketFlags *flags);
/* Registers the tunables as keys of @group with the library's defaults and their ranges. */
void usbip_tools_socket_register_keys (UsbipConfig *config, const gchar *group);
/* Fills @opts: a given flag wins over @group's key in @config (nullable: the library's
 * defaults). A flag out of its range is an error naming the flag and the range. */
gboolean usbip_tools_socket_resolve (const UsbipToolsSocketFlags *flags, UsbipConfig *config, const gchar *group,
                                     UsbipSocketOptions *opts, GError **error);

G_END_DECLS
