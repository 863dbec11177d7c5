/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-transport.h"

G_BEGIN_DECLS

/* the built-in TCP transport (IPv4 and IPv6) */
#define USBIP_TYPE_TRANSPORT_TCP (usbip_transport_tcp_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipTransportTcp, usbip_transport_tcp, USBIP, TRANSPORT_TCP, GObject)
USBIP_PUBLIC UsbipTransport *usbip_transport_tcp_new (void);

G_END_DECLS
