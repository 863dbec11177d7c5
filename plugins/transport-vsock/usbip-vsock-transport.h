/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

#define USBIP_TYPE_VSOCK_TRANSPORT (usbip_vsock_transport_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVsockTransport, usbip_vsock_transport, USBIP, VSOCK_TRANSPORT, GObject)

UsbipVsockTransport *usbip_vsock_transport_new (void);

G_END_DECLS
