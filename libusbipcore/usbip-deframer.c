/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UsbipDeframer: takes exactly one whole USB/IP frame off the front of a byte buffer, or
 * says that more bytes are needed, or that the bytes are invalid. Lengths are summed in
 * 64-bit before being compared with what is present; counts are checked against the
 * USBIP_MAX_* caps before anything is allocated.
 */
#include "config.h"

#include <string.h>

#include "usbip-deframer.h"
#include "usbip-error.h"
#include "usbip-proto-private.h"
#include "usbip-urb-tracker-private.h"

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
 * Since: 1.0
 */
UsbipDeframer *
usbip_deframer_new (UsbipStream stream, UsbipUrbTracker *tracker)
{
  UsbipDeframer *self = NULL;

  g_return_val_if_fail (stream <= USBIP_STREAM_URB_RETURN, NULL);
  self = g_new0 (UsbipDeframer, 1);
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
 * Since: 1.0
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
 * Since: 1.0
 */
UsbipUrbTracker *
usbip_deframer_get_tracker (UsbipDeframer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
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
 * Since: 1.0
 */
void
usbip_deframer_set_stream (UsbipDeframer *self, UsbipStream stream)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stream <= USBIP_STREAM_URB_RETURN);
  self->stream = stream;
}

/**
 * usbip_deframer_get_stream:
 * @self: a deframer
 *
 * Returns: the current phase
 *
 * Since: 1.0
 */
UsbipStream
usbip_deframer_get_stream (UsbipDeframer *self)
{
  g_return_val_if_fail (self != NULL, USBIP_STREAM_OP_REQUEST);
  return self->stream;
}

static UsbipDeframeResult invalid (GError **error, UsbipError code, const gchar *format, ...) G_GNUC_PRINTF (3, 4);

static UsbipDeframeResult
invalid (GError **error, UsbipError code, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (USBIP_ERROR, code, format, args);
  va_end (args);
  return USBIP_DEFRAME_INVALID;
}

static UsbipDeframeResult
pop_op (UsbipDeframer *self, const guint8 *data, gsize len, gsize *consumed, UsbipMessage *msg, GError **error)
{
  gboolean request = self->stream == USBIP_STREAM_OP_REQUEST;
  UsbipOpHeader hdr;
  guint64 need = USBIP_OP_HEADER_SIZE;

  if (len < USBIP_OP_HEADER_SIZE)
    return USBIP_DEFRAME_NEED_MORE;
  usbip_decode_op_header (data, len, &hdr, NULL);
  if (hdr.version != USBIP_PROTO_VERSION)
    return invalid (error, USBIP_ERROR_VERSION, "peer speaks USB/IP version %x.%02x, this speaks 1.11 (0x0111)",
                    hdr.version >> 8, hdr.version & 0xff);
  if ((hdr.code & USBIP_OP_REQUEST) != (request ? USBIP_OP_REQUEST : 0))
    {
      if (hdr.code == USBIP_OP_REQ_DEVLIST || hdr.code == USBIP_OP_REQ_IMPORT || hdr.code == USBIP_OP_REP_DEVLIST
          || hdr.code == USBIP_OP_REP_IMPORT)
        return invalid (error, USBIP_ERROR_PROTOCOL, "unexpected %s code 0x%04x in a %s stream",
                        request ? "reply" : "request", hdr.code, request ? "request" : "reply");
      return invalid (error, USBIP_ERROR_UNKNOWN_OPCODE, "unknown operation code 0x%04x", hdr.code);
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
      if (!usbip_proto_read_fixed_string (data + USBIP_OP_HEADER_SIZE, USBIP_BUSID_SIZE, msg->busid, "requested busid",
                                          error))
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
          if (!usbip_decode_device_record (data + USBIP_OP_HEADER_SIZE, USBIP_DEVICE_RECORD_SIZE, dev, error))
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
          return invalid (error, USBIP_ERROR_PROTOCOL, "device list announces %u devices; at most %u are accepted",
                          ndev, USBIP_MAX_DEVICES);
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
      return invalid (error, USBIP_ERROR_UNKNOWN_OPCODE, "unknown operation code 0x%04x", hdr.code);
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
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL, "number_of_packets %d is out of range (at most %d)", n,
                   USBIP_MAX_ISO_PACKETS);
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
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL, "%s %d is out of range (0 to %u)", what, n,
                   USBIP_MAX_TRANSFER_LENGTH);
      return FALSE;
    }
  *out = (guint32) n;
  return TRUE;
}

static UsbipDeframeResult
pop_urb (UsbipDeframer *self, const guint8 *data, gsize len, gsize *consumed, UsbipMessage *msg, GError **error)
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
        return invalid (error, USBIP_ERROR_PROTOCOL, "USBIP_CMD_SUBMIT %u: direction %u is not 0 or 1", hdr.seqnum,
                        hdr.direction);
      if (!transfer_length (hdr.u.cmd_submit.transfer_buffer_length, "transfer_buffer_length", &data_len, error)
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
        if (!usbip_urb_tracker_lookup (self->tracker, hdr.seqnum, &dir) && hdr.direction == USBIP_DIR_IN)
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
 * Since: 1.0
 */
UsbipDeframeResult
usbip_deframer_pop (UsbipDeframer *self, const guint8 *data, gsize len, gsize *consumed, UsbipMessage *msg,
                    GError **error)
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
