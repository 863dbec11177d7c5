/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The USB/IP wire codec. Pure: no I/O, no global state.
 *
 * Every read goes through the bounds-checked readers below; lengths are summed in 64-bit
 * before being compared with what is present; counts are checked against the USBIP_MAX_*
 * caps before anything is allocated.
 */
#include "config.h"

#include <string.h>

#include "usbip-error.h"
#include "usbip-proto.h"
#include "usbip-text.h"

#define TRACKER_CAP 65536

/* ---- big-endian helpers ---- */

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static inline guint32
rd32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static inline void
wr16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
wr32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

static void
append16 (GByteArray *out, guint16 v)
{
  guint8 b[2];
  wr16 (b, v);
  g_byte_array_append (out, b, 2);
}

static void
append32 (GByteArray *out, guint32 v)
{
  guint8 b[4];
  wr32 (b, v);
  g_byte_array_append (out, b, 4);
}

static void
append_fixed_string (GByteArray *out, const gchar *s, gsize width)
{
  guint8 buf[USBIP_PATH_SIZE] = { 0 };
  gsize n = s != NULL ? strnlen (s, width - 1) : 0;

  g_assert (width <= sizeof buf);
  if (n > 0)
    memcpy (buf, s, n);
  g_byte_array_append (out, buf, width);
}

/* A string field must be NUL-terminated within its width. */
static gboolean
read_fixed_string (const guint8 *p, gsize width, gchar *out, const gchar *what, GError **error)
{
  if (memchr (p, '\0', width) == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s field is not NUL-terminated within its %" G_GSIZE_FORMAT " bytes", what,
                   width);
      return FALSE;
    }
  memcpy (out, p, width);
  return TRUE;
}

/* ---- messages ---- */

/**
 * usbip_message_clear:
 * @msg: a #UsbipMessage
 *
 * Frees what @msg owns (device list, device, ISO descriptors) and zeroes it.
 *
 * Since: 0.1
 */
void
usbip_message_clear (UsbipMessage *msg)
{
  if (msg == NULL)
    return;
  g_clear_pointer (&msg->devices, g_ptr_array_unref);
  g_clear_pointer (&msg->device, usbip_device_info_free);
  g_clear_pointer (&msg->iso, g_free);
  memset (msg, 0, sizeof *msg);
}

/**
 * usbip_message_type_to_string:
 * @type: a #UsbipMessageType
 *
 * Returns: the message's protocol name, e.g. "OP_REQ_DEVLIST", "USBIP_CMD_SUBMIT"
 *
 * Since: 0.1
 */
const gchar *
usbip_message_type_to_string (UsbipMessageType type)
{
  switch (type)
    {
    case USBIP_MESSAGE_OP_REQ_DEVLIST:
      return "OP_REQ_DEVLIST";
    case USBIP_MESSAGE_OP_REP_DEVLIST:
      return "OP_REP_DEVLIST";
    case USBIP_MESSAGE_OP_REQ_IMPORT:
      return "OP_REQ_IMPORT";
    case USBIP_MESSAGE_OP_REP_IMPORT:
      return "OP_REP_IMPORT";
    case USBIP_MESSAGE_CMD_SUBMIT:
      return "USBIP_CMD_SUBMIT";
    case USBIP_MESSAGE_RET_SUBMIT:
      return "USBIP_RET_SUBMIT";
    case USBIP_MESSAGE_CMD_UNLINK:
      return "USBIP_CMD_UNLINK";
    case USBIP_MESSAGE_RET_UNLINK:
      return "USBIP_RET_UNLINK";
    default:
      return "UNKNOWN";
    }
}

/* ---- encoding ---- */

/**
 * usbip_encode_op_header:
 * @out: buffer to append to
 * @code: operation code, e.g. %USBIP_OP_REQ_IMPORT
 * @status: status (0 in requests)
 *
 * Appends the 8-byte handshake header with version 0x0111.
 *
 * Since: 0.1
 */
void
usbip_encode_op_header (GByteArray *out, guint16 code, guint32 status)
{
  append16 (out, USBIP_PROTO_VERSION);
  append16 (out, code);
  append32 (out, status);
}

/**
 * usbip_encode_op_req_devlist:
 * @out: buffer to append to
 *
 * Appends an OP_REQ_DEVLIST (a header alone).
 *
 * Since: 0.1
 */
void
usbip_encode_op_req_devlist (GByteArray *out)
{
  usbip_encode_op_header (out, USBIP_OP_REQ_DEVLIST, 0);
}

/**
 * usbip_encode_op_req_import:
 * @out: buffer to append to
 * @busid: busid to import (at most 31 bytes are sent)
 *
 * Appends an OP_REQ_IMPORT: header and the 32-byte busid field.
 *
 * Since: 0.1
 */
void
usbip_encode_op_req_import (GByteArray *out, const gchar *busid)
{
  usbip_encode_op_header (out, USBIP_OP_REQ_IMPORT, 0);
  append_fixed_string (out, busid, USBIP_BUSID_SIZE);
}

/**
 * usbip_encode_device_record:
 * @out: buffer to append to
 * @device: the device
 * @with_interfaces: append the @device->bNumInterfaces interface records (DEVLIST)
 *
 * Appends the 312-byte device record, then the 4-byte interface records if asked.
 *
 * Since: 0.1
 */
void
usbip_encode_device_record (GByteArray *out, const UsbipDeviceInfo *device, gboolean with_interfaces)
{
  guint8 tail[12];

  append_fixed_string (out, device->path, USBIP_PATH_SIZE);
  append_fixed_string (out, device->busid, USBIP_BUSID_SIZE);
  append32 (out, device->busnum);
  append32 (out, device->devnum);
  append32 (out, device->speed);
  append16 (out, device->idVendor);
  append16 (out, device->idProduct);
  append16 (out, device->bcdDevice);
  tail[0] = device->bDeviceClass;
  tail[1] = device->bDeviceSubClass;
  tail[2] = device->bDeviceProtocol;
  tail[3] = device->bConfigurationValue;
  tail[4] = device->bNumConfigurations;
  tail[5] = device->bNumInterfaces;
  g_byte_array_append (out, tail, 6);
  if (with_interfaces)
    {
      guint n = MIN (device->bNumInterfaces, USBIP_MAX_INTERFACES);
      for (guint i = 0; i < n; i++)
        {
          guint8 rec[4] = { device->interfaces[i].bInterfaceClass,
                            device->interfaces[i].bInterfaceSubClass,
                            device->interfaces[i].bInterfaceProtocol, 0 };
          g_byte_array_append (out, rec, 4);
        }
    }
}

/**
 * usbip_encode_op_rep_devlist:
 * @out: buffer to append to
 * @status: reply status
 * @devices: (element-type UsbipDeviceInfo) (nullable): devices to list
 *
 * Appends an OP_REP_DEVLIST: header, device count, records with interfaces.
 *
 * Since: 0.1
 */
void
usbip_encode_op_rep_devlist (GByteArray *out, guint32 status, GPtrArray *devices)
{
  guint n = devices != NULL ? devices->len : 0;

  usbip_encode_op_header (out, USBIP_OP_REP_DEVLIST, status);
  append32 (out, n);
  for (guint i = 0; i < n; i++)
    usbip_encode_device_record (out, g_ptr_array_index (devices, i), TRUE);
}

/**
 * usbip_encode_op_rep_import:
 * @out: buffer to append to
 * @status: reply status
 * @device: (nullable): the device, written only when @status is 0
 *
 * Appends an OP_REP_IMPORT: header, and the device record (no interfaces) on success.
 *
 * Since: 0.1
 */
void
usbip_encode_op_rep_import (GByteArray *out, guint32 status, const UsbipDeviceInfo *device)
{
  usbip_encode_op_header (out, USBIP_OP_REP_IMPORT, status);
  if (status == USBIP_ST_OK)
    {
      UsbipDeviceInfo empty = { 0 };
      usbip_encode_device_record (out, device != NULL ? device : &empty, FALSE);
    }
}

/**
 * usbip_encode_urb_header:
 * @out: buffer to append to
 * @hdr: the header
 *
 * Appends the 48-byte URB header (basic header + command-specific part).
 *
 * Since: 0.1
 */
void
usbip_encode_urb_header (GByteArray *out, const UsbipUrbHeader *hdr)
{
  guint8 b[USBIP_URB_HEADER_SIZE] = { 0 };

  wr32 (b + 0, hdr->command);
  wr32 (b + 4, hdr->seqnum);
  wr32 (b + 8, hdr->devid);
  wr32 (b + 12, hdr->direction);
  wr32 (b + 16, hdr->ep);
  switch (hdr->command)
    {
    case USBIP_CMD_SUBMIT:
      wr32 (b + 20, hdr->u.cmd_submit.transfer_flags);
      wr32 (b + 24, (guint32) hdr->u.cmd_submit.transfer_buffer_length);
      wr32 (b + 28, (guint32) hdr->u.cmd_submit.start_frame);
      wr32 (b + 32, (guint32) hdr->u.cmd_submit.number_of_packets);
      wr32 (b + 36, (guint32) hdr->u.cmd_submit.interval);
      memcpy (b + 40, hdr->u.cmd_submit.setup, 8);
      break;
    case USBIP_RET_SUBMIT:
      wr32 (b + 20, (guint32) hdr->u.ret_submit.status);
      wr32 (b + 24, (guint32) hdr->u.ret_submit.actual_length);
      wr32 (b + 28, (guint32) hdr->u.ret_submit.start_frame);
      wr32 (b + 32, (guint32) hdr->u.ret_submit.number_of_packets);
      wr32 (b + 36, (guint32) hdr->u.ret_submit.error_count);
      memcpy (b + 40, hdr->u.ret_submit.padding, 8);
      break;
    case USBIP_CMD_UNLINK:
      wr32 (b + 20, hdr->u.cmd_unlink.unlink_seqnum);
      memcpy (b + 24, hdr->u.cmd_unlink.padding, 24);
      break;
    case USBIP_RET_UNLINK:
      wr32 (b + 20, (guint32) hdr->u.ret_unlink.status);
      memcpy (b + 24, hdr->u.ret_unlink.padding, 24);
      break;
    default:
      /* unknown command: keep the 28 bytes as zero */
      break;
    }
  g_byte_array_append (out, b, sizeof b);
}

static void
append_iso (GByteArray *out, const UsbipIsoPacket *iso, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      append32 (out, iso[i].offset);
      append32 (out, iso[i].length);
      append32 (out, iso[i].actual_length);
      append32 (out, iso[i].status);
    }
}

/**
 * usbip_message_encode:
 * @msg: the message
 * @out: buffer to append to
 *
 * Appends any message in its wire form. URB messages append @msg->data after the header
 * (callers put data only where the protocol carries it) and then @msg->iso.
 *
 * Since: 0.1
 */
void
usbip_message_encode (const UsbipMessage *msg, GByteArray *out)
{
  switch (msg->type)
    {
    case USBIP_MESSAGE_OP_REQ_DEVLIST:
      usbip_encode_op_header (out, USBIP_OP_REQ_DEVLIST, msg->op.status);
      break;
    case USBIP_MESSAGE_OP_REQ_IMPORT:
      usbip_encode_op_header (out, USBIP_OP_REQ_IMPORT, msg->op.status);
      append_fixed_string (out, msg->busid, USBIP_BUSID_SIZE);
      break;
    case USBIP_MESSAGE_OP_REP_DEVLIST:
      usbip_encode_op_rep_devlist (out, msg->op.status, msg->devices);
      break;
    case USBIP_MESSAGE_OP_REP_IMPORT:
      usbip_encode_op_rep_import (out, msg->op.status, msg->device);
      break;
    case USBIP_MESSAGE_CMD_SUBMIT:
    case USBIP_MESSAGE_RET_SUBMIT:
    case USBIP_MESSAGE_CMD_UNLINK:
    case USBIP_MESSAGE_RET_UNLINK:
      usbip_encode_urb_header (out, &msg->urb);
      if (msg->data_len > 0)
        g_byte_array_append (out, msg->data, msg->data_len);
      append_iso (out, msg->iso, msg->n_iso);
      break;
    default:
      g_warn_if_reached ();
    }
}

/* ---- decoding pieces ---- */

static gboolean
check_len (gsize have, gsize need, const gchar *what, GError **error)
{
  if (have < need)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s needs %" G_GSIZE_FORMAT " bytes, only %" G_GSIZE_FORMAT " given", what, need,
                   have);
      return FALSE;
    }
  return TRUE;
}

/**
 * usbip_decode_op_header:
 * @buf: (array length=len): bytes
 * @len: their number
 * @out: (out caller-allocates): the header
 * @error: return location for a #GError, or %NULL
 *
 * Decodes the 8-byte handshake header. Checks only the length; version and code are the
 * caller's (the deframer's) to judge.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
usbip_decode_op_header (const guint8 *buf, gsize len, UsbipOpHeader *out, GError **error)
{
  if (!check_len (len, USBIP_OP_HEADER_SIZE, "a handshake header", error))
    return FALSE;
  out->version = rd16 (buf);
  out->code = rd16 (buf + 2);
  out->status = rd32 (buf + 4);
  return TRUE;
}

/**
 * usbip_decode_device_record:
 * @buf: (array length=len): bytes
 * @len: their number
 * @out: (out caller-allocates): the device (interfaces not read: they follow the record)
 * @error: return location for a #GError, or %NULL
 *
 * Decodes the 312-byte device record. Rejects unterminated path/busid fields and a
 * bNumInterfaces above %USBIP_MAX_INTERFACES.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
usbip_decode_device_record (const guint8 *buf, gsize len, UsbipDeviceInfo *out, GError **error)
{
  const guint8 *p = buf;

  if (!check_len (len, USBIP_DEVICE_RECORD_SIZE, "a device record", error))
    return FALSE;
  memset (out, 0, sizeof *out);
  if (!read_fixed_string (p, USBIP_PATH_SIZE, out->path, "device path", error))
    return FALSE;
  p += USBIP_PATH_SIZE;
  if (!read_fixed_string (p, USBIP_BUSID_SIZE, out->busid, "device busid", error))
    return FALSE;
  p += USBIP_BUSID_SIZE;
  out->busnum = rd32 (p);
  out->devnum = rd32 (p + 4);
  out->speed = (UsbipSpeed) rd32 (p + 8);
  out->idVendor = rd16 (p + 12);
  out->idProduct = rd16 (p + 14);
  out->bcdDevice = rd16 (p + 16);
  out->bDeviceClass = p[18];
  out->bDeviceSubClass = p[19];
  out->bDeviceProtocol = p[20];
  out->bConfigurationValue = p[21];
  out->bNumConfigurations = p[22];
  out->bNumInterfaces = p[23];
  if (out->bNumInterfaces > USBIP_MAX_INTERFACES)
    {
      /* the busid is the peer's bytes: escaped, so the message is printable UTF-8 */
      g_autofree gchar *busid = usbip_text_escape (out->busid, -1);
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "device \"%s\" announces %u interfaces; at most %u are accepted", busid,
                   out->bNumInterfaces, USBIP_MAX_INTERFACES);
      return FALSE;
    }
  return TRUE;
}

/**
 * usbip_decode_urb_header:
 * @buf: (array length=len): bytes
 * @len: their number
 * @out: (out caller-allocates): the header
 * @error: return location for a #GError, or %NULL
 *
 * Decodes the 48-byte URB header. Unknown commands are an error
 * (%USBIP_ERROR_UNKNOWN_OPCODE).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
usbip_decode_urb_header (const guint8 *buf, gsize len, UsbipUrbHeader *out, GError **error)
{
  if (!check_len (len, USBIP_URB_HEADER_SIZE, "a URB header", error))
    return FALSE;
  memset (out, 0, sizeof *out);
  out->command = rd32 (buf);
  out->seqnum = rd32 (buf + 4);
  out->devid = rd32 (buf + 8);
  out->direction = rd32 (buf + 12);
  out->ep = rd32 (buf + 16);
  switch (out->command)
    {
    case USBIP_CMD_SUBMIT:
      out->u.cmd_submit.transfer_flags = rd32 (buf + 20);
      out->u.cmd_submit.transfer_buffer_length = (gint32) rd32 (buf + 24);
      out->u.cmd_submit.start_frame = (gint32) rd32 (buf + 28);
      out->u.cmd_submit.number_of_packets = (gint32) rd32 (buf + 32);
      out->u.cmd_submit.interval = (gint32) rd32 (buf + 36);
      memcpy (out->u.cmd_submit.setup, buf + 40, 8);
      return TRUE;
    case USBIP_RET_SUBMIT:
      out->u.ret_submit.status = (gint32) rd32 (buf + 20);
      out->u.ret_submit.actual_length = (gint32) rd32 (buf + 24);
      out->u.ret_submit.start_frame = (gint32) rd32 (buf + 28);
      out->u.ret_submit.number_of_packets = (gint32) rd32 (buf + 32);
      out->u.ret_submit.error_count = (gint32) rd32 (buf + 36);
      memcpy (out->u.ret_submit.padding, buf + 40, 8);
      return TRUE;
    case USBIP_CMD_UNLINK:
      out->u.cmd_unlink.unlink_seqnum = rd32 (buf + 20);
      memcpy (out->u.cmd_unlink.padding, buf + 24, 24);
      return TRUE;
    case USBIP_RET_UNLINK:
      out->u.ret_unlink.status = (gint32) rd32 (buf + 20);
      memcpy (out->u.ret_unlink.padding, buf + 24, 24);
      return TRUE;
    default:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_UNKNOWN_OPCODE,
                   "unknown URB command 0x%08x (seqnum %u)", out->command, out->seqnum);
      return FALSE;
    }
}

/* ---- URB tracker ---- */

/* One pending URB. The hash table maps its seqnum to its link in the age queue, so that
 * completing a URB forgets it at once (O(1)) and only pending URBs count toward the cap. */
typedef struct {
  guint32 seqnum;
  UsbipDirection direction;
} TrackedUrb;

struct _UsbipUrbTracker {
  GHashTable *pending; /* seqnum -> GList link in order (data: TrackedUrb) */
  GQueue order;        /* pending URBs, oldest first */
};

static void
tracker_forget (UsbipUrbTracker *self, GList *link)
{
  TrackedUrb *urb = link->data;

  g_hash_table_remove (self->pending, GUINT_TO_POINTER (urb->seqnum));
  g_queue_unlink (&self->order, link);
  g_free (urb);
  g_list_free_1 (link);
}

/* the direction of a pending URB, without forgetting it */
static gboolean
tracker_lookup (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection *direction)
{
  GList *link = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (seqnum));

  if (link == NULL)
    return FALSE;
  if (direction != NULL)
    *direction = ((TrackedUrb *) link->data)->direction;
  return TRUE;
}

/**
 * usbip_urb_tracker_new:
 *
 * Returns: (transfer full): a new, empty tracker
 *
 * Since: 0.1
 */
UsbipUrbTracker *
usbip_urb_tracker_new (void)
{
  UsbipUrbTracker *self = g_new0 (UsbipUrbTracker, 1);

  self->pending = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_queue_init (&self->order);
  return self;
}

/**
 * usbip_urb_tracker_free:
 * @self: (nullable): a tracker
 *
 * Frees @self.
 *
 * Since: 0.1
 */
void
usbip_urb_tracker_free (UsbipUrbTracker *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->pending);
  g_queue_clear_full (&self->order, g_free);
  g_free (self);
}

/**
 * usbip_urb_tracker_add:
 * @self: a tracker
 * @seqnum: the CMD_SUBMIT's seqnum
 * @direction: its direction
 *
 * Remembers a submitted URB's direction until its RET_SUBMIT takes it. Only URBs still
 * pending count toward the cap of 65536: past it, the oldest pending URB is forgotten.
 *
 * Since: 0.1
 */
void
usbip_urb_tracker_add (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection direction)
{
  GList *link = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (seqnum));
  TrackedUrb *urb;

  if (link != NULL)
    {
      /* a seqnum submitted again: the newer submission is the one a return answers */
      ((TrackedUrb *) link->data)->direction = direction;
      return;
    }
  while (self->order.length >= TRACKER_CAP)
    tracker_forget (self, self->order.head);
  urb = g_new (TrackedUrb, 1);
  urb->seqnum = seqnum;
  urb->direction = direction;
  g_queue_push_tail (&self->order, urb);
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (seqnum), self->order.tail);
}

/**
 * usbip_urb_tracker_take:
 * @self: a tracker
 * @seqnum: a seqnum
 * @direction: (out) (optional): its direction
 *
 * Looks up and forgets a seqnum.
 *
 * Returns: %FALSE if the seqnum is unknown
 *
 * Since: 0.1
 */
gboolean
usbip_urb_tracker_take (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection *direction)
{
  GList *link = g_hash_table_lookup (self->pending, GUINT_TO_POINTER (seqnum));

  if (link == NULL)
    return FALSE;
  if (direction != NULL)
    *direction = ((TrackedUrb *) link->data)->direction;
  tracker_forget (self, link);
  return TRUE;
}

/* ---- deframer ---- */

struct _UsbipDeframer {
  UsbipStream stream;
  UsbipUrbTracker *tracker;
  UsbipUrbTracker *own_tracker;
};

/**
 * usbip_deframer_new:
 * @stream: which side and phase the bytes come from
 * @tracker: (nullable) (transfer none): shared URB tracker, or %NULL for a private one
 *
 * Returns: (transfer full): a new deframer
 *
 * Since: 0.1
 */
UsbipDeframer *
usbip_deframer_new (UsbipStream stream, UsbipUrbTracker *tracker)
{
  UsbipDeframer *self = g_new0 (UsbipDeframer, 1);

  self->stream = stream;
  if (tracker == NULL)
    tracker = self->own_tracker = usbip_urb_tracker_new ();
  self->tracker = tracker;
  return self;
}

/**
 * usbip_deframer_free:
 * @self: (nullable): a deframer
 *
 * Frees @self (and its private tracker, if it has one).
 *
 * Since: 0.1
 */
void
usbip_deframer_free (UsbipDeframer *self)
{
  if (self == NULL)
    return;
  usbip_urb_tracker_free (self->own_tracker);
  g_free (self);
}

/**
 * usbip_deframer_get_tracker:
 * @self: a deframer
 *
 * Returns: (transfer none): the tracker in use
 *
 * Since: 0.1
 */
UsbipUrbTracker *
usbip_deframer_get_tracker (UsbipDeframer *self)
{
  return self->tracker;
}

/**
 * usbip_deframer_set_stream:
 * @self: a deframer
 * @stream: the new phase
 *
 * Switches phase, e.g. from %USBIP_STREAM_OP_REPLY to %USBIP_STREAM_URB_RETURN after a
 * successful import.
 *
 * Since: 0.1
 */
void
usbip_deframer_set_stream (UsbipDeframer *self, UsbipStream stream)
{
  self->stream = stream;
}

/**
 * usbip_deframer_get_stream:
 * @self: a deframer
 *
 * Returns: the current phase
 *
 * Since: 0.1
 */
UsbipStream
usbip_deframer_get_stream (UsbipDeframer *self)
{
  return self->stream;
}

static UsbipDeframeResult
invalid (GError **error, UsbipErrorCode code, const gchar *format, ...) G_GNUC_PRINTF (3, 4);

static UsbipDeframeResult
invalid (GError **error, UsbipErrorCode code, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (USBIP_ERROR, code, format, args);
  va_end (args);
  return USBIP_DEFRAME_INVALID;
}

static UsbipDeframeResult
pop_op (UsbipDeframer *self, const guint8 *data, gsize len, gsize *consumed, UsbipMessage *msg,
        GError **error)
{
  gboolean request = self->stream == USBIP_STREAM_OP_REQUEST;
  UsbipOpHeader hdr;
  guint64 need = USBIP_OP_HEADER_SIZE;

  if (len < USBIP_OP_HEADER_SIZE)
    return USBIP_DEFRAME_NEED_MORE;
  usbip_decode_op_header (data, len, &hdr, NULL);
  if (hdr.version != USBIP_PROTO_VERSION)
    return invalid (error, USBIP_ERROR_VERSION,
                    "peer speaks USB/IP version %x.%02x, this speaks 1.11 (0x0111)",
                    hdr.version >> 8, hdr.version & 0xff);
  if ((hdr.code & USBIP_OP_REQUEST) != (request ? USBIP_OP_REQUEST : 0))
    {
      if (hdr.code == USBIP_OP_REQ_DEVLIST || hdr.code == USBIP_OP_REQ_IMPORT
          || hdr.code == USBIP_OP_REP_DEVLIST || hdr.code == USBIP_OP_REP_IMPORT)
        return invalid (error, USBIP_ERROR_PROTOCOL, "unexpected %s code 0x%04x in a %s stream",
                        request ? "reply" : "request", hdr.code,
                        request ? "request" : "reply");
      return invalid (error, USBIP_ERROR_UNKNOWN_OPCODE, "unknown operation code 0x%04x",
                      hdr.code);
    }

  memset (msg, 0, sizeof *msg);
  msg->op = hdr;
  switch (hdr.code)
    {
    case USBIP_OP_REQ_DEVLIST:
      msg->type = USBIP_MESSAGE_OP_REQ_DEVLIST;
      break;

    case USBIP_OP_REQ_IMPORT:
      need += USBIP_BUSID_SIZE;
      if (len < need)
        return USBIP_DEFRAME_NEED_MORE;
      msg->type = USBIP_MESSAGE_OP_REQ_IMPORT;
      if (!read_fixed_string (data + USBIP_OP_HEADER_SIZE, USBIP_BUSID_SIZE, msg->busid,
                              "requested busid", error))
        return USBIP_DEFRAME_INVALID;
      break;

    case USBIP_OP_REP_IMPORT:
      msg->type = USBIP_MESSAGE_OP_REP_IMPORT;
      if (hdr.status == USBIP_ST_OK)
        {
          g_autoptr (UsbipDeviceInfo) dev = usbip_device_info_new ();
          need += USBIP_DEVICE_RECORD_SIZE;
          if (len < need)
            return USBIP_DEFRAME_NEED_MORE;
          if (!usbip_decode_device_record (data + USBIP_OP_HEADER_SIZE, USBIP_DEVICE_RECORD_SIZE,
                                           dev, error))
            return USBIP_DEFRAME_INVALID;
          msg->device = g_steal_pointer (&dev);
        }
      break;

    case USBIP_OP_REP_DEVLIST:
      {
        guint32 ndev;
        guint64 off;
        g_autoptr (GPtrArray) devices = NULL;

        msg->type = USBIP_MESSAGE_OP_REP_DEVLIST;
        need += 4;
        if (len < need)
          return USBIP_DEFRAME_NEED_MORE;
        ndev = rd32 (data + USBIP_OP_HEADER_SIZE);
        if (ndev > USBIP_MAX_DEVICES)
          return invalid (error, USBIP_ERROR_PROTOCOL,
                          "device list announces %u devices; at most %u are accepted", ndev,
                          USBIP_MAX_DEVICES);
        /* walk the records first, without allocating, to know the frame is whole */
        off = need;
        for (guint32 i = 0; i < ndev; i++)
          {
            guint nif;
            if (len < off + USBIP_DEVICE_RECORD_SIZE)
              return USBIP_DEFRAME_NEED_MORE;
            nif = data[off + USBIP_DEVICE_RECORD_SIZE - 1];
            if (nif > USBIP_MAX_INTERFACES)
              return invalid (error, USBIP_ERROR_PROTOCOL,
                              "device %u of the list announces %u interfaces; at most %u are "
                              "accepted",
                              i, nif, USBIP_MAX_INTERFACES);
            off += USBIP_DEVICE_RECORD_SIZE + (guint64) nif * USBIP_INTERFACE_RECORD_SIZE;
          }
        if (len < off)
          return USBIP_DEFRAME_NEED_MORE;
        devices = g_ptr_array_new_full (ndev, (GDestroyNotify) usbip_device_info_free);
        off = need;
        for (guint32 i = 0; i < ndev; i++)
          {
            g_autoptr (UsbipDeviceInfo) dev = usbip_device_info_new ();
            if (!usbip_decode_device_record (data + off, len - off, dev, error))
              return USBIP_DEFRAME_INVALID;
            off += USBIP_DEVICE_RECORD_SIZE;
            for (guint j = 0; j < dev->bNumInterfaces; j++)
              {
                dev->interfaces[j].bInterfaceClass = data[off];
                dev->interfaces[j].bInterfaceSubClass = data[off + 1];
                dev->interfaces[j].bInterfaceProtocol = data[off + 2];
                off += USBIP_INTERFACE_RECORD_SIZE;
              }
            g_ptr_array_add (devices, g_steal_pointer (&dev));
          }
        need = off;
        msg->devices = g_steal_pointer (&devices);
        break;
      }

    default:
      return invalid (error, USBIP_ERROR_UNKNOWN_OPCODE, "unknown operation code 0x%04x",
                      hdr.code);
    }
  *consumed = need;
  return USBIP_DEFRAME_FRAME;
}

static gboolean
iso_count (gint32 n, guint *out, GError **error)
{
  /* 0 and -1 (0xffffffff) both mean "not an ISO transfer" */
  if (n == 0 || n == -1)
    {
      *out = 0;
      return TRUE;
    }
  if (n < 0 || n > USBIP_MAX_ISO_PACKETS)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "number_of_packets %d is out of range (at most %d)", n, USBIP_MAX_ISO_PACKETS);
      return FALSE;
    }
  *out = (guint) n;
  return TRUE;
}

static gboolean
transfer_length (gint32 n, const gchar *what, guint32 *out, GError **error)
{
  if (n < 0 || (guint32) n > USBIP_MAX_TRANSFER_LENGTH)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s %d is out of range (0 to %u)", what, n, USBIP_MAX_TRANSFER_LENGTH);
      return FALSE;
    }
  *out = (guint32) n;
  return TRUE;
}

static UsbipDeframeResult
pop_urb (UsbipDeframer *self, const guint8 *data, gsize len, gsize *consumed, UsbipMessage *msg,
         GError **error)
{
  gboolean commands = self->stream == USBIP_STREAM_URB_COMMAND;
  UsbipUrbHeader hdr;
  guint32 data_len = 0;
  guint n_iso = 0;
  guint64 need;

  if (len < USBIP_URB_HEADER_SIZE)
    return USBIP_DEFRAME_NEED_MORE;
  if (!usbip_decode_urb_header (data, len, &hdr, error))
    return USBIP_DEFRAME_INVALID;
  if (commands != (hdr.command == USBIP_CMD_SUBMIT || hdr.command == USBIP_CMD_UNLINK))
    return invalid (error, USBIP_ERROR_PROTOCOL, "unexpected %s (seqnum %u) in a %s stream",
                    hdr.command == USBIP_CMD_SUBMIT   ? "USBIP_CMD_SUBMIT"
                    : hdr.command == USBIP_CMD_UNLINK ? "USBIP_CMD_UNLINK"
                    : hdr.command == USBIP_RET_SUBMIT ? "USBIP_RET_SUBMIT"
                                                      : "USBIP_RET_UNLINK",
                    hdr.seqnum, commands ? "command" : "return");

  switch (hdr.command)
    {
    case USBIP_CMD_SUBMIT:
      if (hdr.direction > USBIP_DIR_IN)
        return invalid (error, USBIP_ERROR_PROTOCOL, "USBIP_CMD_SUBMIT %u: direction %u is not 0 or 1",
                        hdr.seqnum, hdr.direction);
      if (!transfer_length (hdr.u.cmd_submit.transfer_buffer_length, "transfer_buffer_length",
                            &data_len, error)
          || !iso_count (hdr.u.cmd_submit.number_of_packets, &n_iso, error))
        return USBIP_DEFRAME_INVALID;
      if (hdr.direction == USBIP_DIR_IN)
        data_len = 0;
      break;
    case USBIP_RET_SUBMIT:
      {
        UsbipDirection dir = USBIP_DIR_OUT;
        if (!transfer_length (hdr.u.ret_submit.actual_length, "actual_length", &data_len, error)
            || !iso_count (hdr.u.ret_submit.number_of_packets, &n_iso, error))
          return USBIP_DEFRAME_INVALID;
        /* look without forgetting yet: the frame may still be incomplete */
        if (!tracker_lookup (self->tracker, hdr.seqnum, &dir) && hdr.direction == USBIP_DIR_IN)
          dir = USBIP_DIR_IN;
        if (dir == USBIP_DIR_OUT)
          data_len = 0;
        break;
      }
    default:
      break;
    }

  need = (guint64) USBIP_URB_HEADER_SIZE + data_len + (guint64) n_iso * USBIP_ISO_PACKET_SIZE;
  if ((guint64) len < need)
    return USBIP_DEFRAME_NEED_MORE;

  memset (msg, 0, sizeof *msg);
  msg->urb = hdr;
  switch (hdr.command)
    {
    case USBIP_CMD_SUBMIT:
      msg->type = USBIP_MESSAGE_CMD_SUBMIT;
      usbip_urb_tracker_add (self->tracker, hdr.seqnum, (UsbipDirection) hdr.direction);
      break;
    case USBIP_RET_SUBMIT:
      msg->type = USBIP_MESSAGE_RET_SUBMIT;
      usbip_urb_tracker_take (self->tracker, hdr.seqnum, NULL);
      break;
    case USBIP_CMD_UNLINK:
      msg->type = USBIP_MESSAGE_CMD_UNLINK;
      break;
    default:
      msg->type = USBIP_MESSAGE_RET_UNLINK;
      break;
    }
  msg->data = data_len > 0 ? data + USBIP_URB_HEADER_SIZE : NULL;
  msg->data_len = data_len;
  if (n_iso > 0)
    {
      const guint8 *p = data + USBIP_URB_HEADER_SIZE + data_len;
      msg->iso = g_new (UsbipIsoPacket, n_iso);
      msg->n_iso = n_iso;
      for (guint i = 0; i < n_iso; i++, p += USBIP_ISO_PACKET_SIZE)
        {
          msg->iso[i].offset = rd32 (p);
          msg->iso[i].length = rd32 (p + 4);
          msg->iso[i].actual_length = rd32 (p + 8);
          msg->iso[i].status = rd32 (p + 12);
        }
    }
  *consumed = (gsize) need;
  return USBIP_DEFRAME_FRAME;
}

/**
 * usbip_deframer_pop:
 * @self: a deframer
 * @data: (array length=len): buffered bytes of the stream
 * @len: how many
 * @consumed: (out): on %USBIP_DEFRAME_FRAME, the frame's size
 * @msg: (out caller-allocates): on %USBIP_DEFRAME_FRAME, the message
 * @error: return location for a #GError, or %NULL
 *
 * Tries to take one frame off the front of @data. Never reads past @len and consumes
 * nothing unless a whole frame is there.
 *
 * Returns: %USBIP_DEFRAME_NEED_MORE, %USBIP_DEFRAME_FRAME or %USBIP_DEFRAME_INVALID
 *
 * Since: 0.1
 */
UsbipDeframeResult
usbip_deframer_pop (UsbipDeframer *self, const guint8 *data, gsize len, gsize *consumed,
                    UsbipMessage *msg, GError **error)
{
  g_return_val_if_fail (self != NULL, USBIP_DEFRAME_INVALID);
  g_return_val_if_fail (data != NULL || len == 0, USBIP_DEFRAME_INVALID);
  g_return_val_if_fail (consumed != NULL && msg != NULL, USBIP_DEFRAME_INVALID);

  switch (self->stream)
    {
    case USBIP_STREAM_OP_REQUEST:
    case USBIP_STREAM_OP_REPLY:
      return pop_op (self, data, len, consumed, msg, error);
    default:
      return pop_urb (self, data, len, consumed, msg, error);
    }
}
