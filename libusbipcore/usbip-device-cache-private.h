/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* UsbipDeviceCache internals the exporter and tests use: not installed, not exported */

#include <sys/socket.h>

#include "usbip-device-cache.h"

G_BEGIN_DECLS

void usbip_device_cache_set_uevent_fd (UsbipDeviceCache *self, gint fd);
gboolean usbip_device_cache_uevent_is_usb (const guint8 *msg, gsize len);
/* also the port monitor's: the kernel's uevents, read without libudev */
gint usbip_uevent_socket_open (void);
gboolean usbip_uevent_sender_is_kernel (const struct sockaddr *addr, socklen_t len);
gboolean usbip_uevent_drain (gint fd, gboolean (*relevant) (const guint8 *msg, gsize len));

G_END_DECLS
