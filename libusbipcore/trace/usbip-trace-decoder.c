/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture -> frames -> TCP segments -> per-direction byte streams -> USB/IP messages.
 * Messages are reported as the frame that completes them is read, so the output follows
 * capture order across connections and directions.
 */
#include "config.h"

#include <string.h>

#include "usbip-pcap.h"
#include "usbip-tcp-reassembler.h"
#include "usbip-trace-decoder.h"

#define COMPACT_AT ((gsize) 64 * 1024)

typedef struct {
  guint id;
  UsbipUrbTracker *tracker;
  UsbipDeframer *deframer[2]; /* 0: client to server, 1: server to client */
  GByteArray *buf[2];
  gsize off[2];
  guint64 pos[2]; /* stream offset of buf[off] */
  gboolean failed[2];
  gboolean closed[2];
  gchar *client;
  gchar *server;
} Stream;

typedef struct {
  UsbipTraceEventFunc func;
  gpointer user_data;
  UsbipTraceSummary *sum;
  const UsbipPcapPacket *packet; /* the frame being processed, NULL at the end */
  GPtrArray *streams;
  GHashTable *unsupported_links;
  guint16 server_port;
  guint n_tcp_segments;
  GHashTable *pairs;        /* port pair (lower << 16 | higher) -> its likely server port + 1 */
  GHashTable *server_ports; /* likely server port -> segments, for the hint at the end */
} Decoder;

static void
stream_free (gpointer p)
{
  Stream *s = p;

  for (guint d = 0; d < 2; d++)
    {
      usbip_deframer_free (s->deframer[d]);
      g_byte_array_unref (s->buf[d]);
    }
  usbip_urb_tracker_free (s->tracker);
  g_free (s->client);
  g_free (s->server);
  g_free (s);
}

static const gchar *
dir_name (gboolean from_client)
{
  return from_client ? "c>s" : "s>c";
}

static void
fill_base (Decoder *dec, UsbipTraceEvent *ev, Stream *s, gboolean from_client)
{
  memset (ev, 0, sizeof *ev);
  if (dec->packet != NULL)
    {
      ev->frame = dec->packet->frame;
      ev->ts_sec = dec->packet->ts_sec;
      ev->ts_nsec = dec->packet->ts_nsec;
    }
  ev->stream_id = s != NULL ? (gint) s->id : -1;
  ev->from_client = from_client;
  ev->client = s != NULL ? s->client : NULL;
  ev->server = s != NULL ? s->server : NULL;
}

static void note (Decoder *dec, Stream *s, gboolean from_client, UsbipTraceNoteKind kind, const gchar *format, ...)
    G_GNUC_PRINTF (5, 6);

static void
note (Decoder *dec, Stream *s, gboolean from_client, UsbipTraceNoteKind kind, const gchar *format, ...)
{
  UsbipTraceEvent ev;
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  if (kind == USBIP_TRACE_NOTE_TRUNCATED)
    dec->sum->truncated = TRUE;
  else if (kind == USBIP_TRACE_NOTE_PROTOCOL)
    dec->sum->n_protocol_errors++;
  else if (kind == USBIP_TRACE_NOTE_DAMAGED)
    dec->sum->damaged = TRUE;
  fill_base (dec, &ev, s, from_client);
  ev.type = USBIP_TRACE_EVENT_NOTE;
  ev.note_kind = kind;
  ev.note = text;
  if (dec->func != NULL)
    dec->func (&ev, dec->user_data);
}

static gsize
unframed (Stream *s, guint d)
{
  return s->buf[d]->len - s->off[d];
}

static void
pop_messages (Decoder *dec, Stream *s, gboolean from_client)
{
  guint d = from_client ? 0 : 1;

  while (!s->failed[d])
    {
      UsbipMessage msg = { 0 };
      g_autoptr (GError) error = NULL;
      gsize consumed = 0;
      const guint8 *p = s->buf[d]->data + s->off[d];
      UsbipDeframeResult r = usbip_deframer_pop (s->deframer[d], p, unframed (s, d), &consumed, &msg, &error);
      UsbipTraceEvent ev;

      if (r == USBIP_DEFRAME_NEED_MORE)
        break;
      if (r == USBIP_DEFRAME_INVALID)
        {
          s->failed[d] = TRUE;
          note (dec, s, from_client, USBIP_TRACE_NOTE_PROTOCOL,
                "stream %u %s: undecodable bytes at stream offset %" G_GUINT64_FORMAT ": %s; "
                "this direction is not decoded further",
                s->id, dir_name (from_client), s->pos[d], error->message);
          break;
        }
      fill_base (dec, &ev, s, from_client);
      ev.type = USBIP_TRACE_EVENT_MESSAGE;
      ev.message = &msg;
      ev.raw = p;
      ev.raw_len = consumed;
      dec->sum->n_messages++;
      if (dec->func != NULL)
        dec->func (&ev, dec->user_data);
      if (msg.type == USBIP_MESSAGE_OP_REP_IMPORT && msg.op.status == 0 && !from_client)
        {
          usbip_deframer_set_stream (s->deframer[0], USBIP_STREAM_URB_COMMAND);
          usbip_deframer_set_stream (s->deframer[1], USBIP_STREAM_URB_RETURN);
        }
      usbip_message_clear (&msg);
      s->off[d] += consumed;
      s->pos[d] += consumed;
    }

  if (s->off[d] == s->buf[d]->len)
    {
      g_byte_array_set_size (s->buf[d], 0);
      s->off[d] = 0;
    }
  else if (s->off[d] >= COMPACT_AT && s->off[d] * 2 >= s->buf[d]->len)
    {
      g_byte_array_remove_range (s->buf[d], 0, (guint) s->off[d]);
      s->off[d] = 0;
    }
}

/* the port a connection's server most likely listens on, decided by the first segment
 * seen of that pair of ports: the destination of a SYN, the source of a SYN-ACK, else the
 * lower port (clients use high ephemeral ports) */
static guint16
likely_server_port (Decoder *dec, const UsbipTcpSegment *seg)
{
  guint lo = MIN (seg->src_port, seg->dst_port), hi = MAX (seg->src_port, seg->dst_port);
  gpointer pair = GUINT_TO_POINTER (lo << 16 | hi);
  guint known = GPOINTER_TO_UINT (g_hash_table_lookup (dec->pairs, pair));
  guint port;

  if (known != 0)
    return (guint16) (known - 1);
  if ((seg->flags & (USBIP_TCP_SYN | USBIP_TCP_ACK)) == USBIP_TCP_SYN)
    port = seg->dst_port;
  else if ((seg->flags & (USBIP_TCP_SYN | USBIP_TCP_ACK)) == (USBIP_TCP_SYN | USBIP_TCP_ACK))
    port = seg->src_port;
  else
    port = lo;
  g_hash_table_insert (dec->pairs, pair, GUINT_TO_POINTER (port + 1));
  return (guint16) port;
}

static void
count_segment (Decoder *dec, const UsbipTcpSegment *seg)
{
  gpointer key = GUINT_TO_POINTER ((guint) likely_server_port (dec, seg));

  dec->n_tcp_segments++;
  g_hash_table_insert (dec->server_ports, key,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (dec->server_ports, key)) + 1));
}

static gint
by_count_desc (gconstpointer a, gconstpointer b, gpointer user_data)
{
  GHashTable *counts = user_data;
  guint ca = GPOINTER_TO_UINT (g_hash_table_lookup (counts, *(gpointer const *) a));
  guint cb = GPOINTER_TO_UINT (g_hash_table_lookup (counts, *(gpointer const *) b));

  if (ca != cb)
    return ca > cb ? -1 : 1;
  return GPOINTER_TO_INT (*(gpointer const *) a) - GPOINTER_TO_INT (*(gpointer const *) b);
}

/* no connection on the server port: say where the TCP traffic is, so that the reader can
 * choose the right port */
static void
note_no_stream (Decoder *dec)
{
  g_autoptr (GPtrArray) ports = g_ptr_array_new ();
  g_autoptr (GString) list = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, dec->server_ports);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ports, key);

  if (dec->n_tcp_segments == 0)
    {
      note (dec, NULL, TRUE, USBIP_TRACE_NOTE_INFO,
            "no USB/IP traffic: the capture holds no TCP segment (%u frames); capture the "
            "USB/IP connection itself, e.g. `tcpdump -i any -w FILE tcp port 3240`",
            dec->sum->n_frames);
      return;
    }
  g_ptr_array_sort_with_data (ports, by_count_desc, dec->server_ports);
  for (guint i = 0; i < ports->len && i < 5; i++)
    {
      guint port = GPOINTER_TO_UINT (g_ptr_array_index (ports, i));
      g_string_append_printf (list, "%s%u (%u segments)", i > 0 ? ", " : "", port,
                              GPOINTER_TO_UINT (g_hash_table_lookup (dec->server_ports, GUINT_TO_POINTER (port))));
    }
  if (ports->len > 5)
    g_string_append_printf (list, " and %u more", ports->len - 5);
  note (dec, NULL, TRUE, USBIP_TRACE_NOTE_INFO,
        "no USB/IP traffic found on port %u: no TCP connection in the capture uses it; its TCP "
        "traffic is on port%s %s; decode with the USB/IP server's port (`usbip-tool trace decode "
        "--port %u FILE`)",
        dec->server_port, ports->len > 1 ? "s" : "", list->str, GPOINTER_TO_UINT (g_ptr_array_index (ports, 0)));
}

static void
on_tcp (const UsbipTcpEvent *tev, gpointer user_data)
{
  Decoder *dec = user_data;
  Stream *s;
  guint d = tev->from_client ? 0 : 1;

  if (tev->type == USBIP_TCP_EVENT_OPEN)
    {
      s = g_new0 (Stream, 1);
      s->id = tev->stream_id;
      s->tracker = usbip_urb_tracker_new ();
      s->deframer[0] = usbip_deframer_new (USBIP_STREAM_OP_REQUEST, s->tracker);
      s->deframer[1] = usbip_deframer_new (USBIP_STREAM_OP_REPLY, s->tracker);
      s->buf[0] = g_byte_array_new ();
      s->buf[1] = g_byte_array_new ();
      s->client = g_strdup (tev->client);
      s->server = g_strdup (tev->server);
      g_ptr_array_add (dec->streams, s);
      dec->sum->n_streams++;
      note (dec, s, TRUE, USBIP_TRACE_NOTE_INFO, "stream %u: client %s, server %s", s->id, s->client, s->server);
      return;
    }

  g_return_if_fail (tev->stream_id < dec->streams->len);
  s = g_ptr_array_index (dec->streams, tev->stream_id);

  switch (tev->type)
    {
    case USBIP_TCP_EVENT_DATA:
      if (s->failed[d])
        return;
      g_byte_array_append (s->buf[d], tev->data, (guint) tev->len);
      pop_messages (dec, s, tev->from_client);
      break;

    case USBIP_TCP_EVENT_FIN:
      s->closed[d] = TRUE;
      if (!s->failed[d] && unframed (s, d) > 0)
        {
          s->failed[d] = TRUE;
          note (dec, s, tev->from_client, USBIP_TRACE_NOTE_PROTOCOL,
                "stream %u %s: the sender closed the connection inside a message (%" G_GSIZE_FORMAT
                " bytes of it sent)",
                s->id, dir_name (tev->from_client), unframed (s, d));
        }
      else
        note (dec, s, tev->from_client, USBIP_TRACE_NOTE_INFO, "stream %u %s: closed (FIN)", s->id,
              dir_name (tev->from_client));
      break;

    case USBIP_TCP_EVENT_RST:
      note (dec, s, tev->from_client, USBIP_TRACE_NOTE_INFO,
            "stream %u %s: connection reset (RST); %" G_GSIZE_FORMAT " c>s and %" G_GSIZE_FORMAT " s>c bytes unframed",
            s->id, dir_name (tev->from_client), s->failed[0] ? 0 : unframed (s, 0), s->failed[1] ? 0 : unframed (s, 1));
      s->closed[0] = s->closed[1] = TRUE;
      break;

    case USBIP_TCP_EVENT_GAP:
      if (s->failed[d])
        return;
      s->failed[d] = TRUE;
      if (tev->len > 0)
        note (dec, s, tev->from_client, USBIP_TRACE_NOTE_TRUNCATED,
              "stream %u %s: %" G_GSIZE_FORMAT " bytes at stream offset %" G_GUINT64_FORMAT
              " are missing from the capture (not captured or cut at the snapshot length); "
              "this direction is not decoded further",
              s->id, dir_name (tev->from_client), tev->len, s->pos[d] + unframed (s, d));
      else
        note (dec, s, tev->from_client, USBIP_TRACE_NOTE_TRUNCATED,
              "stream %u %s: bytes at stream offset %" G_GUINT64_FORMAT " are missing from the "
              "capture; this direction is not decoded further",
              s->id, dir_name (tev->from_client), s->pos[d] + unframed (s, d));
      break;

    default:
      break;
    }
}

/**
 * usbip_trace_decode:
 * @capture: a pcap or pcapng file's bytes
 * @server_port: TCP port of the USB/IP server (3240); connections not on it are skipped
 * @func: (scope call) (nullable): called for every message and note, in capture order
 * @user_data: passed to @func
 * @summary: (out caller-allocates) (optional): totals
 * @error: return location for a #GError, or %NULL
 *
 * Decodes every USB/IP message in a capture. Problems inside the capture (a file cut
 * short, missing segments, undecodable bytes) are reported as notes and counted in
 * @summary, not as errors.
 *
 * Returns: %FALSE, with @error set, only when @capture is not a pcap or pcapng file
 *
 * Since: 1.0
 */
gboolean
usbip_trace_decode (GBytes *capture, guint16 server_port, UsbipTraceEventFunc func, gpointer user_data,
                    UsbipTraceSummary *summary, GError **error)
{
  g_autoptr (UsbipPcapReader) reader = NULL;
  g_autoptr (UsbipTcpReassembler) tcp = NULL;
  g_autoptr (GPtrArray) streams = g_ptr_array_new_with_free_func (stream_free);
  g_autoptr (GHashTable) unsupported = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) server_ports = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) pairs = g_hash_table_new (NULL, NULL);
  UsbipTraceSummary local = { 0 };
  Decoder dec = { func,  user_data,   summary != NULL ? summary : &local, NULL, streams, unsupported, server_port, 0,
                  pairs, server_ports };

  memset (dec.sum, 0, sizeof *dec.sum);
  reader = usbip_pcap_reader_new (capture, error);
  if (reader == NULL)
    return FALSE;
  tcp = usbip_tcp_reassembler_new (server_port, on_tcp, &dec);

  for (;;)
    {
      UsbipPcapPacket packet;
      UsbipTcpSegment seg;
      g_autoptr (GError) local_error = NULL;
      UsbipPcapResult r = usbip_pcap_reader_next (reader, &packet, &local_error);

      if (r == USBIP_PCAP_END)
        break;
      if (r == USBIP_PCAP_TRUNCATED || r == USBIP_PCAP_INVALID)
        {
          dec.packet = NULL;
          note (&dec, NULL, TRUE, r == USBIP_PCAP_TRUNCATED ? USBIP_TRACE_NOTE_TRUNCATED : USBIP_TRACE_NOTE_DAMAGED,
                "%s", local_error->message);
          break;
        }
      dec.sum->n_frames++;
      dec.packet = &packet;
      switch (usbip_tcp_segment_parse (packet.linktype, packet.data, packet.caplen, packet.origlen, &seg))
        {
        case USBIP_TCP_PARSE_SEGMENT:
          count_segment (&dec, &seg);
          usbip_tcp_reassembler_add (tcp, &seg);
          break;
        case USBIP_TCP_PARSE_UNSUPPORTED_LINK:
          if (!g_hash_table_contains (unsupported, GUINT_TO_POINTER (packet.linktype + 1)))
            {
              g_hash_table_add (unsupported, GUINT_TO_POINTER (packet.linktype + 1));
              note (&dec, NULL, TRUE, USBIP_TRACE_NOTE_INFO,
                    "frame %u: link type %u is not supported (Ethernet 1, loopback 0/108, raw IP "
                    "101, Linux cooked 113/276 are); such frames are skipped",
                    packet.frame, packet.linktype);
            }
          break;
        case USBIP_TCP_PARSE_MALFORMED:
          note (&dec, NULL, TRUE, USBIP_TRACE_NOTE_INFO,
                "frame %u: malformed or cut-short link/IP/TCP headers; skipped", packet.frame);
          break;
        default:
          break;
        }
    }

  dec.packet = NULL;
  usbip_tcp_reassembler_finish (tcp);
  if (streams->len == 0 && !dec.sum->damaged)
    note_no_stream (&dec);
  for (guint i = 0; i < streams->len; i++)
    {
      Stream *s = g_ptr_array_index (streams, i);
      for (guint d = 0; d < 2; d++)
        if (!s->failed[d] && unframed (s, d) > 0)
          {
            s->failed[d] = TRUE;
            note (&dec, s, d == 0, USBIP_TRACE_NOTE_TRUNCATED,
                  "stream %u %s: the capture ends inside a message (%" G_GSIZE_FORMAT " bytes of it captured)", s->id,
                  dir_name (d == 0), unframed (s, d));
          }
    }
  return TRUE;
}
