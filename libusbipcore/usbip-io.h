/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal: deadline-bounded asynchronous handshake I/O shared by the importer and
 * the exporter. Not installed. */

#include <gio/gio.h>
#include "usbip-deframer.h"

G_BEGIN_DECLS

typedef struct _UsbipDeadline UsbipDeadline;

/* A cancellable that fires when @parent is cancelled or @timeout_ms elapses
 * (0 = never), on the thread-default main context. */
UsbipDeadline *usbip_deadline_new (GCancellable *parent, guint timeout_ms);
GCancellable *usbip_deadline_get_cancellable (UsbipDeadline *self);
gboolean usbip_deadline_expired (UsbipDeadline *self);
void usbip_deadline_free (UsbipDeadline *self);
/* turns a cancellation caused by the deadline into USBIP_ERROR_TIMEOUT naming @what */
void usbip_deadline_fix_error (UsbipDeadline *self, GError **error, const gchar *what);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipDeadline, usbip_deadline_free)

/* Write all of @bytes within @timeout_ms. */
void usbip_io_write_async (GOutputStream *stream, GBytes *bytes, guint timeout_ms, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
gboolean usbip_io_write_finish (GOutputStream *stream, GAsyncResult *result, GError **error);

/* Read until @deframer yields one handshake frame, within @timeout_ms, reading at
 * most @max_bytes in all, counting those already in @buffer (a frame's start taken
 * before the call). @buffer keeps bytes that follow the frame. The frame is
 * returned in @msg (its borrowed data pointer is cleared). With @max_bytes set (> 0) the
 * 8-byte header is read on its own first: when @max_bytes is the largest frame, nothing
 * past the frame is read (the exporter's requests; what follows belongs to the kernel). */
void usbip_io_read_frame_async (GInputStream *stream, UsbipDeframer *deframer, GByteArray *buffer, gsize max_bytes,
                                guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean usbip_io_read_frame_finish (GInputStream *stream, GAsyncResult *result, UsbipMessage *msg, GError **error);

G_END_DECLS
