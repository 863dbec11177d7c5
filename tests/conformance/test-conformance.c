/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Conformance against real captures (tests/conformance/captures/, written by the VM
 * harness: upstream usbip/usbipd and our tools on a real kernel):
 *  - every decoded message re-encodes byte for byte, and the messages of each direction
 *    put together are exactly the TCP stream as Wireshark reassembles it (tshark's
 *    follow,tcp,raw: code that shares nothing with our decoder);
 *  - Wireshark's usbip dissector (tshark) agrees field for field on every message, also
 *    when one frame holds several.
 */
#include "config.h"

#include <string.h>

#include "usbip-pcap.h"
#include "usbip-proto.h"
#include "usbip-tcp-reassembler.h"
#include "usbip-tcp-segment.h"
#include "usbip-trace-decoder.h"

static GPtrArray *
capture_files (void)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = g_dir_open (CAPTURES_DIR, 0, NULL);
  const gchar *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".pcap") || g_str_has_suffix (name, ".pcapng"))
      g_ptr_array_add (files, g_build_filename (CAPTURES_DIR, name, NULL));
  g_ptr_array_sort (files, (GCompareFunc) g_strcmp0);
  g_assert_cmpuint (files->len, >=, 2);
  return files;
}

static GBytes *
load (const gchar *path)
{
  gchar *data;
  gsize len;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

typedef struct {
  guint frame;
  guint stream;
  gboolean from_client;
  UsbipMessage copy; /* header fields only (no owned parts but device/devices copied below) */
  gchar *busids;     /* comma-joined busids of REQ_IMPORT / REP_IMPORT / REP_DEVLIST */
  guint n_devices;
  GBytes *raw;
  GBytes *reencoded;
} Msg;

static void
msg_free (gpointer p)
{
  Msg *m = p;
  g_free (m->busids);
  g_bytes_unref (m->raw);
  g_bytes_unref (m->reencoded);
  g_free (m);
}

static void
on_event (const UsbipTraceEvent *ev, gpointer user_data)
{
  GPtrArray *msgs = user_data;
  Msg *m;
  GByteArray *a;
  const UsbipMessage *src = ev->message;

  if (ev->type != USBIP_TRACE_EVENT_MESSAGE)
    {
      g_test_message ("note: %s", ev->note);
      return;
    }
  m = g_new0 (Msg, 1);
  m->frame = ev->frame;
  m->stream = ev->stream_id;
  m->from_client = ev->from_client;
  m->copy.type = src->type;
  m->copy.op = src->op;
  m->copy.urb = src->urb;
  memcpy (m->copy.busid, src->busid, sizeof src->busid);
  m->copy.data_len = src->data_len;
  m->copy.n_iso = src->n_iso;
  if (src->type == USBIP_MESSAGE_OP_REQ_IMPORT)
    m->busids = g_strdup (src->busid);
  else if (src->type == USBIP_MESSAGE_OP_REP_IMPORT && src->device != NULL)
    m->busids = g_strdup (src->device->busid);
  else if (src->type == USBIP_MESSAGE_OP_REP_DEVLIST)
    {
      GString *s = g_string_new (NULL);
      for (guint i = 0; i < src->devices->len; i++)
        g_string_append_printf (s, "%s%s", i ? "," : "",
                                ((UsbipDeviceInfo *) g_ptr_array_index (src->devices, i))->busid);
      m->busids = g_string_free (s, FALSE);
      m->n_devices = src->devices->len;
    }
  m->raw = g_bytes_new (ev->raw, ev->raw_len);
  a = g_byte_array_new ();
  usbip_message_encode (src, a);
  m->reencoded = g_byte_array_free_to_bytes (a);
  g_ptr_array_add (msgs, m);
}

static GPtrArray *
decode_file (const gchar *path)
{
  g_autoptr (GBytes) bytes = load (path);
  GPtrArray *msgs = g_ptr_array_new_with_free_func (msg_free);
  UsbipTraceSummary sum;
  g_autoptr (GError) error = NULL;

  g_assert_true (usbip_trace_decode (bytes, 3240, on_event, msgs, &sum, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sum.n_protocol_errors, ==, 0);
  g_assert_false (sum.truncated);
  g_assert_false (sum.damaged);
  g_assert_cmpuint (sum.n_messages, ==, msgs->len);
  g_test_message ("%s: %u frames, %u streams, %u messages", path, sum.n_frames, sum.n_streams, sum.n_messages);
  return msgs;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

static void
gstring_free (gpointer s)
{
  g_string_free (s, TRUE);
}

/* tshark, or NULL after marking the test skipped (failed under USBIPCORE_STRICT=1, where CI
 * installs it) */
static gchar *
need_tshark (void)
{
  gchar *tshark = g_find_program_in_path ("tshark");

  if (tshark == NULL)
    {
      if (g_strcmp0 (g_getenv ("USBIPCORE_STRICT"), "1") == 0)
        g_test_fail_printf ("tshark is not installed: run scripts/install-deps.sh (package tshark)");
      else
        g_test_skip ("tshark is not installed (scripts/install-deps.sh installs it)");
    }
  return tshark;
}

static gchar *
run_tshark (const gchar *tshark, const gchar *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint status = 0;

  g_ptr_array_add (argv, (gchar *) tshark);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gchar *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (
      g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tshark failed: %s", err);
  return out;
}

/* the byte stream of every (TCP stream, direction) as Wireshark reassembles it (`-z
 * follow,tcp,raw`), not as our decoder does: "c<hex>" / "s<hex>" strings, sorted */
static GPtrArray *
tshark_streams (const gchar *tshark, const gchar *path)
{
  const gchar *list_args[] = { "-n", "-r", path, "-Y", "tcp.port==3240", "-T", "fields", "-e", "tcp.stream", NULL };
  g_autofree gchar *ids = run_tshark (tshark, list_args);
  g_auto (GStrv) lines = g_strsplit (ids, "\n", -1);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *streams = g_ptr_array_new_with_free_func (g_free);

  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_autofree gchar *filter = NULL, *out = NULL;
      g_auto (GStrv) rows = NULL;
      GString *dir[2];
      gboolean body = FALSE;

      if (*lines[l] == '\0' || !g_hash_table_add (seen, lines[l]))
        continue;
      filter = g_strdup_printf ("follow,tcp,raw,%s", lines[l]);
      {
        const gchar *follow_args[] = { "-n", "-r", path, "-q", "-z", filter, NULL };
        out = run_tshark (tshark, follow_args);
      }
      dir[0] = g_string_new ("c");
      dir[1] = g_string_new ("s");
      rows = g_strsplit (out, "\n", -1);
      for (guint r = 0; rows[r] != NULL; r++)
        {
          if (g_str_has_prefix (rows[r], "Node 1:"))
            body = TRUE; /* node 0 is the client (it sent first), lines of node 1 start with a tab */
          else if (body && g_str_has_prefix (rows[r], "===="))
            body = FALSE;
          else if (body && *rows[r] != '\0')
            g_string_append (dir[rows[r][0] == '\t'], rows[r] + (rows[r][0] == '\t'));
        }
      for (guint d = 0; d < 2; d++)
        if (dir[d]->len > 1)
          g_ptr_array_add (streams, g_string_free (dir[d], FALSE));
        else
          g_string_free (dir[d], TRUE);
    }
  g_ptr_array_sort (streams, cmp_str);
  return streams;
}

static void
test_reencode (void)
{
  g_autofree gchar *tshark = need_tshark ();
  g_autoptr (GPtrArray) files = NULL;

  if (tshark == NULL)
    return;
  files = capture_files ();
  for (guint fi = 0; fi < files->len; fi++)
    {
      const gchar *path = g_ptr_array_index (files, fi);
      g_autoptr (GPtrArray) msgs = decode_file (path);
      g_autoptr (GPtrArray) streams = tshark_streams (tshark, path);
      g_autoptr (GHashTable) joined = g_hash_table_new_full (NULL, NULL, NULL, gstring_free);
      g_autoptr (GPtrArray) ours = g_ptr_array_new ();
      guint urbs = 0;
      GHashTableIter it;
      gpointer value;

      g_assert_cmpuint (msgs->len, >, 0);
      for (guint i = 0; i < msgs->len; i++)
        {
          Msg *m = g_ptr_array_index (msgs, i);
          gpointer k = GUINT_TO_POINTER (m->stream * 2 + (m->from_client ? 0 : 1) + 1);
          GString *a = g_hash_table_lookup (joined, k);
          gsize len;
          const guint8 *b = g_bytes_get_data (m->raw, &len);
          if (!g_bytes_equal (m->raw, m->reencoded))
            g_error ("%s frame %u: %s re-encodes differently", path, m->frame,
                     usbip_message_type_to_string (m->copy.type));
          if (a == NULL)
            g_hash_table_insert (joined, k, a = g_string_new (m->from_client ? "c" : "s"));
          for (gsize j = 0; j < len; j++)
            g_string_append_printf (a, "%02x", b[j]);
          urbs += m->copy.type >= USBIP_MESSAGE_CMD_SUBMIT;
        }
      /* the captures hold DEVLIST, IMPORT and the URB phase */
      g_assert_cmpuint (urbs, >, 0);
      /* the decoded messages of each direction, put together, are exactly Wireshark's stream */
      g_hash_table_iter_init (&it, joined);
      while (g_hash_table_iter_next (&it, NULL, &value))
        g_ptr_array_add (ours, ((GString *) value)->str);
      g_ptr_array_sort (ours, cmp_str);
      g_assert_cmpuint (ours->len, ==, streams->len);
      for (guint i = 0; i < ours->len; i++)
        g_assert_cmpstr (g_ptr_array_index (ours, i), ==, g_ptr_array_index (streams, i));
    }
}

/* ---- tshark ---- */

static const gchar *tshark_fields[] = {
  "frame.number",
  "tcp.srcport",
  "usbip.operation",
  "usbip.status",
  "usbip.urb",
  "usbip.sequence_no",
  "usbip.devid",
  "usbip.endpoint_number.direction",
  "usbip.endpoint_number",
  "usbip.transfer_buffer_length",
  "usbip.actual_length",
  "usbip.setup",
  "usbip.number_of_devices",
  "usbip.busid",
  "usbip.transfer_flags",
  "usbip.interval",
  "usbip.iso.num_of_packets",
  "usbip.iso.start_frame",
};
enum {
  F_FRAME,
  F_SRCPORT,
  F_OP,
  F_STATUS,
  F_URB,
  F_SEQ,
  F_DEVID,
  F_DIR,
  F_EP,
  F_TBL,
  F_ACTUAL,
  F_SETUP,
  F_NDEV,
  F_BUSID,
  F_FLAGS,
  F_INTERVAL,
  F_NPACKETS,
  F_START,
  N_FIELDS
};

/* the last of comma-aggregated occurrences: for devid/direction/ep the dissector first
 * shows values copied from the matching command, then the header's own */
static const gchar *
last (gchar **values)
{
  guint n = g_strv_length (values);
  return n > 0 ? values[n - 1] : "";
}

static gint64
num (const gchar *s)
{
  g_assert_true (s != NULL && *s != '\0');
  return g_ascii_strtoll (s, NULL, 0);
}

static void
compare_frame (const gchar *path, Msg *m, gchar ***f)
{
  const UsbipUrbHeader *u = &m->copy.urb;
  gboolean from_server = num (last (f[F_SRCPORT])) == 3240;

  g_test_message ("%s frame %u: %s", path, m->frame, usbip_message_type_to_string (m->copy.type));
  g_assert_cmpint (from_server, ==, !m->from_client);
  if (m->copy.type <= USBIP_MESSAGE_OP_REP_IMPORT)
    {
      g_assert_cmpint (num (last (f[F_OP])), ==, m->copy.op.code);
      g_assert_cmpint (num (last (f[F_STATUS])), ==, (gint32) m->copy.op.status);
      if (m->busids != NULL)
        {
          g_autofree gchar *joined = g_strjoinv (",", f[F_BUSID]);
          g_assert_cmpstr (joined, ==, m->busids);
        }
      if (m->copy.type == USBIP_MESSAGE_OP_REP_DEVLIST)
        g_assert_cmpint (num (last (f[F_NDEV])), ==, m->n_devices);
      return;
    }
  g_assert_cmpint (num (last (f[F_URB])), ==, u->command);
  g_assert_cmpint (num (last (f[F_SEQ])), ==, u->seqnum);
  g_assert_cmpint (num (last (f[F_DEVID])), ==, u->devid);
  g_assert_cmpint (num (last (f[F_DIR])), ==, u->direction);
  g_assert_cmpint (num (last (f[F_EP])), ==, u->ep);
  switch (m->copy.type)
    {
    case USBIP_MESSAGE_CMD_SUBMIT:
      {
        g_autofree gchar *setup = NULL;
        GString *s = g_string_new (NULL);
        for (guint i = 0; i < 8; i++)
          g_string_append_printf (s, "%02x", u->u.cmd_submit.setup[i]);
        setup = g_string_free (s, FALSE);
        g_assert_cmpint (num (last (f[F_TBL])), ==, u->u.cmd_submit.transfer_buffer_length);
        g_assert_cmpint (num (last (f[F_FLAGS])), ==, u->u.cmd_submit.transfer_flags);
        g_assert_cmpint (num (last (f[F_INTERVAL])), ==, u->u.cmd_submit.interval);
        g_assert_cmpint (num (last (f[F_START])), ==, u->u.cmd_submit.start_frame);
        g_assert_cmpint ((gint32) num (last (f[F_NPACKETS])), ==, u->u.cmd_submit.number_of_packets);
        g_assert_cmpstr (last (f[F_SETUP]), ==, setup);
        break;
      }
    case USBIP_MESSAGE_RET_SUBMIT:
      g_assert_cmpint (num (last (f[F_STATUS])), ==, u->u.ret_submit.status);
      g_assert_cmpint (num (last (f[F_ACTUAL])), ==, u->u.ret_submit.actual_length);
      g_assert_cmpint (num (last (f[F_START])), ==, u->u.ret_submit.start_frame);
      g_assert_cmpint ((gint32) num (last (f[F_NPACKETS])), ==, u->u.ret_submit.number_of_packets);
      g_assert_cmpint (m->copy.data_len, ==,
                       u->direction == USBIP_DIR_IN || m->copy.data_len > 0 ? (gsize) u->u.ret_submit.actual_length
                                                                            : 0);
      break;
    case USBIP_MESSAGE_RET_UNLINK:
      g_assert_cmpint (num (last (f[F_STATUS])), ==, u->u.ret_unlink.status);
      break;
    default:
      break;
    }
}

static void
test_tshark (void)
{
  g_autofree gchar *tshark = need_tshark ();
  g_autoptr (GPtrArray) files = NULL;

  if (tshark == NULL)
    return;
  files = capture_files ();
  for (guint fi = 0; fi < files->len; fi++)
    {
      const gchar *path = g_ptr_array_index (files, fi);
      g_autoptr (GPtrArray) msgs = decode_file (path);
      g_autoptr (GPtrArray) argv = g_ptr_array_new ();
      g_autofree gchar *out = NULL, *err = NULL;
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) lines = NULL;
      gint status = 0;
      guint mi = 0, pdus = 0;

      g_ptr_array_add (argv, tshark);
      g_ptr_array_add (argv, "-n");
      g_ptr_array_add (argv, "-r");
      g_ptr_array_add (argv, (gchar *) path);
      g_ptr_array_add (argv, "-d");
      g_ptr_array_add (argv, "tcp.port==3240,usbip");
      g_ptr_array_add (argv, "-Y");
      g_ptr_array_add (argv, "usbip");
      g_ptr_array_add (argv, "-T");
      g_ptr_array_add (argv, "fields");
      g_ptr_array_add (argv, "-E");
      g_ptr_array_add (argv, "occurrence=a");
      g_ptr_array_add (argv, "-E");
      g_ptr_array_add (argv, "aggregator=,");
      for (guint i = 0; i < N_FIELDS; i++)
        {
          g_ptr_array_add (argv, "-e");
          g_ptr_array_add (argv, (gchar *) tshark_fields[i]);
        }
      g_ptr_array_add (argv, NULL);
      g_assert_true (
          g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));

      lines = g_strsplit (out, "\n", -1);
      for (guint l = 0; lines[l] != NULL; l++)
        {
          g_auto (GStrv) cols = NULL;
          gchar **f[N_FIELDS];
          guint frame, n_here;

          if (*lines[l] == '\0')
            continue;
          cols = g_strsplit (lines[l], "\t", -1);
          g_assert_cmpuint (g_strv_length (cols), ==, N_FIELDS);
          for (guint i = 0; i < N_FIELDS; i++)
            f[i] = g_strsplit (cols[i], ",", -1);
          frame = (guint) num (cols[F_FRAME]);
          n_here = g_strv_length (f[F_OP]) + g_strv_length (f[F_URB]);
          /* every message tshark shows in this frame, we decode in this frame, in order, and
           * field by field: each field's occurrences are split evenly between the frame's
           * messages (a frame whose messages carry different fields cannot be split: failure) */
          for (guint k = 0; k < n_here; k++, mi++)
            {
              gchar **mine[N_FIELDS];
              Msg *m;
              g_assert_cmpuint (mi, <, msgs->len);
              m = g_ptr_array_index (msgs, mi);
              g_assert_cmpuint (m->frame, ==, frame);
              for (guint i = 0; i < N_FIELDS; i++)
                {
                  guint n = g_strv_length (f[i]), per = n / n_here;
                  if (i == F_FRAME || i == F_SRCPORT)
                    per = n; /* one per frame */
                  else if (n % n_here != 0)
                    g_error ("%s frame %u: %s occurs %u times among %u messages", path, frame, tshark_fields[i], n,
                             n_here);
                  mine[i] = g_new0 (gchar *, per + 1);
                  for (guint j = 0; j < per; j++)
                    mine[i][j] = f[i][(per == n ? 0 : k * per) + j];
                }
              compare_frame (path, m, mine);
              for (guint i = 0; i < N_FIELDS; i++)
                g_free (mine[i]);
            }
          pdus += n_here;
          for (guint i = 0; i < N_FIELDS; i++)
            g_strfreev (f[i]);
        }
      g_assert_cmpuint (mi, ==, msgs->len);
      g_test_message ("%s: tshark and the decoder agree on %u messages", path, pdus);
    }
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/conformance/reencode", test_reencode);
  g_test_add_func ("/conformance/tshark", test_tshark);
  return g_test_run ();
}
