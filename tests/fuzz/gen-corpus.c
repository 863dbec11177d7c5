/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes the seed corpus: small, valid messages for each fuzz target, made with the
 * library's own encoders. Usage: gen-fuzz-corpus DIR (normally tests/fuzz/corpus).
 * Deframer seeds start with the 4-byte chunk seed (fuzz-targets.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "capture-builder.h"
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
make_device (const gchar *busid, guint32 busnum, guint32 devnum, guint16 vid, guint16 pid, guint n_if)
{
  UsbipDeviceInfo *d = usbip_device_info_new ();

  g_snprintf (d->path, sizeof d->path, "/sys/devices/pci0000:00/0000:00:14.0/usb%u/%s", busnum, busid);
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
append_urb (GByteArray *out, UsbipMessageType type, guint32 command, guint32 seqnum, guint32 direction, guint32 ep,
            const guint8 *data, gsize data_len, guint n_iso)
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
  g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);
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
  append_urb (b, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 1, USBIP_DIR_OUT, 2, payload, sizeof payload, 0);
  append_urb (b, USBIP_MESSAGE_CMD_UNLINK, USBIP_CMD_UNLINK, 2, USBIP_DIR_OUT, 2, NULL, 0, 0);
  write_stream ("deframe_op_request", "req-import-then-urbs", 0x0badf00d, b);

  g_byte_array_set_size (b, 0);
  usbip_encode_op_rep_devlist (b, 0, devices);
  write_stream ("deframe_op_reply", "rep-devlist-2-devices", 0x12345678, b);
  g_byte_array_set_size (b, 0);
  usbip_encode_op_rep_import (b, 0, imported);
  write_stream ("deframe_op_reply", "rep-import", 0x87654321, b);
  append_urb (b, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 1, USBIP_DIR_IN, 1, payload, sizeof payload, 0);
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

  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 10, USBIP_DIR_IN, 0, NULL, 18, 0);
  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 11, USBIP_DIR_OUT, 2, data, 128, 0);
  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 12, USBIP_DIR_IN, 1, NULL, 512, 0);
  append_urb (mixed, USBIP_MESSAGE_CMD_UNLINK, USBIP_CMD_UNLINK, 13, USBIP_DIR_OUT, 1, NULL, 0, 0);
  write_stream ("deframe_urb_command", "cmd-mixed", 0x13579bdf, mixed);

  /* return stream */
  g_byte_array_set_size (b, 0);
  append_urb (b, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 2, USBIP_DIR_IN, 0, descriptor, sizeof descriptor, 0);
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
  append_urb (mixed, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 20, USBIP_DIR_IN, 1, NULL, 512, 0);
  append_urb (mixed, USBIP_MESSAGE_CMD_UNLINK, USBIP_CMD_UNLINK, 21, USBIP_DIR_OUT, 1, NULL, 0, 0);
  write_stream ("deframe_urb_command", "unlink-pair", 0x600dcafe, mixed);
  g_byte_array_set_size (mixed, 0);
  append_urb (mixed, USBIP_MESSAGE_RET_UNLINK, USBIP_RET_UNLINK, 21, USBIP_DIR_OUT, 1, NULL, 0, 0);
  append_urb (mixed, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 20, USBIP_DIR_IN, 1, data, 0, 0);
  write_stream ("deframe_urb_return", "unlink-pair", 0x600dcafe, mixed);
}

static void
gen_text (void)
{
  const gchar *busids[] = { "1-1", "1-1.2.3", "12-4.1", "usbip-vudc.0" };
  const gchar *remotes[] = { "host", "host:3240", "[::1]:3240", "192.0.2.7", "fe80::1", "[fe80::1%eth0]" };

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

/* ---- captures ---- */

static void
cb_add (GPtrArray *pkts, GBytes *ip)
{
  CbPacket *p = g_new0 (CbPacket, 1);

  p->ip = ip;
  p->ts_sec = 1700000000;
  p->ts_nsec = pkts->len * 1000u;
  g_ptr_array_add (pkts, p);
}

static void
conn_addrs (CbConn *c, guint8 family)
{
  memset (c, 0, sizeof *c);
  c->family = family;
  c->client_addr[0] = c->server_addr[0] = family == 4 ? 10 : 0xfd;
  c->client_addr[family == 4 ? 3 : 15] = 2;
  c->server_addr[family == 4 ? 3 : 15] = 1;
  c->client_port = 40000;
  c->server_port = USBIP_DEFAULT_TCP_PORT;
}

/* handshake, import of 1-1, one control IN URB and its return, FIN both ways */
static GPtrArray *
import_capture (guint8 family)
{
  GPtrArray *pkts = g_ptr_array_new_with_free_func (cb_packet_free);
  g_autoptr (UsbipDeviceInfo) dev = make_device ("1-1", 1, 2, 0x0781, 0x5567, 0);
  g_autoptr (GByteArray) c2s = g_byte_array_new ();
  g_autoptr (GByteArray) s2c = g_byte_array_new ();
  static const guint8 descriptor[18] = { 0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x81,
                                         0x07, 0x67, 0x55, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01 };
  guint32 cseq = 1000, sseq = 5000;
  gsize req_len, rep_len;
  CbConn c;

  conn_addrs (&c, family);
  usbip_encode_op_req_import (c2s, "1-1");
  req_len = c2s->len;
  append_urb (c2s, USBIP_MESSAGE_CMD_SUBMIT, USBIP_CMD_SUBMIT, 1, USBIP_DIR_IN, 0, NULL, 18, 0);
  usbip_encode_op_rep_import (s2c, 0, dev);
  rep_len = s2c->len;
  append_urb (s2c, USBIP_MESSAGE_RET_SUBMIT, USBIP_RET_SUBMIT, 1, USBIP_DIR_IN, 0, descriptor, sizeof descriptor, 0);

  cb_add (pkts, cb_tcp_packet (&c, TRUE, cseq++, 0x02, NULL, 0));
  cb_add (pkts, cb_tcp_packet (&c, FALSE, sseq++, 0x12, NULL, 0));
  cb_add (pkts, cb_tcp_packet (&c, TRUE, cseq, 0x18, c2s->data, req_len));
  cb_add (pkts, cb_tcp_packet (&c, FALSE, sseq, 0x18, s2c->data, rep_len));
  cb_add (pkts, cb_tcp_packet (&c, TRUE, cseq + (guint32) req_len, 0x18, c2s->data + req_len, c2s->len - req_len));
  cb_add (pkts, cb_tcp_packet (&c, FALSE, sseq + (guint32) rep_len, 0x18, s2c->data + rep_len, s2c->len - rep_len));
  cb_add (pkts, cb_tcp_packet (&c, TRUE, cseq + c2s->len, 0x11, NULL, 0));
  cb_add (pkts, cb_tcp_packet (&c, FALSE, sseq + s2c->len, 0x11, NULL, 0));
  return pkts;
}

static void
write_bytes (const gchar *target, const gchar *name, GBytes *bytes)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);

  write_seed (target, name, p, len);
}

static void
gen_captures (void)
{
  g_autoptr (GPtrArray) v4 = import_capture (4);
  g_autoptr (GPtrArray) v6 = import_capture (6);
  static const struct {
    const gchar *name;
    guint32 linktype;
    guint index; /* in fuzz-targets.c's link type table */
  } links[] = {
    { "null", 0, 0 }, { "ethernet", 1, 1 }, { "raw", 101, 2 }, { "sll", 113, 4 }, { "sll2", 276, 7 },
  };
  const gchar *captures[] = { "pcap_read", "trace_decode" };

  for (guint t = 0; t < G_N_ELEMENTS (captures); t++)
    {
      g_autoptr (GBytes) a = cb_pcap (v4, 1, FALSE, FALSE);
      g_autoptr (GBytes) b = cb_pcap (v6, 113, TRUE, TRUE);
      g_autoptr (GBytes) c = cb_pcapng (v4, 1, 276, FALSE, TRUE);
      g_autoptr (GBytes) d = cb_pcapng (v6, 101, 1, TRUE, FALSE);
      write_bytes (captures[t], "pcap-le-us-ethernet-ipv4", a);
      write_bytes (captures[t], "pcap-be-ns-sll-ipv6", b);
      write_bytes (captures[t], "pcapng-le-2-interfaces-spb", c);
      write_bytes (captures[t], "pcapng-be-raw-ipv6", d);
    }

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    for (guint f = 0; f < 2; f++)
      {
        CbPacket *p = g_ptr_array_index (f == 0 ? v4 : v6, 2); /* the OP_REQ_IMPORT */
        g_autoptr (GBytes) frame = cb_link (links[i].linktype, p->ip);
        g_autoptr (GByteArray) seed = g_byte_array_new ();
        g_autofree gchar *name = g_strdup_printf ("%s-ipv%u", links[i].name, f == 0 ? 4 : 6);
        guint8 prefix[USBIP_FUZZ_FRAME_PREFIX_SIZE] = { links[i].index, 0, f == 0 ? 0 : 100 };
        gsize len;
        const guint8 *bytes = g_bytes_get_data (frame, &len);

        g_byte_array_append (seed, prefix, sizeof prefix);
        g_byte_array_append (seed, bytes, len);
        write_seed ("tcp_segment_parse", name, seed->data, seed->len);
      }
}

/* one tcp_reassemble record */
static void
segment_record (GByteArray *b, gboolean from_server, guint8 flags, guint32 offset, guint8 len, guint8 missing)
{
  guint8 r[USBIP_FUZZ_SEGMENT_RECORD_SIZE] = {
    (guint8) (flags | (from_server ? 0x80 : 0)), offset >> 16, offset >> 8, offset, len, missing, 0,
  };

  g_byte_array_append (b, r, sizeof r);
}

static void
gen_segments (void)
{
  const guint8 isn_wrapping[4] = { 0xff, 0xff, 0xff, 0x80 };
  const guint8 isn[4] = { 0x00, 0x00, 0x10, 0x00 };
  g_autoptr (GByteArray) b = g_byte_array_new ();

  /* in order, both directions, closed by FIN */
  g_byte_array_append (b, isn, 4);
  segment_record (b, FALSE, 0x02, 0, 0, 0);
  segment_record (b, TRUE, 0x12, 0, 0, 0);
  for (guint i = 0; i < 4; i++)
    {
      segment_record (b, FALSE, 0x18, i * 100, 100, 0);
      segment_record (b, TRUE, 0x18, i * 200, 200, 0);
    }
  segment_record (b, FALSE, 0x11, 400, 0, 0);
  segment_record (b, TRUE, 0x11, 800, 0, 0);
  write_seed ("tcp_reassemble", "in-order-fin", b->data, b->len);

  /* out of order, duplicates and overlaps across the sequence wrap */
  g_byte_array_set_size (b, 0);
  g_byte_array_append (b, isn_wrapping, 4);
  segment_record (b, FALSE, 0x02, 0, 0, 0);
  segment_record (b, FALSE, 0x18, 200, 100, 0);
  segment_record (b, FALSE, 0x18, 100, 100, 0);
  segment_record (b, FALSE, 0x18, 150, 120, 0);
  segment_record (b, FALSE, 0x18, 0, 100, 0);
  segment_record (b, FALSE, 0x18, 0, 100, 0);
  write_seed ("tcp_reassemble", "out-of-order-wrap", b->data, b->len);

  /* the capture starts mid-connection; a segment cut at the snapshot length; a reset */
  g_byte_array_set_size (b, 0);
  g_byte_array_append (b, isn, 4);
  segment_record (b, TRUE, 0x18, 1000, 50, 0);
  segment_record (b, TRUE, 0x18, 1050, 20, 30);
  segment_record (b, FALSE, 0x18, 10, 60, 0);
  segment_record (b, FALSE, 0x04, 70, 0, 0);
  segment_record (b, FALSE, 0x02, 0, 0, 0);
  segment_record (b, FALSE, 0x18, 0, 10, 0);
  write_seed ("tcp_reassemble", "midstream-snaplen-reset", b->data, b->len);
}

/* ---- text and small binaries read from the kernel and from files ---- */

static void
gen_files (void)
{
  static const gchar *const vhci[] = {
    "hub port sta spd dev      sockfd local_busid\n"
    "hs  0000 006 003 00010002 000005 3-1\n"
    "hs  0001 004 000 00000000 000000 0-0\n"
    "ss  0002 004 000 00000000 000000 0-0\n"
    "ss  0003 006 005 00020003 000007 4-1\n",
    /* before Linux 4.13 */
    "prt sta spd bus dev socket           local_busid\n"
    "000 006 003 001 002 ffff8800b4e2c000 3-1\n"
    "001 004 000 000 000 0000000000000000 0-0\n",
  };
  static const gchar *const records[] = { "192.0.2.7 3240 1-1\n", "fd00::1 3240 2-1.4\n",
                                          "exporter.example usbip usbip-vudc.0" };
  static const guint8 descriptor[18] = { 0x12, 0x01, 0x00, 0x02, 0xef, 0x02, 0x01, 0x40, 0x6b,
                                         0x1d, 0x04, 0x01, 0x00, 0x01, 0x01, 0x02, 0x03, 0x01 };
  static const gchar *const configs[] = {
    "[plugins]\nenabled=vhci;host\n\n[daemon]\nlisten=0.0.0.0:3240;[::]:3240\n"
    "max-sessions=64\naccept-rate-limit=20.5\nlog-format=json\ndevice-mode=false\n",
    "# comments and defaults\n[daemon]\nlisten=\n[vhci]\nname=caf\\u00e9 \\s\n",
  };
  static const gchar *const cidrs[] = { "10.0.0.0/8", "fd00::/8", "192.0.2.1/32", "::ffff:10.0.0.0/104", "192.0.2.1" };

  for (guint i = 0; i < G_N_ELEMENTS (vhci); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("status-%u", i);
      write_seed ("vhci_status", name, (const guint8 *) vhci[i], strlen (vhci[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (records); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("record-%u", i);
      write_seed ("port_record", name, (const guint8 *) records[i], strlen (records[i]));
    }
  write_seed ("vudc_descriptor", "composite-1d6b-0104", descriptor, sizeof descriptor);
  for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("config-%u", i);
      write_seed ("config_keyfile", name, (const guint8 *) configs[i], strlen (configs[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (cidrs); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("cidr-%u", i);
      write_seed ("cidr_parse", name, (const guint8 *) cidrs[i], strlen (cidrs[i]));
    }
}

static void
append_submit (GByteArray *out, guint32 seqnum, guint ep, UsbipDirection dir, const guint8 *setup, const guint8 *data,
               gsize len, gint32 length)
{
  UsbipMessage m = { 0 };

  m.type = USBIP_MESSAGE_CMD_SUBMIT;
  m.urb.command = USBIP_CMD_SUBMIT;
  m.urb.seqnum = seqnum;
  m.urb.devid = 1;
  m.urb.direction = dir;
  m.urb.ep = ep;
  m.urb.u.cmd_submit.transfer_buffer_length = dir == USBIP_DIR_OUT ? (gint32) len : length;
  if (setup != NULL)
    memcpy (m.urb.u.cmd_submit.setup, setup, 8);
  m.data = data;
  m.data_len = dir == USBIP_DIR_OUT ? len : 0;
  usbip_message_encode (&m, out);
}

/* virtual_session: a device byte, then what vhci sends after an import */
static void
gen_virtual (void)
{
  static const guint8 get_device[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
  static const guint8 get_config[8] = { 0x80, 6, 0, 2, 0, 0, 0xff, 0 };
  static const guint8 read10_cbw[31] = { 'U', 'S', 'B',  'C', 1, 0, 0, 0, 0, 2, 0, 0, 0x80,
                                         0,   10,  0x28, 0,   0, 0, 0, 1, 0, 0, 1, 0 };
  static const guint8 write10_cbw[31] = { 'U', 'S', 'B',  'C', 2, 0, 0, 0, 0, 2, 0, 0, 0x00,
                                          0,   10,  0x2a, 0,   0, 0, 0, 2, 0, 0, 1, 0 };
  static const guint8 block[512] = { 0x55, 0xaa };
  g_autoptr (GByteArray) disk = g_byte_array_new ();
  g_autoptr (GByteArray) serial = g_byte_array_new ();
  UsbipMessage unlink = { 0 };
  guint8 which = 0;

  g_byte_array_append (disk, &which, 1);
  append_submit (disk, 1, 0, USBIP_DIR_IN, get_device, NULL, 0, 18);
  append_submit (disk, 2, 0, USBIP_DIR_IN, get_config, NULL, 0, 255);
  append_submit (disk, 3, 2, USBIP_DIR_OUT, NULL, read10_cbw, sizeof read10_cbw, 0);
  append_submit (disk, 4, 1, USBIP_DIR_IN, NULL, NULL, 0, 512);
  append_submit (disk, 5, 1, USBIP_DIR_IN, NULL, NULL, 0, 13);
  append_submit (disk, 6, 2, USBIP_DIR_OUT, NULL, write10_cbw, sizeof write10_cbw, 0);
  append_submit (disk, 7, 2, USBIP_DIR_OUT, NULL, block, sizeof block, 0);
  append_submit (disk, 8, 1, USBIP_DIR_IN, NULL, NULL, 0, 13);
  append_submit (disk, 9, 1, USBIP_DIR_IN, NULL, NULL, 0, 13);
  unlink.type = USBIP_MESSAGE_CMD_UNLINK;
  unlink.urb.command = USBIP_CMD_UNLINK;
  unlink.urb.seqnum = 10;
  unlink.urb.u.cmd_unlink.unlink_seqnum = 9;
  usbip_message_encode (&unlink, disk);
  write_seed ("virtual_session", "mass-storage-read-write-unlink", disk->data, disk->len);

  which = 1;
  g_byte_array_append (serial, &which, 1);
  append_submit (serial, 1, 1, USBIP_DIR_IN, NULL, NULL, 0, 512);
  append_submit (serial, 2, 2, USBIP_DIR_OUT, NULL, (const guint8 *) "hello", 5, 0);
  append_submit (serial, 3, 3, USBIP_DIR_IN, NULL, NULL, 0, 16);
  unlink.urb.seqnum = 4;
  unlink.urb.u.cmd_unlink.unlink_seqnum = 3;
  usbip_message_encode (&unlink, serial);
  write_seed ("virtual_session", "cdc-acm-loopback-echo", serial->data, serial->len);
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
  gen_captures ();
  gen_segments ();
  gen_files ();
  gen_virtual ();
  return 0;
}
