/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Virtual devices end to end in one process: an exporter serving the virtual backend on
 * 127.0.0.1, and clients that speak the wire protocol through the codec (blocking sockets
 * in a thread while the main thread runs the exporter's main context).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-device-cache-private.h"
#include "usbip-host-backend.h"
#include "usbip-virtual-backend.h"
#include "usbip-virtual-cdc-acm.h"
#include "usbip-virtual-hid.h"
#include "usbip-virtual-session.h"

#define IMAGE_BLOCKS 64

typedef struct {
  UsbipVirtualBackend *backend;
  UsbipExporter *exporter;
  guint16 port;
  gchar *dir;
  gchar *image;
  gchar *kbd_fifo;
  gchar *mouse_fifo;
} Fixture;

/* one test: a client run in a thread against the fixture's exporter, or a test of the fixture */
typedef struct {
  GThreadFunc client; /* NULL: @fixture_test runs instead */
  void (*fixture_test) (Fixture *f, gconstpointer data);
  gboolean read_only;
} Case;

static GKeyFile *
devices_keyfile (Fixture *f, gboolean read_only)
{
  GKeyFile *kf = g_key_file_new ();

  g_key_file_set_string (kf, "virtual-device disk", "type", "mass-storage");
  g_key_file_set_string (kf, "virtual-device disk", "image", f->image);
  g_key_file_set_boolean (kf, "virtual-device disk", "read-only", read_only);
  g_key_file_set_string (kf, "virtual-device disk", "serial", "SER123");
  g_key_file_set_string (kf, "virtual-device serial", "type", "cdc-acm");
  g_key_file_set_string (kf, "virtual-device serial", "mode", "loopback");
  g_key_file_set_string (kf, "virtual-device kbd", "type", "hid-keyboard");
  g_key_file_set_string (kf, "virtual-device kbd", "input", f->kbd_fifo);
  g_key_file_set_string (kf, "virtual-device mouse", "type", "hid-mouse");
  g_key_file_set_string (kf, "virtual-device mouse", "input", f->mouse_fifo);
  g_key_file_set_string (kf, "virtual-device ssd", "type", "mass-storage");
  g_key_file_set_string (kf, "virtual-device ssd", "image", f->image);
  g_key_file_set_boolean (kf, "virtual-device ssd", "read-only", TRUE);
  g_key_file_set_string (kf, "virtual-device ssd", "speed", "super");
  return kf;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GByteArray) content = g_byte_array_new ();

  f->dir = g_dir_make_tmp ("test-virtual-XXXXXX", &error);
  g_assert_no_error (error);
  f->image = g_build_filename (f->dir, "disk.img", NULL);
  f->kbd_fifo = g_build_filename (f->dir, "kbd", NULL);
  f->mouse_fifo = g_build_filename (f->dir, "mouse", NULL);
  for (guint i = 0; i < IMAGE_BLOCKS * 512; i++)
    {
      guint8 b = (guint8) (i * 7 + i / 512);
      g_byte_array_append (content, &b, 1);
    }
  g_assert_true (g_file_set_contents (f->image, (const gchar *) content->data, content->len, &error));
  kf = devices_keyfile (f, ((const Case *) data)->read_only);
  f->backend = usbip_virtual_backend_new (FALSE);
  g_assert_true (usbip_virtual_backend_reload (f->backend, kf, &error));
  g_assert_no_error (error);
  f->exporter = usbip_exporter_new (USBIP_EXPORT_BACKEND (f->backend));
  listener = test_util_listen (&f->port);
  g_assert_true (usbip_exporter_add_socket (f->exporter, listener, &error));
  usbip_exporter_start (f->exporter);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->exporter);
  g_clear_object (&f->backend);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_unlink (f->image);
  g_unlink (f->kbd_fifo);
  g_unlink (f->mouse_fifo);
  g_rmdir (f->dir);
  g_free (f->image);
  g_free (f->kbd_fifo);
  g_free (f->mouse_fifo);
  g_free (f->dir);
}

/* ---- a client speaking the protocol through the codec ---- */

typedef struct {
  GSocket *socket;
  UsbipDeframer *deframer; /* RET_* stream; its tracker knows our directions */
  GByteArray *buffer;
  guint32 seqnum;
} Client;

static void
recv_exact (GSocket *s, guint8 *buf, gsize len)
{
  gsize got = 0;

  while (got < len)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive (s, (gchar *) buf + got, len - got, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      got += (gsize) n;
    }
}

/* imports @busid; returns the reply's status */
static guint32
client_import (Client *c, guint16 port, const gchar *busid)
{
  g_autoptr (GByteArray) req = g_byte_array_new ();
  guint8 head[USBIP_OP_HEADER_SIZE];
  UsbipOpHeader op;

  c->socket = test_util_connect (port);
  c->deframer = usbip_deframer_new (USBIP_STREAM_URB_RETURN, NULL);
  c->buffer = g_byte_array_new ();
  c->seqnum = 1;
  usbip_encode_op_req_import (req, busid);
  test_util_send (c->socket, req->data, req->len);
  recv_exact (c->socket, head, sizeof head);
  g_assert_true (usbip_decode_op_header (head, sizeof head, &op, NULL));
  g_assert_cmpuint (op.code, ==, USBIP_OP_REP_IMPORT);
  if (op.status == 0)
    {
      guint8 record[USBIP_DEVICE_RECORD_SIZE];
      UsbipDeviceInfo info = { 0 };
      recv_exact (c->socket, record, sizeof record);
      g_assert_true (usbip_decode_device_record (record, sizeof record, &info, NULL));
      g_assert_cmpstr (info.busid, ==, busid);
    }
  return op.status;
}

static void
client_close (Client *c)
{
  g_clear_object (&c->socket);
  g_clear_pointer (&c->deframer, usbip_deframer_free);
  g_clear_pointer (&c->buffer, g_byte_array_unref);
}

static guint32
client_submit (Client *c, guint ep, UsbipDirection dir, const guint8 *setup, const void *out, gsize out_len,
               guint32 length)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  msg.type = USBIP_MESSAGE_CMD_SUBMIT;
  msg.urb.command = USBIP_CMD_SUBMIT;
  msg.urb.seqnum = c->seqnum++;
  msg.urb.devid = 1;
  msg.urb.direction = dir;
  msg.urb.ep = ep;
  msg.urb.u.cmd_submit.transfer_buffer_length = (gint32) (dir == USBIP_DIR_OUT ? out_len : length);
  if (setup != NULL)
    memcpy (msg.urb.u.cmd_submit.setup, setup, 8);
  msg.data = out;
  msg.data_len = dir == USBIP_DIR_OUT ? out_len : 0;
  usbip_message_encode (&msg, bytes);
  usbip_urb_tracker_add (usbip_deframer_get_tracker (c->deframer), msg.urb.seqnum, dir);
  test_util_send (c->socket, bytes->data, bytes->len);
  return msg.urb.seqnum;
}

static guint32
client_unlink (Client *c, guint32 victim)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  msg.type = USBIP_MESSAGE_CMD_UNLINK;
  msg.urb.command = USBIP_CMD_UNLINK;
  msg.urb.seqnum = c->seqnum++;
  msg.urb.devid = 1;
  msg.urb.u.cmd_unlink.unlink_seqnum = victim;
  usbip_message_encode (&msg, bytes);
  test_util_send (c->socket, bytes->data, bytes->len);
  return msg.urb.seqnum;
}

/* the next return; its data copied into *data (may be NULL) */
static UsbipUrbHeader
client_next (Client *c, GBytes **data)
{
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      UsbipMessage msg = { 0 };
      gsize consumed = 0;
      guint8 chunk[4096];
      gssize n;
      UsbipDeframeResult r = usbip_deframer_pop (c->deframer, c->buffer->data, c->buffer->len, &consumed, &msg, &error);

      g_assert_cmpint (r, !=, USBIP_DEFRAME_INVALID);
      if (r == USBIP_DEFRAME_FRAME)
        {
          UsbipUrbHeader hdr = msg.urb;
          if (data != NULL)
            *data = g_bytes_new (msg.data, msg.data_len);
          usbip_message_clear (&msg);
          g_byte_array_remove_range (c->buffer, 0, (guint) consumed);
          return hdr;
        }
      n = g_socket_receive (c->socket, (gchar *) chunk, sizeof chunk, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      g_byte_array_append (c->buffer, chunk, (guint) n);
    }
}

/* a control transfer; returns the status, IN data in *data */
static gint32
client_control (Client *c, const guint8 *setup, const void *out, gsize out_len, GBytes **data)
{
  gboolean in = (setup[0] & 0x80) != 0;
  guint32 length = (guint32) (setup[6] | setup[7] << 8);
  guint32 seq = client_submit (c, 0, in ? USBIP_DIR_IN : USBIP_DIR_OUT, setup, out, out_len, length);
  UsbipUrbHeader hdr = client_next (c, data);

  g_assert_cmpuint (hdr.command, ==, USBIP_RET_SUBMIT);
  g_assert_cmpuint (hdr.seqnum, ==, seq);
  g_assert_cmpuint (hdr.direction, ==, 0);
  return hdr.u.ret_submit.status;
}

/* runs @func (data) in a thread while the main context serves the exporter */
typedef struct {
  GThreadFunc func;
  gpointer data;
  volatile gint done;
} Run;

static gpointer
run_thread (gpointer p)
{
  Run *r = p;
  r->func (r->data);
  g_atomic_int_set (&r->done, 1);
  return NULL;
}

static void
run_client (GThreadFunc func, gpointer data)
{
  Run r = { func, data, 0 };
  GThread *t = g_thread_new ("client", run_thread, &r);

  test_util_run_until (&r.done, 30000);
  g_thread_join (t);
}

static void
test_case (Fixture *f, gconstpointer data)
{
  const Case *c = data;

  if (c->client != NULL)
    run_client (c->client, f);
  else
    c->fixture_test (f, data);
}

static const guint8 get_device[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
static const guint8 get_config[8] = { 0x80, 6, 0, 2, 0, 0, 0xff, 0 };

/* ---- mass storage through BOT ---- */

static gsize
cbw (guint8 *out, guint32 tag, guint32 length, gboolean in, const guint8 *cb, guint8 cb_len)
{
  memset (out, 0, 31);
  out[0] = 'U', out[1] = 'S', out[2] = 'B', out[3] = 'C';
  out[4] = (guint8) tag;
  out[8] = (guint8) length, out[9] = (guint8) (length >> 8), out[10] = (guint8) (length >> 16);
  out[12] = in ? 0x80 : 0;
  out[14] = cb_len;
  memcpy (out + 15, cb, cb_len);
  return 31;
}

typedef struct {
  guint8 csw_status;
  guint32 residue;
  GBytes *data;
} Scsi;

/* one SCSI command: CBW, data phase, CSW */
static Scsi
scsi (Client *c, const guint8 *cb, guint8 cb_len, gboolean in, guint32 length, const void *out)
{
  guint8 block[31];
  g_autoptr (GBytes) csw = NULL;
  Scsi result = { 0 };
  UsbipUrbHeader hdr;
  const guint8 *d;
  gsize n;

  client_submit (c, 2, USBIP_DIR_OUT, NULL, block, cbw (block, 7, length, in, cb, cb_len), 0);
  hdr = client_next (c, NULL);
  g_assert_cmpint (hdr.u.ret_submit.status, ==, 0);
  g_assert_cmpint (hdr.u.ret_submit.actual_length, ==, 31);
  if (length > 0 && in)
    {
      client_submit (c, 1, USBIP_DIR_IN, NULL, NULL, 0, length);
      hdr = client_next (c, &result.data);
      g_assert_cmpint (hdr.u.ret_submit.status, ==, 0);
    }
  else if (length > 0)
    {
      client_submit (c, 2, USBIP_DIR_OUT, NULL, out, length, 0);
      hdr = client_next (c, NULL);
      g_assert_cmpint (hdr.u.ret_submit.status, ==, 0);
    }
  client_submit (c, 1, USBIP_DIR_IN, NULL, NULL, 0, 13);
  hdr = client_next (c, &csw);
  g_assert_cmpint (hdr.u.ret_submit.status, ==, 0);
  d = g_bytes_get_data (csw, &n);
  g_assert_cmpuint (n, ==, 13);
  g_assert_cmpmem (d, 4, "USBS", 4);
  g_assert_cmpuint (d[4], ==, 7);
  result.residue = (guint32) (d[8] | d[9] << 8 | d[10] << 16 | (guint32) d[11] << 24);
  result.csw_status = d[12];
  return result;
}

static guint8
sense_key (Client *c, guint8 *asc)
{
  static const guint8 request_sense[6] = { 0x03, 0, 0, 0, 18, 0 };
  Scsi r = scsi (c, request_sense, 6, TRUE, 18, NULL);
  const guint8 *d = g_bytes_get_data (r.data, NULL);
  guint8 key;

  g_assert_cmpuint (g_bytes_get_size (r.data), ==, 18);
  g_assert_cmpuint (d[0], ==, 0x70);
  key = d[2] & 0x0f;
  *asc = d[12];
  g_bytes_unref (r.data);
  return key;
}

static gpointer
descriptors_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  static const guint8 get_config_short[8] = { 0x80, 6, 0, 2, 0, 0, 9, 0 };
  static const guint8 get_serial[8] = { 0x80, 6, 3, 3, 0x09, 0x04, 0xff, 0 };
  static const guint8 get_bos[8] = { 0x80, 6, 0, 0x0f, 0, 0, 5, 0 };
  static const guint8 set_config[8] = { 0x00, 9, 1, 0, 0, 0, 0, 0 };
  static const guint8 get_status[8] = { 0x80, 0, 0, 0, 0, 0, 2, 0 };
  static const guint8 max_lun[8] = { 0xa1, 0xfe, 0, 0, 0, 0, 1, 0 };
  static const guint8 vendor[8] = { 0xc0, 0x42, 0, 0, 0, 0, 4, 0 };
  g_autoptr (GBytes) dev = NULL, cfg9 = NULL, cfg = NULL, serial = NULL, status = NULL, lun = NULL;
  const guint8 *d;

  g_assert_cmpuint (client_import (&c, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  g_assert_cmpint (client_control (&c, get_device, NULL, 0, &dev), ==, 0);
  d = g_bytes_get_data (dev, NULL);
  g_assert_cmpuint (g_bytes_get_size (dev), ==, 18);
  g_assert_cmpuint (d[1], ==, 1);
  g_assert_cmpuint (d[8] | d[9] << 8, ==, 0x1d6b);
  /* wLength truncates; the whole configuration is 32 bytes with 512-byte bulk endpoints */
  g_assert_cmpint (client_control (&c, get_config_short, NULL, 0, &cfg9), ==, 0);
  g_assert_cmpuint (g_bytes_get_size (cfg9), ==, 9);
  g_assert_cmpint (client_control (&c, get_config, NULL, 0, &cfg), ==, 0);
  d = g_bytes_get_data (cfg, NULL);
  g_assert_cmpuint (g_bytes_get_size (cfg), ==, 32);
  g_assert_cmpuint (d[9 + 5], ==, 0x08);
  g_assert_cmpuint (d[18 + 4] | d[18 + 5] << 8, ==, 512);
  g_assert_cmpint (client_control (&c, get_serial, NULL, 0, &serial), ==, 0);
  g_assert_cmpmem (g_bytes_get_data (serial, NULL), g_bytes_get_size (serial),
                   "\x0e\x03S\0E\0R\0"
                   "1\0"
                   "2\0"
                   "3\0",
                   14);
  /* a USB 2.0 device has no BOS: it stalls */
  g_assert_cmpint (client_control (&c, get_bos, NULL, 0, NULL), ==, -EPIPE);
  g_assert_cmpint (client_control (&c, set_config, NULL, 0, NULL), ==, 0);
  g_assert_cmpint (client_control (&c, get_status, NULL, 0, &status), ==, 0);
  g_assert_cmpuint (g_bytes_get_size (status), ==, 2);
  g_assert_cmpint (client_control (&c, max_lun, NULL, 0, &lun), ==, 0);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (lun, NULL))[0], ==, 0);
  g_assert_cmpint (client_control (&c, vendor, NULL, 0, NULL), ==, -EPIPE);
  /* an endpoint the device does not have */
  client_submit (&c, 5, USBIP_DIR_IN, NULL, NULL, 0, 64);
  g_assert_cmpint (client_next (&c, NULL).u.ret_submit.status, ==, -EPIPE);
  client_close (&c);
  return NULL;
}

/* speed=super: the USB 3 descriptors a SuperSpeed root-hub port enumerates */
static gpointer
super_speed_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  static const guint8 get_bos[8] = { 0x80, 6, 0, 0x0f, 0, 0, 0xff, 0 };
  static const guint8 read_capacity[10] = { 0x25 };
  g_autoptr (GBytes) dev = NULL, cfg = NULL, bos = NULL;
  const guint8 *d;
  gsize len;
  Scsi r;

  g_assert_cmpuint (client_import (&c, f->port, "virtual-ssd"), ==, USBIP_ST_OK);
  g_assert_cmpint (client_control (&c, get_device, NULL, 0, &dev), ==, 0);
  d = g_bytes_get_data (dev, NULL);
  g_assert_cmpuint (d[2] | d[3] << 8, ==, 0x0300); /* bcdUSB 3.0 */
  g_assert_cmpuint (d[7], ==, 9);                  /* ep0: 2^9 bytes */
  g_assert_cmpint (client_control (&c, get_config, NULL, 0, &cfg), ==, 0);
  d = g_bytes_get_data (cfg, &len);
  g_assert_cmpuint (len, ==, 44);
  g_assert_cmpuint (d[2] | d[3] << 8, ==, 44);
  /* each 1024-byte bulk endpoint is followed by its SuperSpeed endpoint companion */
  g_assert_cmpuint (d[18 + 1], ==, 5);
  g_assert_cmpuint (d[18 + 4] | d[18 + 5] << 8, ==, 1024);
  g_assert_cmpmem (d + 25, 2, "\x06\x30", 2);
  g_assert_cmpuint (d[31 + 1], ==, 5);
  g_assert_cmpuint (d[31 + 4] | d[31 + 5] << 8, ==, 1024);
  g_assert_cmpmem (d + 38, 2, "\x06\x30", 2);
  g_assert_cmpint (client_control (&c, get_bos, NULL, 0, &bos), ==, 0);
  d = g_bytes_get_data (bos, &len);
  g_assert_cmpuint (len, ==, 22);
  g_assert_cmpuint (d[1], ==, 0x0f);
  g_assert_cmpuint (d[2] | d[3] << 8, ==, 22);
  g_assert_cmpmem (d + 5, 3, "\x07\x10\x02", 3);  /* USB 2.0 extension */
  g_assert_cmpmem (d + 12, 3, "\x0a\x10\x03", 3); /* SuperSpeed USB */
  g_assert_cmpuint (d[12 + 4] & 0x08, ==, 0x08);  /* wSpeedsSupported: 5 Gb/s */
  /* the disk behind it is the same: 64 blocks, the last is 63 */
  r = scsi (&c, read_capacity, sizeof read_capacity, TRUE, 8, NULL);
  g_assert_cmpuint (r.csw_status, ==, 0);
  g_assert_cmpmem (g_bytes_get_data (r.data, NULL), 4, "\0\0\0\x3f", 4);
  g_bytes_unref (r.data);
  client_close (&c);
  return NULL;
}

static gpointer
scsi_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  static const guint8 inquiry[6] = { 0x12, 0, 0, 0, 36, 0 };
  static const guint8 capacity10[10] = { 0x25 };
  static const guint8 capacity16[16] = { 0x9e, 0x10, [13] = 32 };
  static const guint8 tur[6] = { 0x00 };
  static const guint8 read10[10] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 4, 0 };              /* LBA 3, 4 blocks */
  static const guint8 read16[16] = { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 1 }; /* LBA 10, 1 block */
  static const guint8 read_past[10] = { 0x28, 0, 0, 0, 0, IMAGE_BLOCKS - 1, 0, 0, 2, 0 };
  static const guint8 mode6[6] = { 0x1a, 0, 0x3f, 0, 192, 0 };
  static const guint8 mode10[10] = { 0x5a, 0, 0x08, 0, 0, 0, 0, 0, 64, 0 };
  static const guint8 sync10[10] = { 0x35 };
  static const guint8 prevent[6] = { 0x1e, 0, 0, 0, 1, 0 };
  static const guint8 start_stop[6] = { 0x1b, 0, 0, 0, 1, 0 };
  static const guint8 unknown[6] = { 0xd9 };
  g_autofree gchar *image = NULL;
  gsize image_len = 0;
  Scsi r;
  guint8 asc = 0;
  const guint8 *d;

  g_assert_true (g_file_get_contents (f->image, &image, &image_len, NULL));
  g_assert_cmpuint (client_import (&c, f->port, "virtual-disk"), ==, USBIP_ST_OK);

  r = scsi (&c, inquiry, 6, TRUE, 36, NULL);
  g_assert_cmpuint (r.csw_status, ==, 0);
  g_assert_cmpuint (g_bytes_get_size (r.data), ==, 36);
  g_assert_cmpmem ((const guint8 *) g_bytes_get_data (r.data, NULL) + 16, 12, "Virtual Disk", 12);
  g_bytes_unref (r.data);

  r = scsi (&c, tur, 6, FALSE, 0, NULL);
  g_assert_cmpuint (r.csw_status, ==, 0);

  r = scsi (&c, capacity10, 10, TRUE, 8, NULL);
  d = g_bytes_get_data (r.data, NULL);
  g_assert_cmpuint ((guint32) d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3], ==, IMAGE_BLOCKS - 1);
  g_assert_cmpuint (d[6] << 8 | d[7], ==, 512);
  g_bytes_unref (r.data);
  r = scsi (&c, capacity16, 16, TRUE, 32, NULL);
  d = g_bytes_get_data (r.data, NULL);
  g_assert_cmpuint (d[7], ==, IMAGE_BLOCKS - 1);
  g_bytes_unref (r.data);

  r = scsi (&c, read10, 10, TRUE, 4 * 512, NULL);
  g_assert_cmpuint (r.csw_status, ==, 0);
  g_assert_cmpuint (r.residue, ==, 0);
  g_assert_cmpmem (g_bytes_get_data (r.data, NULL), g_bytes_get_size (r.data), image + 3 * 512, 4 * 512);
  g_bytes_unref (r.data);
  r = scsi (&c, read16, 16, TRUE, 512, NULL);
  g_assert_cmpmem (g_bytes_get_data (r.data, NULL), g_bytes_get_size (r.data), image + 10 * 512, 512);
  g_bytes_unref (r.data);

  /* past the end: no data, failed, ILLEGAL REQUEST / LBA OUT OF RANGE */
  r = scsi (&c, read_past, 10, TRUE, 2 * 512, NULL);
  g_assert_cmpuint (r.csw_status, ==, 1);
  g_assert_cmpuint (g_bytes_get_size (r.data), ==, 0);
  g_assert_cmpuint (r.residue, ==, 2 * 512);
  g_bytes_unref (r.data);
  g_assert_cmpuint (sense_key (&c, &asc), ==, 0x05);
  g_assert_cmpuint (asc, ==, 0x21);
  /* sense is cleared once reported */
  g_assert_cmpuint (sense_key (&c, &asc), ==, 0x00);

  r = scsi (&c, mode6, 6, TRUE, 192, NULL);
  d = g_bytes_get_data (r.data, NULL);
  g_assert_cmpuint (g_bytes_get_size (r.data), ==, 24);
  g_assert_cmpuint (d[0], ==, 23);
  g_assert_cmpuint (d[2] & 0x80, ==, 0); /* writable */
  g_assert_cmpuint (d[4], ==, 0x08);
  g_bytes_unref (r.data);
  r = scsi (&c, mode10, 10, TRUE, 64, NULL);
  g_assert_cmpuint (g_bytes_get_size (r.data), ==, 28);
  g_bytes_unref (r.data);
  g_assert_cmpuint (scsi (&c, sync10, 10, FALSE, 0, NULL).csw_status, ==, 0);
  g_assert_cmpuint (scsi (&c, prevent, 6, FALSE, 0, NULL).csw_status, ==, 0);
  g_assert_cmpuint (scsi (&c, start_stop, 6, FALSE, 0, NULL).csw_status, ==, 0);

  r = scsi (&c, unknown, 6, FALSE, 0, NULL);
  g_assert_cmpuint (r.csw_status, ==, 1);
  g_assert_cmpuint (sense_key (&c, &asc), ==, 0x05);
  g_assert_cmpuint (asc, ==, 0x20);
  client_close (&c);
  return NULL;
}

static gpointer
write_client (gpointer data)
{
  Fixture *f = data;
  gboolean read_only = g_str_has_suffix (g_test_get_path (), "read-only");
  Client c = { 0 };
  static const guint8 write10[10] = { 0x2a, 0, 0, 0, 0, 5, 0, 0, 2, 0 }; /* LBA 5, 2 blocks */
  guint8 payload[1024];
  g_autofree gchar *before = NULL, *after = NULL;
  gsize len = 0;
  Scsi r;
  guint8 asc = 0;

  memset (payload, 0xa5, sizeof payload);
  g_assert_true (g_file_get_contents (f->image, &before, &len, NULL));
  g_assert_cmpuint (client_import (&c, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  r = scsi (&c, write10, 10, FALSE, sizeof payload, payload);
  g_assert_true (g_file_get_contents (f->image, &after, &len, NULL));
  if (read_only)
    {
      g_assert_cmpuint (r.csw_status, ==, 1);
      g_assert_cmpuint (sense_key (&c, &asc), ==, 0x07);
      g_assert_cmpuint (asc, ==, 0x27);
      g_assert_cmpmem (after, len, before, len);
    }
  else
    {
      g_assert_cmpuint (r.csw_status, ==, 0);
      g_assert_cmpmem (after + 5 * 512, sizeof payload, payload, sizeof payload);
      g_assert_cmpmem (after, 5 * 512, before, 5 * 512);
    }
  client_close (&c);
  return NULL;
}

/* a CBW that is not one stalls both bulk pipes; CLEAR_FEATURE(HALT) and the class reset
 * recover */
static gpointer
bad_cbw_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  static const guint8 reset[8] = { 0x21, 0xff, 0, 0, 0, 0, 0, 0 };
  static const guint8 clear_in[8] = { 0x02, 1, 0, 0, 0x81, 0, 0, 0 };
  static const guint8 clear_out[8] = { 0x02, 1, 0, 0, 0x02, 0, 0, 0 };
  static const guint8 ep_status[8] = { 0x82, 0, 0, 0, 0x81, 0, 2, 0 };
  static const guint8 tur[6] = { 0x00 };
  g_autoptr (GBytes) halted = NULL;
  guint8 junk[31] = { 'X' };

  g_assert_cmpuint (client_import (&c, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  client_submit (&c, 2, USBIP_DIR_OUT, NULL, junk, sizeof junk, 0);
  g_assert_cmpint (client_next (&c, NULL).u.ret_submit.status, ==, -EPIPE);
  client_submit (&c, 1, USBIP_DIR_IN, NULL, NULL, 0, 13);
  g_assert_cmpint (client_next (&c, NULL).u.ret_submit.status, ==, -EPIPE);
  g_assert_cmpint (client_control (&c, ep_status, NULL, 0, &halted), ==, 0);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (halted, NULL))[0], ==, 1);
  g_assert_cmpint (client_control (&c, reset, NULL, 0, NULL), ==, 0);
  g_assert_cmpint (client_control (&c, clear_in, NULL, 0, NULL), ==, 0);
  g_assert_cmpint (client_control (&c, clear_out, NULL, 0, NULL), ==, 0);
  g_assert_cmpuint (scsi (&c, tur, 6, FALSE, 0, NULL).csw_status, ==, 0);
  client_close (&c);
  return NULL;
}

/* ---- unlink, busy, disconnect ---- */

static gpointer
unlink_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  guint32 victim, unlink, done;
  UsbipUrbHeader hdr;

  g_assert_cmpuint (client_import (&c, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  /* a CSW read before any command stays pending: unlinking it answers -ECONNRESET and the
   * victim never gets a RET_SUBMIT */
  victim = client_submit (&c, 1, USBIP_DIR_IN, NULL, NULL, 0, 13);
  unlink = client_unlink (&c, victim);
  hdr = client_next (&c, NULL);
  g_assert_cmpuint (hdr.command, ==, USBIP_RET_UNLINK);
  g_assert_cmpuint (hdr.seqnum, ==, unlink);
  g_assert_cmpint (hdr.u.ret_unlink.status, ==, -ECONNRESET);
  /* an URB that completed already: its RET_SUBMIT came first, RET_UNLINK says 0 */
  done = client_submit (&c, 0, USBIP_DIR_IN, get_device, NULL, 0, 18);
  hdr = client_next (&c, NULL);
  g_assert_cmpuint (hdr.command, ==, USBIP_RET_SUBMIT);
  g_assert_cmpuint (hdr.seqnum, ==, done);
  unlink = client_unlink (&c, done);
  hdr = client_next (&c, NULL);
  g_assert_cmpuint (hdr.command, ==, USBIP_RET_UNLINK);
  g_assert_cmpuint (hdr.seqnum, ==, unlink);
  g_assert_cmpint (hdr.u.ret_unlink.status, ==, 0);
  /* the session still works: the next CSW read is not confused with the victim */
  g_assert_cmpint (client_control (&c, get_device, NULL, 0, NULL), ==, 0);
  client_close (&c);
  return NULL;
}

static gpointer
busy_client (gpointer data)
{
  Fixture *f = data;
  Client a = { 0 }, b = { 0 };

  g_assert_cmpuint (client_import (&a, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  g_assert_cmpuint (client_import (&b, f->port, "virtual-disk"), ==, USBIP_ST_DEV_BUSY);
  client_close (&b);
  g_assert_cmpuint (client_import (&b, f->port, "virtual-nothing"), ==, USBIP_ST_NODEV);
  client_close (&b);
  g_assert_cmpint (client_control (&a, get_device, NULL, 0, NULL), ==, 0);
  client_close (&a);
  return NULL;
}

static void
test_busy_then_free (Fixture *f, gconstpointer data)
{
  run_client (busy_client, f);
  /* the disconnect ends the session and frees the device */
  test_util_wait_for (usbip_export_backend_get_status (USBIP_EXPORT_BACKEND (f->backend), "virtual-disk", NULL)
                          == USBIP_DEVICE_STATUS_AVAILABLE,
                      10000);
  run_client (descriptors_client, f);
}

/* ---- cdc-acm loopback; a client that never reads does not hold another up ---- */

static gpointer
serial_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  static const guint8 set_coding[8] = { 0x21, 0x20, 0, 0, 0, 0, 7, 0 };
  static const guint8 get_coding[8] = { 0xa1, 0x21, 0, 0, 0, 0, 7, 0 };
  static const guint8 set_lines[8] = { 0x21, 0x22, 3, 0, 0, 0, 0, 0 };
  static const guint8 coding[7] = { 0x80, 0x25, 0, 0, 0, 0, 8 }; /* 9600 8N1 */
  g_autoptr (GBytes) got = NULL, echo = NULL;
  guint32 in_seq, notify_seq;
  UsbipUrbHeader hdr;

  g_assert_cmpuint (client_import (&c, f->port, "virtual-serial"), ==, USBIP_ST_OK);
  g_assert_cmpint (client_control (&c, set_coding, coding, sizeof coding, NULL), ==, 0);
  g_assert_cmpint (client_control (&c, get_coding, NULL, 0, &got), ==, 0);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), coding, sizeof coding);
  g_assert_cmpint (client_control (&c, set_lines, NULL, 0, NULL), ==, 0);
  /* reads wait for data; the notification endpoint never completes */
  notify_seq = client_submit (&c, 3, USBIP_DIR_IN, NULL, NULL, 0, 16);
  in_seq = client_submit (&c, 1, USBIP_DIR_IN, NULL, NULL, 0, 512);
  client_submit (&c, 2, USBIP_DIR_OUT, NULL, "hello", 5, 0);
  hdr = client_next (&c, NULL);
  g_assert_cmpuint (hdr.command, ==, USBIP_RET_SUBMIT);
  hdr = client_next (&c, &echo);
  g_assert_cmpuint (hdr.seqnum, ==, in_seq);
  g_assert_cmpmem (g_bytes_get_data (echo, NULL), g_bytes_get_size (echo), "hello", 5);
  client_unlink (&c, notify_seq);
  g_assert_cmpint (client_next (&c, NULL).u.ret_unlink.status, ==, -ECONNRESET);
  client_close (&c);
  return NULL;
}

static gpointer
stalled_reader_client (gpointer data)
{
  Fixture *f = data;
  Client slow = { 0 };

  g_assert_cmpuint (client_import (&slow, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  /* thousands of requests whose returns are never read: the socket buffers fill up */
  g_socket_set_blocking (slow.socket, FALSE);
  for (guint i = 0; i < 20000; i++)
    {
      g_autoptr (GByteArray) bytes = g_byte_array_new ();
      UsbipMessage msg = { 0 };
      msg.type = USBIP_MESSAGE_CMD_SUBMIT;
      msg.urb.command = USBIP_CMD_SUBMIT;
      msg.urb.seqnum = i + 1;
      msg.urb.direction = USBIP_DIR_IN;
      msg.urb.u.cmd_submit.transfer_buffer_length = 255;
      memcpy (msg.urb.u.cmd_submit.setup, get_config, 8);
      usbip_message_encode (&msg, bytes);
      if (g_socket_send (slow.socket, (const gchar *) bytes->data, bytes->len, NULL, NULL) <= 0)
        break;
    }
  serial_client (f);
  client_close (&slow);
  return NULL;
}

/* ---- HID: lines written to the FIFO arrive as input reports ---- */

static void
write_fifo (const gchar *path, const gchar *text)
{
  gint fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
  close (fd);
}

static void
expect_report (Client *c, const guint8 *want, gsize len)
{
  g_autoptr (GBytes) got = NULL;

  client_submit (c, 1, USBIP_DIR_IN, NULL, NULL, 0, (guint32) len);
  g_assert_cmpint (client_next (c, &got).u.ret_submit.status, ==, 0);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), want, len);
}

static gpointer
hid_client (gpointer data)
{
  Fixture *f = data;
  Client kbd = { 0 }, mouse = { 0 };
  static const guint8 get_report_desc[8] = { 0x81, 6, 0, 0x22, 0, 0, 0xff, 0 };
  static const guint8 set_idle[8] = { 0x21, 0x0a, 0, 0, 0, 0, 0, 0 };
  static const guint8 press_a[8] = { 0, 0, 0x04 }, press_shift_b[8] = { 0x02, 0, 0x05 };
  static const guint8 press_enter[8] = { 0, 0, 0x28 }, release[8] = { 0 };
  static const guint8 move[4] = { 1, 5, 0xfd, 0 };
  g_autoptr (GBytes) desc = NULL;

  g_assert_cmpuint (client_import (&kbd, f->port, "virtual-kbd"), ==, USBIP_ST_OK);
  g_assert_cmpint (client_control (&kbd, get_report_desc, NULL, 0, &desc), ==, 0);
  g_assert_cmpuint (g_bytes_get_size (desc), ==, 63);
  g_assert_cmpint (client_control (&kbd, set_idle, NULL, 0, NULL), ==, 0);
  write_fifo (f->kbd_fifo, "aB\n");
  expect_report (&kbd, press_a, 8);
  expect_report (&kbd, release, 8);
  expect_report (&kbd, press_shift_b, 8);
  expect_report (&kbd, release, 8);
  expect_report (&kbd, press_enter, 8);
  expect_report (&kbd, release, 8);

  g_assert_cmpuint (client_import (&mouse, f->port, "virtual-mouse"), ==, USBIP_ST_OK);
  write_fifo (f->mouse_fifo, "not a move\n5 -3 1\n");
  expect_report (&mouse, move, 4);
  client_close (&kbd);
  client_close (&mouse);
  return NULL;
}

static void
test_hid_lines (void)
{
  g_autoptr (GByteArray) r = g_byte_array_new ();

  /* ")" is shift+0, "~" shift+`, "\t" Tab; "é" types nothing */
  g_assert_true (usbip_virtual_hid_parse_line (TRUE, ")~\t\xc3\xa9", r));
  g_assert_cmpuint (r->len, ==, 4 * 2 * 8);
  g_assert_cmpuint (r->data[0], ==, 0x02);
  g_assert_cmpuint (r->data[2], ==, 0x27);
  g_assert_cmpuint (r->data[16 + 2], ==, 0x35);
  g_assert_cmpuint (r->data[32 + 2], ==, 0x2b);
  g_assert_cmpuint (r->data[48 + 2], ==, 0x28);
  g_byte_array_set_size (r, 0);
  g_assert_true (usbip_virtual_hid_parse_line (FALSE, "-500 7 4 -1", r));
  g_assert_cmpmem (r->data, r->len, "\x04\x81\x07\xff", 4);
  g_assert_false (usbip_virtual_hid_parse_line (FALSE, "1", r));
  g_assert_false (usbip_virtual_hid_parse_line (FALSE, "1 2 3 4 5", r));
}

/* ---- hostile: malformed URBs after import close that connection only ---- */

static gpointer
malformed_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  static const guint8 garbage[48] = { 0, 0, 0, 9, 0xff, 0xff };
  guint8 byte;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (client_import (&c, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  test_util_send (c.socket, garbage, sizeof garbage);
  /* closed: EOF (or a reset) instead of an answer */
  g_assert_cmpint (g_socket_receive (c.socket, (gchar *) &byte, 1, NULL, &error), <=, 0);
  client_close (&c);
  /* the device is free again (the session ends as the daemon reads the garbage; bounded
   * retries while it does) and others are served */
  for (guint tries = 0; client_import (&c, f->port, "virtual-disk") == USBIP_ST_DEV_BUSY; tries++)
    {
      g_assert_cmpuint (tries, <, 5000);
      client_close (&c);
      g_usleep (1000);
    }
  client_close (&c);
  serial_client (f);
  return NULL;
}

static gpointer
huge_transfer_client (gpointer data)
{
  Fixture *f = data;
  Client c = { 0 };
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree guint8 *zeros = g_malloc0 (65536);
  UsbipMessage msg = { 0 };
  guint8 byte;

  g_assert_cmpuint (client_import (&c, f->port, "virtual-disk"), ==, USBIP_ST_OK);
  msg.type = USBIP_MESSAGE_CMD_SUBMIT;
  msg.urb.command = USBIP_CMD_SUBMIT;
  msg.urb.seqnum = 1;
  msg.urb.ep = 2;
  msg.urb.u.cmd_submit.transfer_buffer_length = 64 * 1024 * 1024;
  usbip_encode_urb_header (bytes, &msg.urb);
  test_util_send (c.socket, bytes->data, bytes->len);
  /* the session gives up past its cap instead of buffering 64 MiB */
  for (guint sent = 0; sent < USBIP_VIRTUAL_MAX_TRANSFER + 65536 * 2; sent += 65536)
    if (g_socket_send (c.socket, (const gchar *) zeros, 65536, NULL, NULL) <= 0)
      break;
  g_assert_cmpint (g_socket_receive (c.socket, (gchar *) &byte, 1, NULL, NULL), <=, 0);
  client_close (&c);
  return NULL;
}

/* ---- configuration ---- */

static void
test_config_errors (void)
{
  static const struct {
    const gchar *text;
    const gchar *message;
  } cases[] = {
    { "[virtual-device a]\ntype=floppy\n",
      "type=floppy: no such device model; expected one of mass-storage, cdc-acm, hid-keyboard, hid-mouse" },
    { "[virtual-device a]\ntype=hid-mouse\n", "needs input=PATH" },
    { "[virtual-device a]\ntype=hid-keyboard\ninput=/dev/null\n", "exists and is not a FIFO" },
    { "[virtual-device a]\n", "type=: missing" },
    { "[virtual-device a]\ntype=mass-storage\n", "needs image=PATH" },
    { "[virtual-device a]\ntype=mass-storage\nimage=/dev/null\nspeed=full\n", "speed=full: expected high" },
    { "[virtual-device a]\ntype=mass-storage\nimage=/nonexistent/x.img\n", "cannot open for reading and writing" },
    { "[virtual-device a]\ntype=mass-storage\nimage=/dev/null\nread-only=true\n", "not a regular file" },
    { "[virtual-device a]\ntype=cdc-acm\nmode=loopback\ncolour=red\n",
      "unknown key colour: this type takes type, vendor-id, product-id, serial, mode" },
    { "[virtual-device a]\ntype=cdc-acm\nmode=modem\n", "mode=modem: expected pty or loopback" },
    { "[virtual-device a]\ntype=cdc-acm\nmode=loopback\nvendor-id=xyz\n", "expected a 16-bit hexadecimal id" },
    { "[virtual-device a/b]\ntype=cdc-acm\nmode=loopback\n", "is not valid" },
    { "[virtual-device a]\ntype=cdc-acm\nmode=loopback\n[virtual-device b]\ntype=cdc-acm\nmode=loopback\n", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_autoptr (UsbipVirtualBackend) backend = usbip_virtual_backend_new (FALSE);
      g_autoptr (GError) error = NULL;

      g_assert_true (g_key_file_load_from_data (kf, cases[i].text, -1, G_KEY_FILE_NONE, NULL));
      if (cases[i].message == NULL)
        {
          g_assert_true (usbip_virtual_backend_reload (backend, kf, &error));
          g_assert_cmpuint (usbip_virtual_backend_get_n_devices (backend), ==, 2);
          continue;
        }
      g_assert_false (usbip_virtual_backend_reload (backend, kf, &error));
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("case %u: \"%s\" does not say \"%s\"", i, error->message, cases[i].message);
    }
}

static void
test_devlist_records (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) list = usbip_export_backend_list_devices (USBIP_EXPORT_BACKEND (f->backend), NULL);
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (UsbipDeframer) deframer = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  UsbipMessage msg = { 0 };
  gsize consumed = 0;
  const UsbipDeviceInfo *disk, *serial;

  /* what upstream `usbip list -r` decodes: bus ID, path, ids, classes, interfaces */
  usbip_encode_op_rep_devlist (wire, USBIP_ST_OK, list);
  g_assert_cmpint (usbip_deframer_pop (deframer, wire->data, wire->len, &consumed, &msg, NULL), ==,
                   USBIP_DEFRAME_FRAME);
  g_assert_cmpuint (msg.devices->len, ==, 5);
  disk = g_ptr_array_index (msg.devices, 0);
  serial = g_ptr_array_index (msg.devices, 1);
  g_assert_cmpstr (disk->busid, ==, "virtual-disk");
  g_assert_cmpstr (disk->path, ==, "/sys/devices/virtual/usbip/virtual-disk");
  g_assert_cmpuint (disk->speed, ==, USBIP_SPEED_HIGH);
  g_assert_cmpuint (disk->bNumInterfaces, ==, 1);
  g_assert_cmpuint (disk->interfaces[0].bInterfaceClass, ==, 0x08);
  g_assert_cmpuint (disk->interfaces[0].bInterfaceProtocol, ==, 0x50);
  g_assert_cmpstr (serial->busid, ==, "virtual-serial");
  g_assert_cmpuint (serial->bDeviceClass, ==, 0x02);
  g_assert_cmpuint (serial->bNumInterfaces, ==, 2);
  g_assert_cmpuint (serial->interfaces[1].bInterfaceClass, ==, 0x0a);
  /* speed=super: vhci attaches it on a USB 3 root-hub port */
  g_assert_cmpuint (((const UsbipDeviceInfo *) g_ptr_array_index (msg.devices, 4))->speed, ==, USBIP_SPEED_SUPER);
  usbip_message_clear (&msg);
}

/* a composite of the virtual backend and another serves both name spaces */
static void
test_composite (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipCompositeBackend) both = usbip_composite_backend_new ();
  g_autoptr (UsbipVirtualBackend) empty = usbip_virtual_backend_new (FALSE);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (UsbipDeviceInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  usbip_composite_backend_add (both, USBIP_EXPORT_BACKEND (empty));
  usbip_composite_backend_add (both, USBIP_EXPORT_BACKEND (f->backend));
  list = usbip_export_backend_list_devices (USBIP_EXPORT_BACKEND (both), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 5);
  info = usbip_export_backend_get_device (USBIP_EXPORT_BACKEND (both), "virtual-serial", &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_null (usbip_export_backend_get_device (USBIP_EXPORT_BACKEND (both), "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (usbip_export_backend_bind (USBIP_EXPORT_BACKEND (both), "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE);
}

/* ---- the device list cache (OP_REQ_DEVLIST), as usbipcored serves: virtual + usbip-host ---- */

typedef struct {
  Fixture *f;
  Client client; /* the importer, left connected */
  const gchar *busid;
} Importer;

static gpointer
import_and_stay (gpointer data)
{
  Importer *imp = data;

  g_assert_cmpuint (client_import (&imp->client, imp->f->port, imp->busid), ==, USBIP_ST_OK);
  return NULL;
}

/* what the cache answers, "BUSID:STATUS ...", the state as usbip_status numbers it */
static gchar *
cached (UsbipDeviceCache *cache)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = usbip_device_cache_list (cache, &error);
  GString *s = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < list->len; i++)
    {
      const UsbipDeviceInfo *info = g_ptr_array_index (list, i);
      g_string_append_printf (s, "%s%s:%d", i ? " " : "", info->busid, info->status);
    }
  return g_string_free (s, FALSE);
}

#define assert_cached(cache, expected)                                                                                 \
  G_STMT_START                                                                                                         \
  {                                                                                                                    \
    g_autofree gchar *got_ = cached (cache);                                                                           \
    g_assert_cmpstr (got_, ==, expected);                                                                              \
  }                                                                                                                    \
  G_STMT_END

/* how many devices an OP_REP_DEVLIST over the wire has */
static guint
wire_devlist_len (UsbipExporter *exporter, guint16 port)
{
  g_autoptr (GByteArray) encoded = g_byte_array_new ();
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (UsbipDeframer) deframer = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  UsbipMessage msg = { 0 };
  gboolean at_accept = FALSE;
  gsize len, consumed = 0;
  const guint8 *bytes;
  guint n;

  usbip_encode_op_req_devlist (encoded);
  request = g_bytes_new (encoded->data, encoded->len);
  reply = test_util_request_at_accept (exporter, port, request, &at_accept);
  bytes = g_bytes_get_data (reply, &len);
  g_assert_cmpint (usbip_deframer_pop (deframer, bytes, len, &consumed, &msg, NULL), ==, USBIP_DEFRAME_FRAME);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_OP_REP_DEVLIST);
  n = msg.devices->len;
  usbip_message_clear (&msg);
  return n;
}

#define VIRTUAL_FREE "virtual-disk:1 virtual-serial:1 virtual-kbd:1 virtual-mouse:1 virtual-ssd:1"

/* the virtual devices are answered from the cache beside the usbip-host ones: repeated
 * DEVLISTs read no backend again; an import, the end of a session and a reload are in the
 * next answer, each for one re-read of the virtual devices only (no sysfs rescan) */
static void
test_devlist_cache (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  FakeKernel *fk = fake_kernel_new ();
  g_autoptr (UsbipCompositeBackend) both = usbip_composite_backend_new ();
  g_autoptr (UsbipHostBackend) host = NULL;
  g_autoptr (UsbipExporter) exporter = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GKeyFile) kf = NULL;
  Importer imp = { f, { 0 }, "virtual-serial" };
  UsbipDeviceCache *cache;
  guint16 port;
  guint rescans;
  gint sv[2];

  fake_kernel_load_usbip_host (fk);
  fake_kernel_add_usb_device (fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  host = usbip_host_backend_new (fake_kernel_get_sysfs (fk));
  g_assert_true (usbip_export_backend_bind (USBIP_EXPORT_BACKEND (host), "1-1", &error));
  g_assert_no_error (error);
  /* the order usbipcored adds them in */
  usbip_composite_backend_add (both, USBIP_EXPORT_BACKEND (f->backend));
  usbip_composite_backend_add (both, USBIP_EXPORT_BACKEND (host));
  /* the fixture's exporter gives its port to this one, which serves both */
  g_clear_object (&f->exporter);
  exporter = usbip_exporter_new (USBIP_EXPORT_BACKEND (both));
  listener = test_util_listen (&f->port);
  g_assert_true (usbip_exporter_add_socket (exporter, listener, &error));
  usbip_exporter_start (exporter);
  port = f->port;
  cache = usbip_exporter_get_device_cache (exporter);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  usbip_device_cache_set_uevent_fd (cache, sv[0]); /* no uevent comes: the kernel is fake */

  g_assert_true (usbip_device_cache_is_caching (cache));
  assert_cached (cache, VIRTUAL_FREE " 1-1:1");
  rescans = usbip_device_cache_get_rescans (cache);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (wire_devlist_len (exporter, port), ==, 6);
  assert_cached (cache, VIRTUAL_FREE " 1-1:1");
  g_assert_cmpuint (usbip_device_cache_get_rescans (cache), ==, rescans);

  /* an import: the device is in use, left out of the DEVLIST until its session ends (as
   * upstream usbipd leaves out a device in use) */
  run_client (import_and_stay, &imp);
  assert_cached (cache, "virtual-disk:1 virtual-kbd:1 virtual-mouse:1 virtual-ssd:1 1-1:1");
  g_assert_cmpuint (wire_devlist_len (exporter, port), ==, 5);
  g_assert_cmpuint (usbip_device_cache_get_rescans (cache), ==, rescans + 1);

  /* the session ends (the client goes): free again */
  client_close (&imp.client);
  test_util_wait_for (usbip_export_backend_get_status (USBIP_EXPORT_BACKEND (f->backend), "virtual-serial", NULL)
                          == USBIP_DEVICE_STATUS_AVAILABLE,
                      10000);
  assert_cached (cache, VIRTUAL_FREE " 1-1:1");
  g_assert_cmpuint (usbip_device_cache_get_rescans (cache), ==, rescans + 2);
  g_assert_cmpuint (wire_devlist_len (exporter, port), ==, 6);

  /* a reload (SIGHUP) removes one device and adds another */
  kf = devices_keyfile (f, FALSE);
  g_assert_true (g_key_file_remove_group (kf, "virtual-device mouse", NULL));
  g_key_file_set_string (kf, "virtual-device extra", "type", "cdc-acm");
  g_key_file_set_string (kf, "virtual-device extra", "mode", "loopback");
  g_assert_true (usbip_virtual_backend_reload (f->backend, kf, &error));
  g_assert_no_error (error);
  assert_cached (cache, "virtual-disk:1 virtual-serial:1 virtual-kbd:1 virtual-ssd:1 virtual-extra:1 1-1:1");
  g_assert_cmpuint (wire_devlist_len (exporter, port), ==, 6);
  g_assert_cmpuint (usbip_device_cache_get_rescans (cache), ==, rescans + 3);
  close (sv[1]);
  g_clear_object (&exporter);
  g_clear_object (&both);
  g_clear_object (&host);
  fake_kernel_free (fk);
}

/* ---- reload (SIGHUP): only what changed is replaced ---- */

static UsbipVirtualDevice *
device_named (UsbipVirtualBackend *backend, const gchar *busid)
{
  for (guint i = 0; i < usbip_virtual_backend_get_n_devices (backend); i++)
    if (g_str_equal (usbip_virtual_device_get_busid (usbip_virtual_backend_get_device (backend, i)), busid))
      return usbip_virtual_backend_get_device (backend, i);
  return NULL;
}

static gpointer
kept_session_serves (gpointer data)
{
  Importer *imp = data;

  g_assert_cmpint (client_control (&imp->client, get_device, NULL, 0, NULL), ==, 0);
  return NULL;
}

static gpointer
ended_session_closed (gpointer data)
{
  Importer *imp = data;
  guint8 byte;

  g_assert_cmpint (g_socket_receive (imp->client.socket, (gchar *) &byte, 1, NULL, NULL), ==, 0);
  return NULL;
}

/* A reload keeps the device of a group that did not change (its lines reordered, a
 * comment added: the same keys and values) with its importer attached; it replaces a
 * changed one (ending its session), withdraws a removed one and adds a new one. */
static void
test_reload_keeps_unchanged (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GKeyFile) kf = devices_keyfile (f, FALSE);
  g_autofree gchar *text = NULL;
  g_autofree gchar *reordered = NULL;
  Importer serial = { f, { 0 }, "virtual-serial" }, disk = { f, { 0 }, "virtual-disk" };
  UsbipVirtualDevice *serial_dev = device_named (f->backend, "virtual-serial");
  UsbipVirtualDevice *kbd_dev = device_named (f->backend, "virtual-kbd");
  UsbipVirtualDevice *disk_dev = device_named (f->backend, "virtual-disk");

  run_client (import_and_stay, &serial);
  run_client (import_and_stay, &disk);
  /* the serial port's group with its lines the other way round and a comment */
  g_assert_true (g_key_file_remove_group (kf, "virtual-device serial", NULL));
  text = g_key_file_to_data (kf, NULL, NULL);
  reordered = g_strconcat (text, "[virtual-device serial]\n# the same device\nmode=loopback\ntype=cdc-acm\n", NULL);
  g_clear_pointer (&kf, g_key_file_unref);
  kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_data (kf, reordered, -1, G_KEY_FILE_KEEP_COMMENTS, &error));
  g_assert_no_error (error);
  g_key_file_set_string (kf, "virtual-device disk", "serial", "NEW"); /* changed */
  g_assert_true (g_key_file_remove_group (kf, "virtual-device mouse", NULL));
  g_key_file_set_string (kf, "virtual-device extra", "type", "cdc-acm");
  g_key_file_set_string (kf, "virtual-device extra", "mode", "loopback");
  g_assert_true (usbip_virtual_backend_reload (f->backend, kf, &error));
  g_assert_no_error (error);

  g_assert_true (device_named (f->backend, "virtual-serial") == serial_dev);
  g_assert_true (usbip_virtual_device_get_session (serial_dev) != NULL);
  run_client (kept_session_serves, &serial);
  g_assert_true (device_named (f->backend, "virtual-kbd") == kbd_dev); /* untouched */
  g_assert_nonnull (device_named (f->backend, "virtual-disk"));
  g_assert_true (device_named (f->backend, "virtual-disk") != disk_dev);
  run_client (ended_session_closed, &disk);
  g_assert_null (device_named (f->backend, "virtual-mouse"));
  g_assert_nonnull (device_named (f->backend, "virtual-extra"));
  client_close (&serial.client);
  client_close (&disk.client);
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);

  /* clients run in a thread against the fixture's exporter; fixture tests on it directly */
  static const struct {
    const gchar *path;
    Case test;
  } cases[] = {
    { "/virtual/devlist-records", { NULL, test_devlist_records, FALSE } },
    { "/virtual/composite", { NULL, test_composite, FALSE } },
    { "/virtual/devlist-cache", { NULL, test_devlist_cache, FALSE } },
    { "/virtual/reload-keeps-unchanged", { NULL, test_reload_keeps_unchanged, FALSE } },
    { "/virtual/descriptors", { descriptors_client, NULL, FALSE } },
    { "/virtual/mass-storage/scsi", { scsi_client, NULL, FALSE } },
    { "/virtual/mass-storage/super-speed", { super_speed_client, NULL, FALSE } },
    { "/virtual/mass-storage/write", { write_client, NULL, FALSE } },
    { "/virtual/mass-storage/write-read-only", { write_client, NULL, TRUE } },
    { "/virtual/mass-storage/bad-cbw-stalls", { bad_cbw_client, NULL, FALSE } },
    { "/virtual/unlink", { unlink_client, NULL, FALSE } },
    { "/virtual/busy-then-free", { NULL, test_busy_then_free, FALSE } },
    { "/virtual/cdc-acm/loopback", { serial_client, NULL, FALSE } },
    { "/virtual/slow-client-blocks-nobody", { stalled_reader_client, NULL, FALSE } },
    { "/hostile/virtual-malformed-urb", { malformed_client, NULL, FALSE } },
    { "/hostile/virtual-huge-transfer", { huge_transfer_client, NULL, FALSE } },
    { "/virtual/hid/fifo-to-reports", { hid_client, NULL, FALSE } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add (cases[i].path, Fixture, &cases[i].test, setup, test_case, teardown);
  g_test_add_func ("/virtual/hid/lines", test_hid_lines);
  g_test_add_func ("/virtual/config-errors", test_config_errors);
  return g_test_run ();
}
