/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The streaming deframer: one whole frame off the front of a byte buffer, or
 * need-more-bytes, or invalid (GError).
 */

#include "usbip-proto.h"
#include "usbip-urb-tracker.h"

G_BEGIN_DECLS

/**
 * UsbipStream:
 * @USBIP_STREAM_OP_REQUEST: client to server, handshake phase (OP_REQ_*)
 * @USBIP_STREAM_OP_REPLY: server to client, handshake phase (OP_REP_*)
 * @USBIP_STREAM_URB_COMMAND: client to server after import (CMD_SUBMIT, CMD_UNLINK)
 * @USBIP_STREAM_URB_RETURN: server to client after import (RET_SUBMIT, RET_UNLINK)
 *
 * Which side and phase of a connection a deframer reads.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_STREAM_OP_REQUEST,
  USBIP_STREAM_OP_REPLY,
  USBIP_STREAM_URB_COMMAND,
  USBIP_STREAM_URB_RETURN,
} UsbipStream;

/**
 * UsbipDeframeResult:
 * @USBIP_DEFRAME_NEED_MORE: not a whole frame yet; nothing consumed, no error
 * @USBIP_DEFRAME_FRAME: exactly one frame decoded and consumed
 * @USBIP_DEFRAME_INVALID: the bytes can never form a valid frame; error set
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_DEFRAME_NEED_MORE,
  USBIP_DEFRAME_FRAME,
  USBIP_DEFRAME_INVALID,
} UsbipDeframeResult;

typedef struct _UsbipDeframer UsbipDeframer;

/* tracker: (nullable) (transfer none): shared by the two URB deframers of one
 * connection. With NULL the deframer keeps a private tracker (see
 * usbip_deframer_get_tracker()). A RET_SUBMIT whose seqnum the tracker does not know is
 * framed from its header alone (no data) and decoded; a RET_SUBMIT of an IN transfer is
 * framed with actual_length bytes of data. */
USBIP_PUBLIC UsbipDeframer *usbip_deframer_new (UsbipStream stream, UsbipUrbTracker *tracker);
USBIP_PUBLIC void usbip_deframer_free (UsbipDeframer *self);
USBIP_PUBLIC UsbipUrbTracker *usbip_deframer_get_tracker (UsbipDeframer *self);
/* switch phase, e.g. OP_REPLY -> URB_RETURN after a successful import */
USBIP_PUBLIC void usbip_deframer_set_stream (UsbipDeframer *self, UsbipStream stream);
USBIP_PUBLIC UsbipStream usbip_deframer_get_stream (UsbipDeframer *self);

/* Look at the first @len bytes of @data. On USBIP_DEFRAME_FRAME, *consumed is the frame's
 * exact size and @msg holds it (clear it with usbip_message_clear()); @msg->data borrows
 * from @data. Never reads past @len. */
USBIP_PUBLIC UsbipDeframeResult usbip_deframer_pop (UsbipDeframer *self, const guint8 *data, gsize len, gsize *consumed,
                                                    UsbipMessage *msg, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipDeframer, usbip_deframer_free)

G_END_DECLS
