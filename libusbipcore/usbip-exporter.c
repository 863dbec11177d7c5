/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server half: accepts connections, answers OP_REQ_DEVLIST and OP_REQ_IMPORT, and hands
 * an imported connection's socket to the export backend (the kernel then owns the session,
 * or, for a userspace device, the backend keeps the connection and answers its URBs).
 *
 * Each connection is a small step machine (admit -> read request -> answer -> close or
 * hand off) driven by asynchronous I/O on the main context, so a slow or hostile client only
 * ever holds its own deadline. Upstream behaviour is kept where clients can see it: a bad
 * version or unknown opcode closes the connection without a reply; import status codes
 * are upstream's (ST_NODEV for an unknown bus ID, ST_DEV_BUSY for a device in use, ...).
 */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "usbip-device-cache.h"
#include "usbip-error.h"
#include "usbip-exporter.h"
#include "usbip-io.h"
#include "usbip-log.h"
#include "usbip-peer-private.h"
#include "usbip-policy-private.h"
#include "usbip-proto.h"
#include "usbip-text.h"

/* the longest valid request, OP_REQ_IMPORT: an 8-byte header + a 32-byte bus ID. Read no
 * further: what follows the request belongs to the kernel once the socket is handed off */
#define MAX_HANDSHAKE_BYTES (USBIP_OP_HEADER_SIZE + USBIP_BUSID_SIZE)
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
/* when accept() fails (no file descriptor left: EMFILE/ENFILE), wait this long before
 * the next try instead of retrying at once: the pending connection stays queued */
#define ACCEPT_PAUSE_MS 250
/* repeated log lines (accept failures, refusals) at most once per interval */
#define ACCEPT_ERROR_LOG_INTERVAL_US ((gint64) 10 * G_USEC_PER_SEC)
#define REFUSAL_LOG_INTERVAL_US G_USEC_PER_SEC
/* connections taken from one listening socket per main-loop round: enough to empty the
 * queue of a burst, few enough that the other sources still get their turn */
#define ACCEPT_BATCH 64

/**
 * UsbipExporter:
 *
 * Serves USB/IP clients (upstream `usbip`, usbip-win2, `usbip-tool`) from one export
 * backend on any number of listening sockets.
 *
 * Since: 1.0
 */
struct _UsbipExporter {
  GObject parent_instance;
  UsbipExportBackend *backend;
  UsbipDeviceCache *devices; /* what OP_REQ_DEVLIST offers */
  UsbipPolicy *policy;
  UsbipSocketOptions *options;
  guint handshake_timeout_ms;
  GSocketListener *listener; /* sockets of transports without create_listener */
  GPtrArray *sockets;        /* listening GSocket*s accepted on by the exporter itself */
  GPtrArray *watches;        /* their GSources while accepting */
  GCancellable *accepting;   /* cancels the pending accept on the listener (shutdown, dispose) */
  gboolean running;
  gboolean listener_used; /* the listener has a socket */
  gboolean accept_pending;
  GSource *accept_pause; /* set while accepting is paused after an accept() error */
  UsbipLogLimit accept_error_log;
  UsbipLogLimit refusal_log;
  GHashTable *sessions;    /* Session* set */
  GHashTable *peer_counts; /* peer key (usbip_policy_peer_key()) -> count */
  GHashTable *exports;     /* bus ID -> peer, devices handed to the kernel */
  GCancellable *abort;     /* cancels every session (shutdown timeout, dispose) */
  GTask *shutdown_task;
  GSource *shutdown_timer;
  guint n_aborted;
  gboolean shutting_down;
};

enum {
  SIGNAL_SESSION_OPENED,
  SIGNAL_SESSION_CLOSED,
  SIGNAL_DEVICE_EXPORTED,
  SIGNAL_IMPORT_REFUSED,
  SIGNAL_CONNECTION_REFUSED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_DRAINING, PROP_N_SESSIONS, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (UsbipExporter, usbip_exporter, G_TYPE_OBJECT)

typedef struct {
  UsbipExporter *exporter;              /* a reference: a session keeps its exporter alive until it closes */
  gint fd;                              /* the connection */
  GSocketConnection *conn;              /* its GIO stream, made when the asynchronous path needs it */
  gchar peer[USBIP_PEER_NAME_SIZE];     /* "addr:port" */
  gchar peer_key[USBIP_PEER_NAME_SIZE]; /* what per-peer caps count */
  UsbipDeframer *deframer;
  GByteArray *buffer;
  gint64 start_us;
  guint timeout_ms;
  const gchar *op;
  guint32 status; /* the status answered */
  gchar busid[USBIP_BUSID_SIZE];
  gchar *busid_shown;   /* the peer's busid escaped for logs */
  gboolean handed_over; /* a userspace backend took the connection: do not close it */
} Session;

static void check_shutdown_done (UsbipExporter *self);
static void accept_next (UsbipExporter *self);
static void unwatch_sockets (UsbipExporter *self);

/* the log fields that describe a session */
static UsbipLogFields
session_fields (const Session *s)
{
  UsbipLogFields f = USBIP_LOG_FIELDS_INIT;

  f.peer = s->peer;
  f.op = s->op;
  f.busid = s->busid_shown;
  return f;
}

static void
session_end (Session *s, gint64 status)
{
  UsbipExporter *self = s->exporter;
  UsbipLogFields f = session_fields (s);
  gint64 duration_ms = (g_get_monotonic_time () - s->start_us) / 1000;
  guint count;

  f.status = status;
  f.duration_ms = duration_ms;
  usbip_log_event (G_LOG_LEVEL_DEBUG, &f, "session closed: %s %s", s->peer, s->op != NULL ? s->op : "-");
  g_signal_emit (self, signals[SIGNAL_SESSION_CLOSED], 0, s->peer, s->op, (guint) MAX (status, 0),
                 (guint64) duration_ms);

  if (s->handed_over)
    ;
  else if (s->conn != NULL)
    g_io_stream_close (G_IO_STREAM (s->conn), NULL, NULL);
  else
    close (s->fd);
  g_hash_table_remove (self->sessions, s);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_SESSIONS]);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->peer_counts, s->peer_key));
  if (count <= 1)
    g_hash_table_remove (self->peer_counts, s->peer_key);
  else
    g_hash_table_insert (self->peer_counts, g_strdup (s->peer_key), GUINT_TO_POINTER (count - 1));

  g_clear_object (&s->conn);
  g_free (s->busid_shown);
  usbip_deframer_free (s->deframer);
  g_byte_array_unref (s->buffer);
  g_free (s);
  /* a descriptor is free again: accept at once if a pause was waiting for one */
  if (self->accept_pause != NULL)
    {
      g_source_destroy (self->accept_pause);
      g_clear_pointer (&self->accept_pause, g_source_unref);
      accept_next (self);
    }
  check_shutdown_done (self);
  g_object_unref (self);
}

/* The session's connection as a GIO stream, made the first time the asynchronous path or an
 * import needs it: a request answered at accept never builds one. */
static GSocketConnection *
session_connection (Session *s, GError **error)
{
  g_autoptr (GSocket) socket = NULL;

  if (s->conn != NULL)
    return s->conn;
  socket = g_socket_new_from_fd (s->fd, error);
  if (socket == NULL)
    {
      usbip_error_convert (error);
      return NULL;
    }
  s->conn = g_socket_connection_factory_create_connection (socket);
  return s->conn;
}

/* an errno from a socket call as the #GError the GIO path would have given */
static void
set_socket_error (GError **error, gint errsv, const gchar *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", what, g_strerror (errsv));
  usbip_error_convert (error);
}

/* what to do once a reply went out (@error NULL) or could not */
typedef void (*ReplySent) (Session *s, const GError *error);

typedef struct {
  Session *session;
  ReplySent done;
} PendingReply;

static void
reply_rest_written (GObject *source, GAsyncResult *result, gpointer data)
{
  PendingReply *p = data;
  g_autoptr (GError) error = NULL;

  usbip_io_write_finish (G_OUTPUT_STREAM (source), result, &error);
  p->done (p->session, error);
  g_free (p);
}

/* Sends @bytes and then calls @done. A reply is small and the socket's send buffer empty,
 * so it nearly always goes out in one non-blocking send, at once, without the asynchronous
 * machinery (no task, deadline or main-loop round); whatever the socket does not take is
 * written asynchronously within the write timeout, cancellable by @cancellable. */
static void
send_reply (Session *s, GBytes *bytes, GCancellable *cancellable, ReplySent done)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) rest = NULL;
  gsize len;
  const gchar *data = g_bytes_get_data (bytes, &len);
  gssize n;
  PendingReply *p;

  do
    n = send (s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n == (gssize) len)
    {
      done (s, NULL);
      return;
    }
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    {
      set_socket_error (&error, errno, "Error sending data");
      done (s, error);
      return;
    }
  if (session_connection (s, &error) == NULL)
    {
      done (s, error);
      return;
    }
  rest = g_bytes_new_from_bytes (bytes, (gsize) MAX (n, 0), len - (gsize) MAX (n, 0));
  p = g_new0 (PendingReply, 1);
  p->session = s;
  p->done = done;
  usbip_io_write_async (g_io_stream_get_output_stream (G_IO_STREAM (s->conn)), rest,
                        s->exporter->options->write_timeout_ms, cancellable, reply_rest_written, p);
}

static void
reply_sent (Session *s, const GError *error)
{
  if (error != NULL)
    {
      UsbipLogFields f = session_fields (s);
      usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: cannot send the reply: %s", s->peer, error->message);
      session_end (s, USBIP_ST_ERROR);
      return;
    }
  session_end (s, s->status);
}

/* a reply other than a successful import's: a drain that times out cuts it off */
static void
send_reply_and_close (Session *s, GByteArray *reply)
{
  g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (reply);

  send_reply (s, bytes, s->exporter->abort, reply_sent);
}

static void
handle_devlist (Session *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  GByteArray *reply = g_byte_array_new ();
  UsbipLogFields f;

  s->op = "OP_REQ_DEVLIST";
  f = session_fields (s);
  devices = usbip_device_cache_list (s->exporter->devices, &error);
  if (devices == NULL)
    {
      /* upstream answers an empty list when nothing is exported: so do we, and say why */
      usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: listing devices failed, answering an empty list: %s", s->peer,
                       error->message);
    }
  f.status = 0;
  usbip_log_event (G_LOG_LEVEL_DEBUG, &f, "%s: OP_REQ_DEVLIST: %u devices", s->peer, devices ? devices->len : 0);
  usbip_encode_op_rep_devlist (reply, USBIP_ST_OK, devices);
  send_reply_and_close (s, reply);
}

static void
import_reply_sent (Session *s, const GError *error)
{
  if (error != NULL)
    {
      UsbipLogFields f = session_fields (s);
      usbip_log_event (G_LOG_LEVEL_WARNING, &f, "%s: device %s handed to the kernel but the reply failed: %s", s->peer,
                       s->busid_shown, error->message);
    }
  /* the kernel holds its own reference to the socket: closing ours does not end it */
  session_end (s, 0);
}

static void
refuse_import (Session *s, guint32 status, const gchar *reason)
{
  GByteArray *reply = g_byte_array_new ();
  UsbipLogFields f = session_fields (s);

  s->status = status;
  f.status = status;
  usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: import of %s refused (%s): %s", s->peer, s->busid_shown,
                   usbip_status_to_string (status), reason);
  g_signal_emit (s->exporter, signals[SIGNAL_IMPORT_REFUSED], 0, s->peer, s->busid, status, reason);
  usbip_encode_op_rep_import (reply, status, NULL);
  send_reply_and_close (s, reply);
}

static void
handle_import (Session *s, const gchar *busid)
{
  UsbipExporter *self = s->exporter;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipDeviceInfo) device = NULL;
  UsbipLogFields f;
  GByteArray *reply;
  g_autoptr (GBytes) bytes = NULL;
  GSocketConnection *conn;
  GSocket *socket;

  s->op = "OP_REQ_IMPORT";
  g_strlcpy (s->busid, busid, sizeof s->busid);
  s->busid_shown = usbip_text_escape (busid, -1);
  device = usbip_export_backend_get_device (self->backend, busid, &error);
  if (device == NULL)
    {
      refuse_import (s, USBIP_ST_NODEV, error->message);
      return;
    }
  if (device->status == USBIP_DEVICE_STATUS_USED)
    {
      refuse_import (s, USBIP_ST_DEV_BUSY, "the device is already imported by another client");
      return;
    }
  if (device->status == USBIP_DEVICE_STATUS_ERROR)
    {
      refuse_import (s, USBIP_ST_DEV_ERR, "the device is in error state: unbind and bind it again");
      return;
    }
  conn = session_connection (s, &error);
  if (conn == NULL)
    {
      refuse_import (s, USBIP_ST_NA, error->message);
      return;
    }
  socket = g_socket_connection_get_socket (conn);
  reply = g_byte_array_new ();
  usbip_encode_op_rep_import (reply, USBIP_ST_OK, device);
  bytes = g_byte_array_free_to_bytes (reply);
  /* nodelay and keepalive must be on before the kernel (or a userspace device) takes the
   * socket; a userspace device sends the reply itself and keeps the connection */
  if (!usbip_socket_options_apply (self->options, socket, &error)
      || !usbip_export_backend_export_stream (self->backend, busid, G_IO_STREAM (conn), bytes, &s->handed_over, &error)
      || (!s->handed_over && !usbip_export_backend_export_fd (self->backend, busid, s->fd, &error)))
    {
      refuse_import (s, g_error_matches (error, USBIP_ERROR, USBIP_ERROR_DEVICE_BUSY) ? USBIP_ST_DEV_BUSY : USBIP_ST_NA,
                     error->message);
      return;
    }
  f = session_fields (s);
  f.status = 0;
  usbip_log_event (G_LOG_LEVEL_MESSAGE, &f, "%s: exported %s (%04x:%04x)%s", s->peer, busid, device->idVendor,
                   device->idProduct, s->handed_over ? " to a userspace device" : "");
  g_hash_table_insert (self->exports, g_strdup (busid), g_strdup (s->peer));
  g_signal_emit (self, signals[SIGNAL_DEVICE_EXPORTED], 0, busid, s->peer);
  if (s->handed_over)
    {
      session_end (s, 0);
      return;
    }
  /* not cancellable by shutdown: the kernel owns the session now; finish the reply */
  send_reply (s, bytes, NULL, import_reply_sent);
}

static void
dispatch_request (Session *s, const UsbipMessage *msg)
{
  UsbipLogFields f = USBIP_LOG_FIELDS_INIT;

  f.peer = s->peer;
  switch (msg->type)
    {
    case USBIP_MESSAGE_OP_REQ_DEVLIST:
      handle_devlist (s);
      break;
    case USBIP_MESSAGE_OP_REQ_IMPORT:
      handle_import (s, msg->busid);
      break;
    default:
      s->op = "invalid";
      usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: unexpected %s, closing", s->peer,
                       usbip_message_type_to_string (msg->type));
      session_end (s, USBIP_ST_ERROR);
      break;
    }
}

static void
request_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Session *s = data;
  g_autoptr (GError) error = NULL;
  UsbipMessage msg = { 0 };
  UsbipLogFields f = USBIP_LOG_FIELDS_INIT;

  f.peer = s->peer;
  if (!usbip_io_read_frame_finish (G_INPUT_STREAM (source), result, &msg, &error))
    {
      g_autofree gchar *shown = usbip_text_escape (error->message, -1);

      /* upstream closes without a reply on a bad version or opcode; so do we, and log it
       * in the daemon's terms (the I/O layer words its errors for a client) */
      s->op = "invalid";
      if (g_error_matches (error, USBIP_ERROR, USBIP_ERROR_TIMEOUT))
        {
          s->op = "timeout";
          usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: client sent no request within --handshake-timeout %u ms, closing",
                           s->peer, s->timeout_ms);
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        usbip_log_event (G_LOG_LEVEL_DEBUG, &f, "%s: handshake aborted by the shutdown", s->peer);
      else if (g_error_matches (error, USBIP_ERROR, USBIP_ERROR_CONNECTION))
        usbip_log_event (G_LOG_LEVEL_INFO, &f,
                         "%s: client closed the connection after %u bytes, before a whole request", s->peer,
                         s->buffer->len);
      else
        usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: invalid request, closing without a reply: %s", s->peer, shown);
      session_end (s, USBIP_ST_ERROR);
      return;
    }
  dispatch_request (s, &msg);
  usbip_message_clear (&msg);
}

/* Most clients send their request together with the connection, so it is usually there
 * when the connection is accepted: take the header with one non-blocking receive and, when
 * it is a whole request (OP_REQ_DEVLIST is just the header), answer at once, with no task,
 * deadline or main-loop round. Anything else (nothing yet, part of a header, an import
 * request's bus ID still to come, an error or EOF) continues on the asynchronous read, from
 * the bytes taken, under the handshake deadline and with the same outcomes and logs. */
static void
read_request (Session *s)
{
  guint8 header[USBIP_OP_HEADER_SIZE];
  g_autoptr (GError) error = NULL;
  gssize n;

  do
    n = recv (s->fd, header, sizeof header, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  if (n > 0)
    {
      UsbipMessage msg = { 0 };
      gsize consumed = 0;

      g_byte_array_append (s->buffer, header, (guint) n);
      if (usbip_deframer_pop (s->deframer, s->buffer->data, s->buffer->len, &consumed, &msg, NULL)
          == USBIP_DEFRAME_FRAME)
        {
          g_byte_array_remove_range (s->buffer, 0, (guint) consumed);
          msg.data = NULL;
          msg.data_len = 0;
          dispatch_request (s, &msg);
          usbip_message_clear (&msg);
          return;
        }
    }
  if (session_connection (s, &error) == NULL)
    {
      UsbipLogFields f = session_fields (s);
      usbip_log_event (G_LOG_LEVEL_WARNING, &f, "%s: %s, closing", s->peer, error->message);
      session_end (s, USBIP_ST_ERROR);
      return;
    }
  usbip_io_read_frame_async (g_io_stream_get_input_stream (G_IO_STREAM (s->conn)), s->deframer, s->buffer,
                             MAX_HANDSHAKE_BYTES, s->timeout_ms, s->exporter->abort, request_read, s);
}

/* admit or refuse one accepted connection @fd (@conn: its stream when GIO accepted it, else
 * %NULL: the session owns @fd), then read its request */
static void
handle_connection (UsbipExporter *self, gint fd, GSocketConnection *conn)
{
  g_auto (UsbipPeerInfo) who = { 0 };
  g_autofree gchar *rule = NULL;
  guint peer_count;
  guint suppressed = 0;
  Session *s;

  /* the peer's text and key straight from its socket address; its address as a GObject
   * only when the policy will look at it */
  usbip_peer_info_read (&who, fd, usbip_policy_judges_address (self->policy));
  peer_count = GPOINTER_TO_UINT (g_hash_table_lookup (self->peer_counts, who.key));
  /* each family by its own rules (addresses, credentials, context ids); an unknown peer
   * is refused whenever a rule is set */
  if (!usbip_policy_admit_peer (self->policy, &who.peer, g_hash_table_size (self->sessions), peer_count,
                                g_get_monotonic_time (), &rule))
    {
      UsbipLogFields f = USBIP_LOG_FIELDS_INIT;
      f.peer = who.text;
      f.rule = rule;
      if (usbip_log_limit_pass (&self->refusal_log, g_get_monotonic_time (), REFUSAL_LOG_INTERVAL_US, &suppressed))
        {
          if (suppressed > 0)
            usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: connection refused by rule %s (%u more refusals not logged)",
                             who.text, rule, suppressed);
          else
            usbip_log_event (G_LOG_LEVEL_INFO, &f, "%s: connection refused by rule %s", who.text, rule);
        }
      g_signal_emit (self, signals[SIGNAL_CONNECTION_REFUSED], 0, who.text, rule);
      if (conn != NULL)
        g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      else
        close (fd);
      return;
    }

  s = g_new0 (Session, 1);
  s->exporter = g_object_ref (self);
  s->fd = fd;
  s->conn = conn != NULL ? g_object_ref (conn) : NULL;
  memcpy (s->peer, who.text, sizeof s->peer);
  memcpy (s->peer_key, who.key, sizeof s->peer_key);
  s->deframer = usbip_deframer_new (USBIP_STREAM_OP_REQUEST, NULL);
  s->buffer = g_byte_array_new ();
  s->start_us = g_get_monotonic_time ();
  s->timeout_ms = self->handshake_timeout_ms;
  g_hash_table_add (self->sessions, s);
  g_hash_table_insert (self->peer_counts, g_strdup (who.key), GUINT_TO_POINTER (peer_count + 1));
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_SESSIONS]);
  g_signal_emit (self, signals[SIGNAL_SESSION_OPENED], 0, s->peer);
  read_request (s);
}

/* ---- the accept loops, paused (not retried at once) on errors ---- */

static gboolean
accept_resume (gpointer data)
{
  UsbipExporter *self = data;

  g_clear_pointer (&self->accept_pause, g_source_unref);
  accept_next (self);
  return G_SOURCE_REMOVE;
}

/* one accept in flight; the exporter may be gone or have restarted accepting by the time
 * it completes */
typedef struct {
  GWeakRef exporter;
  GCancellable *cancellable;
} AcceptCall;

/* accept() failed: out of descriptors (EMFILE/ENFILE) or memory. Retrying at once would
 * spin on the same error while the connection waits in the queue; pause, and resume as
 * soon as a session ends or the pause is over */
static void
accept_failed (UsbipExporter *self, const gchar *message)
{
  guint suppressed = 0;

  if (usbip_log_limit_pass (&self->accept_error_log, g_get_monotonic_time (), ACCEPT_ERROR_LOG_INTERVAL_US,
                            &suppressed))
    {
      UsbipLogFields f = USBIP_LOG_FIELDS_INIT;
      usbip_log_event (G_LOG_LEVEL_WARNING, &f,
                       "cannot accept connections: %s (%u handshakes in progress; %u similar errors not logged); "
                       "pausing accepts for %u ms each time. If this persists, raise the open file limit "
                       "(LimitNOFILE=) or lower --max-sessions",
                       message, g_hash_table_size (self->sessions), suppressed, ACCEPT_PAUSE_MS);
    }
  unwatch_sockets (self);
  self->accept_pause = g_timeout_source_new (ACCEPT_PAUSE_MS);
  g_source_set_callback (self->accept_pause, accept_resume, self, NULL);
  g_source_set_static_name (self->accept_pause, "usbip accept pause");
  g_source_attach (self->accept_pause, g_main_context_get_thread_default ());
}

static void
accepted (GObject *source, GAsyncResult *result, gpointer data)
{
  AcceptCall *call = data;
  g_autoptr (UsbipExporter) self = g_weak_ref_get (&call->exporter);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn =
      g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);
  gboolean current = self != NULL && call->cancellable == self->accepting;

  g_weak_ref_clear (&call->exporter);
  g_object_unref (call->cancellable);
  g_free (call);
  if (!current)
    return;
  self->accept_pending = FALSE;
  if (conn != NULL)
    {
      if (self->running)
        handle_connection (self, g_socket_get_fd (g_socket_connection_get_socket (conn)), conn);
      accept_next (self);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || !self->running)
    return;
  accept_failed (self, error->message);
}

/* One of the exporter's own listening sockets has connections queued: take them with
 * accept4() until the queue is empty (at most ACCEPT_BATCH per round), each straight to
 * handle_connection() as a bare descriptor. A request that came with its connection is
 * answered there and then, without a #GSocket, task or main-loop round. */
static gboolean
accept_ready (gint listen_fd, GIOCondition condition, gpointer data)
{
  g_autoptr (UsbipExporter) self = g_object_ref (data); /* a handler may drop the last reference */

  for (guint i = 0; i < ACCEPT_BATCH && self->running && self->accept_pause == NULL; i++)
    {
      /* cppcheck-suppress nullPointer ; accept4 takes NULL for the peer address it need
       * not return (accept(2)); cppcheck's gnu library model says otherwise */
      gint fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

      if (fd < 0)
        {
          gint errsv = errno;
          g_autofree gchar *message = NULL;

          if (errsv == EINTR || errsv == ECONNABORTED)
            continue;
          if (errsv == EAGAIN || errsv == EWOULDBLOCK)
            break;
          message = g_strdup_printf ("Error accepting connection: %s", g_strerror (errsv));
          accept_failed (self, message);
          break;
        }
      handle_connection (self, fd, NULL);
    }
  return G_SOURCE_CONTINUE;
}

/* watch the exporter's own listening sockets for connections (none are watched while
 * stopped or paused) */
static void
watch_sockets (UsbipExporter *self)
{
  if (self->watches->len > 0)
    return;
  for (guint i = 0; i < self->sockets->len; i++)
    {
      GSource *source = g_unix_fd_source_new (g_socket_get_fd (g_ptr_array_index (self->sockets, i)), G_IO_IN);

      g_source_set_callback (source, G_SOURCE_FUNC (accept_ready), self, NULL);
      g_source_set_static_name (source, "usbip accept");
      g_source_attach (source, g_main_context_get_thread_default ());
      g_ptr_array_add (self->watches, source);
    }
}

static void
unwatch_sockets (UsbipExporter *self)
{
  for (guint i = 0; i < self->watches->len; i++)
    g_source_destroy (g_ptr_array_index (self->watches, i));
  g_ptr_array_set_size (self->watches, 0);
}

static void
accept_next (UsbipExporter *self)
{
  AcceptCall *call;

  if (!self->running || self->accept_pause != NULL)
    return;
  watch_sockets (self);
  if (self->accept_pending || !self->listener_used)
    return;
  call = g_new0 (AcceptCall, 1);
  g_weak_ref_init (&call->exporter, self);
  call->cancellable = g_object_ref (self->accepting);
  self->accept_pending = TRUE;
  g_socket_listener_accept_async (self->listener, self->accepting, accepted, call);
}

/* a listening socket was added while running: the accept in flight does not watch it,
 * start anew */
static void
accept_restart (UsbipExporter *self)
{
  unwatch_sockets (self);
  if (!self->accept_pending)
    {
      accept_next (self);
      return;
    }
  g_cancellable_cancel (self->accepting);
  g_object_unref (self->accepting);
  self->accepting = g_cancellable_new ();
  self->accept_pending = FALSE;
  accept_next (self);
}

/* from now on the exporter accepts on @socket itself (non-blocking: a connection another
 * process took first must not block the main loop) */
static void
add_listening_socket (UsbipExporter *self, GSocket *socket)
{
  g_unix_set_fd_nonblocking (g_socket_get_fd (socket), TRUE, NULL);
  g_ptr_array_add (self->sockets, g_object_ref (socket));
  accept_restart (self);
}

/* stop accepting for good and close the listening sockets */
static void
stop_listening (UsbipExporter *self)
{
  self->running = FALSE;
  g_cancellable_cancel (self->accepting);
  if (self->accept_pause != NULL)
    {
      g_source_destroy (self->accept_pause);
      g_clear_pointer (&self->accept_pause, g_source_unref);
    }
  g_socket_listener_close (self->listener);
  unwatch_sockets (self);
  for (guint i = 0; i < self->sockets->len; i++)
    g_socket_close (g_ptr_array_index (self->sockets, i), NULL);
}

static void
usbip_exporter_dispose (GObject *object)
{
  UsbipExporter *self = USBIP_EXPORTER (object);

  if (self->listener != NULL)
    {
      stop_listening (self);
      g_clear_object (&self->listener);
      g_clear_pointer (&self->sockets, g_ptr_array_unref);
      g_clear_pointer (&self->watches, g_ptr_array_unref);
    }
  G_OBJECT_CLASS (usbip_exporter_parent_class)->dispose (object);
}

static void
usbip_exporter_finalize (GObject *object)
{
  UsbipExporter *self = USBIP_EXPORTER (object);

  g_clear_object (&self->devices);
  g_clear_object (&self->backend);
  g_clear_object (&self->policy);
  usbip_socket_options_free (self->options);
  g_hash_table_unref (self->sessions);
  g_hash_table_unref (self->peer_counts);
  g_hash_table_unref (self->exports);
  g_object_unref (self->abort);
  g_object_unref (self->accepting);
  G_OBJECT_CLASS (usbip_exporter_parent_class)->finalize (object);
}

static void
usbip_exporter_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  UsbipExporter *self = USBIP_EXPORTER (object);

  switch (prop_id)
    {
    case PROP_DRAINING:
      g_value_set_boolean (value, self->shutting_down);
      break;
    case PROP_N_SESSIONS:
      g_value_set_uint (value, g_hash_table_size (self->sessions));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* ---- session-closed's marshallers: the generic ones (libffi, a GValue per argument) were
 * an eighth of a DEVLIST handshake's instructions ---- */

typedef void (*SessionClosedFunc) (gpointer instance, const gchar *peer, const gchar *op, guint status,
                                   guint64 duration_ms, gpointer data);

static void
marshal_session_closed (GClosure *closure, GValue *return_value, guint n_param_values, const GValue *param_values,
                        gpointer invocation_hint, gpointer marshal_data)
{
  GCClosure *cc = (GCClosure *) closure;
  gpointer instance = g_value_peek_pointer (param_values + 0);
  gboolean swap = G_CCLOSURE_SWAP_DATA (closure);
  SessionClosedFunc callback = (SessionClosedFunc) (marshal_data != NULL ? marshal_data : cc->callback);

  g_return_if_fail (n_param_values == 5);
  callback (swap ? closure->data : instance, g_value_get_string (param_values + 1),
            g_value_get_string (param_values + 2), g_value_get_uint (param_values + 3),
            g_value_get_uint64 (param_values + 4), swap ? instance : closure->data);
}

/* GVaClosureMarshal's signature: @param_types is not const there */
static void
marshal_session_closed_va (GClosure *closure, GValue *return_value, gpointer instance, va_list args,
                           gpointer marshal_data, int n_params,
                           GType *param_types) /* NOLINT(readability-non-const-parameter) */
{
  GCClosure *cc = (GCClosure *) closure;
  gboolean swap = G_CCLOSURE_SWAP_DATA (closure);
  SessionClosedFunc callback = (SessionClosedFunc) (marshal_data != NULL ? marshal_data : cc->callback);
  g_autofree gchar *peer_copy = NULL;
  g_autofree gchar *op_copy = NULL;
  const gchar *peer, *op;
  guint status;
  guint64 duration_ms;
  va_list copy;

  /* the caller's list is left as it was, as GLib's own va marshallers do */
  va_copy (copy, args);
  peer = va_arg (copy, const gchar *);
  op = va_arg (copy, const gchar *);
  status = va_arg (copy, guint);
  duration_ms = va_arg (copy, guint64);
  va_end (copy);
  /* as the generic path does: a handler gets copies unless the emitter vouched for them */
  if ((param_types[0] & G_SIGNAL_TYPE_STATIC_SCOPE) == 0)
    {
      peer_copy = g_strdup (peer);
      peer = peer_copy;
    }
  if ((param_types[1] & G_SIGNAL_TYPE_STATIC_SCOPE) == 0)
    {
      op_copy = g_strdup (op);
      op = op_copy;
    }
  callback (swap ? closure->data : instance, peer, op, status, duration_ms, swap ? instance : closure->data);
}

static void
usbip_exporter_class_init (UsbipExporterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = usbip_exporter_dispose;
  object_class->finalize = usbip_exporter_finalize;
  object_class->get_property = usbip_exporter_get_property;

  /**
   * UsbipExporter:draining:
   *
   * %TRUE once usbip_exporter_shutdown_async() was called: no new connection is accepted.
   *
   * Since: 1.0
   */
  props[PROP_DRAINING] = g_param_spec_boolean ("draining", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * UsbipExporter:n-sessions:
   *
   * Handshakes in progress (admitted connections not yet answered and closed).
   *
   * Since: 1.0
   */
  props[PROP_N_SESSIONS] = g_param_spec_uint ("n-sessions", NULL, NULL, 0, G_MAXUINT, 0,
                                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * UsbipExporter::session-opened:
   * @self: the exporter
   * @peer: the client, `addr:port`
   *
   * A client was admitted and its handshake begins.
   *
   * Since: 1.0
   */
  signals[SIGNAL_SESSION_OPENED] =
      g_signal_new ("session-opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    g_cclosure_marshal_VOID__STRING, G_TYPE_NONE, 1, G_TYPE_STRING);
  g_signal_set_va_marshaller (signals[SIGNAL_SESSION_OPENED], G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__STRINGv);
  /**
   * UsbipExporter::session-closed:
   * @self: the exporter
   * @peer: the client
   * @op: (nullable): `OP_REQ_DEVLIST`, `OP_REQ_IMPORT`, `invalid` or `timeout`
   * @status: the wire status answered (0 = OK)
   * @duration_ms: how long the handshake took
   *
   * The handshake ended (for an import, the kernel now carries the session).
   *
   * Since: 1.0
   */
  signals[SIGNAL_SESSION_CLOSED] =
      g_signal_new ("session-closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    marshal_session_closed, G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT64);
  g_signal_set_va_marshaller (signals[SIGNAL_SESSION_CLOSED], G_TYPE_FROM_CLASS (klass), marshal_session_closed_va);
  /**
   * UsbipExporter::device-exported:
   * @self: the exporter
   * @busid: the device
   * @peer: the client that imported it
   *
   * Since: 1.0
   */
  signals[SIGNAL_DEVICE_EXPORTED] = g_signal_new ("device-exported", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * UsbipExporter::import-refused:
   * @self: the exporter
   * @peer: the client
   * @busid: the device asked for
   * @status: the wire status answered (`ST_NODEV`, `ST_DEV_BUSY`, ...)
   * @reason: why, for people
   *
   * Since: 1.0
   */
  signals[SIGNAL_IMPORT_REFUSED] =
      g_signal_new ("import-refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                    G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_STRING);
  /**
   * UsbipExporter::connection-refused:
   * @self: the exporter
   * @peer: the client
   * @rule: the policy rule that refused it, e.g. `allow-cidr`
   *
   * The connection was closed without a reply.
   *
   * Since: 1.0
   */
  signals[SIGNAL_CONNECTION_REFUSED] = g_signal_new ("connection-refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                     0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
usbip_exporter_init (UsbipExporter *self)
{
  self->policy = usbip_policy_new ();
  self->options = usbip_socket_options_new ();
  self->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  self->sessions = g_hash_table_new (NULL, NULL);
  self->peer_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->exports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->abort = g_cancellable_new ();
  self->accepting = g_cancellable_new ();
  self->listener = g_socket_listener_new ();
  self->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  self->watches = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
}

/**
 * usbip_exporter_new:
 * @backend: where devices come from (usbip-host, usbip-vudc, or a test double)
 *
 * Returns: (transfer full): a stopped exporter; add listeners, then call
 *   usbip_exporter_start()
 *
 * Since: 1.0
 */
UsbipExporter *
usbip_exporter_new (UsbipExportBackend *backend)
{
  UsbipExporter *self;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (backend), NULL);
  self = g_object_new (USBIP_TYPE_EXPORTER, NULL);
  self->backend = g_object_ref (backend);
  self->devices = usbip_device_cache_new (backend);
  return self;
}

/**
 * usbip_exporter_get_device_cache:
 * @self: an exporter
 *
 * Returns: (transfer none): the cache OP_REQ_DEVLIST is answered from
 *
 * Since: 1.0
 */
UsbipDeviceCache *
usbip_exporter_get_device_cache (UsbipExporter *self)
{
  g_return_val_if_fail (USBIP_IS_EXPORTER (self), NULL);
  return self->devices;
}

/**
 * usbip_exporter_set_policy:
 * @self: an exporter
 * @policy: the admission policy for new connections (current ones are not affected)
 *
 * Since: 1.0
 */
void
usbip_exporter_set_policy (UsbipExporter *self, UsbipPolicy *policy)
{
  g_return_if_fail (USBIP_IS_EXPORTER (self));
  g_return_if_fail (USBIP_IS_POLICY (policy));
  g_set_object (&self->policy, policy);
}

/**
 * usbip_exporter_get_policy:
 * @self: an exporter
 *
 * Returns: (transfer none): the admission policy
 *
 * Since: 1.0
 */
UsbipPolicy *
usbip_exporter_get_policy (UsbipExporter *self)
{
  g_return_val_if_fail (USBIP_IS_EXPORTER (self), NULL);
  return self->policy;
}

/**
 * usbip_exporter_set_socket_options:
 * @self: an exporter
 * @options: applied to each imported session's socket before the handoff; the write
 *   timeout bounds sending a reply
 *
 * Since: 1.0
 */
void
usbip_exporter_set_socket_options (UsbipExporter *self, const UsbipSocketOptions *options)
{
  g_return_if_fail (USBIP_IS_EXPORTER (self));
  g_return_if_fail (options != NULL);
  usbip_socket_options_free (self->options);
  self->options = usbip_socket_options_copy (options);
}

/**
 * usbip_exporter_set_handshake_timeout:
 * @self: an exporter
 * @timeout_ms: how long a client may take to send its request; 0 = no limit
 *
 * Since: 1.0
 */
void
usbip_exporter_set_handshake_timeout (UsbipExporter *self, guint timeout_ms)
{
  g_return_if_fail (USBIP_IS_EXPORTER (self));
  self->handshake_timeout_ms = timeout_ms;
}

/**
 * usbip_exporter_listen:
 * @self: an exporter
 * @transport: the transport, e.g. usbip_transport_tcp_new()
 * @address: e.g. `127.0.0.1:3240`, `[::]:3240`
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the socket is bound and listening
 *
 * Since: 1.0
 */
gboolean
usbip_exporter_listen (UsbipExporter *self, UsbipTransport *transport, const gchar *address, GError **error)
{
  UsbipTransportInterface *iface;
  g_autoptr (GSocket) socket = NULL;

  g_return_val_if_fail (USBIP_IS_EXPORTER (self), FALSE);
  g_return_val_if_fail (USBIP_IS_TRANSPORT (transport), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  iface = USBIP_TRANSPORT_GET_IFACE (transport);
  if (iface->create_listener == NULL)
    {
      /* a transport that only adds to a GSocketListener: GIO accepts for it */
      if (!usbip_transport_add_listener (transport, self->listener, address, error))
        return FALSE;
      self->listener_used = TRUE;
    }
  else
    {
      socket = usbip_transport_create_listener (transport, address, error);
      if (socket == NULL)
        return FALSE;
      add_listening_socket (self, socket);
      return TRUE;
    }
  accept_restart (self);
  return TRUE;
}

/**
 * usbip_exporter_add_socket:
 * @self: an exporter
 * @socket: a listening socket, e.g. one passed by systemd socket activation
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_exporter_add_socket (UsbipExporter *self, GSocket *socket, GError **error)
{
  g_return_val_if_fail (USBIP_IS_EXPORTER (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);
  if (g_socket_is_closed (socket))
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_FAILED, "the socket to listen on is closed");
      return FALSE;
    }
  add_listening_socket (self, socket);
  return TRUE;
}

/**
 * usbip_exporter_start:
 * @self: an exporter
 *
 * Starts accepting connections on the thread-default main context: on the sockets of
 * transports with create_listener (and those of usbip_exporter_add_socket()), every
 * connection queued when the main loop looks (up to 64 per round); on those a transport
 * added to a #GSocketListener, one at a time. When accept() fails (e.g. EMFILE: no file descriptor left) accepting pauses for 250 ms, or
 * until a session ends, instead of retrying at once; the error is logged at most once
 * every 10 s.
 *
 * Since: 1.0
 */
void
usbip_exporter_start (UsbipExporter *self)
{
  g_return_if_fail (USBIP_IS_EXPORTER (self));
  if (self->shutting_down)
    return;
  self->running = TRUE;
  accept_next (self);
}

/**
 * usbip_exporter_get_n_sessions:
 * @self: an exporter
 *
 * Returns: handshakes in progress
 *
 * Since: 1.0
 */
guint
usbip_exporter_get_n_sessions (UsbipExporter *self)
{
  g_return_val_if_fail (USBIP_IS_EXPORTER (self), 0);
  return g_hash_table_size (self->sessions);
}

static gint
session_older (gconstpointer a, gconstpointer b)
{
  const Session *sa = a, *sb = b;
  return sa->start_us < sb->start_us ? -1 : sa->start_us > sb->start_us;
}

/**
 * usbip_exporter_list_sessions:
 * @self: an exporter
 *
 * Returns: (element-type UsbipExporterSession) (transfer full): the handshakes in
 *   progress, oldest first
 *
 * Since: 1.0
 */
GPtrArray *
usbip_exporter_list_sessions (UsbipExporter *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_exporter_session_free);
  gint64 now = g_get_monotonic_time ();
  GList *sessions;

  g_return_val_if_fail (USBIP_IS_EXPORTER (self), list);
  sessions = g_list_sort (g_hash_table_get_keys (self->sessions), session_older);
  for (GList *l = sessions; l != NULL; l = l->next)
    {
      const Session *s = l->data;
      UsbipExporterSession *info = g_new0 (UsbipExporterSession, 1);

      info->peer = g_strdup (s->peer);
      info->op = g_strdup (s->op);
      info->busid = s->busid[0] ? g_strdup (s->busid) : NULL;
      info->state = g_strdup (s->op == NULL ? "reading-request" : "answering");
      info->age_ms = (guint64) MAX (now - s->start_us, 0) / 1000;
      g_ptr_array_add (list, info);
    }
  g_list_free (sessions);
  return list;
}

/**
 * usbip_exporter_list_exports:
 * @self: an exporter
 *
 * Returns: (element-type utf8 utf8) (transfer full): bus ID -> peer (`addr:port`) of
 *   every device this exporter handed to the kernel, the latest peer per device. Whether
 *   the kernel still carries the session is the device's status in the backend.
 *
 * Since: 1.0
 */
GHashTable *
usbip_exporter_list_exports (UsbipExporter *self)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer k, v;

  g_return_val_if_fail (USBIP_IS_EXPORTER (self), copy);
  g_hash_table_iter_init (&iter, self->exports);
  while (g_hash_table_iter_next (&iter, &k, &v))
    g_hash_table_insert (copy, g_strdup (k), g_strdup (v));
  return copy;
}

/**
 * usbip_exporter_get_draining:
 * @self: an exporter
 *
 * Returns: %TRUE once usbip_exporter_shutdown_async() was called
 *
 * Since: 1.0
 */
gboolean
usbip_exporter_get_draining (UsbipExporter *self)
{
  g_return_val_if_fail (USBIP_IS_EXPORTER (self), FALSE);
  return self->shutting_down;
}

static void
check_shutdown_done (UsbipExporter *self)
{
  GTask *task;

  if (self->shutdown_task == NULL || g_hash_table_size (self->sessions) > 0)
    return;
  if (self->shutdown_timer != NULL)
    {
      g_source_destroy (self->shutdown_timer);
      g_clear_pointer (&self->shutdown_timer, g_source_unref);
    }
  task = g_steal_pointer (&self->shutdown_task);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
shutdown_timeout (gpointer data)
{
  UsbipExporter *self = data;

  self->n_aborted = g_hash_table_size (self->sessions);
  g_clear_pointer (&self->shutdown_timer, g_source_unref);
  g_cancellable_cancel (self->abort);
  return G_SOURCE_REMOVE;
}

/**
 * usbip_exporter_shutdown_async:
 * @self: an exporter
 * @timeout_ms: how long handshakes in flight may take to finish; 0 = abort them now
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when every session has ended
 * @user_data: data for @callback
 *
 * Drains: stops accepting and closes the listening sockets at once, lets handshakes in
 * flight finish within @timeout_ms, then aborts what remains. Sessions already handed
 * to the kernel are not affected.
 *
 * Since: 1.0
 */
void
usbip_exporter_shutdown_async (UsbipExporter *self, guint timeout_ms, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (USBIP_IS_EXPORTER (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, usbip_exporter_shutdown_async);
  if (self->shutdown_task != NULL)
    {
      g_task_return_new_error (task, USBIP_ERROR, USBIP_ERROR_BUSY, "a shutdown is already in progress");
      g_object_unref (task);
      return;
    }
  self->shutting_down = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DRAINING]);
  stop_listening (self);
  self->shutdown_task = task;
  self->n_aborted = 0;
  if (timeout_ms == 0)
    shutdown_timeout (self);
  else
    {
      self->shutdown_timer = g_timeout_source_new (timeout_ms);
      g_source_set_callback (self->shutdown_timer, shutdown_timeout, self, NULL);
      g_source_attach (self->shutdown_timer, g_main_context_get_thread_default ());
    }
  check_shutdown_done (self);
}

/**
 * usbip_exporter_shutdown_finish:
 * @self: an exporter
 * @result: the result passed to the callback
 * @n_aborted: (out) (optional): handshakes cut off by the timeout
 * @error: return location for a #GError
 *
 * Returns: %TRUE when drained
 *
 * Since: 1.0
 */
gboolean
usbip_exporter_shutdown_finish (UsbipExporter *self, GAsyncResult *result, guint *n_aborted, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (n_aborted != NULL)
    *n_aborted = self->n_aborted;
  return g_task_propagate_boolean (G_TASK (result), error);
}
