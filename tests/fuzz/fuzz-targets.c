/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target bodies. See fuzz-targets.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "fuzz-targets.h"
#include "usbip-pcap.h"
#include "usbip-tcp-reassembler.h"
#include "usbip-trace-decoder.h"
#include "usbip-vhci-records.h"
#include "usbip-vhci-status.h"
#include "usbip-vudc-backend.h"
#include "usbip-virtual-backend.h"
#include "usbip-virtual-session.h"

/* A broken promise of the code under test: abort with the condition and where. abort()
 * rather than g_error(), whose SIGTRAP libFuzzer does not catch (no crash file). */
#define FUZZ_CHECK(cond)                                                                                               \
  do                                                                                                                   \
    {                                                                                                                  \
      if (G_UNLIKELY (!(cond)))                                                                                        \
        {                                                                                                              \
          g_printerr ("fuzz check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                                  \
          abort ();                                                                                                    \
        }                                                                                                              \
    }                                                                                                                  \
  while (0)

const UsbipFuzzTarget usbip_fuzz_targets[] = {
  { "deframe_op_request", usbip_fuzz_deframe_op_request },
  { "deframe_op_reply", usbip_fuzz_deframe_op_reply },
  { "deframe_urb_command", usbip_fuzz_deframe_urb_command },
  { "deframe_urb_return", usbip_fuzz_deframe_urb_return },
  { "decode_op_header", usbip_fuzz_decode_op_header },
  { "decode_device_record", usbip_fuzz_decode_device_record },
  { "decode_urb_header", usbip_fuzz_decode_urb_header },
  { "busid_validate", usbip_fuzz_busid_validate },
  { "remote_parse", usbip_fuzz_remote_parse },
  { "pcap_read", usbip_fuzz_pcap_read },
  { "tcp_segment_parse", usbip_fuzz_tcp_segment_parse },
  { "tcp_reassemble", usbip_fuzz_tcp_reassemble },
  { "trace_decode", usbip_fuzz_trace_decode },
  { "vhci_status", usbip_fuzz_vhci_status },
  { "port_record", usbip_fuzz_port_record },
  { "vudc_descriptor", usbip_fuzz_vudc_descriptor },
  { "config_keyfile", usbip_fuzz_config_keyfile },
  { "cidr_parse", usbip_fuzz_cidr_parse },
  { "virtual_session", usbip_fuzz_virtual_session },
  { NULL, NULL },
};

static guint32
rd32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* xorshift32: cheap, deterministic chunk sizes from the input's seed */
static guint32
next_random (guint32 *state)
{
  guint32 x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

/* mostly small chunks (a byte at a time up to a few headers), sometimes large ones */
static gsize
next_chunk (guint32 *state)
{
  guint32 r = next_random (state);
  switch (r & 3)
    {
    case 0:
      return 1;
    case 1:
      return 1 + (r >> 8) % 64;
    default:
      return 1 + (r >> 8) % 2048;
    }
}

static void
check_error (const GError *error)
{
  FUZZ_CHECK (error != NULL);
  FUZZ_CHECK (error->domain == USBIP_ERROR);
  FUZZ_CHECK (error->message != NULL && error->message[0] != '\0');
}

static gboolean
stream_carries (UsbipStream stream, UsbipMessageType type)
{
  switch (stream)
    {
    case USBIP_STREAM_OP_REQUEST:
      return type == USBIP_MESSAGE_OP_REQ_DEVLIST || type == USBIP_MESSAGE_OP_REQ_IMPORT;
    case USBIP_STREAM_OP_REPLY:
      return type == USBIP_MESSAGE_OP_REP_DEVLIST || type == USBIP_MESSAGE_OP_REP_IMPORT;
    case USBIP_STREAM_URB_COMMAND:
      return type == USBIP_MESSAGE_CMD_SUBMIT || type == USBIP_MESSAGE_CMD_UNLINK;
    case USBIP_STREAM_URB_RETURN:
      return type == USBIP_MESSAGE_RET_SUBMIT || type == USBIP_MESSAGE_RET_UNLINK;
    default:
      return FALSE;
    }
}

/* Checks one decoded frame against the exact bytes it came from. */
static void
check_frame (UsbipStream stream, const UsbipMessage *msg, const guint8 *frame, gsize consumed)
{
  g_autoptr (GByteArray) enc = g_byte_array_new ();

  FUZZ_CHECK (stream_carries (stream, msg->type));
  usbip_message_encode (msg, enc);

  if (stream == USBIP_STREAM_URB_COMMAND || stream == USBIP_STREAM_URB_RETURN)
    {
      /* the data is borrowed from the frame, right after the header */
      FUZZ_CHECK (msg->n_iso <= USBIP_MAX_ISO_PACKETS);
      FUZZ_CHECK ((msg->n_iso == 0) == (msg->iso == NULL));
      FUZZ_CHECK ((msg->data_len == 0) == (msg->data == NULL));
      if (msg->data_len > 0)
        FUZZ_CHECK (msg->data == frame + USBIP_URB_HEADER_SIZE);
      FUZZ_CHECK (msg->data_len <= USBIP_MAX_TRANSFER_LENGTH);
      FUZZ_CHECK (consumed == USBIP_URB_HEADER_SIZE + msg->data_len + (gsize) msg->n_iso * USBIP_ISO_PACKET_SIZE);
      /* every URB field is kept, so encoding gives back the very bytes */
      FUZZ_CHECK (enc->len == consumed);
      FUZZ_CHECK (memcmp (enc->data, frame, consumed) == 0);
    }
  else
    {
      /* string fields may carry bytes after their NUL that encoding drops: check that
       * the encoding is one frame of the same size that decodes to the same message */
      g_autoptr (UsbipDeframer) again = usbip_deframer_new (stream, NULL);
      g_autoptr (GByteArray) enc2 = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      UsbipMessage msg2 = { 0 };
      gsize consumed2 = 0;

      FUZZ_CHECK (enc->len == consumed);
      if (msg->type == USBIP_MESSAGE_OP_REQ_IMPORT)
        FUZZ_CHECK (memchr (msg->busid, '\0', sizeof msg->busid) != NULL);
      if (msg->type == USBIP_MESSAGE_OP_REP_DEVLIST)
        {
          FUZZ_CHECK (msg->devices != NULL);
          FUZZ_CHECK (msg->devices->len <= USBIP_MAX_DEVICES);
          for (guint i = 0; i < msg->devices->len; i++)
            {
              const UsbipDeviceInfo *dev = g_ptr_array_index (msg->devices, i);
              FUZZ_CHECK (dev->bNumInterfaces <= USBIP_MAX_INTERFACES);
            }
        }
      if (msg->type == USBIP_MESSAGE_OP_REP_IMPORT)
        FUZZ_CHECK ((msg->op.status == 0) == (msg->device != NULL));
      FUZZ_CHECK (usbip_deframer_pop (again, enc->data, enc->len, &consumed2, &msg2, &error) == USBIP_DEFRAME_FRAME);
      FUZZ_CHECK (error == NULL);
      FUZZ_CHECK (consumed2 == enc->len);
      FUZZ_CHECK (msg2.type == msg->type);
      usbip_message_encode (&msg2, enc2);
      FUZZ_CHECK (enc2->len == enc->len);
      FUZZ_CHECK (memcmp (enc2->data, enc->data, enc->len) == 0);
      usbip_message_clear (&msg2);
    }
}

/*
 * Feeds the stream in chunks, as a socket would deliver it, and pops frames until the
 * deframer needs more or rejects the bytes. Switches phase after an import as the
 * importer and exporter do.
 */
static gint
fuzz_deframe (UsbipStream stream, const guint8 *data, gsize size)
{
  g_autoptr (UsbipDeframer) deframer = NULL;
  g_autoptr (GByteArray) buffered = NULL;
  guint32 state;
  gsize fed = 0;
  gint frames = 0;

  if (size < USBIP_FUZZ_CHUNK_SEED_SIZE)
    return 0;
  state = rd32 (data) | 1; /* xorshift state must not be 0 */
  data += USBIP_FUZZ_CHUNK_SEED_SIZE;
  size -= USBIP_FUZZ_CHUNK_SEED_SIZE;

  deframer = usbip_deframer_new (stream, NULL);
  buffered = g_byte_array_new ();
  while (fed < size)
    {
      gsize chunk = next_chunk (&state);

      chunk = MIN (chunk, size - fed);
      g_byte_array_append (buffered, data + fed, chunk);
      fed += chunk;
      while (buffered->len > 0)
        {
          /* an exactly sized copy, so that a read past len is an ASan error */
          g_autofree guint8 *exact = g_memdup2 (buffered->data, buffered->len);
          g_autoptr (GError) error = NULL;
          UsbipMessage msg = { 0 };
          gsize consumed = G_MAXSIZE;
          UsbipStream current = usbip_deframer_get_stream (deframer);
          UsbipDeframeResult r;

          r = usbip_deframer_pop (deframer, exact, buffered->len, &consumed, &msg, &error);
          if (r == USBIP_DEFRAME_NEED_MORE)
            {
              FUZZ_CHECK (error == NULL);
              FUZZ_CHECK (consumed == G_MAXSIZE);
              break;
            }
          if (r == USBIP_DEFRAME_INVALID)
            {
              check_error (error);
              return frames;
            }
          FUZZ_CHECK (r == USBIP_DEFRAME_FRAME);
          FUZZ_CHECK (error == NULL);
          FUZZ_CHECK (consumed > 0 && consumed <= buffered->len);
          check_frame (current, &msg, exact, consumed);
          if (msg.type == USBIP_MESSAGE_OP_REQ_IMPORT)
            usbip_deframer_set_stream (deframer, USBIP_STREAM_URB_COMMAND);
          else if (msg.type == USBIP_MESSAGE_OP_REP_IMPORT && msg.op.status == 0)
            usbip_deframer_set_stream (deframer, USBIP_STREAM_URB_RETURN);
          usbip_message_clear (&msg);
          g_byte_array_remove_range (buffered, 0, (guint) consumed);
          frames++;
        }
    }
  return frames;
}

gint
usbip_fuzz_deframe_op_request (const guint8 *data, gsize size)
{
  return fuzz_deframe (USBIP_STREAM_OP_REQUEST, data, size);
}

gint
usbip_fuzz_deframe_op_reply (const guint8 *data, gsize size)
{
  return fuzz_deframe (USBIP_STREAM_OP_REPLY, data, size);
}

gint
usbip_fuzz_deframe_urb_command (const guint8 *data, gsize size)
{
  return fuzz_deframe (USBIP_STREAM_URB_COMMAND, data, size);
}

gint
usbip_fuzz_deframe_urb_return (const guint8 *data, gsize size)
{
  return fuzz_deframe (USBIP_STREAM_URB_RETURN, data, size);
}

gint
usbip_fuzz_decode_op_header (const guint8 *data, gsize size)
{
  g_autofree guint8 *exact = g_memdup2 (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipOpHeader hdr = { 0 };

  if (!usbip_decode_op_header (exact, size, &hdr, &error))
    {
      check_error (error);
      FUZZ_CHECK (size < USBIP_OP_HEADER_SIZE);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (size >= USBIP_OP_HEADER_SIZE);
  /* the encoder writes version 0x0111; the rest must come back byte for byte */
  usbip_encode_op_header (enc, hdr.code, hdr.status);
  FUZZ_CHECK (enc->len == USBIP_OP_HEADER_SIZE);
  FUZZ_CHECK (memcmp (enc->data + 2, exact + 2, USBIP_OP_HEADER_SIZE - 2) == 0);
  FUZZ_CHECK (hdr.version == ((exact[0] << 8) | exact[1]));
  return 1;
}

gint
usbip_fuzz_decode_device_record (const guint8 *data, gsize size)
{
  g_autofree guint8 *exact = g_memdup2 (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipDeviceInfo dev, dev2;

  if (!usbip_decode_device_record (exact, size, &dev, &error))
    {
      check_error (error);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (size >= USBIP_DEVICE_RECORD_SIZE);
  FUZZ_CHECK (dev.bNumInterfaces <= USBIP_MAX_INTERFACES);
  FUZZ_CHECK (memchr (dev.path, '\0', sizeof dev.path) != NULL);
  FUZZ_CHECK (memchr (dev.busid, '\0', sizeof dev.busid) != NULL);
  /* everything after the two strings comes back byte for byte */
  usbip_encode_device_record (enc, &dev, FALSE);
  FUZZ_CHECK (enc->len == USBIP_DEVICE_RECORD_SIZE);
  FUZZ_CHECK (memcmp (enc->data + USBIP_PATH_SIZE + USBIP_BUSID_SIZE, exact + USBIP_PATH_SIZE + USBIP_BUSID_SIZE,
                      USBIP_DEVICE_RECORD_SIZE - USBIP_PATH_SIZE - USBIP_BUSID_SIZE)
              == 0);
  FUZZ_CHECK (usbip_decode_device_record (enc->data, enc->len, &dev2, NULL));
  FUZZ_CHECK (strcmp (dev.path, dev2.path) == 0);
  FUZZ_CHECK (strcmp (dev.busid, dev2.busid) == 0);
  FUZZ_CHECK (dev.busnum == dev2.busnum && dev.devnum == dev2.devnum);
  FUZZ_CHECK (dev.speed == dev2.speed && dev.idVendor == dev2.idVendor);
  FUZZ_CHECK (dev.bNumInterfaces == dev2.bNumInterfaces);
  return 1;
}

gint
usbip_fuzz_decode_urb_header (const guint8 *data, gsize size)
{
  g_autofree guint8 *exact = g_memdup2 (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  UsbipUrbHeader hdr;

  if (!usbip_decode_urb_header (exact, size, &hdr, &error))
    {
      check_error (error);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (size >= USBIP_URB_HEADER_SIZE);
  FUZZ_CHECK (hdr.command >= USBIP_CMD_SUBMIT && hdr.command <= USBIP_RET_UNLINK);
  /* every field of the four known commands is kept */
  usbip_encode_urb_header (enc, &hdr);
  FUZZ_CHECK (enc->len == USBIP_URB_HEADER_SIZE);
  FUZZ_CHECK (memcmp (enc->data, exact, USBIP_URB_HEADER_SIZE) == 0);
  return 1;
}

gint
usbip_fuzz_busid_validate (const guint8 *data, gsize size)
{
  g_autofree gchar *busid = g_strndup ((const gchar *) data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) enc = g_byte_array_new ();
  g_autoptr (UsbipDeframer) deframer = NULL;
  UsbipMessage msg = { 0 };
  gsize consumed = 0;

  if (!usbip_busid_validate (busid, &error))
    {
      check_error (error);
      FUZZ_CHECK (error->code == USBIP_ERROR_INVALID_ARGUMENT);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (busid[0] != '\0' && strlen (busid) < USBIP_BUSID_SIZE);
  /* a valid busid survives an OP_REQ_IMPORT round trip unchanged */
  usbip_encode_op_req_import (enc, busid);
  deframer = usbip_deframer_new (USBIP_STREAM_OP_REQUEST, NULL);
  FUZZ_CHECK (usbip_deframer_pop (deframer, enc->data, enc->len, &consumed, &msg, NULL) == USBIP_DEFRAME_FRAME);
  FUZZ_CHECK (strcmp (msg.busid, busid) == 0);
  usbip_message_clear (&msg);
  return 1;
}

gint
usbip_fuzz_remote_parse (const guint8 *data, gsize size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (UsbipRemote) again = NULL;
  g_autofree gchar *shown = NULL;

  remote = usbip_remote_parse (text, USBIP_DEFAULT_TCP_PORT, &error);
  if (remote == NULL)
    {
      check_error (error);
      FUZZ_CHECK (error->code == USBIP_ERROR_INVALID_ARGUMENT);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (remote->host != NULL && remote->host[0] != '\0');
  /* a Unix socket has no port; every other remote has one */
  FUZZ_CHECK (remote->port != 0 || g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_UNIX) == 0);
  /* what to_string() prints parses back to the same remote */
  shown = usbip_remote_to_string (remote);
  again = usbip_remote_parse (shown, 1, &error);
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (again != NULL);
  FUZZ_CHECK (usbip_remote_equal (remote, again));
  return 1;
}

/* ---- captures: pcap/pcapng, TCP/IP, reassembly, the trace decoder ---- */

static GBytes *
exact_bytes (const guint8 *data, gsize size)
{
  /* g_bytes_new copies into an allocation of exactly size bytes: reads past it are ASan
   * errors */
  return g_bytes_new (data, size);
}

gint
usbip_fuzz_pcap_read (const guint8 *data, gsize size)
{
  g_autoptr (GBytes) bytes = exact_bytes (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPcapReader) reader = usbip_pcap_reader_new (bytes, &error);
  gsize len;
  const guint8 *buf = g_bytes_get_data (bytes, &len);
  gint packets = 0;

  if (reader == NULL)
    {
      check_error (error);
      return 0;
    }
  for (;;)
    {
      g_autoptr (GError) next_error = NULL;
      UsbipPcapPacket p;
      UsbipPcapResult r = usbip_pcap_reader_next (reader, &p, &next_error);

      if (r == USBIP_PCAP_END)
        {
          FUZZ_CHECK (next_error == NULL);
          break;
        }
      if (r != USBIP_PCAP_PACKET)
        {
          FUZZ_CHECK (r == USBIP_PCAP_TRUNCATED || r == USBIP_PCAP_INVALID);
          check_error (next_error);
          /* a reader that failed stays at the end */
          FUZZ_CHECK (usbip_pcap_reader_next (reader, &p, NULL) == USBIP_PCAP_END);
          break;
        }
      FUZZ_CHECK (next_error == NULL);
      FUZZ_CHECK (p.frame == (guint) packets + 1);
      FUZZ_CHECK (p.caplen <= p.origlen);
      FUZZ_CHECK (p.ts_nsec < 1000000000u);
      FUZZ_CHECK (p.caplen == 0 || (p.data >= buf && p.data + p.caplen <= buf + len));
      packets++;
    }
  return packets;
}

/* input: link type index (1 byte), extra bytes on the wire (2 bytes), the frame */
static const guint32 fuzz_linktypes[] = {
  USBIP_LINKTYPE_NULL,
  USBIP_LINKTYPE_ETHERNET,
  USBIP_LINKTYPE_RAW,
  USBIP_LINKTYPE_LOOP,
  USBIP_LINKTYPE_LINUX_SLL,
  USBIP_LINKTYPE_IPV4,
  USBIP_LINKTYPE_IPV6,
  USBIP_LINKTYPE_LINUX_SLL2,
  12,
  14,
  147,
};

gint
usbip_fuzz_tcp_segment_parse (const guint8 *data, gsize size)
{
  g_autofree guint8 *frame = NULL;
  gsize caplen, origlen;
  guint32 linktype;
  UsbipTcpSegment seg;
  UsbipTcpParseResult r;

  if (size < USBIP_FUZZ_FRAME_PREFIX_SIZE)
    return 0;
  linktype = fuzz_linktypes[data[0] % G_N_ELEMENTS (fuzz_linktypes)];
  caplen = size - USBIP_FUZZ_FRAME_PREFIX_SIZE;
  origlen = caplen + (((gsize) data[1] << 8) | data[2]);
  frame = g_memdup2 (data + USBIP_FUZZ_FRAME_PREFIX_SIZE, caplen);
  r = usbip_tcp_segment_parse (linktype, frame, caplen, origlen, &seg);
  if (r != USBIP_TCP_PARSE_SEGMENT)
    {
      FUZZ_CHECK (r == USBIP_TCP_PARSE_OTHER || r == USBIP_TCP_PARSE_UNSUPPORTED_LINK
                  || r == USBIP_TCP_PARSE_MALFORMED);
      return 0;
    }
  FUZZ_CHECK (seg.family == 4 || seg.family == 6);
  FUZZ_CHECK ((seg.payload_len == 0) || (seg.payload >= frame && seg.payload + seg.payload_len <= frame + caplen));
  FUZZ_CHECK (seg.payload_len + seg.payload_missing <= origlen);
  {
    g_autofree gchar *src = usbip_tcp_segment_format_endpoint (&seg, TRUE);
    g_autofree gchar *dst = usbip_tcp_segment_format_endpoint (&seg, FALSE);
    FUZZ_CHECK (src != NULL && dst != NULL);
  }
  return 1;
}

/*
 * The reassembler against an oracle. Each 7-byte record of the input is one segment of a
 * single connection (10.0.0.2:40000 <-> 10.0.0.1:3240): flags (TCP flags; bit 7 picks the
 * direction), stream offset (3 bytes), length, bytes missing (cut at the snapshot length).
 * The bytes at stream offset i of direction d are ref_byte(d, i), so every DATA event can
 * be checked: a direction delivers, from the offset of its first segment on, each byte
 * once and in order. The first 4 bytes are the initial sequence number (wrap-around).
 */
typedef struct {
  gboolean started[2];
  guint64 base[2];      /* stream offset of the first byte a direction delivers */
  guint64 delivered[2]; /* bytes delivered so far */
  gboolean gap[2];
  gboolean reset;
  gint stream;
  /* the segment being added */
  guint cur_dir;
  guint64 cur_offset;
  guint8 cur_flags;
} ReassemblyOracle;

static guint8
ref_byte (guint d, guint64 i)
{
  return (guint8) ((i * 2654435761u) >> 11) ^ (guint8) (d * 0x5a);
}

static void
oracle_on_event (const UsbipTcpEvent *ev, gpointer user_data)
{
  ReassemblyOracle *o = user_data;
  guint d = ev->from_client ? 0 : 1;

  switch (ev->type)
    {
    case USBIP_TCP_EVENT_OPEN:
      FUZZ_CHECK ((gint) ev->stream_id == o->stream + 1);
      o->stream = (gint) ev->stream_id;
      memset (o->started, 0, sizeof o->started);
      memset (o->delivered, 0, sizeof o->delivered);
      memset (o->gap, 0, sizeof o->gap);
      o->reset = FALSE;
      /* the segment that opened the connection starts its direction */
      o->started[o->cur_dir] = (o->cur_flags & USBIP_TCP_RST) == 0;
      o->base[o->cur_dir] = o->cur_offset;
      break;
    case USBIP_TCP_EVENT_DATA:
      FUZZ_CHECK ((gint) ev->stream_id == o->stream);
      FUZZ_CHECK (o->started[d] && !o->gap[d] && !o->reset);
      FUZZ_CHECK (ev->len > 0 && ev->data != NULL);
      for (gsize i = 0; i < ev->len; i++)
        FUZZ_CHECK (ev->data[i] == ref_byte (d, o->base[d] + o->delivered[d] + i));
      o->delivered[d] += ev->len;
      break;
    case USBIP_TCP_EVENT_GAP:
      /* only the current connection can still miss bytes: an earlier one ended with a
       * reset or both FINs before a SYN reused its ports */
      FUZZ_CHECK ((gint) ev->stream_id == o->stream);
      FUZZ_CHECK (!o->gap[d] && !o->reset);
      o->gap[d] = TRUE;
      break;
    case USBIP_TCP_EVENT_RST:
      o->reset = TRUE;
      break;
    default:
      break;
    }
}

gint
usbip_fuzz_tcp_reassemble (const guint8 *data, gsize size)
{
  ReassemblyOracle o = { .stream = -1 };
  g_autoptr (UsbipTcpReassembler) tcp = usbip_tcp_reassembler_new (3240, oracle_on_event, &o);
  guint32 isn;

  if (size < 4)
    return 0;
  isn = rd32 (data);
  for (gsize at = 4; at + USBIP_FUZZ_SEGMENT_RECORD_SIZE <= size; at += USBIP_FUZZ_SEGMENT_RECORD_SIZE)
    {
      const guint8 *rec = data + at;
      guint d = rec[0] >> 7;
      guint8 flags = rec[0] & 0x1f;
      guint32 off = ((guint32) rec[1] << 16) | ((guint32) rec[2] << 8) | rec[3];
      gsize len = rec[4];
      g_autofree guint8 *payload = len > 0 ? g_malloc (len) : NULL;
      UsbipTcpSegment seg = { 0 };

      for (gsize i = 0; i < len; i++)
        payload[i] = ref_byte (d, (guint64) off + i);
      seg.family = 4;
      seg.src_addr[0] = seg.dst_addr[0] = 10;
      seg.src_addr[3] = d == 0 ? 2 : 1;
      seg.dst_addr[3] = d == 0 ? 1 : 2;
      seg.src_port = d == 0 ? 40000 : 3240;
      seg.dst_port = d == 0 ? 3240 : 40000;
      /* a SYN takes one sequence number before its data */
      seg.seq = isn + 1 + off - ((flags & USBIP_TCP_SYN) != 0 ? 1 : 0);
      seg.flags = flags;
      seg.payload = payload;
      seg.payload_len = len;
      seg.payload_missing = rec[5] & 0x7f;
      /* what the reassembler will take as the start of this direction */
      if (!o.started[d] && !o.reset && (flags & USBIP_TCP_RST) == 0)
        {
          o.started[d] = TRUE;
          o.base[d] = off;
        }
      o.cur_dir = d;
      o.cur_offset = off;
      o.cur_flags = flags;
      usbip_tcp_reassembler_add (tcp, &seg);
    }
  usbip_tcp_reassembler_finish (tcp);
  FUZZ_CHECK (usbip_tcp_reassembler_get_n_streams (tcp) == (guint) (o.stream + 1));
  return (gint) (o.delivered[0] + o.delivered[1] > 0);
}

typedef struct {
  UsbipTraceSummary seen;
  guint n_streams;
} TraceCheck;

static void
trace_on_event (const UsbipTraceEvent *ev, gpointer user_data)
{
  TraceCheck *c = user_data;

  FUZZ_CHECK (ev->ts_nsec < 1000000000u);
  if (ev->type == USBIP_TRACE_EVENT_NOTE)
    {
      FUZZ_CHECK (ev->note != NULL && ev->note[0] != '\0');
      FUZZ_CHECK (g_utf8_validate (ev->note, -1, NULL));
      if (ev->stream_id >= 0 && (guint) ev->stream_id >= c->n_streams)
        c->n_streams = (guint) ev->stream_id + 1;
      return;
    }
  FUZZ_CHECK (ev->type == USBIP_TRACE_EVENT_MESSAGE);
  FUZZ_CHECK (ev->message != NULL && ev->raw != NULL && ev->raw_len > 0);
  FUZZ_CHECK (ev->stream_id >= 0 && (guint) ev->stream_id < c->n_streams);
  FUZZ_CHECK (ev->client != NULL && ev->server != NULL);
  c->seen.n_messages++;
  {
    g_autoptr (GByteArray) enc = g_byte_array_new ();
    usbip_message_encode (ev->message, enc);
    FUZZ_CHECK (enc->len == ev->raw_len);
    if (ev->message->type >= USBIP_MESSAGE_CMD_SUBMIT)
      FUZZ_CHECK (memcmp (enc->data, ev->raw, enc->len) == 0);
  }
}

gint
usbip_fuzz_trace_decode (const guint8 *data, gsize size)
{
  g_autoptr (GBytes) bytes = exact_bytes (data, size);
  g_autoptr (GError) error = NULL;
  TraceCheck c = { { 0 } };
  UsbipTraceSummary sum;

  if (!usbip_trace_decode (bytes, USBIP_DEFAULT_TCP_PORT, trace_on_event, &c, &sum, &error))
    {
      check_error (error);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (sum.n_messages == c.seen.n_messages);
  FUZZ_CHECK (sum.n_streams == c.n_streams);
  return (gint) sum.n_messages;
}

/* ---- kernel and file text: vhci status, port records, vudc descriptor ---- */

gint
usbip_fuzz_vhci_status (const guint8 *data, gsize size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  g_autoptr (GPtrArray) ports = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_port_info_free);
  g_autoptr (GError) error = NULL;

  if (!usbip_vhci_status_parse (text, 3, ports, &error))
    {
      check_error (error);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  for (guint i = 0; i < ports->len; i++)
    {
      const UsbipPortInfo *p = g_ptr_array_index (ports, i);
      FUZZ_CHECK (p->controller == 3);
      FUZZ_CHECK (memchr (p->local_busid, '\0', sizeof p->local_busid) != NULL);
      FUZZ_CHECK (p->remote_host == NULL && p->remote_port == NULL && p->remote_busid == NULL);
    }
  return (gint) ports->len;
}

static UsbipVhciRecords *port_records;

static void
port_record_cleanup (void)
{
  const gchar *dir = usbip_vhci_records_get_dir (port_records);
  g_autofree gchar *record = g_build_filename (dir, "port0", NULL);

  g_unlink (record);
  g_rmdir (dir);
  g_clear_object (&port_records);
}

/* a port record file (`/var/run/vhci_hcd/port<N>`, written by upstream usbip too) read
 * by the vhci plugin's record store from a private directory: three non-empty words without white
 * space, or an error */
gint
usbip_fuzz_port_record (const guint8 *data, gsize size)
{
  g_autofree gchar *record = NULL;
  g_autofree gchar *host = NULL, *service = NULL, *busid = NULL;
  g_autoptr (GError) error = NULL;

  if (port_records == NULL)
    {
      g_autofree gchar *dir = g_dir_make_tmp ("usbip-fuzz-XXXXXX", NULL);
      FUZZ_CHECK (dir != NULL);
      port_records = usbip_vhci_records_new (NULL, dir);
      atexit (port_record_cleanup);
    }
  record = g_build_filename (usbip_vhci_records_get_dir (port_records), "port0", NULL);
  /* no fsync: this file is scratch */
  FUZZ_CHECK (
      g_file_set_contents_full (record, (const gchar *) data, (gssize) size, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  if (!usbip_vhci_records_read (port_records, 0, &host, &service, &busid, &error))
    {
      check_error (error);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (host != NULL && service != NULL && busid != NULL);
  FUZZ_CHECK (host[0] != '\0' && service[0] != '\0' && busid[0] != '\0');
  FUZZ_CHECK (strpbrk (host, " \t\n\r\v\f") == NULL);
  FUZZ_CHECK (strpbrk (service, " \t\n\r\v\f") == NULL);
  FUZZ_CHECK (strpbrk (busid, " \t\n\r\v\f") == NULL);
  return 1;
}

gint
usbip_fuzz_vudc_descriptor (const guint8 *data, gsize size)
{
  g_autofree guint8 *exact = g_memdup2 (data, size);
  g_autoptr (GError) error = NULL;
  UsbipDeviceInfo info = { 0 };

  if (!usbip_vudc_decode_device_descriptor (exact, size, &info, &error))
    {
      check_error (error);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (size >= 18 && exact[1] == 0x01);
  FUZZ_CHECK (info.idVendor == (exact[8] | exact[9] << 8));
  FUZZ_CHECK (info.idProduct == (exact[10] | exact[11] << 8));
  FUZZ_CHECK (info.bDeviceClass == exact[4] && info.bNumConfigurations == exact[17]);
  return 1;
}

/* ---- configuration: the keyfile, CIDR prefixes ---- */

static void
ignore_log (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user_data)
{
}

/* keys of every type, as the daemon and plugins register theirs */
gint
usbip_fuzz_config_keyfile (const guint8 *data, gsize size)
{
  static const gchar *const formats[] = { "auto", "text", "json", NULL };
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (GError) error = NULL;
  GLogLevelFlags fatal;
  guint handler;
  gboolean ok;

  usbip_config_register_key (config, "daemon", "listen", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0, NULL);
  usbip_config_register_key (config, "daemon", "device-mode", USBIP_CONFIG_TYPE_BOOLEAN, "false", NULL, 0, 0, NULL);
  usbip_config_register_key (config, "daemon", "max-sessions", USBIP_CONFIG_TYPE_UINT, "0", NULL, 0, 1000000, NULL);
  usbip_config_register_key (config, "daemon", "accept-rate-limit", USBIP_CONFIG_TYPE_DOUBLE, "0", NULL, 0, 1e6, NULL);
  usbip_config_register_key (config, "daemon", "log-format", USBIP_CONFIG_TYPE_ENUM, "auto", formats, 0, 0, NULL);
  usbip_config_register_key (config, "vhci", "name", USBIP_CONFIG_TYPE_STRING, "x", NULL, 0, 0, NULL);

  /* unknown keys are warned about, by design: not a crash here */
  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  handler = g_log_set_handler ("usbipcore", G_LOG_LEVEL_WARNING, ignore_log, NULL);
  ok = usbip_config_load_data (config, (const gchar *) data, size, &error);
  g_log_remove_handler ("usbipcore", handler);
  g_log_set_always_fatal (fatal);
  if (!ok)
    {
      check_error (error);
      FUZZ_CHECK (error->code == USBIP_ERROR_CONFIG);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  {
    g_auto (GStrv) listen = usbip_config_get_string_list (config, "daemon", "listen");
    g_autofree gchar *format = usbip_config_get_string (config, "daemon", "log-format");
    g_autofree gchar *name = usbip_config_get_string (config, "vhci", "name");
    gdouble rate = usbip_config_get_double (config, "daemon", "accept-rate-limit");

    FUZZ_CHECK (listen != NULL);
    FUZZ_CHECK (format != NULL && g_strv_contains (formats, format));
    FUZZ_CHECK (usbip_config_get_uint (config, "daemon", "max-sessions") <= 1000000);
    FUZZ_CHECK (rate >= 0 && rate <= 1e6);
    (void) usbip_config_get_boolean (config, "daemon", "device-mode");
    (void) usbip_config_get_plugin_enabled (config, "vhci");
    (void) name; /* may be NULL: a value that is not UTF-8 */
  }
  return 1;
}

gint
usbip_fuzz_cidr_parse (const guint8 *data, gsize size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) peer = g_inet_address_new_from_string ("192.0.2.1");

  if (!usbip_policy_add_allow_cidr (policy, text, &error))
    {
      check_error (error);
      FUZZ_CHECK (error->code == USBIP_ERROR_INVALID_ARGUMENT);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  (void) usbip_policy_admit (policy, peer, 0, 0, 0, NULL);
  return 1;
}

/* The two virtual devices the session target drives: a mass-storage disk on a private
 * 64 KiB image (read-write: writes land there) and a loopback serial port. */
static UsbipVirtualDevice *
virtual_device (guint which)
{
  static UsbipVirtualBackend *backend;
  static UsbipVirtualDevice *devices[2];

  if (backend == NULL)
    {
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_autofree gchar *dir = g_dir_make_tmp ("usbip-fuzz-virtual-XXXXXX", NULL);
      g_autofree gchar *image = g_build_filename (dir, "disk.img", NULL);
      g_autofree guint8 *zeros = g_malloc0 (65536);
      g_autoptr (GError) error = NULL;

      FUZZ_CHECK (g_file_set_contents (image, (const gchar *) zeros, 65536, NULL));
      g_key_file_set_string (kf, "virtual-device disk", "type", "mass-storage");
      g_key_file_set_string (kf, "virtual-device disk", "image", image);
      g_key_file_set_string (kf, "virtual-device serial", "type", "cdc-acm");
      g_key_file_set_string (kf, "virtual-device serial", "mode", "loopback");
      backend = usbip_virtual_backend_new (FALSE);
      FUZZ_CHECK (usbip_virtual_backend_reload (backend, kf, &error));
      /* the device keeps the image open: its name can go now */
      g_unlink (image);
      g_rmdir (dir);
      devices[0] = usbip_virtual_backend_get_device (backend, 0);
      devices[1] = usbip_virtual_backend_get_device (backend, 1);
    }
  return devices[which % 2];
}

/* Per seqnum, the commands the input sent with it, oldest first: a client may reuse a
 * seqnum once its URB is done (upstream's counter wraps), so one seqnum can name several
 * commands; the session answers them in order (it refuses a pending seqnum again). */
static void
push_command (GHashTable *table, guint32 seqnum, guint32 value)
{
  GQueue *queue = g_hash_table_lookup (table, GUINT_TO_POINTER (seqnum));

  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (table, GUINT_TO_POINTER (seqnum), queue);
    }
  g_queue_push_tail (queue, GUINT_TO_POINTER (value));
}

static guint32
pop_command (GHashTable *table, guint32 seqnum)
{
  GQueue *queue = g_hash_table_lookup (table, GUINT_TO_POINTER (seqnum));

  FUZZ_CHECK (queue != NULL && !g_queue_is_empty (queue)); /* an answer to a command that was sent */
  return GPOINTER_TO_UINT (g_queue_pop_head (queue));
}

gint
usbip_fuzz_virtual_session (const guint8 *data, gsize size)
{
  UsbipVirtualDevice *device;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GOutputStream) out = NULL;
  g_autoptr (GIOStream) stream = NULL;
  g_autoptr (GBytes) reply = g_bytes_new (NULL, 0);
  g_autoptr (UsbipUrbTracker) tracker = usbip_urb_tracker_new ();
  g_autoptr (UsbipDeframer) commands = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
  g_autoptr (UsbipDeframer) returns = usbip_deframer_new (USBIP_STREAM_URB_RETURN, tracker);
  /* seqnum -> GQueue of directions (CMD_SUBMIT) or of victims' seqnums (CMD_UNLINK) */
  g_autoptr (GHashTable) submits = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_queue_free);
  g_autoptr (GHashTable) unlinks = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_queue_free);
  gsize used = 0, out_len;
  const guint8 *written;
  gint frames = 0;

  if (size < 1)
    return 0;
  device = virtual_device (data[0]);
  in = g_memory_input_stream_new_from_data (g_memdup2 (data + 1, size - 1), (gssize) size - 1, g_free);
  out = g_memory_output_stream_new_resizable ();
  stream = g_simple_io_stream_new (in, out);
  FUZZ_CHECK (usbip_virtual_session_start (device, stream, reply, NULL));
  /* the session ends at the input's end (a disconnect) or at the first malformed message */
  while (usbip_virtual_device_get_session (device) != NULL)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* the commands that framed, for framing the returns */
  for (;;)
    {
      UsbipMessage msg = { 0 };
      gsize consumed = 0;
      if (usbip_deframer_pop (commands, data + 1 + used, size - 1 - used, &consumed, &msg, NULL) != USBIP_DEFRAME_FRAME)
        break;
      used += consumed;
      if (msg.type == USBIP_MESSAGE_CMD_SUBMIT)
        push_command (submits, msg.urb.seqnum, msg.urb.direction);
      else
        push_command (unlinks, msg.urb.seqnum, msg.urb.u.cmd_unlink.unlink_seqnum);
      usbip_message_clear (&msg);
    }
  /* what the session sent is whole, valid RET_SUBMIT / RET_UNLINK frames only */
  written = g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out));
  out_len = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  used = 0;
  while (used < out_len)
    {
      g_autoptr (GError) error = NULL;
      UsbipMessage msg = { 0 };
      gsize consumed = 0;
      UsbipDeframeResult r;

      /* a RET_SUBMIT answers the oldest unanswered command with its seqnum */
      FUZZ_CHECK (out_len - used >= USBIP_URB_HEADER_SIZE);
      if (rd32 (written + used) == USBIP_RET_SUBMIT)
        usbip_urb_tracker_add (tracker, rd32 (written + used + 4),
                               (UsbipDirection) pop_command (submits, rd32 (written + used + 4)));
      r = usbip_deframer_pop (returns, written + used, out_len - used, &consumed, &msg, &error);
      FUZZ_CHECK (r == USBIP_DEFRAME_FRAME);
      FUZZ_CHECK (msg.type == USBIP_MESSAGE_RET_SUBMIT || msg.type == USBIP_MESSAGE_RET_UNLINK);
      FUZZ_CHECK (msg.n_iso == 0);
      if (msg.type == USBIP_MESSAGE_RET_UNLINK)
        {
          guint32 victim = pop_command (unlinks, msg.urb.seqnum);
          /* a cancelled victim gets no RET_SUBMIT: it is answered here */
          if (msg.urb.u.ret_unlink.status == -ECONNRESET)
            (void) pop_command (submits, victim);
        }
      used += consumed;
      frames++;
      usbip_message_clear (&msg);
    }
  return frames;
}
