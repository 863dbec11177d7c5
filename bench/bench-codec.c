/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Codec throughput: deframes and decodes a realistic URB conversation held in memory, N
 * times, and compares it with a memcpy of the same bytes (the cost of merely touching
 * them once, the physical limit).
 *
 *   bench-codec [ITERATIONS] [CYCLES]
 *
 * One cycle of the conversation, both directions (commands client to server, returns
 * server to client), all with realistic headers:
 *   control IN  GET_DESCRIPTOR(device), 18 bytes back
 *   control OUT SET_CONFIGURATION, no data
 *   bulk OUT 512 bytes, bulk IN 512 bytes
 *   bulk OUT 16 KiB, bulk IN 16 KiB
 *   ISO OUT and ISO IN, 8 packets of 192 bytes each, with descriptors
 * The returns carry direction 0 as the kernel's stub sends them, so the return deframer
 * frames them through the shared URB tracker, as a real connection does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "usbipcore-plugin.h"

#define ISO_PACKETS 8
#define ISO_PACKET_LEN 192

typedef struct {
  GByteArray *commands;
  GByteArray *returns;
  guint messages;
  guint32 seqnum;
} Conversation;

static void
add_urb (Conversation *c, UsbipDirection dir, guint32 ep, const guint8 setup[8], const guint8 *payload, guint32 len,
         gboolean iso)
{
  UsbipMessage cmd = { 0 };
  UsbipMessage ret = { 0 };
  UsbipIsoPacket packets[ISO_PACKETS];
  guint32 seqnum = ++c->seqnum;

  for (guint i = 0; i < ISO_PACKETS; i++)
    {
      packets[i].offset = i * ISO_PACKET_LEN;
      packets[i].length = ISO_PACKET_LEN;
      packets[i].actual_length = ISO_PACKET_LEN;
      packets[i].status = 0;
    }

  cmd.type = USBIP_MESSAGE_CMD_SUBMIT;
  cmd.urb.command = USBIP_CMD_SUBMIT;
  cmd.urb.seqnum = seqnum;
  cmd.urb.devid = (2u << 16) | 3;
  cmd.urb.direction = dir;
  cmd.urb.ep = ep;
  cmd.urb.u.cmd_submit.transfer_buffer_length = (gint32) len;
  cmd.urb.u.cmd_submit.number_of_packets = iso ? ISO_PACKETS : -1;
  cmd.urb.u.cmd_submit.interval = iso ? 1 : 0;
  if (setup != NULL)
    memcpy (cmd.urb.u.cmd_submit.setup, setup, 8);
  if (dir == USBIP_DIR_OUT && len > 0)
    {
      cmd.data = payload;
      cmd.data_len = len;
    }
  if (iso)
    {
      cmd.iso = packets;
      cmd.n_iso = ISO_PACKETS;
    }
  usbip_message_encode (&cmd, c->commands);

  ret.type = USBIP_MESSAGE_RET_SUBMIT;
  ret.urb.command = USBIP_RET_SUBMIT;
  ret.urb.seqnum = seqnum;
  ret.urb.u.ret_submit.actual_length = (gint32) len;
  ret.urb.u.ret_submit.number_of_packets = iso ? ISO_PACKETS : -1;
  if (dir == USBIP_DIR_IN && len > 0)
    {
      ret.data = payload;
      ret.data_len = len;
    }
  if (iso)
    {
      ret.iso = packets;
      ret.n_iso = ISO_PACKETS;
    }
  usbip_message_encode (&ret, c->returns);
  c->messages += 2;
}

static void
build_conversation (Conversation *c, guint cycles)
{
  static const guint8 get_descriptor[8] = { 0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 0x12, 0x00 };
  static const guint8 set_configuration[8] = { 0x00, 0x09, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };
  g_autofree guint8 *payload = g_malloc (16384);

  for (guint i = 0; i < 16384; i++)
    payload[i] = (guint8) (i * 31 + 7);
  c->commands = g_byte_array_new ();
  c->returns = g_byte_array_new ();
  for (guint i = 0; i < cycles; i++)
    {
      add_urb (c, USBIP_DIR_IN, 0, get_descriptor, payload, 18, FALSE);
      add_urb (c, USBIP_DIR_OUT, 0, set_configuration, NULL, 0, FALSE);
      add_urb (c, USBIP_DIR_OUT, 2, NULL, payload, 512, FALSE);
      add_urb (c, USBIP_DIR_IN, 1, NULL, payload, 512, FALSE);
      add_urb (c, USBIP_DIR_OUT, 2, NULL, payload, 16384, FALSE);
      add_urb (c, USBIP_DIR_IN, 1, NULL, payload, 16384, FALSE);
      add_urb (c, USBIP_DIR_OUT, 3, NULL, payload, ISO_PACKETS * ISO_PACKET_LEN, TRUE);
      add_urb (c, USBIP_DIR_IN, 4, NULL, payload, ISO_PACKETS * ISO_PACKET_LEN, TRUE);
    }
}

/* pops every frame of one stream; returns the number of frames, exits on any error */
static guint
deframe_all (UsbipDeframer *d, const GByteArray *stream, guint64 *checksum)
{
  gsize off = 0;
  guint frames = 0;

  while (off < stream->len)
    {
      g_autoptr (GError) error = NULL;
      UsbipMessage msg = { 0 };
      gsize consumed = 0;
      UsbipDeframeResult r;

      r = usbip_deframer_pop (d, stream->data + off, stream->len - off, &consumed, &msg, &error);
      if (r != USBIP_DEFRAME_FRAME)
        {
          g_printerr ("bench-codec: frame %u at offset %" G_GSIZE_FORMAT " did not decode: %s\n", frames, off,
                      error != NULL ? error->message : "needs more bytes");
          exit (1);
        }
      *checksum += msg.urb.seqnum + msg.data_len + msg.n_iso;
      usbip_message_clear (&msg);
      off += consumed;
      frames++;
    }
  return frames;
}

int
main (int argc, char *argv[])
{
  guint iterations = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 1000;
  guint cycles = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 64;
  Conversation c = { 0 };
  guint64 checksum = 0, expected_checksum = 0;
  gsize total;
  g_autofree guint8 *sink = NULL;
  volatile guint8 keep = 0;
  gint64 t0, t1, t2;
  gdouble codec_s, copy_s, mb;

  if (iterations == 0 || cycles == 0)
    {
      g_printerr ("usage: %s [ITERATIONS (default 1000)] [CYCLES per stream (default 64)]\n", argv[0]);
      return 2;
    }
  build_conversation (&c, cycles);
  total = c.commands->len + c.returns->len;
  sink = g_malloc (total);

  /* one untimed pass: checks the stream and warms the caches */
  {
    g_autoptr (UsbipDeframer) cmd = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
    g_autoptr (UsbipDeframer) ret = usbip_deframer_new (USBIP_STREAM_URB_RETURN, usbip_deframer_get_tracker (cmd));
    guint frames = deframe_all (cmd, c.commands, &expected_checksum) + deframe_all (ret, c.returns, &expected_checksum);
    if (frames != c.messages)
      {
        g_printerr ("bench-codec: %u frames decoded, %u written\n", frames, c.messages);
        return 1;
      }
  }

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < iterations; i++)
    {
      g_autoptr (UsbipDeframer) cmd = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
      g_autoptr (UsbipDeframer) ret = usbip_deframer_new (USBIP_STREAM_URB_RETURN, usbip_deframer_get_tracker (cmd));
      deframe_all (cmd, c.commands, &checksum);
      deframe_all (ret, c.returns, &checksum);
    }
  t1 = g_get_monotonic_time ();
  for (guint i = 0; i < iterations; i++)
    {
      memcpy (sink, c.commands->data, c.commands->len);
      memcpy (sink + c.commands->len, c.returns->data, c.returns->len);
      keep ^= sink[i % total];
    }
  t2 = g_get_monotonic_time ();
  if (checksum != expected_checksum * iterations)
    {
      g_printerr ("bench-codec: the timed passes decoded something else than the first\n");
      return 1;
    }

  codec_s = (t1 - t0) / 1e6;
  copy_s = (t2 - t1) / 1e6;
  mb = (gdouble) total * iterations / 1e6;
  g_print ("stream: %u messages, %" G_GSIZE_FORMAT " bytes (commands %u, returns %u), "
           "%u iterations\n",
           c.messages, total, c.commands->len, c.returns->len, iterations);
  g_print ("codec:  %.3f s, %.0f messages/s, %.0f MB/s\n", codec_s, (gdouble) c.messages * iterations / codec_s,
           mb / codec_s);
  g_print ("memcpy: %.3f s, %.0f MB/s\n", copy_s, mb / copy_s);
  g_print ("ratio:  codec runs at %.1f %% of memcpy speed (memcpy is %.1fx faster)\n", 100.0 * copy_s / codec_s,
           codec_s / copy_s);
  g_byte_array_unref (c.commands);
  g_byte_array_unref (c.returns);
  (void) keep; /* the volatile reads above keep the copies from being optimised away */
  return 0;
}
