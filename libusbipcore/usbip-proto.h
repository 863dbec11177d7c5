/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The USB/IP wire codec: pure functions over byte buffers, no I/O.
 * Layouts follow the kernel's Documentation/usb/usbip_protocol.rst; all multi-byte
 * fields are big-endian except the 8-byte setup packet, which is carried as-is.
 */

#include "usbip-common.h"
#include "usbip-device-info.h"

G_BEGIN_DECLS

#define USBIP_PROTO_VERSION 0x0111

#define USBIP_OP_REQUEST 0x8000
#define USBIP_OP_REPLY 0x0000
#define USBIP_OP_DEVLIST 0x0005
#define USBIP_OP_IMPORT 0x0003
#define USBIP_OP_REQ_DEVLIST (USBIP_OP_REQUEST | USBIP_OP_DEVLIST)
#define USBIP_OP_REP_DEVLIST (USBIP_OP_REPLY | USBIP_OP_DEVLIST)
#define USBIP_OP_REQ_IMPORT (USBIP_OP_REQUEST | USBIP_OP_IMPORT)
#define USBIP_OP_REP_IMPORT (USBIP_OP_REPLY | USBIP_OP_IMPORT)

#define USBIP_CMD_SUBMIT 0x00000001
#define USBIP_CMD_UNLINK 0x00000002
#define USBIP_RET_SUBMIT 0x00000003
#define USBIP_RET_UNLINK 0x00000004

#define USBIP_OP_HEADER_SIZE 8
#define USBIP_DEVICE_RECORD_SIZE 312
#define USBIP_INTERFACE_RECORD_SIZE 4
#define USBIP_URB_HEADER_SIZE 48
#define USBIP_ISO_PACKET_SIZE 16

/**
 * USBIP_MAX_DEVICES:
 *
 * Cap on the device count of an OP_REP_DEVLIST; a larger count is invalid.
 */
#define USBIP_MAX_DEVICES 4096
/**
 * USBIP_MAX_ISO_PACKETS:
 *
 * Cap on number_of_packets of one URB (the kernel's own limit is 1024).
 */
#define USBIP_MAX_ISO_PACKETS 1024
/**
 * USBIP_MAX_TRANSFER_LENGTH:
 *
 * Cap on transfer_buffer_length / actual_length of one URB (64 MiB).
 */
#define USBIP_MAX_TRANSFER_LENGTH (64u * 1024u * 1024u)

/**
 * UsbipDirection:
 * @USBIP_DIR_OUT: host to device
 * @USBIP_DIR_IN: device to host
 *
 * URB direction as carried in the basic header.
 */
typedef enum {
  USBIP_DIR_OUT = 0,
  USBIP_DIR_IN = 1,
} UsbipDirection;

/**
 * UsbipStream:
 * @USBIP_STREAM_OP_REQUEST: client to server, handshake phase (OP_REQ_*)
 * @USBIP_STREAM_OP_REPLY: server to client, handshake phase (OP_REP_*)
 * @USBIP_STREAM_URB_COMMAND: client to server after import (CMD_SUBMIT, CMD_UNLINK)
 * @USBIP_STREAM_URB_RETURN: server to client after import (RET_SUBMIT, RET_UNLINK)
 *
 * Which side and phase of a connection a deframer reads.
 */
typedef enum {
  USBIP_STREAM_OP_REQUEST,
  USBIP_STREAM_OP_REPLY,
  USBIP_STREAM_URB_COMMAND,
  USBIP_STREAM_URB_RETURN,
} UsbipStream;

/**
 * UsbipMessageType:
 *
 * The eight messages of the protocol.
 */
typedef enum {
  USBIP_MESSAGE_OP_REQ_DEVLIST,
  USBIP_MESSAGE_OP_REP_DEVLIST,
  USBIP_MESSAGE_OP_REQ_IMPORT,
  USBIP_MESSAGE_OP_REP_IMPORT,
  USBIP_MESSAGE_CMD_SUBMIT,
  USBIP_MESSAGE_RET_SUBMIT,
  USBIP_MESSAGE_CMD_UNLINK,
  USBIP_MESSAGE_RET_UNLINK,
} UsbipMessageType;

/* 8-byte handshake header */
typedef struct {
  guint16 version;
  guint16 code;
  guint32 status;
} UsbipOpHeader;

/* ISO packet descriptor (16 bytes) */
typedef struct {
  guint32 offset;
  guint32 length;
  guint32 actual_length;
  guint32 status;
} UsbipIsoPacket;

/* The 48-byte URB header: 20-byte basic header + 28 command-specific bytes. */
typedef struct {
  guint32 command;
  guint32 seqnum;
  guint32 devid;
  guint32 direction;
  guint32 ep;
  union {
    struct {
      guint32 transfer_flags;
      gint32 transfer_buffer_length;
      gint32 start_frame;
      gint32 number_of_packets; /* 0xffffffff (-1) or 0 for non-ISO */
      gint32 interval;
      guint8 setup[8];
    } cmd_submit;
    struct {
      gint32 status;
      gint32 actual_length;
      gint32 start_frame;
      gint32 number_of_packets;
      gint32 error_count;
      guint8 padding[8];
    } ret_submit;
    struct {
      guint32 unlink_seqnum;
      guint8 padding[24];
    } cmd_unlink;
    struct {
      gint32 status;
      guint8 padding[24];
    } ret_unlink;
  } u;
} UsbipUrbHeader;

/**
 * UsbipMessage:
 * @type: which message
 * @op: handshake header (OP_* messages)
 * @busid: requested busid (OP_REQ_IMPORT)
 * @devices: (element-type UsbipDeviceInfo): devices (OP_REP_DEVLIST), owned
 * @device: the imported device (OP_REP_IMPORT with status 0), owned, else %NULL
 * @urb: URB header (CMD_* / RET_* messages)
 * @data: (array length=data_len): transfer data; BORROWED from the buffer given to
 *   usbip_deframer_pop(), valid while that buffer is; for encoding, the data to append
 * @data_len: length of @data
 * @iso: (array length=n_iso): ISO descriptors, owned
 * @n_iso: number of ISO descriptors
 *
 * One decoded message. Initialise with `UsbipMessage msg = { 0 };`, release owned parts
 * with usbip_message_clear().
 */
typedef struct {
  UsbipMessageType type;
  UsbipOpHeader op;
  gchar busid[USBIP_BUSID_SIZE];
  GPtrArray *devices;
  UsbipDeviceInfo *device;
  UsbipUrbHeader urb;
  const guint8 *data;
  gsize data_len;
  UsbipIsoPacket *iso;
  guint n_iso;
} UsbipMessage;

USBIP_PUBLIC void usbip_message_clear (UsbipMessage *msg);
USBIP_PUBLIC const gchar *usbip_message_type_to_string (UsbipMessageType type); /* "OP_REQ_DEVLIST" ... */

/* ---- encoding: append the wire form to @out ---- */
USBIP_PUBLIC void usbip_encode_op_header (GByteArray *out, guint16 code, guint32 status);
USBIP_PUBLIC void usbip_encode_op_req_devlist (GByteArray *out);
USBIP_PUBLIC void usbip_encode_op_req_import (GByteArray *out, const gchar *busid);
/* devices: (element-type UsbipDeviceInfo) (nullable) */
USBIP_PUBLIC void usbip_encode_op_rep_devlist (GByteArray *out, guint32 status, GPtrArray *devices);
/* device: (nullable): only written when status == 0 */
USBIP_PUBLIC void usbip_encode_op_rep_import (GByteArray *out, guint32 status, const UsbipDeviceInfo *device);
/* with_interfaces: DEVLIST carries interface records, IMPORT does not */
USBIP_PUBLIC void usbip_encode_device_record (GByteArray *out, const UsbipDeviceInfo *device, gboolean with_interfaces);
USBIP_PUBLIC void usbip_encode_urb_header (GByteArray *out, const UsbipUrbHeader *hdr);
/* any message: header, then data (OUT submit / IN return), then ISO descriptors */
USBIP_PUBLIC void usbip_message_encode (const UsbipMessage *msg, GByteArray *out);

/* ---- decoding pieces (fixed-size, caller checked the length) ---- */
USBIP_PUBLIC gboolean usbip_decode_op_header (const guint8 *buf, gsize len, UsbipOpHeader *out, GError **error);
USBIP_PUBLIC gboolean usbip_decode_device_record (const guint8 *buf, gsize len, UsbipDeviceInfo *out, GError **error);
USBIP_PUBLIC gboolean usbip_decode_urb_header (const guint8 *buf, gsize len, UsbipUrbHeader *out, GError **error);

/* ---- streaming deframer ---- */

/**
 * UsbipDeframeResult:
 * @USBIP_DEFRAME_NEED_MORE: not a whole frame yet; nothing consumed, no error
 * @USBIP_DEFRAME_FRAME: exactly one frame decoded and consumed
 * @USBIP_DEFRAME_INVALID: the bytes can never form a valid frame; error set
 */
typedef enum {
  USBIP_DEFRAME_NEED_MORE,
  USBIP_DEFRAME_FRAME,
  USBIP_DEFRAME_INVALID,
} UsbipDeframeResult;

/**
 * UsbipUrbTracker:
 *
 * Remembers the direction of each CMD_SUBMIT by seqnum so that the RET_SUBMIT stream can
 * be framed (a RET_SUBMIT carries data only for IN transfers, and its header does not say
 * which). Share one tracker between the command and return deframers of a connection.
 * Bounded: only pending URBs are kept (a RET_SUBMIT forgets its URB), and past a cap of
 * 65536 pending URBs the oldest is forgotten.
 */
typedef struct _UsbipUrbTracker UsbipUrbTracker;

USBIP_PUBLIC UsbipUrbTracker *usbip_urb_tracker_new (void);
USBIP_PUBLIC void usbip_urb_tracker_free (UsbipUrbTracker *self);
/* record a CMD_SUBMIT's direction (the command deframer does this itself) */
USBIP_PUBLIC void usbip_urb_tracker_add (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection direction);
/* look up and forget; FALSE if unknown */
USBIP_PUBLIC gboolean usbip_urb_tracker_take (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection *direction);

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
USBIP_PUBLIC UsbipDeframeResult usbip_deframer_pop (UsbipDeframer *self,
                                                     const guint8 *data,
                                                     gsize len,
                                                     gsize *consumed,
                                                     UsbipMessage *msg,
                                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipDeframer, usbip_deframer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipUrbTracker, usbip_urb_tracker_free)

G_END_DECLS
