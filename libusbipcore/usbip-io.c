/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-error.h"
#include "usbip-io.h"

struct _UsbipDeadline {
  GCancellable *cancellable;
  GCancellable *parent;
  gulong parent_handler;
  GSource *timer;
  gboolean expired;
};

static gboolean
deadline_fired (gpointer data)
{
  UsbipDeadline *self = data;

  self->expired = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->timer, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
parent_cancelled (GCancellable *parent, gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

UsbipDeadline *
usbip_deadline_new (GCancellable *parent, guint timeout_ms)
{
  UsbipDeadline *self = g_new0 (UsbipDeadline, 1);

  self->cancellable = g_cancellable_new ();
  if (parent != NULL)
    {
      self->parent = g_object_ref (parent);
      self->parent_handler = g_cancellable_connect (parent, G_CALLBACK (parent_cancelled), self->cancellable, NULL);
    }
  if (timeout_ms > 0)
    {
      self->timer = g_timeout_source_new (timeout_ms);
      g_source_set_callback (self->timer, deadline_fired, self, NULL);
      g_source_set_static_name (self->timer, "usbip deadline");
      g_source_attach (self->timer, g_main_context_get_thread_default ());
    }
  return self;
}

GCancellable *
usbip_deadline_get_cancellable (UsbipDeadline *self)
{
  return self->cancellable;
}

gboolean
usbip_deadline_expired (UsbipDeadline *self)
{
  return self->expired;
}

void
usbip_deadline_free (UsbipDeadline *self)
{
  if (self == NULL)
    return;
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  if (self->parent != NULL)
    {
      g_cancellable_disconnect (self->parent, self->parent_handler);
      g_object_unref (self->parent);
    }
  g_object_unref (self->cancellable);
  g_free (self);
}

void
usbip_deadline_fix_error (UsbipDeadline *self, GError **error, const gchar *what)
{
  if (error == NULL || *error == NULL)
    return;
  if (self->expired && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (error);
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_TIMEOUT,
                   "timed out %s: the peer did not answer in time "
                   "(check the network path, or raise the timeout)",
                   what);
    }
}

/* ---- write ---- */

static void
write_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  UsbipDeadline *deadline = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      /* EPIPE, ECONNRESET: said as the read says a close, not as errno's "Broken pipe" */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
          || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        {
          g_clear_error (&error);
          g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                                   "the peer closed the connection before all was sent");
          return;
        }
      usbip_deadline_fix_error (deadline, &error, "sending a request");
      usbip_error_convert (&error);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
usbip_io_write_async (GOutputStream *stream, GBytes *bytes, guint timeout_ms, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);
  UsbipDeadline *deadline = usbip_deadline_new (cancellable, timeout_ms);
  gsize len;
  gconstpointer data = g_bytes_get_data (bytes, &len);

  g_task_set_source_tag (task, usbip_io_write_async);
  g_task_set_task_data (task, deadline, (GDestroyNotify) usbip_deadline_free);
  /* keep the bytes alive for the write */
  g_object_set_data_full (G_OBJECT (task), "bytes", g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
  g_output_stream_write_all_async (stream, data, len, G_PRIORITY_DEFAULT, usbip_deadline_get_cancellable (deadline),
                                   write_done, task);
}

gboolean
usbip_io_write_finish (GOutputStream *stream, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- read one frame ---- */

typedef struct {
  UsbipDeadline *deadline;
  UsbipDeframer *deframer;
  GByteArray *buffer;
  gsize max_bytes;
  gsize total;
  guint8 chunk[4096];
  UsbipMessage msg;
} ReadFrame;

static void
read_frame_free (gpointer data)
{
  ReadFrame *rf = data;

  usbip_deadline_free (rf->deadline);
  g_byte_array_unref (rf->buffer);
  usbip_message_clear (&rf->msg);
  g_free (rf);
}

static void read_more (GTask *task);

/* TRUE when the task has been completed */
static gboolean
try_deframe (GTask *task)
{
  ReadFrame *rf = g_task_get_task_data (task);
  GError *error = NULL;
  gsize consumed = 0;

  switch (usbip_deframer_pop (rf->deframer, rf->buffer->data, rf->buffer->len, &consumed, &rf->msg, &error))
    {
    case USBIP_DEFRAME_NEED_MORE:
      return FALSE;
    case USBIP_DEFRAME_FRAME:
      rf->msg.data = NULL;
      rf->msg.data_len = 0;
      g_byte_array_remove_range (rf->buffer, 0, (guint) consumed);
      g_task_return_boolean (task, TRUE);
      return TRUE;
    case USBIP_DEFRAME_INVALID:
    default:
      g_task_return_error (task, error);
      return TRUE;
    }
}

/* how much the next read may take: bounded reads take the header alone first, so a frame
 * is read without the bytes that follow it whenever max_bytes is the largest frame (those
 * belong to the kernel) */
static gsize
read_want (ReadFrame *rf)
{
  gsize want = MIN (sizeof rf->chunk, rf->max_bytes - rf->total);

  if (rf->max_bytes != G_MAXSIZE && rf->buffer->len < USBIP_OP_HEADER_SIZE)
    want = MIN (want, USBIP_OP_HEADER_SIZE - rf->buffer->len);
  return want;
}

/* The deadline cancelled the read. A busy main loop wakes for the timer and for the
 * socket in the same iteration and may dispatch the timer first, although the bytes had
 * arrived in time: take what the peer sent before the deadline, without waiting. TRUE
 * when that completed the task (a whole frame, or an invalid one). */
static gboolean
read_arrived_in_time (GTask *task)
{
  ReadFrame *rf = g_task_get_task_data (task);
  GObject *stream = g_task_get_source_object (task);

  if (!G_IS_POLLABLE_INPUT_STREAM (stream) || !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (stream)))
    return FALSE;
  while (rf->total < rf->max_bytes)
    {
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), rf->chunk, read_want (rf),
                                                           NULL, NULL);
      if (n <= 0)
        return FALSE;
      rf->total += (gsize) n;
      g_byte_array_append (rf->buffer, rf->chunk, (guint) n);
      if (try_deframe (task))
        return TRUE;
    }
  return FALSE;
}

static void
read_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  ReadFrame *rf = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    {
      g_clear_error (&error);
      n = 0; /* a reset is a close that says nothing more */
    }
  if (n < 0 && usbip_deadline_expired (rf->deadline) && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && read_arrived_in_time (task))
    {
      g_error_free (error);
      return;
    }
  if (n < 0)
    {
      usbip_deadline_fix_error (rf->deadline, &error, "waiting for a reply");
      usbip_error_convert (&error);
      g_task_return_error (task, error);
      return;
    }
  if (n == 0)
    {
      g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                               "the peer closed the connection before a whole message arrived "
                               "(%u bytes received): it may refuse this client by policy "
                               "(e.g. usbipcored --allow-cidr); see the peer's log for why",
                               rf->buffer->len);
      return;
    }
  rf->total += (gsize) n;
  g_byte_array_append (rf->buffer, rf->chunk, (guint) n);
  if (try_deframe (task))
    return;
  if (rf->total >= rf->max_bytes)
    {
      g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                               "handshake message larger than %" G_GSIZE_FORMAT " bytes: not a USB/IP peer?",
                               rf->max_bytes);
      return;
    }
  read_more (g_steal_pointer (&task));
}

static void
read_more (GTask *task)
{
  ReadFrame *rf = g_task_get_task_data (task);

  g_input_stream_read_async (G_INPUT_STREAM (g_task_get_source_object (task)), rf->chunk, read_want (rf),
                             G_PRIORITY_DEFAULT, usbip_deadline_get_cancellable (rf->deadline), read_done, task);
}

void
usbip_io_read_frame_async (GInputStream *stream, UsbipDeframer *deframer, GByteArray *buffer, gsize max_bytes,
                           guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);
  ReadFrame *rf = g_new0 (ReadFrame, 1);

  g_task_set_source_tag (task, usbip_io_read_frame_async);
  rf->deadline = usbip_deadline_new (cancellable, timeout_ms);
  rf->deframer = deframer;
  rf->buffer = g_byte_array_ref (buffer);
  rf->max_bytes = max_bytes > 0 ? max_bytes : G_MAXSIZE;
  rf->total = buffer->len; /* bytes of the frame already taken count toward @max_bytes */
  g_task_set_task_data (task, rf, read_frame_free);
  if (try_deframe (task))
    {
      g_object_unref (task);
      return;
    }
  read_more (task);
}

gboolean
usbip_io_read_frame_finish (GInputStream *stream, GAsyncResult *result, UsbipMessage *msg, GError **error)
{
  ReadFrame *rf;

  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  rf = g_task_get_task_data (G_TASK (result));
  *msg = rf->msg;
  memset (&rf->msg, 0, sizeof rf->msg);
  return TRUE;
}
