/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The USB/IP wire codec. Pure: no I/O, no global state.
 *
 * Every decoder checks the length it is given (check_len()) before it reads a fixed-size
 * field with the byte helpers of usbip-proto-private.h, which do no checking of their own.
 * Framing a stream (lengths summed in 64-bit, counts capped before allocation) is the
 * deframer's job (usbip-deframer.c).
 */
#include "config.h"

#include <string.h>

#include "usbip-error.h"
#include "usbip-proto.h"
#include "usbip-proto-private.h"
#include "usbip-text.h"

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
gboolean
usbip_proto_read_fixed_string (const guint8 *p, gsize width, gchar *out, const gchar *what, GError **error)
{
  if (memchr (p, '\0', width) == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s field is not NUL-terminated within its %" G_GSIZE_FORMAT " bytes", what, width);
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
 * Since: 1.0
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
 * Since: 1.0
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
 * Since: 1.0
 */
void
usbip_encode_op_header (GByteArray *out, guint16 code, guint32 status)
{
  g_return_if_fail (out != NULL);
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
 * Since: 1.0
 */
void
usbip_encode_op_req_devlist (GByteArray *out)
{
  g_return_if_fail (out != NULL);
  usbip_encode_op_header (out, USBIP_OP_REQ_DEVLIST, 0);
}

/**
 * usbip_encode_op_req_import:
 * @out: buffer to append to
 * @busid: busid to import (at most 31 bytes are sent)
 *
 * Appends an OP_REQ_IMPORT: header and the 32-byte busid field.
 *
 * Since: 1.0
 */
void
usbip_encode_op_req_import (GByteArray *out, const gchar *busid)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (busid != NULL);
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
 * Since: 1.0
 */
void
usbip_encode_device_record (GByteArray *out, const UsbipDeviceInfo *device, gboolean with_interfaces)
{
  guint8 tail[12];

  g_return_if_fail (out != NULL);
  g_return_if_fail (device != NULL);
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
          guint8 rec[4] = { device->interfaces[i].bInterfaceClass, device->interfaces[i].bInterfaceSubClass,
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
 * Since: 1.0
 */
void
usbip_encode_op_rep_devlist (GByteArray *out, guint32 status, GPtrArray *devices)
{
  guint n = 0;

  g_return_if_fail (out != NULL);
  n = devices != NULL ? devices->len : 0;
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
 * Since: 1.0
 */
void
usbip_encode_op_rep_import (GByteArray *out, guint32 status, const UsbipDeviceInfo *device)
{
  g_return_if_fail (out != NULL);
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
 * Since: 1.0
 */
void
usbip_encode_urb_header (GByteArray *out, const UsbipUrbHeader *hdr)
{
  guint8 b[USBIP_URB_HEADER_SIZE] = { 0 };

  g_return_if_fail (out != NULL);
  g_return_if_fail (hdr != NULL);
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
 * Since: 1.0
 */
void
usbip_message_encode (const UsbipMessage *msg, GByteArray *out)
{
  g_return_if_fail (msg != NULL);
  g_return_if_fail (out != NULL);
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
                   "%s needs %" G_GSIZE_FORMAT " bytes, only %" G_GSIZE_FORMAT " given", what, need, have);
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
 * Since: 1.0
 */
gboolean
usbip_decode_op_header (const guint8 *buf, gsize len, UsbipOpHeader *out, GError **error)
{
  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
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
 * @out: (out caller-allocates): the device; its interfaces and status are zeroed (the
 *   interface records follow the device record; status is local)
 * @error: return location for a #GError, or %NULL
 *
 * Decodes the 312-byte device record. Rejects unterminated path/busid fields and a
 * bNumInterfaces above %USBIP_MAX_INTERFACES.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_decode_device_record (const guint8 *buf, gsize len, UsbipDeviceInfo *out, GError **error)
{
  const guint8 *p = NULL;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  p = buf;
  if (!check_len (len, USBIP_DEVICE_RECORD_SIZE, "a device record", error))
    return FALSE;
  memset (out, 0, sizeof *out);
  if (!usbip_proto_read_fixed_string (p, USBIP_PATH_SIZE, out->path, "device path", error))
    return FALSE;
  p += USBIP_PATH_SIZE;
  if (!usbip_proto_read_fixed_string (p, USBIP_BUSID_SIZE, out->busid, "device busid", error))
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
                   "device \"%s\" announces %u interfaces; at most %d are accepted", busid, out->bNumInterfaces,
                   USBIP_MAX_INTERFACES);
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
 * Since: 1.0
 */
gboolean
usbip_decode_urb_header (const guint8 *buf, gsize len, UsbipUrbHeader *out, GError **error)
{
  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
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
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_UNKNOWN_OPCODE, "unknown URB command 0x%08x (seqnum %u)",
                   out->command, out->seqnum);
      return FALSE;
    }
}
