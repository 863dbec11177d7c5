/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trace decoder tests: captures are synthesized here (every link type, both pcap byte
 * orders and resolutions, pcapng with two interfaces, IPv6 with extension headers,
 * out-of-order/retransmitted/overlapping segments, a file cut inside its last packet) and
 * the decoded messages are compared with what was encoded into them.
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "usbip-error.h"
#include "usbip-pcap.h"
#include "usbip-proto.h"
#include "usbip-tcp-reassembler.h"
#include "usbip-trace-decoder.h"
#include "usbip-tool-trace.h"
#include "capture-builder.h"

/* ---- the USB/IP conversation put into the captures ---- */

typedef struct {
  gboolean from_client;
  GBytes *bytes;
  UsbipMessageType type;
} Send;

static void
send_free (gpointer p)
{
  Send *s = p;
  g_bytes_unref (s->bytes);
  g_free (s);
}

static void
add_msg (GPtrArray *sends, gboolean from_client, const UsbipMessage *m)
{
  GByteArray *a = g_byte_array_new ();
  Send *s = g_new0 (Send, 1);

  usbip_message_encode (m, a);
  s->from_client = from_client;
  s->type = m->type;
  s->bytes = g_byte_array_free_to_bytes (a);
  g_ptr_array_add (sends, s);
}

static UsbipDeviceInfo *
make_device (void)
{
  UsbipDeviceInfo *d = usbip_device_info_new ();
  g_strlcpy (d->busid, "1-1", sizeof d->busid);
  g_strlcpy (d->path, "/sys/devices/pci0000:00/usb1/1-1", sizeof d->path);
  d->busnum = 1;
  d->devnum = 2;
  d->speed = USBIP_SPEED_HIGH;
  d->idVendor = 0x1d6b;
  d->idProduct = 0x0104;
  d->bcdDevice = 0x0100;
  d->bNumConfigurations = 1;
  d->bConfigurationValue = 1;
  d->bNumInterfaces = 1;
  d->interfaces[0].bInterfaceClass = 8;
  d->interfaces[0].bInterfaceSubClass = 6;
  d->interfaces[0].bInterfaceProtocol = 0x50;
  return d;
}

/* DEVLIST exchange */
static GPtrArray *
devlist_session (void)
{
  GPtrArray *sends = g_ptr_array_new_with_free_func (send_free);
  UsbipMessage m = { 0 };
  g_autoptr (GPtrArray) devs = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);

  m.type = USBIP_MESSAGE_OP_REQ_DEVLIST;
  add_msg (sends, TRUE, &m);
  g_ptr_array_add (devs, make_device ());
  m.type = USBIP_MESSAGE_OP_REP_DEVLIST;
  m.devices = devs;
  add_msg (sends, FALSE, &m);
  return sends;
}

/* IMPORT then URBs: control IN, bulk OUT, ISO IN, unlink */
static GPtrArray *
import_session (void)
{
  GPtrArray *sends = g_ptr_array_new_with_free_func (send_free);
  g_autoptr (UsbipDeviceInfo) dev = make_device ();
  static const guint8 setup[8] = { 0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00 };
  guint8 desc[18], out[5] = { 1, 2, 3, 4, 5 }, iso_data[16];
  UsbipIsoPacket iso[2] = { { 0, 8, 0, 0 }, { 8, 8, 0, 0 } };
  UsbipIsoPacket iso_ret[2] = { { 0, 8, 8, 0 }, { 8, 8, 8, 0 } };
  UsbipMessage m = { 0 };

  for (guint i = 0; i < sizeof desc; i++)
    desc[i] = 0xa0 + i;
  for (guint i = 0; i < sizeof iso_data; i++)
    iso_data[i] = i;

  m.type = USBIP_MESSAGE_OP_REQ_IMPORT;
  g_strlcpy (m.busid, "1-1", sizeof m.busid);
  add_msg (sends, TRUE, &m);
  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_OP_REP_IMPORT;
  m.device = dev;
  add_msg (sends, FALSE, &m);

  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_CMD_SUBMIT;
  m.urb.command = USBIP_CMD_SUBMIT;
  m.urb.seqnum = 1;
  m.urb.devid = 0x10002;
  m.urb.direction = USBIP_DIR_IN;
  m.urb.u.cmd_submit.transfer_buffer_length = 18;
  memcpy (m.urb.u.cmd_submit.setup, setup, 8);
  add_msg (sends, TRUE, &m);
  /* like upstream: the return header says direction 0; only the tracker knows it is IN */
  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_RET_SUBMIT;
  m.urb.command = USBIP_RET_SUBMIT;
  m.urb.seqnum = 1;
  m.urb.u.ret_submit.actual_length = 18;
  m.data = desc;
  m.data_len = sizeof desc;
  add_msg (sends, FALSE, &m);

  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_CMD_SUBMIT;
  m.urb.command = USBIP_CMD_SUBMIT;
  m.urb.seqnum = 2;
  m.urb.devid = 0x10002;
  m.urb.direction = USBIP_DIR_OUT;
  m.urb.ep = 2;
  m.urb.u.cmd_submit.transfer_buffer_length = sizeof out;
  m.data = out;
  m.data_len = sizeof out;
  add_msg (sends, TRUE, &m);
  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_RET_SUBMIT;
  m.urb.command = USBIP_RET_SUBMIT;
  m.urb.seqnum = 2;
  m.urb.u.ret_submit.actual_length = sizeof out;
  add_msg (sends, FALSE, &m);

  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_CMD_SUBMIT;
  m.urb.command = USBIP_CMD_SUBMIT;
  m.urb.seqnum = 3;
  m.urb.devid = 0x10002;
  m.urb.direction = USBIP_DIR_IN;
  m.urb.ep = 1;
  m.urb.u.cmd_submit.transfer_buffer_length = 16;
  m.urb.u.cmd_submit.number_of_packets = 2;
  m.urb.u.cmd_submit.interval = 1;
  m.iso = iso;
  m.n_iso = 2;
  add_msg (sends, TRUE, &m);
  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_RET_SUBMIT;
  m.urb.command = USBIP_RET_SUBMIT;
  m.urb.seqnum = 3;
  m.urb.u.ret_submit.actual_length = 16;
  m.urb.u.ret_submit.number_of_packets = 2;
  m.data = iso_data;
  m.data_len = sizeof iso_data;
  m.iso = iso_ret;
  m.n_iso = 2;
  add_msg (sends, FALSE, &m);

  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_CMD_UNLINK;
  m.urb.command = USBIP_CMD_UNLINK;
  m.urb.seqnum = 4;
  m.urb.devid = 0x10002;
  m.urb.u.cmd_unlink.unlink_seqnum = 3;
  add_msg (sends, TRUE, &m);
  memset (&m, 0, sizeof m);
  m.type = USBIP_MESSAGE_RET_UNLINK;
  m.urb.command = USBIP_RET_UNLINK;
  m.urb.seqnum = 4;
  m.urb.u.ret_unlink.status = -104;
  add_msg (sends, FALSE, &m);
  return sends;
}

/* ---- packetizing ---- */

typedef struct {
  guint mss;           /* split payloads into segments of at most this many bytes */
  gboolean reorder;    /* swap adjacent same-direction data segments */
  gboolean retransmit; /* repeat segments and add overlapping ones */
  gboolean no_fin;
} Shape;

static gint64 clock_ns = G_GINT64_CONSTANT (1700000000) * 1000000000 + 123456789;

static void
add_packet (GPtrArray *pkts, GBytes *ip)
{
  CbPacket *p = g_new0 (CbPacket, 1);
  p->ip = ip;
  clock_ns += 1000; /* 1 us apart: exact in microsecond captures */
  p->ts_sec = clock_ns / 1000000000;
  p->ts_nsec = (guint32) (clock_ns % 1000000000);
  g_ptr_array_add (pkts, p);
}

static void
packetize (GPtrArray *pkts, const CbConn *c, GPtrArray *sends, const Shape *shape)
{
  guint32 seq[2] = { 1000, 0xfffffff0u }; /* the server's sequence numbers wrap */
  guint8 flags_data = 0x18;               /* PSH ACK */

  add_packet (pkts, cb_tcp_packet (c, TRUE, seq[0]++, 0x02, NULL, 0));
  add_packet (pkts, cb_tcp_packet (c, FALSE, seq[1]++, 0x12, NULL, 0));
  add_packet (pkts, cb_tcp_packet (c, TRUE, seq[0], 0x10, NULL, 0));
  for (guint i = 0; i < sends->len; i++)
    {
      Send *s = g_ptr_array_index (sends, i);
      gsize n;
      const guint8 *p = g_bytes_get_data (s->bytes, &n);
      guint d = s->from_client ? 0 : 1;
      guint first = pkts->len;
      gsize mss = shape->mss != 0 ? shape->mss : n;

      for (gsize off = 0; off < n; off += mss)
        {
          gsize len = MIN (mss, n - off);
          add_packet (pkts, cb_tcp_packet (c, s->from_client, seq[d] + (guint32) off, flags_data, p + off, len));
          if (shape->retransmit && off > 0 && off % (3 * mss) == 0)
            {
              /* overlap: the previous segment's tail plus this one again */
              gsize back = MIN (off, mss / 2 + 1);
              add_packet (pkts, cb_tcp_packet (c, s->from_client, seq[d] + (guint32) (off - back), flags_data,
                                               p + off - back, len + back));
              /* plain duplicate */
              add_packet (pkts, cb_tcp_packet (c, s->from_client, seq[d] + (guint32) off, flags_data, p + off, len));
            }
        }
      if (shape->reorder)
        for (guint k = first; k + 1 < pkts->len; k += 2)
          {
            gpointer tmp = pkts->pdata[k];
            pkts->pdata[k] = pkts->pdata[k + 1];
            pkts->pdata[k + 1] = tmp;
          }
      seq[d] += (guint32) n;
    }
  if (!shape->no_fin)
    {
      add_packet (pkts, cb_tcp_packet (c, TRUE, seq[0], 0x11, NULL, 0));
      add_packet (pkts, cb_tcp_packet (c, FALSE, seq[1], 0x11, NULL, 0));
    }
}

static void
conn_v4 (CbConn *c, guint16 cport, guint16 sport)
{
  memset (c, 0, sizeof *c);
  c->family = 4;
  c->client_addr[0] = 10, c->client_addr[3] = 2;
  c->server_addr[0] = 10, c->server_addr[3] = 1;
  c->client_port = cport;
  c->server_port = sport;
}

static void
conn_v6 (CbConn *c, guint16 cport, guint16 sport, gboolean ext)
{
  memset (c, 0, sizeof *c);
  c->family = 6;
  c->client_addr[0] = 0xfd, c->client_addr[15] = 2;
  c->server_addr[0] = 0xfd, c->server_addr[15] = 1;
  c->client_port = cport;
  c->server_port = sport;
  c->ipv6_ext = ext;
}

/* two connections: DEVLIST on stream 0, IMPORT + URBs on stream 1 */
static GPtrArray *
standard_packets (gboolean v6, const Shape *shape, GPtrArray **expected)
{
  GPtrArray *pkts = g_ptr_array_new_with_free_func (cb_packet_free);
  g_autoptr (GPtrArray) a = devlist_session ();
  g_autoptr (GPtrArray) b = import_session ();
  CbConn c;

  if (v6)
    conn_v6 (&c, 40000, 3240, TRUE);
  else
    conn_v4 (&c, 40000, 3240);
  packetize (pkts, &c, a, shape);
  c.client_port = 40001;
  packetize (pkts, &c, b, shape);
  *expected = g_ptr_array_new_with_free_func (send_free);
  for (guint i = 0; i < a->len; i++)
    g_ptr_array_add (*expected, g_steal_pointer (&a->pdata[i]));
  for (guint i = 0; i < b->len; i++)
    g_ptr_array_add (*expected, g_steal_pointer (&b->pdata[i]));
  g_ptr_array_set_free_func (a, NULL);
  g_ptr_array_set_free_func (b, NULL);
  return pkts;
}

/* ---- decoding ---- */

typedef struct {
  GPtrArray *messages; /* Decoded */
  GPtrArray *notes;    /* gchar* "kind:text" */
  UsbipTraceSummary sum;
  guint n_truncated_notes;
} Result;

typedef struct {
  guint stream;
  gboolean from_client;
  UsbipMessageType type;
  GBytes *raw;
  GBytes *reencoded;
  gint64 ts_sec;
  guint32 ts_nsec;
  gchar *text;
  gchar *json;
} Decoded;

static void
decoded_free (gpointer p)
{
  Decoded *d = p;
  g_bytes_unref (d->raw);
  g_bytes_unref (d->reencoded);
  g_free (d->text);
  g_free (d->json);
  g_free (d);
}

static void
on_event (const UsbipTraceEvent *ev, gpointer user_data)
{
  Result *r = user_data;

  if (ev->type == USBIP_TRACE_EVENT_MESSAGE)
    {
      Decoded *d = g_new0 (Decoded, 1);
      GByteArray *a = g_byte_array_new ();
      d->stream = ev->stream_id;
      d->from_client = ev->from_client;
      d->type = ev->message->type;
      d->raw = g_bytes_new (ev->raw, ev->raw_len);
      usbip_message_encode (ev->message, a);
      d->reencoded = g_byte_array_free_to_bytes (a);
      d->ts_sec = ev->ts_sec;
      d->ts_nsec = ev->ts_nsec;
      d->text = usbip_tool_trace_format_event (ev, FALSE);
      d->json = usbip_tool_trace_format_event (ev, TRUE);
      g_ptr_array_add (r->messages, d);
    }
  else
    {
      g_ptr_array_add (r->notes, g_strdup_printf ("%d:%s", ev->note_kind, ev->note));
      if (ev->note_kind == USBIP_TRACE_NOTE_TRUNCATED)
        r->n_truncated_notes++;
    }
}

/* With USBIP_TRACE_CAPTURE_DIR set, every capture decoded here is also written there as
 * NNN-port-PORT.pcap, for test-trace-json.py to run `usbip-tool --json trace decode` on. */
static void
keep_capture (GBytes *capture, guint16 port)
{
  static guint n;
  const gchar *dir = g_getenv ("USBIP_TRACE_CAPTURE_DIR");
  g_autofree gchar *name = NULL;
  g_autofree gchar *path = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  const gchar *data = g_bytes_get_data (capture, &len);

  if (dir == NULL)
    return;
  name = g_strdup_printf ("%03u-port-%u.pcap", n++, port);
  path = g_build_filename (dir, name, NULL);
  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
}

static Result *
decode (GBytes *capture, guint16 port)
{
  Result *r = g_new0 (Result, 1);
  g_autoptr (GError) error = NULL;

  keep_capture (capture, port);

  r->messages = g_ptr_array_new_with_free_func (decoded_free);
  r->notes = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (usbip_trace_decode (capture, port, on_event, r, &r->sum, &error));
  g_assert_no_error (error);
  return r;
}

static void
result_free (Result *r)
{
  g_ptr_array_unref (r->messages);
  g_ptr_array_unref (r->notes);
  g_free (r);
}

/* every expected message, in order, byte for byte, with the right stream and direction */
static void
assert_messages (Result *r, GPtrArray *expected, guint n_expected, guint first_stream_split)
{
  g_assert_cmpuint (r->messages->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    {
      Decoded *d = g_ptr_array_index (r->messages, i);
      Send *s = g_ptr_array_index (expected, i);
      g_assert_cmpint (d->type, ==, s->type);
      g_assert_cmpint (d->from_client, ==, s->from_client);
      g_assert_cmpuint (d->stream, ==, i < first_stream_split ? 0 : 1);
      g_assert_true (g_bytes_equal (d->raw, s->bytes));
      g_assert_true (g_bytes_equal (d->reencoded, s->bytes));
    }
}

static void
check_standard (GBytes *capture, GPtrArray *expected)
{
  Result *r = decode (capture, 3240);
  assert_messages (r, expected, expected->len, 2);
  g_assert_cmpuint (r->sum.n_streams, ==, 2);
  g_assert_cmpuint (r->sum.n_protocol_errors, ==, 0);
  g_assert_false (r->sum.truncated);
  g_assert_false (r->sum.damaged);
  result_free (r);
}

/* ---- tests ---- */

static void
test_link_types (void)
{
  /* 228: LINKTYPE_IPV4, a bare IPv4 packet like 101 but named by its version */
  static const guint32 links[] = { 0, 1, 101, 113, 228, 276 };
  Shape shape = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autoptr (GPtrArray) expected = NULL;
      g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shape, &expected);
      g_autoptr (GBytes) cap = cb_pcap (pkts, links[i], FALSE, FALSE);
      g_test_message ("link type %u", links[i]);
      check_standard (cap, expected);
    }
}

static void
test_pcap_byte_orders (void)
{
  Shape shape = { 0 };

  for (guint be = 0; be < 2; be++)
    for (guint ns = 0; ns < 2; ns++)
      {
        g_autoptr (GPtrArray) expected = NULL;
        g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shape, &expected);
        g_autoptr (GBytes) cap = cb_pcap (pkts, 1, be, ns);
        Result *r = decode (cap, 3240);
        Decoded *d;
        CbPacket *first_data = g_ptr_array_index (pkts, 3); /* after the handshake */

        assert_messages (r, expected, expected->len, 2);
        d = g_ptr_array_index (r->messages, 0);
        g_assert_cmpint (d->ts_sec, ==, first_data->ts_sec);
        g_assert_cmpuint (d->ts_nsec, ==, ns ? first_data->ts_nsec : first_data->ts_nsec / 1000 * 1000);
        g_assert_true (!ns || d->ts_nsec % 1000 != 0);
        result_free (r);
      }
}

static void
test_pcapng (void)
{
  Shape shape = { .mss = 40 };

  for (guint be = 0; be < 2; be++)
    {
      g_autoptr (GPtrArray) expected = NULL;
      g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shape, &expected);
      g_autoptr (GBytes) cap = cb_pcapng (pkts, 1, 276, be, TRUE);
      Result *r = decode (cap, 3240);

      assert_messages (r, expected, expected->len, 2);
      /* simple packet blocks carry no time; every other frame does */
      {
        guint stamped = 0;
        for (guint i = 0; i < r->messages->len; i++)
          stamped += ((Decoded *) g_ptr_array_index (r->messages, i))->ts_sec >= 1700000000;
        g_assert_cmpuint (stamped, >, 0);
      }
      result_free (r);
    }
}

static void
test_pcapng_timestamps (void)
{
  Shape shape = { 0 };
  g_autoptr (GPtrArray) expected = NULL;
  g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shape, &expected);
  g_autoptr (GBytes) cap = cb_pcapng (pkts, 113, 0, FALSE, FALSE);
  Result *r = decode (cap, 3240);

  assert_messages (r, expected, expected->len, 2);
  /* packet 3 (interface 1, nanoseconds) carries the OP_REQ_DEVLIST */
  {
    Decoded *d = g_ptr_array_index (r->messages, 0);
    CbPacket *p = g_ptr_array_index (pkts, 3);
    g_assert_cmpint (d->ts_sec, ==, p->ts_sec);
    g_assert_cmpuint (d->ts_nsec, ==, p->ts_nsec);
  }
  /* packet 4 (interface 0, microseconds) carries the OP_REP_DEVLIST */
  {
    Decoded *d = g_ptr_array_index (r->messages, 1);
    CbPacket *p = g_ptr_array_index (pkts, 4);
    g_assert_cmpuint (d->ts_nsec, ==, p->ts_nsec / 1000 * 1000);
  }
  result_free (r);
}

static void
test_out_of_order_and_retransmissions (void)
{
  Shape shapes[] = {
    { .mss = 7, .reorder = TRUE },
    { .mss = 7, .retransmit = TRUE },
    { .mss = 5, .reorder = TRUE, .retransmit = TRUE },
    { .mss = 1, .reorder = TRUE, .retransmit = TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      g_autoptr (GPtrArray) expected = NULL;
      g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shapes[i], &expected);
      g_autoptr (GBytes) cap = cb_pcap (pkts, 1, FALSE, TRUE);
      g_test_message ("shape %u: %u packets", i, pkts->len);
      check_standard (cap, expected);
    }
}

static void
test_ipv6 (void)
{
  Shape shape = { .mss = 100, .reorder = TRUE };
  static const guint32 links[] = { 1, 101, 0, 229, 276 }; /* 229: LINKTYPE_IPV6 */

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autoptr (GPtrArray) expected = NULL;
      g_autoptr (GPtrArray) pkts = standard_packets (TRUE, &shape, &expected);
      g_autoptr (GBytes) cap = cb_pcap (pkts, links[i], TRUE, FALSE);
      Result *r = decode (cap, 3240);
      Decoded *d;

      assert_messages (r, expected, expected->len, 2);
      d = g_ptr_array_index (r->messages, 0);
      g_assert_nonnull (strstr (d->json, "\"client\":\"[fd00::2]:40000\""));
      result_free (r);
    }
}

/* an IPv6 TCP packet with one extension header (type @type, @ext of @len bytes whose first
 * byte the function sets to the next header) between the fixed header and TCP */
static GBytes *
ipv6_with_ext (GBytes *ip6, guint8 type, const guint8 *ext, gsize len)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (ip6, &n);
  GByteArray *a = g_byte_array_new ();
  guint16 plen;

  g_byte_array_append (a, p, 40);
  g_byte_array_append (a, ext, len);
  a->data[40] = p[6];
  g_byte_array_append (a, p + 40, n - 40);
  a->data[6] = type;
  plen = (guint16) (a->len - 40);
  a->data[4] = plen >> 8;
  a->data[5] = plen & 0xff;
  return g_byte_array_free_to_bytes (a);
}

static UsbipTcpParseResult
parse_bytes (guint32 linktype, GBytes *b, UsbipTcpSegment *seg)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (b, &n);

  memset (seg, 0, sizeof *seg);
  return usbip_tcp_segment_parse (linktype, p, n, n, seg);
}

/* the headers between the link and TCP that the segment parser walks or refuses */
static void
test_tcp_segment_headers (void)
{
  static const guint8 payload[] = "USBIP";
  CbConn v4 = { .family = 4,
                .client_addr = { 10, 0, 0, 2 },
                .server_addr = { 10, 0, 0, 1 },
                .client_port = 40000,
                .server_port = 3240 };
  CbConn v6 = { .family = 6, .client_port = 40000, .server_port = 3240 };
  g_autoptr (GBytes) ip4 = NULL, ip6 = NULL, eth = NULL, vlan = NULL, frag = NULL, later = NULL, ah = NULL, none = NULL,
                     esp = NULL;
  UsbipTcpSegment seg;

  v6.client_addr[15] = 2;
  v6.server_addr[15] = 1;
  ip4 = cb_tcp_packet (&v4, TRUE, 1000, USBIP_TCP_ACK, payload, 5);
  ip6 = cb_tcp_packet (&v6, TRUE, 1000, USBIP_TCP_ACK, payload, 5);

  /* Ethernet with 802.1Q and 802.1ad (QinQ) tags before the IPv4 ethertype */
  eth = cb_link (USBIP_LINKTYPE_ETHERNET, ip4);
  {
    gsize n;
    const guint8 *p = g_bytes_get_data (eth, &n);
    GByteArray *a = g_byte_array_new ();
    static const guint8 tags[] = { 0x88, 0xa8, 0x00, 0x05, 0x81, 0x00, 0x00, 0x07 };

    g_byte_array_append (a, p, 12);
    g_byte_array_append (a, tags, sizeof tags);
    g_byte_array_append (a, p + 12, n - 12);
    vlan = g_byte_array_free_to_bytes (a);
  }
  g_assert_cmpint (parse_bytes (USBIP_LINKTYPE_ETHERNET, vlan, &seg), ==, USBIP_TCP_PARSE_SEGMENT);
  g_assert_cmpuint (seg.family, ==, 4);
  g_assert_cmpuint (seg.src_port, ==, 40000);
  g_assert_cmpuint (seg.dst_port, ==, 3240);
  g_assert_cmpuint (seg.seq, ==, 1000);
  g_assert_cmpmem (seg.payload, seg.payload_len, payload, 5);

  /* the first (and only) fragment of a packet is walked; a later fragment is not TCP to us */
  {
    static const guint8 first[8] = { 0, 0, 0x00, 0x00, 0, 0, 0, 1 };
    static const guint8 second[8] = { 0, 0, 0x00, 0x08, 0, 0, 0, 1 }; /* offset 1 (× 8 bytes) */
    frag = ipv6_with_ext (ip6, 44, first, 8);
    later = ipv6_with_ext (ip6, 44, second, 8);
  }
  g_assert_cmpint (parse_bytes (USBIP_LINKTYPE_RAW, frag, &seg), ==, USBIP_TCP_PARSE_SEGMENT);
  g_assert_cmpuint (seg.family, ==, 6);
  g_assert_cmpmem (seg.payload, seg.payload_len, payload, 5);
  g_assert_cmpint (parse_bytes (USBIP_LINKTYPE_RAW, later, &seg), ==, USBIP_TCP_PARSE_OTHER);

  /* an authentication header counts its length in 4-byte units, minus 2 */
  {
    static const guint8 hdr[12] = { 0, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1 };
    ah = ipv6_with_ext (ip6, 51, hdr, sizeof hdr);
  }
  g_assert_cmpint (parse_bytes (USBIP_LINKTYPE_RAW, ah, &seg), ==, USBIP_TCP_PARSE_SEGMENT);
  g_assert_cmpuint (seg.dst_port, ==, 3240);
  g_assert_cmpmem (seg.payload, seg.payload_len, payload, 5);

  /* "no next header" (59) and encrypted payloads (ESP, 50) carry no TCP to read */
  {
    static const guint8 pad[8] = { 0 };
    GByteArray *a = g_byte_array_new ();
    const guint8 *p = g_bytes_get_data (ip6, NULL);

    g_byte_array_append (a, p, 40);
    a->data[6] = 59;
    a->data[4] = a->data[5] = 0;
    none = g_byte_array_free_to_bytes (a);
    esp = ipv6_with_ext (ip6, 50, pad, sizeof pad);
  }
  g_assert_cmpint (parse_bytes (USBIP_LINKTYPE_RAW, none, &seg), ==, USBIP_TCP_PARSE_OTHER);
  g_assert_cmpint (parse_bytes (USBIP_LINKTYPE_RAW, esp, &seg), ==, USBIP_TCP_PARSE_OTHER);

  /* a chain of extension headers that ends past the packet is malformed */
  {
    gsize n;
    GByteArray *a = g_byte_array_new ();
    const guint8 *p = g_bytes_get_data (ip6, &n);
    static const guint8 hop[8] = { 60, 0 }; /* hop-by-hop, then destination options ... */

    g_byte_array_append (a, p, 40);
    a->data[6] = 0;
    g_byte_array_append (a, hop, 8); /* ... which the packet does not hold */
    a->data[4] = 0;
    a->data[5] = 8;
    g_clear_pointer (&none, g_bytes_unref);
    none = g_byte_array_free_to_bytes (a);
  }
  g_assert_cmpint (parse_bytes (USBIP_LINKTYPE_RAW, none, &seg), ==, USBIP_TCP_PARSE_MALFORMED);
}

static void
test_truncated_last_packet (void)
{
  Shape shape = { .no_fin = TRUE };
  g_autoptr (GPtrArray) expected = NULL;
  g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shape, &expected);
  g_autoptr (GBytes) full = cb_pcap (pkts, 1, FALSE, FALSE);
  /* the last packet is the RET_UNLINK (no FIN); cut the file 10 bytes before its end */
  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (full, 0, g_bytes_get_size (full) - 10);
  Result *r = decode (cut, 3240);

  assert_messages (r, expected, expected->len - 1, 2);
  g_assert_true (r->sum.truncated);
  g_assert_cmpuint (r->sum.n_protocol_errors, ==, 0);
  g_assert_cmpuint (r->n_truncated_notes, >=, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (r->notes, r->notes->len - 1), "cut short"));
  result_free (r);
}

static void
test_snaplen_cut (void)
{
  Shape shape = { 0 };
  g_autoptr (GPtrArray) expected = NULL;
  g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shape, &expected);
  g_autoptr (GBytes) cap = NULL;
  Result *r;
  guint idx = 0;

  /* cut the packet with the RET_SUBMIT of seqnum 1 (stream 1, 4th message) at 80 bytes */
  for (guint i = 0, data = 0; i < pkts->len; i++)
    {
      CbPacket *p = g_ptr_array_index (pkts, i);
      if (g_bytes_get_size (p->ip) > 20 + 24 && ++data == 6)
        {
          idx = i;
          p->cut = 80;
        }
    }
  g_assert_cmpuint (idx, >, 0);
  cap = cb_pcap (pkts, 1, FALSE, FALSE);
  r = decode (cap, 3240);
  g_assert_true (r->sum.truncated);
  /* DEVLIST pair, IMPORT pair, the CMD_SUBMIT, then only client-side messages */
  g_assert_cmpuint (r->messages->len, ==, 5 + 3);
  for (guint i = 5; i < r->messages->len; i++)
    g_assert_true (((Decoded *) g_ptr_array_index (r->messages, i))->from_client);
  result_free (r);
}

static void
test_protocol_error (void)
{
  g_autoptr (GPtrArray) pkts = g_ptr_array_new_with_free_func (cb_packet_free);
  g_autoptr (GPtrArray) sends = devlist_session ();
  Shape shape = { 0 };
  CbConn c;
  g_autoptr (GBytes) cap = NULL;
  Result *r;
  Send *bad = g_ptr_array_index (sends, 0);
  guint8 junk[8] = { 0x01, 0x06, 0x80, 0x05, 0, 0, 0, 0 }; /* version 0x0106 */

  g_bytes_unref (bad->bytes);
  bad->bytes = g_bytes_new (junk, sizeof junk);
  g_ptr_array_set_size (sends, 1);
  conn_v4 (&c, 40000, 3240);
  packetize (pkts, &c, sends, &shape);
  cap = cb_pcap (pkts, 1, FALSE, FALSE);
  r = decode (cap, 3240);
  g_assert_cmpuint (r->messages->len, ==, 0);
  g_assert_cmpuint (r->sum.n_protocol_errors, ==, 1);
  result_free (r);
}

static void
test_port_option (void)
{
  g_autoptr (GPtrArray) pkts = g_ptr_array_new_with_free_func (cb_packet_free);
  g_autoptr (GPtrArray) sends = import_session ();
  Shape shape = { .mss = 30 };
  CbConn c;
  g_autoptr (GBytes) cap = NULL;
  Result *r;

  conn_v4 (&c, 5555, 6000);
  packetize (pkts, &c, sends, &shape);
  cap = cb_pcap (pkts, 1, FALSE, FALSE);
  r = decode (cap, 3240);
  g_assert_cmpuint (r->messages->len, ==, 0);
  g_assert_cmpuint (r->sum.n_streams, ==, 0);
  /* issue 10 item 19: the wrong port is named, with where the TCP traffic is */
  g_assert_cmpuint (r->notes->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (r->notes, 0), "no USB/IP traffic found on port 3240"));
  g_assert_nonnull (strstr (g_ptr_array_index (r->notes, 0), "on port 6000 ("));
  g_assert_nonnull (strstr (g_ptr_array_index (r->notes, 0), "--port 6000"));
  result_free (r);
  r = decode (cap, 6000);
  assert_messages (r, sends, sends->len, G_MAXUINT);
  result_free (r);
}

static void
test_formats (void)
{
  Shape shape = { 0 };
  g_autoptr (GPtrArray) expected = NULL;
  g_autoptr (GPtrArray) pkts = standard_packets (FALSE, &shape, &expected);
  g_autoptr (GBytes) cap = cb_pcap (pkts, 1, FALSE, FALSE);
  Result *r = decode (cap, 3240);
  Decoded *devlist = g_ptr_array_index (r->messages, 1);
  Decoded *ctrl = g_ptr_array_index (r->messages, 4);
  Decoded *ret = g_ptr_array_index (r->messages, 5);
  Decoded *iso = g_ptr_array_index (r->messages, 9);

  g_assert_nonnull (strstr (devlist->text, "stream 0 s>c OP_REP_DEVLIST"));
  g_assert_nonnull (strstr (devlist->text, "busid=1-1 path=/sys/devices/pci0000:00/usb1/1-1"));
  g_assert_nonnull (strstr (devlist->text, "id=1d6b:0104"));
  g_assert_nonnull (strstr (ctrl->text, "stream 1 c>s USBIP_CMD_SUBMIT seqnum=1 devid=0x00010002"));
  g_assert_nonnull (strstr (ctrl->text, "bmRequestType=0x80 bRequest=6 wValue=0x0100 wIndex=0x0000 wLength=18"));
  g_assert_nonnull (strstr (ret->text, "actual_length=18"));
  g_assert_nonnull (strstr (ret->text, "data_len=18"));
  g_assert_nonnull (strstr (iso->text, "iso1={offset=8 length=8 actual_length=8 status=0}"));

  for (guint i = 0; i < r->messages->len; i++)
    {
      Decoded *d = g_ptr_array_index (r->messages, i);
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonObject *o;
      g_assert_true (json_parser_load_from_data (parser, d->json, -1, NULL));
      o = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpint (json_object_get_int_member (o, "schema"), ==, 1);
      g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "usbip-message");
      g_assert_cmpstr (json_object_get_string_member (o, "flow"), ==, d->from_client ? "c>s" : "s>c");
      g_assert_cmpint (json_object_get_int_member (o, "stream"), ==, d->stream);
      if (i == 4)
        {
          JsonObject *sp = json_object_get_object_member (o, "setup_packet");
          g_assert_cmpint (json_object_get_int_member (sp, "bmRequestType"), ==, 0x80);
          g_assert_cmpint (json_object_get_int_member (sp, "wValue"), ==, 0x0100);
          g_assert_cmpint (json_object_get_int_member (sp, "wLength"), ==, 18);
        }
    }
  result_free (r);
}

static void
put_le (GByteArray *a, guint64 v, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      guint8 b = (guint8) (v >> (8 * i));
      g_byte_array_append (a, &b, 1);
    }
}

/* little-endian pcapng: a section, one Ethernet interface with if_tsresol @tsresol and
 * if_tsoffset @offset, one empty enhanced packet block stamped @units */
static GBytes *
pcapng_stamped (guint8 tsresol, gint64 offset, guint64 units)
{
  GByteArray *a = g_byte_array_new ();

  put_le (a, 0x0a0d0d0a, 4), put_le (a, 28, 4), put_le (a, 0x1a2b3c4d, 4);
  put_le (a, 1, 2), put_le (a, 0, 2), put_le (a, G_MAXUINT64, 8), put_le (a, 28, 4);
  /* IDB: 8 + 8 + if_tsresol (4 + 4) + if_tsoffset (4 + 8) + opt_endofopt (4) + 4 */
  put_le (a, 1, 4), put_le (a, 44, 4), put_le (a, 1, 2), put_le (a, 0, 2), put_le (a, 65535, 4);
  put_le (a, 9, 2), put_le (a, 1, 2), put_le (a, tsresol, 4);
  put_le (a, 14, 2), put_le (a, 8, 2), put_le (a, (guint64) offset, 8);
  put_le (a, 0, 4), put_le (a, 44, 4);
  /* EPB: interface 0, timestamp (high word, low word), nothing captured */
  put_le (a, 6, 4), put_le (a, 32, 4), put_le (a, 0, 4), put_le (a, units >> 32, 4), put_le (a, units, 4);
  put_le (a, 0, 4), put_le (a, 0, 4), put_le (a, 32, 4);
  return g_byte_array_free_to_bytes (a);
}

/* an interface stamping in seconds (10^0) with if_tsoffset @offset, a packet at 10 s */
static GBytes *
pcapng_with_tsoffset (gint64 offset)
{
  return pcapng_stamped (0, offset, 10);
}

/* if_tsresol 2^-k: the fraction's nanoseconds are floor (fraction * 10^9 / 2^k), exact up to
 * k = 63 where the product needs 94 bits (values from Python's integers); 32-bit targets
 * have no 128-bit integer, so the reader splits the product */
static void
test_pcapng_pow2_resolution (void)
{
  static const struct {
    guint8 k;
    guint64 units;
    gint64 sec;
    guint32 nsec;
  } cases[] = {
    { 63, G_GUINT64_CONSTANT (0x7fffffffffffffff), 0, 999999999 },
    { 63, G_MAXUINT64, 1, 999999999 },
    { 63, G_GUINT64_CONSTANT (0x4000000000000000), 0, 500000000 },
    { 63, 1, 0, 0 },
    { 32, G_GUINT64_CONSTANT (0xffffffff), 0, 999999999 },
    { 33, G_GUINT64_CONSTANT (0x1ffffffff), 0, 999999999 },
    { 34, G_GUINT64_CONSTANT (0x3ffffffff), 0, 999999999 },
    { 40, G_GUINT64_CONSTANT (0x18000000001), 1, 500000000 },
    { 50, G_GUINT64_CONSTANT (0x3abcd12345678), 0, 917774471 },
    { 45, G_MAXUINT64, 524287, 999999999 },
    { 1, 3, 1, 500000000 },
    { 127, G_MAXUINT64, 1, 999999999 }, /* exponents above 63 count as 63 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) cap = pcapng_stamped (0x80 | cases[i].k, 0, cases[i].units);
      g_autoptr (UsbipPcapReader) reader = usbip_pcap_reader_new (cap, NULL);
      g_autoptr (GError) error = NULL;
      UsbipPcapPacket packet;

      g_test_message ("2^-%u, %" G_GINT64_MODIFIER "x units", cases[i].k, cases[i].units);
      g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, &error), ==, USBIP_PCAP_PACKET);
      g_assert_no_error (error);
      g_assert_cmpint (packet.ts_sec, ==, cases[i].sec);
      g_assert_cmpuint (packet.ts_nsec, ==, cases[i].nsec);
    }
}

/* issue 10 item 14: 10 s + if_tsoffset INT64_MAX overflowed a gint64 (UBSan) */
static void
test_pcapng_tsoffset_overflow (void)
{
  static const gint64 bad[] = { G_MAXINT64, G_MAXINT64 - 9 };
  UsbipPcapPacket packet;

  {
    g_autoptr (GBytes) cap = pcapng_with_tsoffset (100);
    g_autoptr (UsbipPcapReader) reader = usbip_pcap_reader_new (cap, NULL);
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, &error), ==, USBIP_PCAP_PACKET);
    g_assert_no_error (error);
    g_assert_cmpint (packet.ts_sec, ==, 110);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GBytes) cap = pcapng_with_tsoffset (bad[i]);
      g_autoptr (UsbipPcapReader) reader = usbip_pcap_reader_new (cap, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, &error), ==, USBIP_PCAP_INVALID);
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, "if_tsoffset"));
      g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, NULL), ==, USBIP_PCAP_END);
    }
  /* the largest offset that fits still decodes */
  {
    g_autoptr (GBytes) cap = pcapng_with_tsoffset (G_MAXINT64 - 10);
    g_autoptr (UsbipPcapReader) reader = usbip_pcap_reader_new (cap, NULL);
    g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, NULL), ==, USBIP_PCAP_PACKET);
    g_assert_cmpint (packet.ts_sec, ==, G_MAXINT64);
  }
}

/* ---- the reassembler alone ---- */

typedef struct {
  GByteArray *client_bytes; /* DATA delivered client to server, in order */
  guint n_gaps;
  guint gap_at; /* segments added when the first GAP came */
  guint added;
  gboolean data_after_gap;
} Reassembled;

static void
on_tcp_event (const UsbipTcpEvent *ev, gpointer user_data)
{
  Reassembled *r = user_data;

  if (!ev->from_client)
    return;
  if (ev->type == USBIP_TCP_EVENT_DATA)
    {
      r->data_after_gap |= r->n_gaps > 0;
      g_byte_array_append (r->client_bytes, ev->data, (guint) ev->len);
    }
  else if (ev->type == USBIP_TCP_EVENT_GAP && r->n_gaps++ == 0)
    r->gap_at = r->added;
}

static void
client_segment (UsbipTcpSegment *seg, guint32 seq, guint8 flags, const guint8 *payload, gsize len, gsize missing)
{
  memset (seg, 0, sizeof *seg);
  seg->family = 4;
  seg->src_addr[0] = 10, seg->src_addr[3] = 2;
  seg->dst_addr[0] = 10, seg->dst_addr[3] = 1;
  seg->src_port = 40000;
  seg->dst_port = 3240;
  seg->seq = seq;
  seg->flags = flags;
  seg->payload = payload;
  seg->payload_len = len;
  seg->payload_missing = missing;
}

/* 30 000 segments of 1..64 bytes in a shuffled order, a fifth of them sent twice, the
 * first one last, sequence numbers wrapping: every byte comes out once, in order. */
static void
test_reassembler_shuffled (void)
{
  const guint32 isn = 0xffff0000u; /* wraps after 64 KiB */
  g_autoptr (GRand) rand = g_rand_new_with_seed (10);
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  g_autoptr (GArray) cuts = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GByteArray) delivered = g_byte_array_new ();
  Reassembled r = { delivered };
  g_autoptr (UsbipTcpReassembler) tcp = usbip_tcp_reassembler_new (3240, on_tcp_event, &r);
  UsbipTcpSegment seg;
  guint n;

  for (guint off = 0; off < 1000000;)
    {
      guint len = (guint) g_rand_int_range (rand, 1, 65);
      g_array_append_val (cuts, off);
      for (guint i = 0; i < len; i++)
        {
          guint8 b = (guint8) g_rand_int (rand);
          g_byte_array_append (stream, &b, 1);
        }
      off += len;
      if (cuts->len == 30000)
        break;
    }
  n = cuts->len;
  g_array_append_val (cuts, stream->len);
  for (guint i = 1; i < n; i++)
    {
      g_array_append_val (order, i);
      if (g_rand_int_range (rand, 0, 5) == 0)
        g_array_append_val (order, i);
    }
  for (guint i = order->len; i > 1; i--)
    {
      guint j = (guint) g_rand_int_range (rand, 0, (gint32) i);
      guint tmp = g_array_index (order, guint, i - 1);
      g_array_index (order, guint, i - 1) = g_array_index (order, guint, j);
      g_array_index (order, guint, j) = tmp;
    }
  g_array_append_val (order, (guint){ 0 });

  client_segment (&seg, isn - 1, USBIP_TCP_SYN, NULL, 0, 0);
  usbip_tcp_reassembler_add (tcp, &seg);
  for (guint k = 0; k < order->len; k++)
    {
      guint i = g_array_index (order, guint, k);
      guint off = g_array_index (cuts, guint, i);
      guint end = g_array_index (cuts, guint, i + 1);
      client_segment (&seg, isn + off, 0x18, stream->data + off, end - off, 0);
      usbip_tcp_reassembler_add (tcp, &seg);
      /* nothing can be delivered before the first segment arrives */
      if (k + 1 < order->len)
        g_assert_cmpuint (delivered->len, ==, 0);
    }
  usbip_tcp_reassembler_finish (tcp);
  g_assert_cmpuint (r.n_gaps, ==, 0);
  g_assert_cmpmem (delivered->data, delivered->len, stream->data, stream->len);
}

/* A flood of segments ahead of a missing one, each carrying no captured byte (holes cut at
 * the snapshot length) or a single byte, must hit the memory cap (64 MiB per direction,
 * each waiting entry charged its bytes and 128 bytes of overhead): the direction is given
 * up with one GAP, and nothing is delivered after it. */
static void
test_reassembler_holes_count (void)
{
  const guint cap_entries = 64u * 1024u * 1024u / 128u;
  g_autoptr (GByteArray) delivered = g_byte_array_new ();
  Reassembled r = { delivered };
  g_autoptr (UsbipTcpReassembler) tcp = usbip_tcp_reassembler_new (3240, on_tcp_event, &r);
  UsbipTcpSegment seg;
  const guint8 byte = 0x5a;

  client_segment (&seg, 999, USBIP_TCP_SYN, NULL, 0, 0);
  usbip_tcp_reassembler_add (tcp, &seg);
  /* byte 1000 never comes; segments after it arrive from the last one down, alternately
   * a hole and one byte */
  for (guint i = 0; i < cap_entries + 1000 && r.n_gaps == 0; i++)
    {
      guint32 seq = 1001 + 2 * (cap_entries + 1000 - i);
      if (i % 2 == 0)
        client_segment (&seg, seq, 0x18, NULL, 0, 2);
      else
        client_segment (&seg, seq, 0x18, &byte, 1, 1);
      usbip_tcp_reassembler_add (tcp, &seg);
      r.added++;
    }
  g_assert_cmpuint (r.n_gaps, ==, 1);
  g_assert_cmpuint (r.gap_at, <=, cap_entries);
  g_assert_cmpuint (r.gap_at, >=, cap_entries / 2);
  /* the missing byte arrives late: the direction stays given up */
  client_segment (&seg, 1000, 0x18, &byte, 1, 0);
  usbip_tcp_reassembler_add (tcp, &seg);
  usbip_tcp_reassembler_finish (tcp);
  g_assert_cmpuint (r.n_gaps, ==, 1);
  g_assert_false (r.data_after_gap);
  g_assert_cmpuint (delivered->len, ==, 0);
}

static void
le32 (GByteArray *a, guint32 v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (a, b, 4);
}

/* a little-endian pcapng block: type, total length @blen (0: the real one), @body, the
 * trailing length @trail (0: the same as the leading one) */
static void
ng_block (GByteArray *a, guint32 type, const guint8 *body, gsize body_len, guint32 blen, guint32 trail)
{
  guint32 real = (guint32) (12 + body_len);

  le32 (a, type);
  le32 (a, blen != 0 ? blen : real);
  g_byte_array_append (a, body, (guint) body_len);
  le32 (a, trail != 0 ? trail : real);
}

static GByteArray *
ng_section (void)
{
  GByteArray *a = g_byte_array_new ();
  static const guint8 shb[16] = { 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

  ng_block (a, 0x0a0d0d0a, shb, sizeof shb, 0, 0);
  return a;
}

/* a file too short or cut inside a header, and each way a pcapng block can be damaged:
 * refused with what is wrong and where, then the end */
static void
test_pcap_reader_damaged (void)
{
  static const guint8 idb[8] = { 101, 0, 0, 0, 0, 0, 0, 0 }; /* raw IP, no snaplen */
  static const guint8 epb_short[16] = { 0 };
  guint8 epb[20 + 4] = { 0 };
  GError *error = NULL;
  UsbipPcapPacket packet;
  struct {
    GByteArray *bytes;
    UsbipPcapResult result;
    const gchar *message;
  } cases[10];
  guint n = 0;

  /* not even a magic number */
  {
    g_autoptr (GBytes) b = g_bytes_new_static ("abc", 3);
    g_assert_null (usbip_pcap_reader_new (b, &error));
    g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "3 bytes long"));
    g_clear_error (&error);
  }
  /* pcap: the file header cut short, then a record header cut short */
  {
    static const guint8 head[10] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
    g_autoptr (GBytes) b = g_bytes_new_static (head, sizeof head);
    g_autoptr (GPtrArray) none = g_ptr_array_new_with_free_func (cb_packet_free);
    g_autoptr (GBytes) empty = cb_pcap (none, 101, FALSE, FALSE);
    g_autoptr (GByteArray) cut = g_byte_array_new ();
    g_autoptr (GBytes) cutb = NULL;
    g_autoptr (UsbipPcapReader) reader = NULL;

    g_assert_null (usbip_pcap_reader_new (b, &error));
    g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "file header is cut short (10 of 24 bytes)"));
    g_clear_error (&error);

    g_byte_array_append (cut, g_bytes_get_data (empty, NULL), (guint) g_bytes_get_size (empty));
    g_byte_array_append (cut, epb_short, 10);
    cutb = g_bytes_new (cut->data, cut->len);
    reader = usbip_pcap_reader_new (cutb, &error);
    g_assert_no_error (error);
    g_assert_cmpint (usbip_pcap_reader_get_format (reader), ==, USBIP_PCAP_FORMAT_PCAP);
    g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, &error), ==, USBIP_PCAP_TRUNCATED);
    g_assert_nonnull (strstr (error->message, "inside the record header of packet 1 at offset 24 (10 of 16"));
    g_clear_error (&error);
    g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, NULL), ==, USBIP_PCAP_END);
  }

  /* pcapng, after a good section header */
  cases[n].bytes = ng_section (); /* 8 stray bytes */
  g_byte_array_append (cases[n].bytes, epb_short, 8);
  cases[n].result = USBIP_PCAP_TRUNCATED;
  cases[n++].message = "inside the block header before packet 1";
  cases[n].bytes = g_byte_array_new (); /* a section header of neither byte order */
  {
    static const guint8 shb[16] = { 1, 2, 3, 4 };
    ng_block (cases[n].bytes, 0x0a0d0d0a, shb, sizeof shb, 0, 0);
  }
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "byte-order magic 01020304";
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 1, idb, sizeof idb, 13, 0);
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "block of type 0x00000001 with length 13";
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 1, idb, sizeof idb, 64, 0);
  cases[n].result = USBIP_PCAP_TRUNCATED;
  cases[n++].message = "inside the block of packet 1";
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 1, idb, sizeof idb, 0, 24);
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "trailing length 24 differs from 20";
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 1, idb, 4, 0, 0);
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "interface description block of 16 bytes";
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 3, NULL, 0, 0, 0);
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "simple packet block of 12 bytes";
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 1, idb, sizeof idb, 0, 0);
  ng_block (cases[n].bytes, 6, epb_short, sizeof epb_short, 0, 0);
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "packet block of 28 bytes";
  epb[12] = 5; /* captured length 5, but 4 bytes of data follow */
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 1, idb, sizeof idb, 0, 0);
  ng_block (cases[n].bytes, 6, epb, sizeof epb, 0, 0);
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "packet 1 claims 5 captured bytes in a block of 36";
  epb[12] = 4;
  epb[0] = 1; /* interface 1 of one */
  cases[n].bytes = ng_section ();
  ng_block (cases[n].bytes, 1, idb, sizeof idb, 0, 0);
  ng_block (cases[n].bytes, 6, epb, sizeof epb, 0, 0);
  cases[n].result = USBIP_PCAP_INVALID;
  cases[n++].message = "packet 1 names interface 1, but the section describes 1";
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (cases));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GBytes) b = g_byte_array_free_to_bytes (cases[i].bytes);
      g_autoptr (UsbipPcapReader) reader = usbip_pcap_reader_new (b, &error);

      g_test_message ("case %u: %s", i, cases[i].message);
      g_assert_no_error (error);
      g_assert_cmpint (usbip_pcap_reader_get_format (reader), ==, USBIP_PCAP_FORMAT_PCAPNG);
      g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, &error), ==, cases[i].result);
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_clear_error (&error);
      g_assert_cmpint (usbip_pcap_reader_next (reader, &packet, NULL), ==, USBIP_PCAP_END);
    }
}

/* a damaged capture: decoding stops at the damage with a "damaged" note */
static void
test_damaged (void)
{
  g_autoptr (GBytes) cap = pcapng_with_tsoffset (G_MAXINT64);
  Result *r = decode (cap, 3240);

  g_assert_true (r->sum.damaged);
  g_assert_cmpuint (r->sum.n_frames, ==, 0);
  g_assert_cmpuint (r->notes->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (r->notes, 0), "3:the capture is damaged"));
  result_free (r);
}

static void
test_not_a_capture (void)
{
  g_autoptr (GBytes) junk = g_bytes_new_static ("hello, world, not pcap", 22);
  g_autoptr (GError) error = NULL;

  g_assert_false (usbip_trace_decode (junk, 3240, NULL, NULL, NULL, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
}

static gboolean
has_note (Result *r, const gchar *part)
{
  for (guint i = 0; i < r->notes->len; i++)
    if (strstr (g_ptr_array_index (r->notes, i), part) != NULL)
      return TRUE;
  return FALSE;
}

/* the wrong port, with TCP on many others: the busiest five are named, the busiest first,
 * and the rest counted */
static void
test_port_option_many_ports (void)
{
  g_autoptr (GPtrArray) pkts = g_ptr_array_new_with_free_func (cb_packet_free);
  g_autoptr (GPtrArray) sends = devlist_session ();
  Shape shape = { .mss = 30 };
  CbConn c;
  g_autoptr (GBytes) cap = NULL;
  const gchar *note, *busiest, *other;
  Result *r;

  for (guint16 port = 6000; port < 6007; port++)
    {
      conn_v4 (&c, 5555, port);
      packetize (pkts, &c, sends, &shape);
    }
  /* 6003 carries the most segments */
  conn_v4 (&c, 5556, 6003);
  packetize (pkts, &c, sends, &shape);
  cap = cb_pcap (pkts, 1, FALSE, FALSE);
  r = decode (cap, 3240);
  g_assert_cmpuint (r->notes->len, ==, 1);
  note = g_ptr_array_index (r->notes, 0);
  g_assert_nonnull (strstr (note, "on ports 6003 ("));
  g_assert_nonnull (strstr (note, "and 2 more"));
  g_assert_nonnull (strstr (note, "--port 6003"));
  /* the others tie: in port order after the busiest */
  busiest = strstr (note, "6003 (");
  other = strstr (note, "6000 (");
  g_assert_nonnull (other);
  g_assert_true (busiest < other);
  g_assert_null (strstr (note, "6006 ("));
  result_free (r);
}

/* frames that are no TCP, or on a link the decoder cannot read, are told once, not decoded */
static void
test_no_tcp_and_unsupported_link (void)
{
  g_autoptr (GPtrArray) pkts = g_ptr_array_new_with_free_func (cb_packet_free);
  g_autoptr (GBytes) cap = NULL, cap147 = NULL;
  CbConn c;
  Result *r;

  conn_v4 (&c, 40000, 3240);
  for (guint i = 0; i < 2; i++)
    {
      GBytes *tcp = cb_tcp_packet (&c, TRUE, 1000, 0x02, NULL, 0);
      gsize n;
      const guint8 *data = g_bytes_get_data (tcp, &n);
      guint8 *udp = g_memdup2 (data, n);

      udp[9] = 17; /* UDP */
      add_packet (pkts, g_bytes_new_take (udp, n));
      g_bytes_unref (tcp);
    }
  cap = cb_pcap (pkts, 101, FALSE, FALSE);
  r = decode (cap, 3240);
  g_assert_cmpuint (r->messages->len, ==, 0);
  g_assert_cmpuint (r->notes->len, ==, 1);
  g_assert_true (has_note (r, "the capture holds no TCP segment (2 frames)"));
  g_assert_true (has_note (r, "tcp port 3240"));
  result_free (r);

  /* LINKTYPE_USER0 (147): named once for both frames */
  cap147 = cb_pcap (pkts, 147, FALSE, FALSE);
  r = decode (cap147, 3240);
  g_assert_cmpuint (r->messages->len, ==, 0);
  g_assert_true (has_note (r, "frame 1: link type 147 is not supported"));
  g_assert_false (has_note (r, "frame 2: link type 147"));
  result_free (r);
}

/* a message cut short: by the sender closing (a protocol error) or by the end of the
 * capture (truncated); the whole messages before it still decode */
static void
test_message_cut_short (void)
{
  for (guint no_fin = 0; no_fin < 2; no_fin++)
    {
      g_autoptr (GPtrArray) pkts = g_ptr_array_new_with_free_func (cb_packet_free);
      g_autoptr (GPtrArray) sends = import_session ();
      Shape shape = { .mss = 16, .no_fin = no_fin };
      Send *last;
      GBytes *half;
      CbConn c;
      g_autoptr (GBytes) cap = NULL;
      Result *r;

      g_ptr_array_set_size (sends, 3); /* IMPORT, its reply, a CMD_SUBMIT ... */
      last = g_ptr_array_index (sends, 2);
      half = g_bytes_new_from_bytes (last->bytes, 0, 30); /* ... of which 30 bytes are sent */
      g_bytes_unref (last->bytes);
      last->bytes = half;
      conn_v4 (&c, 40000, 3240);
      packetize (pkts, &c, sends, &shape);
      cap = cb_pcap (pkts, 1, FALSE, FALSE);
      r = decode (cap, 3240);
      assert_messages (r, sends, 2, G_MAXUINT);
      if (no_fin)
        {
          g_assert_true (has_note (r, "c>s: the capture ends inside a message (30 bytes of it captured)"));
          g_assert_cmpuint (r->n_truncated_notes, ==, 1);
        }
      else
        {
          g_assert_true (has_note (r, "c>s: the sender closed the connection inside a message (30 bytes of it sent)"));
          g_assert_cmpuint (r->sum.n_protocol_errors, ==, 1);
        }
      result_free (r);
    }
}

static void
test_rst (void)
{
  g_autoptr (GPtrArray) pkts = g_ptr_array_new_with_free_func (cb_packet_free);
  g_autoptr (GPtrArray) sends = import_session ();
  Shape shape = { .no_fin = TRUE };
  CbConn c;
  g_autoptr (GBytes) cap = NULL;
  Result *r;

  conn_v4 (&c, 40000, 3240);
  g_ptr_array_set_size (sends, 4);
  packetize (pkts, &c, sends, &shape);
  /* reset from the server, then a stray data segment that must be ignored */
  add_packet (pkts, cb_tcp_packet (&c, FALSE, 12345, 0x04, NULL, 0));
  add_packet (pkts, cb_tcp_packet (&c, TRUE, 1001 + 40 + 48, 0x18, (const guint8 *) "garbage!", 8));
  cap = cb_pcap (pkts, 1, FALSE, FALSE);
  r = decode (cap, 3240);
  assert_messages (r, sends, 4, G_MAXUINT);
  g_assert_cmpuint (r->sum.n_protocol_errors, ==, 0);
  g_assert_false (r->sum.truncated);
  result_free (r);
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trace/link-types", test_link_types);
  g_test_add_func ("/trace/pcap-byte-orders", test_pcap_byte_orders);
  g_test_add_func ("/trace/pcapng", test_pcapng);
  g_test_add_func ("/trace/pcapng-timestamps", test_pcapng_timestamps);
  g_test_add_func ("/trace/out-of-order-retransmissions", test_out_of_order_and_retransmissions);
  g_test_add_func ("/trace/ipv6", test_ipv6);
  g_test_add_func ("/trace/tcp-segment-headers", test_tcp_segment_headers);
  g_test_add_func ("/trace/truncated-last-packet", test_truncated_last_packet);
  g_test_add_func ("/trace/snaplen-cut", test_snaplen_cut);
  g_test_add_func ("/trace/protocol-error", test_protocol_error);
  g_test_add_func ("/trace/port-option", test_port_option);
  g_test_add_func ("/trace/formats", test_formats);
  g_test_add_func ("/trace/pcapng-tsoffset-overflow", test_pcapng_tsoffset_overflow);
  g_test_add_func ("/trace/pcapng-pow2-resolution", test_pcapng_pow2_resolution);
  g_test_add_func ("/trace/reassembler/shuffled", test_reassembler_shuffled);
  g_test_add_func ("/trace/reassembler/holes-count", test_reassembler_holes_count);
  g_test_add_func ("/trace/damaged", test_damaged);
  g_test_add_func ("/trace/pcap-reader-damaged", test_pcap_reader_damaged);
  g_test_add_func ("/trace/not-a-capture", test_not_a_capture);
  g_test_add_func ("/trace/rst", test_rst);
  g_test_add_func ("/trace/port-option-many-ports", test_port_option_many_ports);
  g_test_add_func ("/trace/no-tcp-unsupported-link", test_no_tcp_and_unsupported_link);
  g_test_add_func ("/trace/message-cut-short", test_message_cut_short);
  return g_test_run ();
}
