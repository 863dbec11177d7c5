/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One client's URB session with a virtual device, after OP_REP_IMPORT: CMD_SUBMIT and
 * CMD_UNLINK in, RET_SUBMIT and RET_UNLINK out, with the codec's deframer.
 *
 * Upstream's semantics (drivers/usb/usbip/stub_rx.c, stub_tx.c): RET_SUBMIT carries the
 * command's seqnum with devid, direction and ep 0, IN data only; a CMD_UNLINK whose victim
 * is still pending cancels it, and the victim gets no RET_SUBMIT: RET_UNLINK (with the
 * CMD_UNLINK's seqnum) says -ECONNRESET; a victim already completed gets RET_UNLINK 0.
 *
 * Asynchronous on the main context: reads and writes never block, so a slow client only
 * slows itself. Replies are encoded into one output buffer and written at once with a
 * non-blocking write (those of one read's commands together, e.g. a read's data and its
 * CSW); only what the socket does not take waits for it to become writable. Commands are
 * read straight into the input buffer when the socket is readable. While more than
 * BACKLOG_MAX bytes wait to be sent, the session stops reading commands (a client that does
 * not read its returns cannot grow our memory).
 */
#include "config.h"

#include <errno.h>

#include "usbip-virtual-session.h"

#define READ_CHUNK 65536
#define BACKLOG_MAX ((gsize) 8 * 1024 * 1024)

struct _UsbipVirtualSession {
  gint ref_count;
  UsbipVirtualDevice *device;
  GIOStream *stream;
  UsbipDeframer *deframer;
  GByteArray *inbuf;
  GHashTable *pending; /* seqnum -> UsbipVirtualUrb* */
  GByteArray *outbuf;  /* encoded replies; [out_sent, len) is still to be written */
  gsize out_sent;
  GSource *in_source;  /* while reading: the input is readable */
  GSource *out_source; /* while the socket takes no more: it is writable */
  guint batch;         /* > 0 while a read's commands run: replies are written after */
  gboolean ended;
  gchar *busid;
};

static UsbipVirtualSession *
session_ref (UsbipVirtualSession *self)
{
  self->ref_count++;
  return self;
}

static void
drop_source (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static void
session_unref (UsbipVirtualSession *self)
{
  if (--self->ref_count > 0)
    return;
  g_object_unref (self->device);
  g_object_unref (self->stream);
  usbip_deframer_free (self->deframer);
  g_byte_array_unref (self->inbuf);
  g_hash_table_unref (self->pending);
  g_byte_array_unref (self->outbuf);
  g_free (self->busid);
  g_free (self);
}

static void session_end (UsbipVirtualSession *self, const gchar *reason);
static gboolean readable (GObject *stream, gpointer data);
static gboolean writable (GObject *stream, gpointer data);

static GSource *
attach_source (GSource *source, GSourceFunc func, UsbipVirtualSession *self)
{
  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

/* reads while the backlog is small, not past it */
static void
watch_input (UsbipVirtualSession *self)
{
  gboolean want = !self->ended && self->outbuf->len - self->out_sent <= BACKLOG_MAX;

  if (want && self->in_source == NULL)
    self->in_source = attach_source (g_pollable_input_stream_create_source (
                                         G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->stream)), NULL),
                                     G_SOURCE_FUNC (readable), self);
  else if (!want && self->in_source != NULL)
    g_clear_pointer (&self->in_source, drop_source);
}

/* flush() when the socket is writable */
static void
wait_writable (UsbipVirtualSession *self)
{
  if (self->out_source == NULL && !self->ended)
    self->out_source =
        attach_source (g_pollable_output_stream_create_source (
                           G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->stream)), NULL),
                       G_SOURCE_FUNC (writable), self);
}

/* writes what the socket takes now; the rest when it is writable */
static void
flush (UsbipVirtualSession *self)
{
  GPollableOutputStream *out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->stream));

  while (!self->ended && self->out_sent < self->outbuf->len)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking (out, self->outbuf->data + self->out_sent,
                                                             self->outbuf->len - self->out_sent, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          wait_writable (self);
          break;
        }
      if (n < 0)
        {
          g_autofree gchar *reason = g_strdup_printf ("cannot send to the client: %s", error->message);
          session_end (self, reason);
          return;
        }
      self->out_sent += (gsize) n;
    }
  if (self->out_sent == self->outbuf->len)
    {
      g_byte_array_set_size (self->outbuf, 0);
      self->out_sent = 0;
    }
  else if (self->out_sent > self->outbuf->len / 2)
    {
      /* keep the buffer from growing while a slow client reads */
      g_byte_array_remove_range (self->outbuf, 0, (guint) self->out_sent);
      self->out_sent = 0;
    }
  watch_input (self);
}

static gboolean
writable (GObject *stream, gpointer data)
{
  UsbipVirtualSession *self = session_ref (data);

  g_clear_pointer (&self->out_source, drop_source);
  flush (self);
  session_unref (self);
  return G_SOURCE_REMOVE;
}

/* Replies of a read's commands are written when they all ran (process()); one a model
 * completes later (a pty's data, a HID report) when the socket is writable: never from
 * inside the model's own call, which a failed write would end the session under. */
static void
send_message (UsbipVirtualSession *self, const UsbipMessage *msg)
{
  usbip_message_encode (msg, self->outbuf);
  if (self->batch == 0)
    wait_writable (self);
}

static void
send_ret_submit (UsbipVirtualSession *self, guint32 seqnum, gint32 status, const guint8 *data, gsize len, gsize actual)
{
  UsbipMessage msg = { 0 };

  msg.type = USBIP_MESSAGE_RET_SUBMIT;
  msg.urb.command = USBIP_RET_SUBMIT;
  msg.urb.seqnum = seqnum;
  msg.urb.u.ret_submit.status = status;
  msg.urb.u.ret_submit.actual_length = (gint32) actual;
  msg.data = data;
  msg.data_len = data != NULL ? len : 0;
  send_message (self, &msg);
}

static void
send_ret_unlink (UsbipVirtualSession *self, guint32 seqnum, gint32 status)
{
  UsbipMessage msg = { 0 };

  msg.type = USBIP_MESSAGE_RET_UNLINK;
  msg.urb.command = USBIP_RET_UNLINK;
  msg.urb.seqnum = seqnum;
  msg.urb.u.ret_unlink.status = status;
  send_message (self, &msg);
}

void
usbip_virtual_urb_complete (UsbipVirtualUrb *urb, gint32 status, const guint8 *data, gsize len)
{
  UsbipVirtualSession *self = urb->session;
  gboolean in = (urb->endpoint & USBIP_VIRTUAL_EP_IN) != 0;

  g_return_if_fail (self != NULL);
  g_hash_table_steal (self->pending, GUINT_TO_POINTER (urb->seqnum));
  if (!self->ended)
    {
      len = MIN (len, urb->length);
      send_ret_submit (self, urb->seqnum, status, in ? data : NULL, len, len);
    }
  usbip_virtual_urb_free (urb);
}

static void
cancel_urb (UsbipVirtualSession *self, UsbipVirtualUrb *urb)
{
  usbip_virtual_device_cancel (self->device, urb);
  usbip_virtual_urb_free (urb);
}

static void
session_end (UsbipVirtualSession *self, const gchar *reason)
{
  GHashTableIter iter;
  gpointer urb;

  if (self->ended)
    return;
  self->ended = TRUE;
  g_message ("virtual device %s: session ended: %s", self->busid, reason);
  g_clear_pointer (&self->in_source, drop_source);
  g_clear_pointer (&self->out_source, drop_source);
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &urb))
    {
      g_hash_table_iter_steal (&iter);
      cancel_urb (self, urb);
    }
  g_io_stream_close (self->stream, NULL, NULL);
  usbip_virtual_device_release (self->device, self);
  session_unref (self); /* the session's own reference */
}

/* reads and drops what the client sent and we did not read: closing a socket with unread
 * input resets the connection and throws away the replies not yet transmitted. Bounded: a
 * client that keeps sending must not hold the main loop (what is left resets, as before). */
#define DISCARD_MAX_READS 64

static void
discard_input (UsbipVirtualSession *self)
{
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->stream));
  guint8 scrap[4096];

  for (guint i = 0; i < DISCARD_MAX_READS; i++)
    if (g_pollable_input_stream_read_nonblocking (in, scrap, sizeof scrap, NULL, NULL) <= 0)
      break;
}

void
usbip_virtual_session_close (UsbipVirtualSession *self, const gchar *reason)
{
  GHashTableIter iter;
  gpointer urb;

  if (self->ended)
    return;
  session_ref (self);
  /* every pending transfer completes with -ESHUTDOWN, as a host controller going away
   * gives them back; then what the socket takes of the replies is sent */
  self->batch++;
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &urb))
    {
      UsbipVirtualUrb *victim = urb;

      g_hash_table_iter_steal (&iter);
      send_ret_submit (self, victim->seqnum, -ESHUTDOWN, NULL, 0, 0);
      cancel_urb (self, victim);
    }
  self->batch--;
  flush (self);
  if (!self->ended)
    discard_input (self);
  session_end (self, reason);
  session_unref (self);
}

static void
handle_control (UsbipVirtualSession *self, const UsbipMessage *msg)
{
  g_autoptr (GBytes) out = msg->data_len > 0 ? g_bytes_new (msg->data, msg->data_len) : NULL;
  g_autoptr (GByteArray) in = g_byte_array_new ();
  gint32 status = usbip_virtual_device_control (self->device, msg->urb.u.cmd_submit.setup, out, in);
  guint32 length = (guint32) msg->urb.u.cmd_submit.transfer_buffer_length;

  if (msg->urb.direction == USBIP_DIR_IN)
    {
      gsize n = status == 0 ? MIN (in->len, length) : 0;
      send_ret_submit (self, msg->urb.seqnum, status, in->data, n, n);
    }
  else
    send_ret_submit (self, msg->urb.seqnum, status, NULL, 0, status == 0 ? msg->data_len : 0);
}

static gboolean
handle_submit (UsbipVirtualSession *self, const UsbipMessage *msg)
{
  guint8 endpoint = (guint8) msg->urb.ep | (msg->urb.direction == USBIP_DIR_IN ? USBIP_VIRTUAL_EP_IN : 0);
  UsbipVirtualUrb *urb;

  if (msg->urb.ep > 15)
    {
      session_end (self, "malformed CMD_SUBMIT: endpoint number above 15");
      return FALSE;
    }
  if (g_hash_table_contains (self->pending, GUINT_TO_POINTER (msg->urb.seqnum)))
    {
      session_end (self, "malformed CMD_SUBMIT: the seqnum of a pending URB again");
      return FALSE;
    }
  if (msg->urb.ep == 0)
    {
      handle_control (self, msg);
      return TRUE;
    }
  if (msg->n_iso > 0 || !usbip_virtual_device_endpoint_ready (self->device, endpoint))
    {
      send_ret_submit (self, msg->urb.seqnum, -EPIPE, NULL, 0, 0);
      return TRUE;
    }
  urb = g_new0 (UsbipVirtualUrb, 1);
  urb->seqnum = msg->urb.seqnum;
  urb->endpoint = endpoint;
  urb->length = (guint32) MAX (msg->urb.u.cmd_submit.transfer_buffer_length, 0);
  urb->out = msg->data_len > 0 ? g_bytes_new (msg->data, msg->data_len) : NULL;
  urb->session = self;
  g_hash_table_insert (self->pending, GUINT_TO_POINTER (urb->seqnum), urb);
  usbip_virtual_device_submit (self->device, urb);
  return TRUE;
}

static void
handle_unlink (UsbipVirtualSession *self, const UsbipMessage *msg)
{
  gpointer victim = NULL;
  guint32 seqnum = msg->urb.u.cmd_unlink.unlink_seqnum;

  if (g_hash_table_steal_extended (self->pending, GUINT_TO_POINTER (seqnum), NULL, &victim))
    {
      cancel_urb (self, victim);
      send_ret_unlink (self, msg->urb.seqnum, -ECONNRESET);
    }
  else
    send_ret_unlink (self, msg->urb.seqnum, 0);
}

/* every whole message in the buffer */
static void
process (UsbipVirtualSession *self)
{
  gsize used = 0;

  self->batch++;
  while (!self->ended)
    {
      g_autoptr (GError) error = NULL;
      UsbipMessage msg = { 0 };
      gsize consumed = 0;
      UsbipDeframeResult r = usbip_deframer_pop (self->deframer, self->inbuf->data + used, self->inbuf->len - used,
                                                 &consumed, &msg, &error);

      if (r == USBIP_DEFRAME_NEED_MORE)
        break;
      if (r == USBIP_DEFRAME_INVALID)
        {
          g_autofree gchar *reason = g_strdup_printf ("malformed URB stream: %s", error->message);
          session_end (self, reason);
          break;
        }
      used += consumed;
      if (msg.type == USBIP_MESSAGE_CMD_SUBMIT)
        handle_submit (self, &msg);
      else
        handle_unlink (self, &msg);
      usbip_message_clear (&msg);
    }
  self->batch--;
  g_byte_array_remove_range (self->inbuf, 0, (guint) MIN (used, self->inbuf->len));
  if (!self->ended && self->inbuf->len > USBIP_VIRTUAL_MAX_TRANSFER + USBIP_URB_HEADER_SIZE)
    session_end (self, "malformed URB stream: a transfer larger than the 4 MiB a virtual device accepts");
  flush (self);
}

static gboolean
readable (GObject *stream, gpointer data)
{
  UsbipVirtualSession *self = session_ref (data);
  g_autoptr (GError) error = NULL;
  guint old = self->inbuf->len;
  gssize n;

  /* straight into the input buffer */
  g_byte_array_set_size (self->inbuf, old + READ_CHUNK);
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), self->inbuf->data + old, READ_CHUNK,
                                                NULL, &error);
  g_byte_array_set_size (self->inbuf, old + (guint) MAX (n, 0));
  if (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_autofree gchar *reason = g_strdup_printf ("cannot read from the client: %s", error->message);
      session_end (self, reason);
    }
  else if (n == 0)
    session_end (self, "the client disconnected");
  else if (n > 0)
    process (self);
  session_unref (self);
  return G_SOURCE_CONTINUE; /* a source the session dropped is not dispatched again */
}

gboolean
usbip_virtual_session_start (UsbipVirtualDevice *device, GIOStream *stream, GBytes *reply, GError **error)
{
  UsbipVirtualSession *self;

  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream)), FALSE);
  g_return_val_if_fail (G_IS_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream)), FALSE);
  self = g_new0 (UsbipVirtualSession, 1);
  self->ref_count = 1;
  self->device = g_object_ref (device);
  self->busid = g_strdup (usbip_virtual_device_get_busid (device));
  self->stream = g_object_ref (stream);
  self->deframer = usbip_deframer_new (USBIP_STREAM_URB_COMMAND, NULL);
  self->inbuf = g_byte_array_new ();
  self->outbuf = g_byte_array_new ();
  self->pending = g_hash_table_new (NULL, NULL);
  if (!usbip_virtual_device_claim (device, self, error))
    {
      session_unref (self);
      return FALSE;
    }
  g_message ("virtual device %s: session started", self->busid);
  g_byte_array_append (self->outbuf, g_bytes_get_data (reply, NULL), (guint) g_bytes_get_size (reply));
  flush (self);
  return TRUE;
}
