/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Codec tests. The byte vectors are written by hand from the kernel's
 * Documentation/usb/usbip_protocol.rst, annotated field by field; all fields big-endian
 * except the setup packet, which is carried as the device sees it (little-endian).
 */
#include "config.h"

#include <string.h>

#include "usbipcore-plugin.h"

/* "01 11 80 05" -> bytes; whitespace and '|' ignored */
static GByteArray *
hex (const gchar *text)
{
  GByteArray *out = g_byte_array_new ();
  const gchar *p = text;

  while (*p != '\0')
    {
      guint8 b;
      if (g_ascii_isspace (*p) || *p == '|')
        {
          p++;
          continue;
        }
      g_assert_true (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]));
      b = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      g_byte_array_append (out, &b, 1);
      p += 2;
    }
  return out;
}

static void
append_zeros (GByteArray *a, guint n)
{
  guint8 z[256] = { 0 };
  while (n > 0)
    {
      guint k = MIN (n, sizeof z);
      g_byte_array_append (a, z, k);
      n -= k;
    }
}

static void
append_str (GByteArray *a, const gchar *s, guint width)
{
  guint n = strlen (s);
  g_byte_array_append (a, (const guint8 *) s, n);
  append_zeros (a, width - n);
}

static void
assert_bytes (GByteArray *got, GByteArray *want)
{
  g_assert_cmpmem (got->data, got->len, want->data, want->len);
}

/* pops exactly one frame of the whole buffer, asserts it consumed everything */
static void
pop_one (UsbipDeframer *d, GByteArray *bytes, UsbipMessage *msg)
{
  g_autoptr (GError) error = NULL;
  gsize consumed = 0;
  UsbipDeframeResult r = usbip_deframer_pop (d, bytes->data, bytes->len, &consumed, msg, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r, ==, USBIP_DEFRAME_FRAME);
  g_assert_cmpuint (consumed, ==, bytes->len);
}

static void
assert_invalid (UsbipStream stream, GByteArray *bytes, gint code)
{
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (stream, NULL);
  g_autoptr (GError) error = NULL;
  UsbipMessage msg = { 0 };
  gsize consumed = 77;
  UsbipDeframeResult r = usbip_deframer_pop (d, bytes->data, bytes->len, &consumed, &msg, &error);
  g_assert_cmpint (r, ==, USBIP_DEFRAME_INVALID);
  g_assert_error (error, USBIP_ERROR, code);
  g_assert_cmpuint (consumed, ==, 77);
  g_assert_null (msg.devices);
  g_assert_null (msg.device);
  g_assert_null (msg.iso);
}

/* A realistic device: a bound mass-storage stick */
static void
fill_device (UsbipDeviceInfo *d, guint nif)
{
  memset (d, 0, sizeof *d);
  g_strlcpy (d->path, "/sys/devices/pci0000:00/0000:00:1d.0/usb2/2-1", sizeof d->path);
  g_strlcpy (d->busid, "2-1", sizeof d->busid);
  d->busnum = 2;
  d->devnum = 3;
  d->speed = USBIP_SPEED_HIGH;
  d->idVendor = 0x0781;
  d->idProduct = 0x5567;
  d->bcdDevice = 0x0126;
  d->bConfigurationValue = 1;
  d->bNumConfigurations = 1;
  d->bNumInterfaces = nif;
  for (guint i = 0; i < nif; i++)
    {
      d->interfaces[i].bInterfaceClass = 0x08;
      d->interfaces[i].bInterfaceSubClass = 0x06;
      d->interfaces[i].bInterfaceProtocol = 0x50 + i;
    }
}

/* the 312-byte record of fill_device() written by hand */
static GByteArray *
device_record_bytes (guint nif)
{
  GByteArray *a = g_byte_array_new ();
  g_autoptr (GByteArray) tail = NULL;
  append_str (a, "/sys/devices/pci0000:00/0000:00:1d.0/usb2/2-1", 256); /* path[256] */
  append_str (a, "2-1", 32);                                            /* busid[32] */
  tail = hex ("00000002"                                                /* busnum */
              "00000003"                                                /* devnum */
              "00000003"                                                /* speed: USB_SPEED_HIGH */
              "0781"                                                    /* idVendor */
              "5567"                                                    /* idProduct */
              "0126"                                                    /* bcdDevice */
              "00 00 00"                                                /* bDeviceClass, SubClass, Protocol */
              "01"                                                      /* bConfigurationValue */
              "01");                                                    /* bNumConfigurations */
  g_byte_array_append (a, tail->data, tail->len);
  g_byte_array_append (a, (guint8[]){ nif }, 1); /* bNumInterfaces */
  g_assert_cmpuint (a->len, ==, USBIP_DEVICE_RECORD_SIZE);
  return a;
}

static void
test_op_req_devlist (void)
{
  g_autoptr (GByteArray) want = hex ("0111"       /* version 1.1.1 */
                                     "8005"       /* OP_REQ_DEVLIST */
                                     "00000000"); /* status: unused, 0 */
  g_autoptr (GByteArray) got = g_byte_array_new ();
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REQUEST, NULL);
  UsbipMessage msg = { 0 };

  usbip_encode_op_req_devlist (got);
  assert_bytes (got, want);
  pop_one (d, want, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_OP_REQ_DEVLIST);
  g_assert_cmphex (msg.op.version, ==, 0x0111);
  g_assert_cmphex (msg.op.code, ==, 0x8005);
  usbip_message_clear (&msg);
}

static void
test_op_req_import (void)
{
  g_autoptr (GByteArray) want = hex ("0111 8003 00000000"); /* version, OP_REQ_IMPORT, status */
  g_autoptr (GByteArray) got = g_byte_array_new ();
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REQUEST, NULL);
  UsbipMessage msg = { 0 };

  append_str (want, "1-1.2", 32); /* busid[32], NUL padded */
  usbip_encode_op_req_import (got, "1-1.2");
  assert_bytes (got, want);
  pop_one (d, want, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_OP_REQ_IMPORT);
  g_assert_cmpstr (msg.busid, ==, "1-1.2");
  usbip_message_clear (&msg);
  g_assert_cmpstr (msg.busid, ==, "");
}

static void
test_op_rep_import (void)
{
  g_autoptr (GByteArray) want = hex ("0111 0003 00000000"); /* version, OP_REP_IMPORT, ST_OK */
  g_autoptr (GByteArray) rec = device_record_bytes (1);
  g_autoptr (GByteArray) got = g_byte_array_new ();
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  UsbipDeviceInfo dev;
  UsbipMessage msg = { 0 };

  /* the import reply carries no interface records, even with bNumInterfaces 1 */
  g_byte_array_append (want, rec->data, rec->len);
  fill_device (&dev, 1);
  usbip_encode_op_rep_import (got, 0, &dev);
  assert_bytes (got, want);
  pop_one (d, want, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_OP_REP_IMPORT);
  g_assert_nonnull (msg.device);
  g_assert_cmpstr (msg.device->busid, ==, "2-1");
  g_assert_cmpstr (msg.device->path, ==, dev.path);
  g_assert_cmpuint (msg.device->busnum, ==, 2);
  g_assert_cmpuint (msg.device->devnum, ==, 3);
  g_assert_cmpint (msg.device->speed, ==, USBIP_SPEED_HIGH);
  g_assert_cmphex (msg.device->idVendor, ==, 0x0781);
  g_assert_cmphex (msg.device->idProduct, ==, 0x5567);
  g_assert_cmphex (msg.device->bcdDevice, ==, 0x0126);
  g_assert_cmpuint (msg.device->bConfigurationValue, ==, 1);
  g_assert_cmpuint (msg.device->bNumInterfaces, ==, 1);
  usbip_message_clear (&msg);
}

static void
test_op_rep_import_error (void)
{
  /* a failed import is a header alone */
  for (guint32 st = 1; st <= 5; st++)
    {
      g_autoptr (GByteArray) want = hex ("0111 0003");
      g_autoptr (GByteArray) got = g_byte_array_new ();
      g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
      UsbipMessage msg = { 0 };
      guint8 s[4] = { 0, 0, 0, st };

      g_byte_array_append (want, s, 4);
      usbip_encode_op_rep_import (got, st, NULL);
      assert_bytes (got, want);
      pop_one (d, want, &msg);
      g_assert_cmpuint (msg.op.status, ==, st);
      g_assert_null (msg.device);
      usbip_message_clear (&msg);
    }
}

static void
test_op_rep_devlist (void)
{
  g_autoptr (GByteArray) want = hex ("0111 0005 00000000" /* version, OP_REP_DEVLIST, ST_OK */
                                     "00000002");         /* number of devices */
  g_autoptr (GByteArray) rec2 = device_record_bytes (2);
  g_autoptr (GByteArray) rec0 = device_record_bytes (0);
  g_autoptr (GByteArray) ifs = hex ("08 06 50 00"   /* interface 0: class, sub, proto, pad */
                                    "08 06 51 00"); /* interface 1 */
  g_autoptr (GByteArray) got = g_byte_array_new ();
  g_autoptr (GPtrArray) devs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  UsbipMessage msg = { 0 };
  UsbipDeviceInfo *a = g_new0 (UsbipDeviceInfo, 1), *b = g_new0 (UsbipDeviceInfo, 1);

  g_byte_array_append (want, rec2->data, rec2->len);
  g_byte_array_append (want, ifs->data, ifs->len);
  /* a device bound to usbip-host reads bNumInterfaces empty: 0 records follow */
  g_byte_array_append (want, rec0->data, rec0->len);
  fill_device (a, 2);
  fill_device (b, 0);
  g_ptr_array_add (devs, a);
  g_ptr_array_add (devs, b);
  usbip_encode_op_rep_devlist (got, 0, devs);
  assert_bytes (got, want);

  pop_one (d, want, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_OP_REP_DEVLIST);
  g_assert_cmpuint (msg.devices->len, ==, 2);
  a = g_ptr_array_index (msg.devices, 0);
  g_assert_cmpuint (a->bNumInterfaces, ==, 2);
  g_assert_cmphex (a->interfaces[1].bInterfaceProtocol, ==, 0x51);
  g_assert_cmphex (a->interfaces[0].bInterfaceClass, ==, 0x08);
  b = g_ptr_array_index (msg.devices, 1);
  g_assert_cmpuint (b->bNumInterfaces, ==, 0);
  usbip_message_clear (&msg);

  /* an empty list */
  {
    g_autoptr (GByteArray) empty = hex ("0111 0005 00000000 00000000");
    g_autoptr (GByteArray) enc = g_byte_array_new ();
    usbip_encode_op_rep_devlist (enc, 0, NULL);
    assert_bytes (enc, empty);
    pop_one (d, empty, &msg);
    g_assert_cmpuint (msg.devices->len, ==, 0);
    usbip_message_clear (&msg);
  }
}

/* control IN: GET_DESCRIPTOR(DEVICE), 18 bytes */
static const gchar *cmd_get_descriptor =
    "00000001"              /* command: USBIP_CMD_SUBMIT */
    "00000005"              /* seqnum */
    "00020003"              /* devid: busnum 2, devnum 3 */
    "00000001"              /* direction: IN */
    "00000000"              /* ep 0 */
    "00000200"              /* transfer_flags: URB_DIR_IN */
    "00000012"              /* transfer_buffer_length 18 */
    "00000000"              /* start_frame */
    "ffffffff"              /* number_of_packets: not ISO */
    "00000000"              /* interval */
    "80 06 0001 0000 1200"; /* setup: bmRequestType 0x80, GET_DESCRIPTOR, wValue 0x0100,
                             wIndex 0, wLength 18 (little-endian inside) */

static const gchar *ret_get_descriptor =
    "00000003"                                           /* command: USBIP_RET_SUBMIT */
    "00000005"                                           /* seqnum */
    "00000000"                                           /* devid: 0 in returns */
    "00000000"                                           /* direction: 0 in returns */
    "00000000"                                           /* ep: 0 in returns */
    "00000000"                                           /* status 0 */
    "00000012"                                           /* actual_length 18 */
    "00000000"                                           /* start_frame */
    "00000000"                                           /* number_of_packets */
    "00000000"                                           /* error_count */
    "0000000000000000"                                   /* padding (setup) */
    "12 01 0002 00 00 00 40 8107 6755 2601 01 02 03 01"; /* 18-byte device descriptor */

static void
test_control_in (void)
{
  g_autoptr (GByteArray) cmd = hex (cmd_get_descriptor);
  g_autoptr (GByteArray) ret = hex (ret_get_descriptor);
  g_autoptr (UsbipUrbTracker) tracker = usbip_urb_tracker_new ();
  g_autoptr (UsbipDeframer) dc = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, tracker);
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, tracker);
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  g_assert_cmpuint (cmd->len, ==, 48);
  pop_one (dc, cmd, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_CMD_SUBMIT);
  g_assert_cmpuint (msg.urb.seqnum, ==, 5);
  g_assert_cmphex (msg.urb.devid, ==, 0x00020003);
  g_assert_cmpuint (msg.urb.direction, ==, USBIP_DIR_IN);
  g_assert_cmpint (msg.urb.u.cmd_submit.transfer_buffer_length, ==, 18);
  g_assert_cmpint (msg.urb.u.cmd_submit.number_of_packets, ==, -1);
  g_assert_cmphex (msg.urb.u.cmd_submit.setup[0], ==, 0x80);
  g_assert_cmphex (msg.urb.u.cmd_submit.setup[1], ==, 0x06);
  g_assert_cmphex (msg.urb.u.cmd_submit.setup[6] | msg.urb.u.cmd_submit.setup[7] << 8, ==, 18);
  g_assert_cmpuint (msg.data_len, ==, 0); /* IN: no data in the command */
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, cmd);
  usbip_message_clear (&msg);

  g_assert_cmpuint (ret->len, ==, 48 + 18);
  pop_one (dr, ret, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_RET_SUBMIT);
  g_assert_cmpint (msg.urb.u.ret_submit.actual_length, ==, 18);
  g_assert_cmpuint (msg.data_len, ==, 18);
  g_assert_true (msg.data == ret->data + 48); /* borrowed, not copied */
  g_assert_cmphex (msg.data[0], ==, 0x12);
  g_byte_array_set_size (enc, 0);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, ret);
  usbip_message_clear (&msg);
  /* the tracker forgot seqnum 5 */
  g_assert_false (usbip_urb_tracker_take (tracker, 5, NULL));
}

static void
test_bulk_out (void)
{
  g_autoptr (GByteArray) cmd = hex ("00000001 00000006 00020003" /* CMD_SUBMIT, seqnum 6, devid */
                                    "00000000 00000002"          /* direction OUT, ep 2 */
                                    "00000000 00000004"          /* flags, length 4 */
                                    "00000000 ffffffff 00000000" /* start, packets, interval */
                                    "0000000000000000"           /* setup: unused */
                                    "deadbeef");                 /* data */
  /* RET for an OUT: actual_length says how much was written, no data follows */
  g_autoptr (GByteArray) ret = hex ("00000003 00000006 00000000 00000000 00000000"
                                    "00000000 00000004 00000000 00000000 00000000"
                                    "0000000000000000");
  g_autoptr (UsbipUrbTracker) tracker = usbip_urb_tracker_new ();
  g_autoptr (UsbipDeframer) dc = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, tracker);
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, tracker);
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  pop_one (dc, cmd, &msg);
  g_assert_cmpuint (msg.data_len, ==, 4);
  g_assert_cmphex (msg.data[3], ==, 0xef);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, cmd);
  usbip_message_clear (&msg);
  pop_one (dr, ret, &msg);
  g_assert_cmpuint (msg.data_len, ==, 0);
  g_assert_cmpint (msg.urb.u.ret_submit.actual_length, ==, 4);
  usbip_message_clear (&msg);
}

static void
test_unlink (void)
{
  g_autoptr (GByteArray) cmd = hex ("00000002 00000008 00020003 00000000 00000000" /* CMD_UNLINK */
                                    "00000007"                                     /* unlink_seqnum: the victim */
                                    "000000000000000000000000000000000000000000000000");
  g_autoptr (GByteArray) ret = hex ("00000004 00000008 00000000 00000000 00000000" /* RET_UNLINK */
                                    "ffffff98"                                     /* status -104 (ECONNRESET) */
                                    "000000000000000000000000000000000000000000000000");
  g_autoptr (UsbipDeframer) dc = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, NULL);
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  pop_one (dc, cmd, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_CMD_UNLINK);
  g_assert_cmpuint (msg.urb.u.cmd_unlink.unlink_seqnum, ==, 7);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, cmd);
  usbip_message_clear (&msg);
  pop_one (dr, ret, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_RET_UNLINK);
  g_assert_cmpint (msg.urb.u.ret_unlink.status, ==, -104);
  g_byte_array_set_size (enc, 0);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, ret);
  usbip_message_clear (&msg);
}

static const gchar *cmd_iso_in = "00000001 00000009 00020003 00000001 00000003" /* CMD_SUBMIT, seq 9, IN, ep 3 */
                                 "00000202 00000006"                            /* flags ISO_ASAP|DIR_IN, length 6 */
                                 "00000010 00000002 00000001"           /* start_frame 16, 2 packets, interval 1 */
                                 "0000000000000000"                     /* setup unused */
                                 "00000000 00000003 00000000 00000000"  /* iso 0: offset 0, length 3 */
                                 "00000003 00000003 00000000 00000000"; /* iso 1: offset 3, length 3 */
static const gchar *ret_iso_in = "00000003 00000009 00000000 00000000 00000000" /* RET_SUBMIT, seq 9 */
                                 "00000000 00000005"                            /* status 0, actual_length 5 */
                                 "00000010 00000002 00000000"                   /* start_frame, 2 packets, 0 errors */
                                 "0000000000000000"
                                 "a1a2a3 b1b2"                          /* data: 3 + 2 bytes, packed */
                                 "00000000 00000003 00000003 00000000"  /* iso 0: actual 3 */
                                 "00000003 00000003 00000002 00000000"; /* iso 1: actual 2 */

static void
test_iso (void)
{
  g_autoptr (GByteArray) cmd = hex (cmd_iso_in);
  g_autoptr (GByteArray) ret = hex (ret_iso_in);
  g_autoptr (UsbipUrbTracker) tracker = usbip_urb_tracker_new ();
  g_autoptr (UsbipDeframer) dc = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, tracker);
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, tracker);
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  pop_one (dc, cmd, &msg);
  g_assert_cmpuint (msg.n_iso, ==, 2);
  g_assert_cmpuint (msg.iso[1].offset, ==, 3);
  g_assert_cmpuint (msg.data_len, ==, 0);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, cmd);
  usbip_message_clear (&msg);

  pop_one (dr, ret, &msg);
  g_assert_cmpuint (msg.data_len, ==, 5);
  g_assert_cmpuint (msg.n_iso, ==, 2);
  g_assert_cmpuint (msg.iso[1].actual_length, ==, 2);
  g_byte_array_set_size (enc, 0);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, ret);
  usbip_message_clear (&msg);
}

/* a RET whose header direction disagrees with its tracked CMD: the tracker wins (an OUT
 * transfer's RET carries no data, whatever its direction field says) */
static void
test_ret_tracked_direction (void)
{
  g_autoptr (GByteArray) cmd = hex ("00000001 00000005 00020003 00000000 00000002" /* CMD_SUBMIT, seq 5, OUT */
                                    "00000000 00000000 00000000 00000000 00000000" /* no data */
                                    "0000000000000000");
  g_autoptr (GByteArray) ret = hex ("00000003 00000005 00000000 00000001 00000000" /* RET_SUBMIT, direction 1 */
                                    "00000000 00000004 00000000 00000000 00000000" /* actual_length 4 */
                                    "0000000000000000");
  g_autoptr (UsbipUrbTracker) tracker = usbip_urb_tracker_new ();
  g_autoptr (UsbipDeframer) dc = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, tracker);
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, tracker);
  UsbipMessage msg = { 0 };

  pop_one (dc, cmd, &msg);
  usbip_message_clear (&msg);
  pop_one (dr, ret, &msg); /* 48 bytes: no data follows */
  g_assert_cmpuint (msg.data_len, ==, 0);
  usbip_message_clear (&msg);
}

/* one ISO packet and the most the kernel allows (USBIP_MAX_ISO_PACKETS) frame with every
 * descriptor; one more packet is refused */
static void
test_iso_max (void)
{
  const guint counts[] = { 1, USBIP_MAX_ISO_PACKETS, USBIP_MAX_ISO_PACKETS + 1 };

  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      guint n = counts[i];
      g_autoptr (GByteArray) frame = hex (cmd_iso_in);
      g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
      g_autoptr (GError) error = NULL;
      UsbipMessage msg = { 0 };
      gsize consumed = 0;
      guint32 be = GUINT32_TO_BE (n);

      g_byte_array_set_size (frame, USBIP_URB_HEADER_SIZE); /* then n zeroed descriptors */
      memcpy (frame->data + 32, &be, sizeof be);            /* number_of_packets */
      g_byte_array_set_size (frame, USBIP_URB_HEADER_SIZE + n * USBIP_ISO_PACKET_SIZE);
      memset (frame->data + USBIP_URB_HEADER_SIZE, 0, n * USBIP_ISO_PACKET_SIZE);
      if (n <= USBIP_MAX_ISO_PACKETS)
        {
          pop_one (d, frame, &msg);
          g_assert_cmpuint (msg.n_iso, ==, n);
          usbip_message_clear (&msg);
        }
      else
        {
          g_assert_cmpint (usbip_deframer_pop (d, frame->data, frame->len, &consumed, &msg, &error), ==,
                           USBIP_DEFRAME_INVALID);
          g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
        }
    }
}

static void
test_ret_unknown_seqnum (void)
{
  /* a RET whose CMD was never seen frames from its header: direction field 1 means IN */
  g_autoptr (GByteArray) ret = hex ("00000003 0000000a 00000000 00000001 00000000"
                                    "00000000 00000002 00000000 00000000 00000000"
                                    "0000000000000000 abcd");
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, NULL);
  UsbipMessage msg = { 0 };
  g_assert_nonnull (usbip_deframer_get_tracker (dr));
  pop_one (dr, ret, &msg);
  g_assert_cmpuint (msg.data_len, ==, 2);
  usbip_message_clear (&msg);
}

/* tiny / short / complete / complete-and-short / complete-and-complete, and byte at a time */
static void
check_deframing (UsbipStream stream, GByteArray *frame, UsbipMessageType type)
{
  g_autoptr (GByteArray) two = g_byte_array_new ();
  UsbipMessage msg = { 0 };
  gsize consumed = 0;

  g_byte_array_append (two, frame->data, frame->len);
  g_byte_array_append (two, frame->data, frame->len);

  for (gsize n = 0; n < frame->len; n++)
    {
      g_autoptr (UsbipDeframer) d = usbip_deframer_new (stream, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_cmpint (usbip_deframer_pop (d, frame->data, n, &consumed, &msg, &error), ==, USBIP_DEFRAME_NEED_MORE);
      g_assert_no_error (error);
      g_assert_null (msg.devices);
    }
  for (gsize extra = 0; extra <= frame->len; extra += MAX (1, frame->len / 7))
    {
      g_autoptr (UsbipDeframer) d = usbip_deframer_new (stream, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_cmpint (usbip_deframer_pop (d, two->data, frame->len + extra, &consumed, &msg, &error), ==,
                       USBIP_DEFRAME_FRAME);
      g_assert_no_error (error);
      g_assert_cmpuint (consumed, ==, frame->len);
      g_assert_cmpint (msg.type, ==, type);
      usbip_message_clear (&msg);
      if (extra == frame->len)
        {
          g_assert_cmpint (usbip_deframer_pop (d, two->data + consumed, frame->len, &consumed, &msg, &error), ==,
                           USBIP_DEFRAME_FRAME);
          g_assert_cmpuint (consumed, ==, frame->len);
          usbip_message_clear (&msg);
        }
    }
}

static void
test_deframing_cases (void)
{
  g_autoptr (GByteArray) req = hex ("0111 8005 00000000");
  g_autoptr (GByteArray) imp = hex ("0111 8003 00000000");
  g_autoptr (GByteArray) rep = hex ("0111 0003 00000000");
  g_autoptr (GByteArray) rec = device_record_bytes (0);
  g_autoptr (GByteArray) devlist = g_byte_array_new ();
  g_autoptr (GPtrArray) devs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GByteArray) cmd = hex (cmd_get_descriptor);
  g_autoptr (GByteArray) iso = hex (cmd_iso_in);
  g_autoptr (GByteArray) ret = hex (ret_get_descriptor);

  append_str (imp, "3-2", 32);
  g_byte_array_append (rep, rec->data, rec->len);
  for (guint i = 0; i < 3; i++)
    {
      UsbipDeviceInfo *d = g_new0 (UsbipDeviceInfo, 1);
      fill_device (d, i + 1);
      g_ptr_array_add (devs, d);
    }
  usbip_encode_op_rep_devlist (devlist, 0, devs);

  check_deframing (USBIP_STREAM_OP_REQUEST, req, USBIP_MESSAGE_OP_REQ_DEVLIST);
  check_deframing (USBIP_STREAM_OP_REQUEST, imp, USBIP_MESSAGE_OP_REQ_IMPORT);
  check_deframing (USBIP_STREAM_OP_REPLY, rep, USBIP_MESSAGE_OP_REP_IMPORT);
  check_deframing (USBIP_STREAM_OP_REPLY, devlist, USBIP_MESSAGE_OP_REP_DEVLIST);
  check_deframing (USBIP_STREAM_URB_COMMAND, cmd, USBIP_MESSAGE_CMD_SUBMIT);
  check_deframing (USBIP_STREAM_URB_COMMAND, iso, USBIP_MESSAGE_CMD_SUBMIT);
  /* with no tracker entry and direction 0, a RET frames without data: feed a tracker */
  {
    UsbipMessage msg = { 0 };
    gsize consumed;
    for (gsize n = 0; n < ret->len; n++)
      {
        g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_URB_RETURN, NULL);
        usbip_urb_tracker_add (usbip_deframer_get_tracker (d), 5, USBIP_DIR_IN);
        g_assert_cmpint (usbip_deframer_pop (d, ret->data, n, &consumed, &msg, NULL), ==, USBIP_DEFRAME_NEED_MORE);
        /* an incomplete frame must not forget the direction */
        g_assert_true (usbip_urb_tracker_take (usbip_deframer_get_tracker (d), 5, NULL));
      }
  }
}

static void
test_stream_switch (void)
{
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  g_assert_cmpint (usbip_deframer_get_stream (d), ==, USBIP_STREAM_OP_REPLY);
  usbip_deframer_set_stream (d, USBIP_STREAM_URB_RETURN);
  g_assert_cmpint (usbip_deframer_get_stream (d), ==, USBIP_STREAM_URB_RETURN);
}

static void
test_hostile_op (void)
{
  g_autoptr (GByteArray) v = hex ("0110 8005 00000000");                  /* version 1.10 */
  g_autoptr (GByteArray) op = hex ("0111 8007 00000000");                 /* unknown request */
  g_autoptr (GByteArray) op2 = hex ("0111 0009 00000000");                /* unknown reply */
  g_autoptr (GByteArray) wrongside = hex ("0111 0005 00000000 00000000"); /* a reply sent to a server */
  g_autoptr (GByteArray) wrongside2 = hex ("0111 8005 00000000");         /* a request sent to a client */
  g_autoptr (GByteArray) manydev = hex ("0111 0005 00000000 7fffffff");
  g_autoptr (GByteArray) maxdev = hex ("0111 0005 00000000 00001001"); /* 4097 */
  g_autoptr (GByteArray) busid = hex ("0111 8003 00000000");
  g_autoptr (GByteArray) rec = device_record_bytes (0);
  g_autoptr (GByteArray) manyif = hex ("0111 0003 00000000");
  g_autoptr (GByteArray) manyif2 = hex ("0111 0005 00000000 00000001");
  g_autoptr (GByteArray) path = hex ("0111 0003 00000000");

  assert_invalid (USBIP_STREAM_OP_REQUEST, v, USBIP_ERROR_VERSION);
  assert_invalid (USBIP_STREAM_OP_REPLY, v, USBIP_ERROR_VERSION);
  {
    /* the message names the peer's version as major.minor (0x0107 is 1.07) */
    g_autoptr (GByteArray) v107 = hex ("0107 8005 00000000");
    g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REQUEST, NULL);
    g_autoptr (GError) error = NULL;
    UsbipMessage msg = { 0 };
    gsize consumed = 0;

    g_assert_cmpint (usbip_deframer_pop (d, v107->data, v107->len, &consumed, &msg, &error), ==, USBIP_DEFRAME_INVALID);
    g_assert_nonnull (strstr (error->message, "version 1.07,"));
  }
  assert_invalid (USBIP_STREAM_OP_REQUEST, op, USBIP_ERROR_UNKNOWN_OPCODE);
  assert_invalid (USBIP_STREAM_OP_REPLY, op2, USBIP_ERROR_UNKNOWN_OPCODE);
  assert_invalid (USBIP_STREAM_OP_REPLY, op, USBIP_ERROR_UNKNOWN_OPCODE);
  assert_invalid (USBIP_STREAM_OP_REQUEST, wrongside, USBIP_ERROR_PROTOCOL);
  assert_invalid (USBIP_STREAM_OP_REPLY, wrongside2, USBIP_ERROR_PROTOCOL);
  assert_invalid (USBIP_STREAM_OP_REPLY, manydev, USBIP_ERROR_PROTOCOL);
  assert_invalid (USBIP_STREAM_OP_REPLY, maxdev, USBIP_ERROR_PROTOCOL);

  /* busid filling all 32 bytes: no NUL */
  g_byte_array_append (busid, (const guint8 *) "11111111111111111111111111111111", 32);
  assert_invalid (USBIP_STREAM_OP_REQUEST, busid, USBIP_ERROR_PROTOCOL);

  /* bNumInterfaces 33 in an import reply and in a list */
  rec->data[311] = 33;
  g_byte_array_append (manyif, rec->data, rec->len);
  assert_invalid (USBIP_STREAM_OP_REPLY, manyif, USBIP_ERROR_PROTOCOL);
  g_byte_array_append (manyif2, rec->data, rec->len);
  assert_invalid (USBIP_STREAM_OP_REPLY, manyif2, USBIP_ERROR_PROTOCOL);

  /* path without NUL */
  memset (rec->data, 'a', 256);
  rec->data[311] = 0;
  g_byte_array_append (path, rec->data, rec->len);
  assert_invalid (USBIP_STREAM_OP_REPLY, path, USBIP_ERROR_PROTOCOL);

  /* the same unterminated path in the second record of a device list: the list is
   * whole (the walk over the sizes passes), the decoding of the records rejects it */
  {
    g_autoptr (GByteArray) good = device_record_bytes (0);
    g_autoptr (GByteArray) list = hex ("0111 0005 00000000 00000002");
    g_byte_array_append (list, good->data, good->len);
    g_byte_array_append (list, rec->data, rec->len);
    assert_invalid (USBIP_STREAM_OP_REPLY, list, USBIP_ERROR_PROTOCOL);
  }

  /* busid without NUL in an import reply */
  {
    g_autoptr (GByteArray) good = device_record_bytes (0);
    g_autoptr (GByteArray) reply = hex ("0111 0003 00000000");
    memset (good->data + 256, '1', 32);
    g_byte_array_append (reply, good->data, good->len);
    assert_invalid (USBIP_STREAM_OP_REPLY, reply, USBIP_ERROR_PROTOCOL);
  }
}

static void
test_hostile_urb (void)
{
  const gchar *base = "00000001 00000001 00020003 00000000 00000001";
  struct {
    UsbipStream stream;
    const gchar *tail;
    gint code;
  } cases[] = {
    /* transfer_buffer_length over the cap (64 MiB + 1) */
    { USBIP_STREAM_URB_COMMAND, "00000000 04000001 00000000 ffffffff 00000000 0000000000000000", USBIP_ERROR_PROTOCOL },
    /* negative length */
    { USBIP_STREAM_URB_COMMAND, "00000000 ffffff00 00000000 ffffffff 00000000 0000000000000000", USBIP_ERROR_PROTOCOL },
    /* 1025 ISO packets */
    { USBIP_STREAM_URB_COMMAND, "00000000 00000000 00000000 00000401 00000000 0000000000000000", USBIP_ERROR_PROTOCOL },
    /* -2 ISO packets */
    { USBIP_STREAM_URB_COMMAND, "00000000 00000000 00000000 fffffffe 00000000 0000000000000000", USBIP_ERROR_PROTOCOL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *s = g_strconcat (base, cases[i].tail, NULL);
      g_autoptr (GByteArray) b = hex (s);
      assert_invalid (cases[i].stream, b, cases[i].code);
    }
  {
    /* direction 2 */
    g_autoptr (GByteArray) b = hex ("00000001 00000001 00020003 00000002 00000001"
                                    "00000000 00000000 00000000 ffffffff 00000000 0000000000000000");
    assert_invalid (USBIP_STREAM_URB_COMMAND, b, USBIP_ERROR_PROTOCOL);
  }
  {
    /* unknown command 5, a RET in a command stream, a CMD in a return stream */
    g_autoptr (GByteArray) u = hex ("00000005 00000001 00000000 00000000 00000000"
                                    "00000000000000000000000000000000000000000000000000000000");
    g_autoptr (GByteArray) r = hex (ret_get_descriptor);
    g_autoptr (GByteArray) c = hex (cmd_get_descriptor);
    g_assert_cmpuint (u->len, ==, 48);
    assert_invalid (USBIP_STREAM_URB_COMMAND, u, USBIP_ERROR_UNKNOWN_OPCODE);
    assert_invalid (USBIP_STREAM_URB_COMMAND, r, USBIP_ERROR_PROTOCOL);
    assert_invalid (USBIP_STREAM_URB_RETURN, c, USBIP_ERROR_PROTOCOL);
  }
  {
    /* RET actual_length over the cap */
    g_autoptr (GByteArray) b = hex ("00000003 00000001 00000000 00000000 00000000"
                                    "00000000 7fffffff 00000000 00000000 00000000 0000000000000000");
    assert_invalid (USBIP_STREAM_URB_RETURN, b, USBIP_ERROR_PROTOCOL);
  }
  {
    /* a huge-but-allowed OUT length with few bytes present is NEED_MORE, not an allocation */
    g_autoptr (GByteArray) b = hex ("00000001 00000001 00020003 00000000 00000001"
                                    "00000000 04000000 00000000 ffffffff 00000000 0000000000000000");
    g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
    UsbipMessage msg = { 0 };
    gsize consumed;
    g_assert_cmpint (usbip_deframer_pop (d, b->data, b->len, &consumed, &msg, NULL), ==, USBIP_DEFRAME_NEED_MORE);
  }
}

static void
test_decode_pieces (void)
{
  UsbipOpHeader h;
  UsbipUrbHeader u;
  UsbipDeviceInfo d;
  guint8 small[4] = { 0 };
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;

  g_assert_false (usbip_decode_op_header (small, sizeof small, &h, &e1));
  g_assert_error (e1, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
  g_assert_false (usbip_decode_urb_header (small, sizeof small, &u, &e2));
  g_assert_error (e2, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
  g_assert_false (usbip_decode_device_record (small, sizeof small, &d, &e3));
  g_assert_error (e3, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
}

static void
test_encode_long_busid (void)
{
  /* an over-long busid is cut to 31 bytes and stays NUL-terminated on the wire */
  g_autoptr (GByteArray) got = g_byte_array_new ();
  g_autofree gchar *longid = g_strnfill (40, '7');
  usbip_encode_op_req_import (got, longid);
  g_assert_cmpuint (got->len, ==, 8 + 32);
  g_assert_cmpuint (got->data[8 + 30], ==, '7');
  g_assert_cmpuint (got->data[8 + 31], ==, 0);
}

static void
test_encode_short_busid (void)
{
  /* an empty busid and a one-byte one: the field is the bytes given, then zeros */
  const gchar *busids[] = { "", "7" };

  for (guint i = 0; i < G_N_ELEMENTS (busids); i++)
    {
      g_autoptr (GByteArray) got = g_byte_array_new ();
      gsize n = strlen (busids[i]);

      usbip_encode_op_req_import (got, busids[i]);
      g_assert_cmpuint (got->len, ==, 8 + 32);
      if (n > 0)
        g_assert_cmpmem (got->data + 8, n, busids[i], n);
      for (gsize j = n; j < 32; j++)
        g_assert_cmpuint (got->data[8 + j], ==, 0);
    }
}

static void
test_tracker_cap (void)
{
  g_autoptr (UsbipUrbTracker) t = usbip_urb_tracker_new ();
  UsbipDirection dir;
  for (guint32 i = 0; i < 65536 + 10; i++)
    usbip_urb_tracker_add (t, i, i % 2 ? USBIP_DIR_IN : USBIP_DIR_OUT);
  /* the 10 oldest are forgotten, the newest kept */
  g_assert_false (usbip_urb_tracker_take (t, 0, &dir));
  g_assert_false (usbip_urb_tracker_take (t, 9, &dir));
  g_assert_true (usbip_urb_tracker_take (t, 10, &dir));
  g_assert_cmpint (dir, ==, USBIP_DIR_OUT);
  g_assert_true (usbip_urb_tracker_take (t, 65545, &dir));
  g_assert_cmpint (dir, ==, USBIP_DIR_IN);
  g_assert_false (usbip_urb_tracker_take (t, 65545, &dir));
}

/* encodes a URB message into @out (cleared first) */
static void
encode_urb (GByteArray *out, UsbipMessageType type, guint32 seqnum, UsbipDirection dir, const guint8 *data, gsize len)
{
  UsbipMessage m = { 0 };

  g_byte_array_set_size (out, 0);
  m.type = type;
  m.urb.command = type == USBIP_MESSAGE_CMD_SUBMIT ? USBIP_CMD_SUBMIT : USBIP_RET_SUBMIT;
  m.urb.seqnum = seqnum;
  m.urb.devid = 0x00010002;
  m.urb.direction = dir;
  m.urb.ep = dir == USBIP_DIR_IN ? 1 : 2;
  if (type == USBIP_MESSAGE_CMD_SUBMIT)
    {
      m.urb.u.cmd_submit.transfer_buffer_length = (gint32) len;
      m.urb.u.cmd_submit.number_of_packets = -1;
    }
  else
    m.urb.u.ret_submit.actual_length = (gint32) len;
  m.data = data;
  m.data_len = data != NULL ? len : 0;
  usbip_message_encode (&m, out);
}

/* An IN URB pending while 70 000 others are submitted and completed keeps its direction:
 * only pending URBs count toward the tracker's cap. Its RET_SUBMIT (direction 0, as
 * usbip-host sends it) must be framed with its data, and the next frame must follow. */
/* a seqnum submitted again is one pending URB (the newer direction), not two: the cap still
 * holds 65535 others beside it */
static void
test_tracker_resubmit (void)
{
  g_autoptr (UsbipUrbTracker) t = usbip_urb_tracker_new ();
  UsbipDirection dir;

  usbip_urb_tracker_add (t, 0, USBIP_DIR_OUT);
  usbip_urb_tracker_add (t, 0, USBIP_DIR_IN);
  for (guint32 i = 1; i < 65536; i++)
    usbip_urb_tracker_add (t, i, USBIP_DIR_OUT);
  g_assert_true (usbip_urb_tracker_take (t, 0, &dir));
  g_assert_cmpint (dir, ==, USBIP_DIR_IN);
  g_assert_false (usbip_urb_tracker_take (t, 0, &dir));
  g_assert_true (usbip_urb_tracker_take (t, 1, &dir));
  usbip_urb_tracker_free (NULL); /* both nullable, as documented */
  usbip_deframer_free (NULL);
}

static void
test_tracker_long_pending (void)
{
  g_autoptr (UsbipUrbTracker) tracker = usbip_urb_tracker_new ();
  g_autoptr (UsbipDeframer) dc = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, tracker);
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, tracker);
  g_autoptr (GByteArray) frame = g_byte_array_new ();
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  guint8 payload[64];
  UsbipMessage msg = { 0 };
  gsize consumed = 0;

  /* the payload looks like a RET_SUBMIT header: read as one, it would frame wrongly */
  memset (payload, 0, sizeof payload);
  payload[3] = 0x03;
  encode_urb (frame, USBIP_MESSAGE_CMD_SUBMIT, 1, USBIP_DIR_IN, NULL, sizeof payload);
  pop_one (dc, frame, &msg);
  usbip_message_clear (&msg);
  for (guint32 seq = 2; seq < 2 + 70000; seq++)
    {
      encode_urb (frame, USBIP_MESSAGE_CMD_SUBMIT, seq, USBIP_DIR_OUT, payload, 4);
      pop_one (dc, frame, &msg);
      usbip_message_clear (&msg);
      encode_urb (frame, USBIP_MESSAGE_RET_SUBMIT, seq, USBIP_DIR_OUT, NULL, 4);
      pop_one (dr, frame, &msg);
      g_assert_cmpuint (msg.data_len, ==, 0);
      usbip_message_clear (&msg);
    }

  /* RET_SUBMIT of seqnum 1 with 64 bytes of IN data, then another return */
  encode_urb (stream, USBIP_MESSAGE_RET_SUBMIT, 1, USBIP_DIR_OUT, payload, sizeof payload);
  encode_urb (frame, USBIP_MESSAGE_RET_SUBMIT, 70002, USBIP_DIR_OUT, NULL, 0);
  g_byte_array_append (stream, frame->data, frame->len);
  g_assert_cmpint (usbip_deframer_pop (dr, stream->data, stream->len, &consumed, &msg, &error), ==,
                   USBIP_DEFRAME_FRAME);
  g_assert_no_error (error);
  g_assert_cmpuint (msg.urb.seqnum, ==, 1);
  g_assert_cmpuint (msg.data_len, ==, sizeof payload);
  g_assert_cmpuint (consumed, ==, USBIP_URB_HEADER_SIZE + sizeof payload);
  usbip_message_clear (&msg);
  g_assert_cmpint (usbip_deframer_pop (dr, stream->data + consumed, stream->len - consumed, &consumed, &msg, &error),
                   ==, USBIP_DEFRAME_FRAME);
  g_assert_no_error (error);
  g_assert_cmpuint (msg.urb.seqnum, ==, 70002);
  usbip_message_clear (&msg);
  /* everything completed: the tracker holds nothing */
  g_assert_false (usbip_urb_tracker_take (tracker, 1, NULL));
}

/* Every field of every URB header with its own value (no field shares a byte pattern
 * with its neighbours, none is 0 where the protocol allows another value): decoding
 * reads each field from its own offset, encoding writes it back byte for byte. */
static void
test_urb_fields (void)
{
  const gchar *cmd_submit = "00000001"          /* command: USBIP_CMD_SUBMIT */
                            "10111213"          /* seqnum */
                            "00050007"          /* devid: busnum 5, devnum 7 */
                            "00000001"          /* direction: IN */
                            "0000000e"          /* ep 14 */
                            "00000204"          /* transfer_flags, kept as sent */
                            "00000c00"          /* transfer_buffer_length 3072 */
                            "00012345"          /* start_frame */
                            "00000003"          /* number_of_packets */
                            "00000008"          /* interval */
                            "c0a1b2c3d4e5f607"; /* setup */
  const gchar *ret_submit = "00000003"          /* command: USBIP_RET_SUBMIT */
                            "20212223"          /* seqnum */
                            "00000000 00000000 00000000"
                            "ffffffee"          /* status -18 (EXDEV) */
                            "00000bff"          /* actual_length 3071 */
                            "00012346"          /* start_frame */
                            "00000002"          /* number_of_packets */
                            "00000001"          /* error_count */
                            "0102030405060708"; /* padding, kept as sent */
  const gchar *cmd_unlink = "00000002"          /* command: USBIP_CMD_UNLINK */
                            "30313233"          /* seqnum */
                            "00050007 00000000 0000000e"
                            "10111213"                                          /* unlink_seqnum */
                            "404142434445464748494a4b4c4d4e4f5051525354555657"; /* padding */
  const gchar *ret_unlink = "00000004"                                          /* command: USBIP_RET_UNLINK */
                            "40414243"                                          /* seqnum */
                            "00000000 00000000 00000000"
                            "ffffff98"                                          /* status -104 (ECONNRESET) */
                            "606162636465666768696a6b6c6d6e6f7071727374757677"; /* padding */
  const guint8 setup[8] = { 0xc0, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07 };
  const guint8 pad8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  const gchar *all[] = { cmd_submit, ret_submit, cmd_unlink, ret_unlink };
  UsbipUrbHeader h[G_N_ELEMENTS (all)];

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      g_autoptr (GByteArray) want = hex (all[i]);
      g_autoptr (GByteArray) enc = g_byte_array_new ();
      g_autoptr (GError) error = NULL;

      g_assert_cmpuint (want->len, ==, USBIP_URB_HEADER_SIZE);
      g_assert_true (usbip_decode_urb_header (want->data, want->len, &h[i], &error));
      g_assert_no_error (error);
      usbip_encode_urb_header (enc, &h[i]);
      assert_bytes (enc, want);
    }

  g_assert_cmphex (h[0].command, ==, USBIP_CMD_SUBMIT);
  g_assert_cmphex (h[0].seqnum, ==, 0x10111213);
  g_assert_cmphex (h[0].devid, ==, 0x00050007);
  g_assert_cmpuint (h[0].direction, ==, USBIP_DIR_IN);
  g_assert_cmpuint (h[0].ep, ==, 14);
  g_assert_cmphex (h[0].u.cmd_submit.transfer_flags, ==, 0x204);
  g_assert_cmpint (h[0].u.cmd_submit.transfer_buffer_length, ==, 3072);
  g_assert_cmphex (h[0].u.cmd_submit.start_frame, ==, 0x12345);
  g_assert_cmpint (h[0].u.cmd_submit.number_of_packets, ==, 3);
  g_assert_cmpint (h[0].u.cmd_submit.interval, ==, 8);
  g_assert_cmpmem (h[0].u.cmd_submit.setup, 8, setup, 8);

  g_assert_cmphex (h[1].command, ==, USBIP_RET_SUBMIT);
  g_assert_cmphex (h[1].seqnum, ==, 0x20212223);
  g_assert_cmpint (h[1].u.ret_submit.status, ==, -18);
  g_assert_cmpint (h[1].u.ret_submit.actual_length, ==, 3071);
  g_assert_cmphex (h[1].u.ret_submit.start_frame, ==, 0x12346);
  g_assert_cmpint (h[1].u.ret_submit.number_of_packets, ==, 2);
  g_assert_cmpint (h[1].u.ret_submit.error_count, ==, 1);
  g_assert_cmpmem (h[1].u.ret_submit.padding, 8, pad8, 8);

  g_assert_cmphex (h[2].command, ==, USBIP_CMD_UNLINK);
  g_assert_cmphex (h[2].seqnum, ==, 0x30313233);
  g_assert_cmphex (h[2].u.cmd_unlink.unlink_seqnum, ==, 0x10111213);
  g_assert_cmphex (h[2].u.cmd_unlink.padding[0], ==, 0x40);
  g_assert_cmphex (h[2].u.cmd_unlink.padding[23], ==, 0x57);

  g_assert_cmphex (h[3].command, ==, USBIP_RET_UNLINK);
  g_assert_cmphex (h[3].seqnum, ==, 0x40414243);
  g_assert_cmpint (h[3].u.ret_unlink.status, ==, -104);
  g_assert_cmphex (h[3].u.ret_unlink.padding[0], ==, 0x60);
  g_assert_cmphex (h[3].u.ret_unlink.padding[23], ==, 0x77);
}

/* An unknown command is encoded with its basic header as given and 28 zero bytes, and is
 * refused by the decoder with the command and seqnum named */
static void
test_urb_unknown_command (void)
{
  g_autoptr (GByteArray) want = hex ("0a0b0c0d 10111213 00050007 00000001 0000000e"
                                     "00000000000000000000000000000000000000000000000000000000");
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  UsbipUrbHeader h;

  memset (&h, 0xa5, sizeof h); /* the command-specific part is not written */
  h.command = 0x0a0b0c0d;
  h.seqnum = 0x10111213;
  h.devid = 0x00050007;
  h.direction = USBIP_DIR_IN;
  h.ep = 14;
  usbip_encode_urb_header (enc, &h);
  assert_bytes (enc, want);
  g_assert_false (usbip_decode_urb_header (want->data, want->len, &h, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_UNKNOWN_OPCODE);
  g_assert_nonnull (strstr (error->message, "0x0a0b0c0d (seqnum 269554195)"));
}

/* ISO descriptors with every field its own value, an error status among them: the
 * deframer reads each from its offset, the encoder writes them back */
static void
test_iso_fields (void)
{
  g_autoptr (GByteArray) cmd = hex ("00000001 00000009 00020003 00000001 00000003" /* CMD_SUBMIT, IN, ep 3 */
                                    "00000202 00000300 00000010 00000002 00000001" /* 768 bytes, 2 packets */
                                    "0000000000000000"
                                    "00000000 00000180 00000000 00000000"   /* iso 0: 384 bytes */
                                    "00000180 00000180 00000000 00000000"); /* iso 1: 384 bytes */
  g_autoptr (GByteArray) ret = hex ("00000003 00000009 00000000 00000000 00000000"
                                    "00000000 00000003 00000010 00000002 00000001" /* 3 bytes, 1 error */
                                    "0000000000000000"
                                    "a1a2a3"                                /* data */
                                    "00000000 00000180 00000003 00000000"   /* iso 0: 3 of 384 bytes */
                                    "00000180 00000180 00000000 ffffffee"); /* iso 1: none, -EXDEV */
  g_autoptr (UsbipUrbTracker) tracker = usbip_urb_tracker_new ();
  g_autoptr (UsbipDeframer) dc = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, tracker);
  g_autoptr (UsbipDeframer) dr = usbip_deframer_new (USBIP_STREAM_URB_RETURN, tracker);
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  pop_one (dc, cmd, &msg);
  usbip_message_clear (&msg);
  pop_one (dr, ret, &msg);
  g_assert_cmpuint (msg.data_len, ==, 3);
  g_assert_cmpuint (msg.n_iso, ==, 2);
  g_assert_cmpuint (msg.iso[0].offset, ==, 0);
  g_assert_cmpuint (msg.iso[0].length, ==, 384);
  g_assert_cmpuint (msg.iso[0].actual_length, ==, 3);
  g_assert_cmpuint (msg.iso[0].status, ==, 0);
  g_assert_cmpuint (msg.iso[1].offset, ==, 384);
  g_assert_cmpuint (msg.iso[1].length, ==, 384);
  g_assert_cmpuint (msg.iso[1].actual_length, ==, 0);
  g_assert_cmpint ((gint32) msg.iso[1].status, ==, -18);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, ret);
  usbip_message_clear (&msg);
}

/* A device record with every field its own value and the most interfaces allowed (32):
 * written byte for byte in an import reply and a device list, and read back field for
 * field; one interface more is refused, naming the device */
static void
test_record_fields (void)
{
  g_autoptr (UsbipDeviceInfo) dev = usbip_device_info_new ();
  g_autoptr (GByteArray) rec = g_byte_array_new ();
  g_autoptr (GByteArray) tail = hex ("01020304" /* busnum */
                                     "05060708" /* devnum */
                                     "00000005" /* speed: USB_SPEED_SUPER */
                                     "1d6b"     /* idVendor */
                                     "0104"     /* idProduct */
                                     "0510"     /* bcdDevice */
                                     "ef 02 01" /* bDeviceClass, SubClass, Protocol */
                                     "02"       /* bConfigurationValue */
                                     "03"       /* bNumConfigurations */
                                     "20");     /* bNumInterfaces 32 */
  g_autoptr (GByteArray) import = hex ("0111 0003 00000000");
  g_autoptr (GByteArray) list = hex ("0111 0005 00000000 00000001");
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  g_autoptr (GPtrArray) devs = g_ptr_array_new ();
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  UsbipMessage msg = { 0 };

  g_strlcpy (dev->path, "/sys/devices/platform/dummy_hcd.0/usb5/5-1", sizeof dev->path);
  g_strlcpy (dev->busid, "5-1", sizeof dev->busid);
  dev->busnum = 0x01020304;
  dev->devnum = 0x05060708;
  dev->speed = USBIP_SPEED_SUPER;
  dev->idVendor = 0x1d6b;
  dev->idProduct = 0x0104;
  dev->bcdDevice = 0x0510;
  dev->bDeviceClass = 0xef;
  dev->bDeviceSubClass = 0x02;
  dev->bDeviceProtocol = 0x01;
  dev->bConfigurationValue = 2;
  dev->bNumConfigurations = 3;
  dev->bNumInterfaces = USBIP_MAX_INTERFACES;
  for (guint i = 0; i < USBIP_MAX_INTERFACES; i++)
    {
      dev->interfaces[i].bInterfaceClass = 0x80 + i;
      dev->interfaces[i].bInterfaceSubClass = 0x40 + i;
      dev->interfaces[i].bInterfaceProtocol = 0x20 + i;
    }
  append_str (rec, dev->path, 256);
  append_str (rec, "5-1", 32);
  g_byte_array_append (rec, tail->data, tail->len);
  g_assert_cmpuint (rec->len, ==, USBIP_DEVICE_RECORD_SIZE);
  g_byte_array_append (import, rec->data, rec->len);
  g_byte_array_append (list, rec->data, rec->len);
  for (guint i = 0; i < USBIP_MAX_INTERFACES; i++)
    g_byte_array_append (list, (guint8[]){ 0x80 + i, 0x40 + i, 0x20 + i, 0 }, 4);

  usbip_encode_op_rep_import (enc, 0, dev);
  assert_bytes (enc, import);
  g_byte_array_set_size (enc, 0);
  g_ptr_array_add (devs, dev);
  usbip_encode_op_rep_devlist (enc, 0, devs);
  assert_bytes (enc, list);

  for (guint k = 0; k < 2; k++)
    {
      GByteArray *frame = k == 0 ? import : list;
      const UsbipDeviceInfo *got;

      pop_one (d, frame, &msg);
      got = k == 0 ? msg.device : g_ptr_array_index (msg.devices, 0);
      g_assert_cmpstr (got->path, ==, dev->path);
      g_assert_cmpstr (got->busid, ==, "5-1");
      g_assert_cmphex (got->busnum, ==, 0x01020304);
      g_assert_cmphex (got->devnum, ==, 0x05060708);
      g_assert_cmpint (got->speed, ==, USBIP_SPEED_SUPER);
      g_assert_cmphex (got->idVendor, ==, 0x1d6b);
      g_assert_cmphex (got->idProduct, ==, 0x0104);
      g_assert_cmphex (got->bcdDevice, ==, 0x0510);
      g_assert_cmphex (got->bDeviceClass, ==, 0xef);
      g_assert_cmphex (got->bDeviceSubClass, ==, 0x02);
      g_assert_cmphex (got->bDeviceProtocol, ==, 0x01);
      g_assert_cmpuint (got->bConfigurationValue, ==, 2);
      g_assert_cmpuint (got->bNumConfigurations, ==, 3);
      g_assert_cmpuint (got->bNumInterfaces, ==, USBIP_MAX_INTERFACES);
      if (k == 1)
        for (guint i = 0; i < USBIP_MAX_INTERFACES; i++)
          {
            g_assert_cmphex (got->interfaces[i].bInterfaceClass, ==, 0x80 + i);
            g_assert_cmphex (got->interfaces[i].bInterfaceSubClass, ==, 0x40 + i);
            g_assert_cmphex (got->interfaces[i].bInterfaceProtocol, ==, 0x20 + i);
          }
      usbip_message_clear (&msg);
    }

  /* 33 interfaces: the record is refused and the message names the device */
  {
    g_autoptr (GError) error = NULL;
    UsbipDeviceInfo out;

    rec->data[USBIP_DEVICE_RECORD_SIZE - 1] = USBIP_MAX_INTERFACES + 1;
    g_assert_false (usbip_decode_device_record (rec->data, rec->len, &out, &error));
    g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "device \"5-1\" announces 33 interfaces"));
  }
}

/* usbip_message_encode() writes the handshake messages as the dedicated encoders do,
 * status included; usbip_message_clear() takes NULL */
static void
test_message_encode_op (void)
{
  g_autoptr (GByteArray) devlist = hex ("0111 8005 00000007");
  g_autoptr (GByteArray) import = hex ("0111 8003 00000007");
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  append_str (import, "1-1.2", 32);
  msg.type = USBIP_MESSAGE_OP_REQ_DEVLIST;
  msg.op.status = 7;
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, devlist);
  g_byte_array_set_size (enc, 0);
  msg.type = USBIP_MESSAGE_OP_REQ_IMPORT;
  g_strlcpy (msg.busid, "1-1.2", sizeof msg.busid);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, import);
  usbip_message_clear (NULL);
}

/* A URB in the wrong stream is refused with a message naming it, its seqnum and the
 * stream it came in */
static void
test_urb_wrong_stream (void)
{
  struct {
    UsbipStream stream;
    const gchar *command;
    const gchar *text;
  } cases[] = {
    { USBIP_STREAM_URB_RETURN, "00000001", "unexpected USBIP_CMD_SUBMIT (seqnum 7) in a return stream" },
    { USBIP_STREAM_URB_RETURN, "00000002", "unexpected USBIP_CMD_UNLINK (seqnum 7) in a return stream" },
    { USBIP_STREAM_URB_COMMAND, "00000003", "unexpected USBIP_RET_SUBMIT (seqnum 7) in a command stream" },
    { USBIP_STREAM_URB_COMMAND, "00000004", "unexpected USBIP_RET_UNLINK (seqnum 7) in a command stream" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *s = g_strconcat (cases[i].command, "00000007 00000000 00000000 00000000",
                                         "00000000 00000000 00000000 ffffffff 00000000 0000000000000000", NULL);
      g_autoptr (GByteArray) b = hex (s);
      g_autoptr (UsbipDeframer) d = usbip_deframer_new (cases[i].stream, NULL);
      g_autoptr (GError) error = NULL;
      UsbipMessage msg = { 0 };
      gsize consumed = 0;

      g_assert_cmpint (usbip_deframer_pop (d, b->data, b->len, &consumed, &msg, &error), ==, USBIP_DEFRAME_INVALID);
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
      g_assert_cmpstr (error->message, ==, cases[i].text);
    }
}

/* Each known operation code sent the wrong way is a protocol error, not an unknown code */
static void
test_op_wrong_side (void)
{
  const struct {
    UsbipStream stream;
    const gchar *bytes;
  } cases[] = {
    { USBIP_STREAM_OP_REPLY, "0111 8005 00000000" },   /* OP_REQ_DEVLIST to a client */
    { USBIP_STREAM_OP_REPLY, "0111 8003 00000000" },   /* OP_REQ_IMPORT to a client */
    { USBIP_STREAM_OP_REQUEST, "0111 0005 00000000" }, /* OP_REP_DEVLIST to a server */
    { USBIP_STREAM_OP_REQUEST, "0111 0003 00000000" }, /* OP_REP_IMPORT to a server */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) b = hex (cases[i].bytes);
      assert_invalid (cases[i].stream, b, USBIP_ERROR_PROTOCOL);
    }
}

/* The most devices a list may announce (USBIP_MAX_DEVICES) frame; one more is refused
 * (/codec/hostile/op) */
static void
test_devlist_max (void)
{
  g_autoptr (GByteArray) list = hex ("0111 0005 00000000 00001000"); /* 4096 devices */
  g_autoptr (GByteArray) rec = device_record_bytes (0);
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  UsbipMessage msg = { 0 };

  for (guint i = 0; i < USBIP_MAX_DEVICES; i++)
    g_byte_array_append (list, rec->data, rec->len);
  pop_one (d, list, &msg);
  g_assert_cmpuint (msg.devices->len, ==, USBIP_MAX_DEVICES);
  usbip_message_clear (&msg);
}

/* msg.data points at the data when there is any (even one byte) and is NULL when there is
 * none; the encoder writes the one byte back */
static void
test_urb_data_pointer (void)
{
  g_autoptr (GByteArray) one = hex ("00000001 0000000b 00020003 00000000 00000002" /* CMD_SUBMIT OUT */
                                    "00000000 00000001 00000000 ffffffff 00000000" /* 1 byte */
                                    "0000000000000000 5a");
  g_autoptr (GByteArray) none = hex ("00000001 0000000c 00020003 00000000 00000002"
                                     "00000000 00000000 00000000 ffffffff 00000000" /* 0 bytes */
                                     "0000000000000000");
  g_autoptr (UsbipDeframer) d = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  pop_one (d, one, &msg);
  g_assert_cmpuint (msg.data_len, ==, 1);
  g_assert_true (msg.data == one->data + USBIP_URB_HEADER_SIZE);
  usbip_message_encode (&msg, enc);
  assert_bytes (enc, one);
  usbip_message_clear (&msg);
  pop_one (d, none, &msg);
  g_assert_cmpuint (msg.data_len, ==, 0);
  g_assert_null (msg.data);
  usbip_message_clear (&msg);
}

/* A successful import reply without a device carries an all-zero record; decoding a record
 * zeroes what the record does not carry (the interfaces, the local status) */
static void
test_record_empty_and_zeroed (void)
{
  g_autoptr (GByteArray) want = hex ("0111 0003 00000000");
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  g_autoptr (GByteArray) rec = device_record_bytes (2);
  g_autoptr (GError) error = NULL;
  UsbipDeviceInfo out;

  append_zeros (want, USBIP_DEVICE_RECORD_SIZE);
  usbip_encode_op_rep_import (enc, 0, NULL);
  assert_bytes (enc, want);

  memset (&out, 0xa5, sizeof out);
  g_assert_true (usbip_decode_device_record (rec->data, rec->len, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out.bNumInterfaces, ==, 2);
  for (guint i = 0; i < USBIP_MAX_INTERFACES; i++)
    {
      g_assert_cmpuint (out.interfaces[i].bInterfaceClass, ==, 0);
      g_assert_cmpuint (out.interfaces[i].bInterfaceSubClass, ==, 0);
      g_assert_cmpuint (out.interfaces[i].bInterfaceProtocol, ==, 0);
    }
  g_assert_cmpint (out.status, ==, USBIP_DEVICE_STATUS_UNKNOWN);
}

/* @msg is an out parameter: whatever it held before (here a stack full of 0xa5) is
 * overwritten by the frame, for a handshake and for a URB */
static void
test_pop_overwrites_msg (void)
{
  g_autoptr (GByteArray) req = hex ("0111 8005 00000000");
  g_autoptr (GByteArray) cmd = hex (cmd_get_descriptor);
  g_autoptr (UsbipDeframer) dop = usbip_deframer_new (USBIP_STREAM_OP_REQUEST, NULL);
  g_autoptr (UsbipDeframer) durb = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
  UsbipMessage msg;

  memset (&msg, 0xa5, sizeof msg);
  pop_one (dop, req, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_OP_REQ_DEVLIST);
  g_assert_cmpstr (msg.busid, ==, "");
  g_assert_null (msg.devices);
  g_assert_null (msg.device);
  g_assert_null (msg.iso);
  g_assert_cmpuint (msg.n_iso, ==, 0);
  usbip_message_clear (&msg);

  memset (&msg, 0xa5, sizeof msg);
  pop_one (durb, cmd, &msg);
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_CMD_SUBMIT);
  g_assert_cmpstr (msg.busid, ==, "");
  g_assert_null (msg.devices);
  g_assert_null (msg.device);
  g_assert_null (msg.iso);
  g_assert_cmpuint (msg.n_iso, ==, 0);
  usbip_message_clear (&msg);
}

static void
count_free (gpointer p)
{
  (*(guint *) p)++;
}

/* usbip_message_clear() releases the device list it owns (with it its devices) */
static void
test_message_clear_frees (void)
{
  guint freed = 0;
  UsbipMessage msg = { 0 };

  msg.type = USBIP_MESSAGE_OP_REP_DEVLIST;
  msg.devices = g_ptr_array_new_with_free_func (count_free);
  g_ptr_array_add (msg.devices, &freed);
  g_ptr_array_add (msg.devices, &freed);
  usbip_message_clear (&msg);
  g_assert_cmpuint (freed, ==, 2);
  g_assert_null (msg.devices);
}

/* an unknown message type is a programming error: a warning, and nothing is written */
static void
test_encode_unknown_type (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  UsbipMessage msg = { 0 };

  msg.type = 99;
  g_test_expect_message ("usbipcore", G_LOG_LEVEL_WARNING, "*usbip_message_encode*should not be reached*");
  usbip_message_encode (&msg, out);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (out->len, ==, 0);
}

/* the decoder writes the header and nothing past it, whatever bytes follow in the buffer */
static void
test_urb_decode_bounds (void)
{
  const gchar *commands[] = { "00000001", "00000002", "00000003", "00000004" };

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree gchar *s = g_strconcat (commands[i], "00000001 00020003 00000000 00000002",
                                         "00000000 00000000 00000000 ffffffff 00000000 0102030405060708", "5a5a5a5a",
                                         NULL); /* bytes after the header */
      g_autoptr (GByteArray) b = hex (s);
      g_autoptr (GError) error = NULL;
      struct {
        UsbipUrbHeader h;
        guint8 after[8];
      } out;

      memset (&out, 0xa5, sizeof out);
      g_assert_true (usbip_decode_urb_header (b->data, b->len, &out.h, &error));
      g_assert_no_error (error);
      for (guint j = 0; j < sizeof out.after; j++)
        g_assert_cmphex (out.after[j], ==, 0xa5);
    }
}

static void
test_names (void)
{
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_OP_REQ_DEVLIST), ==, "OP_REQ_DEVLIST");
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_OP_REP_DEVLIST), ==, "OP_REP_DEVLIST");
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_OP_REQ_IMPORT), ==, "OP_REQ_IMPORT");
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_OP_REP_IMPORT), ==, "OP_REP_IMPORT");
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_CMD_SUBMIT), ==, "USBIP_CMD_SUBMIT");
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_RET_SUBMIT), ==, "USBIP_RET_SUBMIT");
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_CMD_UNLINK), ==, "USBIP_CMD_UNLINK");
  g_assert_cmpstr (usbip_message_type_to_string (USBIP_MESSAGE_RET_UNLINK), ==, "USBIP_RET_UNLINK");
  g_assert_cmpstr (usbip_message_type_to_string (99), ==, "UNKNOWN");
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codec/op/req-devlist", test_op_req_devlist);
  g_test_add_func ("/codec/op/req-import", test_op_req_import);
  g_test_add_func ("/codec/op/rep-import", test_op_rep_import);
  g_test_add_func ("/codec/op/rep-import-error", test_op_rep_import_error);
  g_test_add_func ("/codec/op/rep-devlist", test_op_rep_devlist);
  g_test_add_func ("/codec/urb/control-in", test_control_in);
  g_test_add_func ("/codec/urb/bulk-out", test_bulk_out);
  g_test_add_func ("/codec/urb/unlink", test_unlink);
  g_test_add_func ("/codec/urb/iso", test_iso);
  g_test_add_func ("/codec/urb/iso-max", test_iso_max);
  g_test_add_func ("/codec/urb/ret-unknown-seqnum", test_ret_unknown_seqnum);
  g_test_add_func ("/codec/urb/ret-tracked-direction", test_ret_tracked_direction);
  g_test_add_func ("/codec/deframer/cases", test_deframing_cases);
  g_test_add_func ("/codec/deframer/stream-switch", test_stream_switch);
  g_test_add_func ("/codec/hostile/op", test_hostile_op);
  g_test_add_func ("/codec/hostile/urb", test_hostile_urb);
  g_test_add_func ("/codec/decode-pieces", test_decode_pieces);
  g_test_add_func ("/codec/encode-long-busid", test_encode_long_busid);
  g_test_add_func ("/codec/encode-short-busid", test_encode_short_busid);
  g_test_add_func ("/codec/tracker-cap", test_tracker_cap);
  g_test_add_func ("/codec/tracker-resubmit", test_tracker_resubmit);
  g_test_add_func ("/codec/tracker-long-pending", test_tracker_long_pending);
  g_test_add_func ("/codec/urb/fields", test_urb_fields);
  g_test_add_func ("/codec/urb/unknown-command", test_urb_unknown_command);
  g_test_add_func ("/codec/urb/iso-fields", test_iso_fields);
  g_test_add_func ("/codec/op/record-fields", test_record_fields);
  g_test_add_func ("/codec/op/message-encode", test_message_encode_op);
  g_test_add_func ("/codec/urb/wrong-stream", test_urb_wrong_stream);
  g_test_add_func ("/codec/urb/data-pointer", test_urb_data_pointer);
  g_test_add_func ("/codec/op/wrong-side", test_op_wrong_side);
  g_test_add_func ("/codec/op/devlist-max", test_devlist_max);
  g_test_add_func ("/codec/op/record-empty-and-zeroed", test_record_empty_and_zeroed);
  g_test_add_func ("/codec/deframer/overwrites-msg", test_pop_overwrites_msg);
  g_test_add_func ("/codec/message-clear-frees", test_message_clear_frees);
  g_test_add_func ("/codec/encode-unknown-type", test_encode_unknown_type);
  g_test_add_func ("/codec/urb/decode-bounds", test_urb_decode_bounds);
  g_test_add_func ("/codec/names", test_names);
  return g_test_run ();
}
