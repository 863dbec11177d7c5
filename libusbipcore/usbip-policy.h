/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-common.h"
#include "usbip-peer.h"

G_BEGIN_DECLS

#define USBIP_TYPE_POLICY (usbip_policy_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipPolicy, usbip_policy, USBIP, POLICY, GObject)

USBIP_PUBLIC UsbipPolicy *usbip_policy_new (void);
USBIP_PUBLIC gboolean usbip_policy_add_allow_cidr (UsbipPolicy *self, const gchar *cidr, GError **error);
/* Unix peers (SO_PEERCRED) and vsock peers; see usbip_policy_admit_peer() */
USBIP_PUBLIC void usbip_policy_add_allow_uid (UsbipPolicy *self, guint32 uid);
USBIP_PUBLIC void usbip_policy_add_allow_gid (UsbipPolicy *self, guint32 gid);
USBIP_PUBLIC void usbip_policy_add_allow_cid (UsbipPolicy *self, guint32 cid);
/* TRUE when admission rules are set but none for @family: its peers are all refused */
USBIP_PUBLIC gboolean usbip_policy_refuses_family (UsbipPolicy *self, GSocketFamily family);
USBIP_PUBLIC void usbip_policy_set_max_sessions (UsbipPolicy *self, guint max);
USBIP_PUBLIC void usbip_policy_set_max_sessions_per_peer (UsbipPolicy *self, guint max);
USBIP_PUBLIC void usbip_policy_set_accept_rate (UsbipPolicy *self, gdouble per_second, guint burst);
USBIP_PUBLIC gboolean usbip_policy_admit (UsbipPolicy *self, GInetAddress *peer, guint active_sessions,
                                          guint active_sessions_of_peer, gint64 now_us, gchar **rule);
USBIP_PUBLIC gboolean usbip_policy_admit_peer (UsbipPolicy *self, const UsbipPeer *peer, guint active_sessions,
                                               guint active_sessions_of_peer, gint64 now_us, gchar **rule);
USBIP_PUBLIC gchar *usbip_policy_peer_key (GInetAddress *peer);

G_END_DECLS
