/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes the seed corpus: small, valid messages for each fuzz target, made with the
 * library's own encoders. Usage: gen-fuzz-corpus DIR (normally tests/fuzz/corpus).
 * Deframer seeds start with the 4-byte chunk seed (fuzz-targets.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz-targets.h"

static const gchar *out_dir;

static void
write_seed (const gchar *target, const gchar *name, const guint8 *bytes, gsize len)
{
  g_autofree gchar *dir = g_build_filename (out_dir, target, NULL);
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    g_error ("cannot create %s: %s", dir, g_strerror (errno));
  if (!g_file_set_contents (path, (const gchar *) bytes, (gssize) len, &error))
    g_error ("%s", error->message);
}

/* a deframer seed: chunk seed, then the stream */
static void
write_stream (const gchar *target, const gchar *name, guint32 chunk_seed, GByteArray *stream)
{
  g_autoptr (GByteArray) all = g_byte_array_new ();
  guint8 s[4] = { chunk_seed >> 24, chunk_seed >> 16, chunk_seed >> 8, chunk_seed };

  g_byte_array_append (all, s, 4);
  g_byte_array_append (all, stream->data, stream->len);
  write_seed (target, name, all->data, all->len);
}

static UsbipDeviceInfo *
make_device (const gchar *busid, guint32 busnum, guint32 devnum, guint16 vid, guint16 pid,
             guint n_if)
{
  UsbipDeviceInfo *d = usbip_device_info_new ();

  g_snprintf (d->path, sizeof d->path, "/sys/devices/pci0000:00/0000:00:14.0/usb%u/%s",
              busnum, busid);
  g_strlcpy (d->busid, busid, sizeof d->busid);
  d->busnum = busnum;
  d->devnum = devnum;
  d->speed = USBIP_SPEED_HIGH;
  d->idVendor = vid;
  d->idProduct = pid;
  d->bcdDevice = 0x0100;
  d->bConfigurationValue = 1;
  d->bNumConfigurations = 1;
  d->bNumInterfaces = n_if;
  for (guint i = 0; i < n_if; i++)
    {
      d->interfaces[i].bInterfaceClass = i == 0 ? 0x08 : 0x03;
      d->interfaces[i].bInterfaceSubClass = i == 0 ? 0x06 : 0x01;
      d->interfaces[i].bInterfaceProtocol = i == 0 ? 0x50 : 0x02;
    }
  return d;
}

static void
append_urb (GByteArray *out, UsbipMessageType type, guint32 command, guint32 seqnum,
            guint32 direction, guint32 ep, const guint8 *data, gsize data_len, guint n_iso)
{
  UsbipMessage msg = { 0 };
  g_autofree UsbipIsoPacket *iso = n_iso > 0 ? g_new0 (UsbipIsoPacket, n_iso) : NULL;
  guint32 per = n_iso > 0 ? (guint32) (data_len / n_iso) : 0;

  msg.type = type;
  msg.urb.command = command;
  msg.urb.seqnum = seqnum;
  msg.urb.devid = (1u << 16) | 2;
  msg.urb.direction = direction;
  msg.urb.ep = ep;
  for (guint i = 0; i < n_iso; i++)
    {
      iso[i].offset = i * per;
      iso[i].length = per;
      iso[i].actual_length = per;
    }
  if (command == USBIP_CMD_SUBMIT)
    {
      msg.urb.u.cmd_submit.transfer_buffer_length = (gint32) data_len;
      msg.urb.u.cmd_submit.number_of_packets = n_iso > 0 ? (gint32) n_iso : -1;
      msg.urb.u.cmd_submit.interval = n_iso > 0 ? 1 : 0;
      if (ep == 0)
        {
          /* GET_DESCRIPTOR(device), 18 bytes */
          static const guint8 setup[8] = { 0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00 };
          memcpy (msg.urb.u.cmd_submit.setup, setup, 8);
        }
      if (direction == USBIP_DIR_OUT)
        {
          msg.data = data;
          msg.data_len = data_len;
        }
    }
  else if (command == USBIP_RET_SUBMIT)
    {
      msg.urb.u.ret_submit.actual_length = (gint32) data_len;
      msg.urb.u.ret_submit.number_of_packets = n_iso > 0 ? (gint32) n_iso : -1;
      if (direction == USBIP_DIR_IN)
        {
          msg.data = data;
          msg.data_len = data_len;
        }
    }
  else if (command == USBIP_CMD_UNLINK)
    msg.urb.u.cmd_unlink.unlink_seqnum = seqnum - 1;
  else
    msg.urb.u.ret_unlink.status = -104; /* -ECONNRESET */
  msg.iso = iso;
  msg.n_iso = n_iso;
  usbip_message_encode (&msg, out);
}

static void
gen_op (void)
{
  g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func (
      (GDestroyNotify) usbip_device_info_free);
  g_autoptr (UsbipDeviceInfo) imported = make_device ("1-1", 1, 2, 0x0781, 0x5567, 1);
  g_autoptr (GByteArray) b = g_byte_array_new ();
  guint8 payload[64];

  for (guint i = 0; i < sizeof payload; i++)
    payload[i] = (guint8) (i * 7);
  g_ptr_array_add (devices, make_device ("1-1", 1, 2, 0x0781, 0x5567, 1));
  g_ptr_array_add (devices, make_device ("2-1.4", 2, 5, 0x046d, 0xc52b, 3));

  usbip_encode_op_req_devlist (b);
  write_stream ("deframe_op_request", "req-devlist", 0x01020304, b);
  g_byte_array_set_size (b, 0);
  usbip_encode_op_req_import (b, "1-1");
  write_stream ("deframe_op_request", "req-import", 0x9e3779b9, b);
  /* an import, then the client's first commands on the same connection */
  append_urb (b, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 1, USBIP_DIR_OUT, 2, payload,
              sizeof payload, 0);
  append_urb (b, USBIP_MESSAGE_CMD_UNLINK, USBIP_CMD_UNLINK, 2, USBIP_DIR_OUT, 2, NULL, 0, 0);
  write_stream ("deframe_op_request", "req-import-then-urbs", 0x0badf00d, b);

  g_byte_array_set_size (b, 0);
  usbip_encode_op_rep_devlist (b, 0, devices);
  write_stream ("deframe_op_reply", "rep-devlist-2-devices", 0x12345678, b);
  g_byte_array_set_size (b, 0);
  usbip_encode_op_rep_import (b, 0, imported);
  write_stream ("deframe_op_reply", "rep-import", 0x87654321, b);
  append_urb (b, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 1, USBIP_DIR_IN, 1, payload,
              sizeof payload, 0);
  append_urb (b, USBIP_MESSAGE_RET_UNLINK, USBIP_RET_UNLINK, 2, USBIP_DIR_OUT, 1, NULL, 0, 0);
  write_stream ("deframe_op_reply", "rep-import-then-urbs", 0x31415927, b);
  g_byte_array_set_size (b, 0);
  usbip_encode_op_rep_import (b, USBIP_ST_NA, NULL);
  write_stream ("deframe_op_reply", "rep-import-error", 0x27182818, b);

  /* the decoder pieces, one header or record each */
  g_byte_array_set_size (b, 0);
  usbip_encode_op_req_devlist (b);
  write_seed ("decode_op_header", "req-devlist", b->data, b->len);
  g_byte_array_set_size (b, 0);
  usbip_encode_op_header (b, USBIP_OP_REP_IMPORT, USBIP_ST_DEV_BUSY);
  write_seed ("decode_op_header", "rep-import-busy", b->data, b->len);
  g_byte_array_set_size (b, 0);
  usbip_encode_device_record (b, g_ptr_array_index (devices, 0), FALSE);
  write_seed ("decode_device_record", "storage-1-1", b->data, b->len);
  g_byte_array_set_size (b, 0);
  usbip_encode_device_record (b, g_ptr_array_index (devices, 1), FALSE);
  write_seed ("decode_device_record", "hid-2-1.4", b->data, b->len);
}

static void
gen_urb (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GByteArray) mixed = g_byte_array_new ();
  guint8 data[192];
  static const guint8 descriptor[18] = { 0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x81,
                                         0x07, 0x67, 0x55, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01 };

  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) (0xa5 ^ i);

  /* command stream */
  append_urb (b, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 1, USBIP_DIR_OUT, 2, data, 64, 0);
  write_stream ("deframe_urb_command", "cmd-submit-bulk-out", 0x00c0ffee, b);
  write_seed ("decode_urb_header", "cmd-submit-bulk-out", b->data, USBIP_URB_HEADER_SIZE);
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 2, USBIP_DIR_IN, 0, NULL, 18, 0);
  write_stream ("deframe_urb_command", "cmd-submit-control-in", 0xfeedface, b);
  write_seed ("decode_urb_header", "cmd-submit-control-in", b->data, USBIP_URB_HEADER_SIZE);
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 3, USBIP_DIR_OUT, 3, data, 192, 8);
  write_stream ("deframe_urb_command", "cmd-submit-iso-out-8", 0xdeadbeef, b);
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_CMD_UNLINK, USBIP_CMD_UNLINK, 4, USBIP_DIR_OUT, 2, NULL, 0, 0);
  write_stream ("deframe_urb_command", "cmd-unlink", 0x55aa55aa, b);
  write_seed ("decode_urb_header", "cmd-unlink", b->data, USBIP_URB_HEADER_SIZE);

  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 10, USBIP_DIR_IN, 0, NULL, 18,
              0);
  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 11, USBIP_DIR_OUT, 2, data,
              128, 0);
  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 12, USBIP_DIR_IN, 1, NULL, 512,
              0);
  append_urb (mixed, USBIP_MESSAGE_CMD_UNLINK, USBIP_CMD_UNLINK, 13, USBIP_DIR_OUT, 1, NULL, 0,
              0);
  write_stream ("deframe_urb_command", "cmd-mixed", 0x13579bdf, mixed);

  /* return stream */
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 2, USBIP_DIR_IN, 0, descriptor,
              sizeof descriptor, 0);
  write_stream ("deframe_urb_return", "ret-submit-control-in", 0x2468ace0, b);
  write_seed ("decode_urb_header", "ret-submit-control-in", b->data, USBIP_URB_HEADER_SIZE);
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 5, USBIP_DIR_IN, 1, data, 128, 0);
  write_stream ("deframe_urb_return", "ret-submit-bulk-in", 0x0f0f0f0f, b);
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 1, USBIP_DIR_OUT, 2, NULL, 0, 0);
  write_stream ("deframe_urb_return", "ret-submit-out", 0x11111111, b);
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 6, USBIP_DIR_IN, 3, data, 192, 8);
  write_stream ("deframe_urb_return", "ret-submit-iso-in-8", 0x76543210, b);
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_RET_UNLINK, USBIP_RET_UNLINK, 4, USBIP_DIR_OUT, 2, NULL, 0, 0);
  write_stream ("deframe_urb_return", "ret-unlink", 0x9abcdef0, b);
  write_seed ("decode_urb_header", "ret-unlink", b->data, USBIP_URB_HEADER_SIZE);

  /* an unlink pair in flight: submit, unlink; the unlink answered, the submit cancelled */
  g_byte_array_set_size (mixed, 0);
  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 20, USBIP_DIR_IN, 1, NULL, 512,
              0);
  append_urb (mixed, USBIP_MESSAGE_CMD_UNLINK, USBIP_CMD_UNLINK, 21, USBIP_DIR_OUT, 1, NULL, 0,
              0);
  write_stream ("deframe_urb_command", "unlink-pair", 0x600dcafe, mixed);
  g_byte_array_set_size (mixed, 0);
  append_urb (mixed, USBIP_MESSAGE_RET_UNLINK, USBIP_RET_UNLINK, 21, USBIP_DIR_OUT, 1, NULL, 0,
              0);
  append_urb (mixed, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 20, USBIP_DIR_IN, 1, data, 0,
              0);
  write_stream ("deframe_urb_return", "unlink-pair", 0x600dcafe, mixed);
}

static void
gen_text (void)
{
  const gchar *busids[] = { "1-1", "1-1.2.3", "12-4.1", "usbip-vudc.0" };
  const gchar *remotes[] = { "host", "host:3240", "[::1]:3240", "192.0.2.7", "fe80::1",
                             "[fe80::1%eth0]" };

  for (guint i = 0; i < G_N_ELEMENTS (busids); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("busid-%u", i);
      write_seed ("busid_validate", name, (const guint8 *) busids[i], strlen (busids[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (remotes); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("remote-%u", i);
      write_seed ("remote_parse", name, (const guint8 *) remotes[i], strlen (remotes[i]));
    }
}

int
main (int argc, char *argv[])
{
  if (argc != 2)
    {
      g_printerr ("usage: %s DIR (e.g. tests/fuzz/corpus)\n", argv[0]);
      return 2;
    }
  out_dir = argv[1];
  gen_op ();
  gen_urb ();
  gen_text ();
  return 0;
}
