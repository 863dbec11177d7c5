/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target bodies. See fuzz-targets.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz-targets.h"

/* A broken promise of the code under test: abort with the condition and where. abort()
 * rather than g_error(), whose SIGTRAP libFuzzer does not catch (no crash file). */
#define FUZZ_CHECK(cond)                                                                   \
  do                                                                                       \
    {                                                                                      \
      if (G_UNLIKELY (!(cond)))                                                            \
        {                                                                                  \
          g_printerr ("fuzz check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
          abort ();                                                                        \
        }                                                                                  \
    }                                                                                      \
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
      FUZZ_CHECK (consumed == USBIP_URB_HEADER_SIZE + msg->data_len
                                  + (gsize) msg->n_iso * USBIP_ISO_PACKET_SIZE);
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
      FUZZ_CHECK (usbip_deframer_pop (again, enc->data, enc->len, &consumed2, &msg2, &error)
                  == USBIP_DEFRAME_FRAME);
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
  FUZZ_CHECK (memcmp (enc->data + USBIP_PATH_SIZE + USBIP_BUSID_SIZE,
                      exact + USBIP_PATH_SIZE + USBIP_BUSID_SIZE,
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
  FUZZ_CHECK (usbip_deframer_pop (deframer, enc->data, enc->len, &consumed, &msg, NULL)
              == USBIP_DEFRAME_FRAME);
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
  FUZZ_CHECK (remote->port != 0);
  /* what to_string() prints parses back to the same remote */
  shown = usbip_remote_to_string (remote);
  again = usbip_remote_parse (shown, 1, &error);
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (again != NULL);
  FUZZ_CHECK (usbip_remote_equal (remote, again));
  return 1;
}
