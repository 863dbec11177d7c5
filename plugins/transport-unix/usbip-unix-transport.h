/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

#define USBIP_TYPE_UNIX_TRANSPORT (usbip_unix_transport_get_type ())
G_DECLARE_FINAL_TYPE (UsbipUnixTransport, usbip_unix_transport, USBIP, UNIX_TRANSPORT, GObject)

/* @mode: the socket file's permissions (e.g. 0660); @uid, @gid: its owner, -1 = leave */
UsbipUnixTransport *usbip_unix_transport_new (guint mode, gint64 uid, gint64 gid);

G_END_DECLS
