/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-virtual-device.h"

G_BEGIN_DECLS

/* the largest OUT transfer a session buffers; a client sending more is closed */
#define USBIP_VIRTUAL_MAX_TRANSFER (4u * 1024u * 1024u)

/* Claims @device (USBIP_ERROR_DEVICE_BUSY when another session has it), writes @reply
 * and serves the URB stream of @stream on the thread-default main context until the
 * client disconnects or sends a malformed message. The session owns itself. */
gboolean usbip_virtual_session_start (UsbipVirtualDevice *device, GIOStream *stream, GBytes *reply, GError **error);
/* Ends the session cleanly (a withdrawn device, a shutdown): every pending transfer gets
 * RET_SUBMIT -ESHUTDOWN, the replies are sent as far as the socket takes them without
 * waiting, then the connection is closed and the device released. */
void usbip_virtual_session_close (UsbipVirtualSession *self, const gchar *reason);

G_END_DECLS
