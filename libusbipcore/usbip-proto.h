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
 *
 * Since: 1.0
 */
#define USBIP_MAX_DEVICES 4096
/**
 * USBIP_MAX_ISO_PACKETS:
 *
 * Cap on number_of_packets of one URB (the kernel's own limit is 1024).
 *
 * Since: 1.0
 */
#define USBIP_MAX_ISO_PACKETS 1024
/**
 * USBIP_MAX_TRANSFER_LENGTH:
 *
 * Cap on transfer_buffer_length / actual_length of one URB (64 MiB).
 *
 * Since: 1.0
 */
#define USBIP_MAX_TRANSFER_LENGTH (64u * 1024u * 1024u)

/**
 * UsbipDirection:
 * @USBIP_DIR_OUT: host to device
 * @USBIP_DIR_IN: device to host
 *
 * URB direction as carried in the basic header.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_DIR_OUT = 0,
  USBIP_DIR_IN = 1,
} UsbipDirection;

/**
 * UsbipMessageType:
 *
 * The eight messages of the protocol.
 *
 * Since: 1.0
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
 *   usbip_deframer_pop(), valid while that buffer is, %NULL when @data_len is 0; for
 *   encoding, the data to append
 * @data_len: length of @data
 * @iso: (array length=n_iso): ISO descriptors, owned
 * @n_iso: number of ISO descriptors
 *
 * One decoded message. Initialise with `UsbipMessage msg = { 0 };`, release owned parts
 * with usbip_message_clear().
 *
 * Since: 1.0
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

G_END_DECLS
