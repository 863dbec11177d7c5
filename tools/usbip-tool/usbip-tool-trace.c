/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `usbip-tool trace decode FILE [--port N] [--json]`: every USB/IP message in a pcap or
 * pcapng capture, one line each (text or JSON Lines, docs/json-schema.md). The
 * decoding is the library's (usbip_trace_decode); this file only formats.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "usbip-tool-output.h"
#include "usbip-tools-text.h"
#include "usbip-tool-trace.h"
#include "usbip-trace-decoder.h"

static gchar *
format_time (gint64 sec, guint32 nsec)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (sec);
  g_autofree gchar *base = NULL;

  if (dt == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT ".%09u", sec, nsec);
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%09uZ", base, nsec);
}

static gchar *
hex_bytes (const guint8 *p, gsize n)
{
  GString *s = g_string_sized_new (n * 2 + 1);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

/* setup packet fields: little-endian inside the big-endian header */
static void
setup_fields (const guint8 *setup, guint *bm, guint *req, guint *val, guint *idx, guint *len)
{
  *bm = setup[0];
  *req = setup[1];
  *val = (guint) setup[2] | ((guint) setup[3] << 8);
  *idx = (guint) setup[4] | ((guint) setup[5] << 8);
  *len = (guint) setup[6] | ((guint) setup[7] << 8);
}

static gboolean
has_setup (const UsbipMessage *m)
{
  return m->type == USBIP_MESSAGE_CMD_SUBMIT && m->urb.ep == 0;
}

/* ---- text ---- */

static void
text_device (GString *s, const UsbipDeviceInfo *d)
{
  g_string_append_printf (s,
                          "{busid=%s path=%s busnum=%u devnum=%u speed=%u(%s) id=%04x:%04x "
                          "bcdDevice=%04x class=%02x/%02x/%02x configuration=%u "
                          "num_configurations=%u num_interfaces=%u",
                          d->busid, d->path, d->busnum, d->devnum, (guint) d->speed, usbip_speed_to_nick (d->speed),
                          d->idVendor, d->idProduct, d->bcdDevice, d->bDeviceClass, d->bDeviceSubClass,
                          d->bDeviceProtocol, d->bConfigurationValue, d->bNumConfigurations, d->bNumInterfaces);
  for (guint i = 0; i < d->bNumInterfaces && i < USBIP_MAX_INTERFACES; i++)
    g_string_append_printf (s, " if%u=%02x/%02x/%02x", i, d->interfaces[i].bInterfaceClass,
                            d->interfaces[i].bInterfaceSubClass, d->interfaces[i].bInterfaceProtocol);
  g_string_append_c (s, '}');
}

static void
text_message (GString *s, const UsbipMessage *m, gsize raw_len)
{
  const UsbipUrbHeader *u = &m->urb;

  g_string_append_printf (s, " %s", usbip_message_type_to_string (m->type));
  switch (m->type)
    {
    case USBIP_MESSAGE_OP_REQ_DEVLIST:
    case USBIP_MESSAGE_OP_REP_DEVLIST:
    case USBIP_MESSAGE_OP_REQ_IMPORT:
    case USBIP_MESSAGE_OP_REP_IMPORT:
      g_string_append_printf (s, " version=0x%04x code=0x%04x status=%u", m->op.version, m->op.code, m->op.status);
      if (m->type == USBIP_MESSAGE_OP_REQ_IMPORT)
        g_string_append_printf (s, " busid=%s", m->busid);
      if (m->type == USBIP_MESSAGE_OP_REP_DEVLIST)
        {
          guint n = m->devices != NULL ? m->devices->len : 0;
          g_string_append_printf (s, " num_devices=%u", n);
          for (guint i = 0; i < n; i++)
            {
              g_string_append_printf (s, " device%u=", i);
              text_device (s, g_ptr_array_index (m->devices, i));
            }
        }
      if (m->type == USBIP_MESSAGE_OP_REP_IMPORT && m->device != NULL)
        {
          g_string_append (s, " device=");
          text_device (s, m->device);
        }
      break;

    default:
      g_string_append_printf (s, " seqnum=%u devid=0x%08x direction=%u ep=%u", u->seqnum, u->devid, u->direction,
                              u->ep);
      if (m->type == USBIP_MESSAGE_CMD_SUBMIT)
        {
          g_autofree gchar *setup = hex_bytes (u->u.cmd_submit.setup, 8);
          g_string_append_printf (s,
                                  " transfer_flags=0x%08x transfer_buffer_length=%d start_frame=%d "
                                  "number_of_packets=%d interval=%d setup=%s",
                                  u->u.cmd_submit.transfer_flags, u->u.cmd_submit.transfer_buffer_length,
                                  u->u.cmd_submit.start_frame, u->u.cmd_submit.number_of_packets,
                                  u->u.cmd_submit.interval, setup);
          if (has_setup (m))
            {
              guint bm, req, val, idx, len;
              setup_fields (u->u.cmd_submit.setup, &bm, &req, &val, &idx, &len);
              g_string_append_printf (s,
                                      " bmRequestType=0x%02x bRequest=%u wValue=0x%04x "
                                      "wIndex=0x%04x wLength=%u",
                                      bm, req, val, idx, len);
            }
        }
      else if (m->type == USBIP_MESSAGE_RET_SUBMIT)
        g_string_append_printf (s,
                                " status=%d actual_length=%d start_frame=%d number_of_packets=%d "
                                "error_count=%d",
                                u->u.ret_submit.status, u->u.ret_submit.actual_length, u->u.ret_submit.start_frame,
                                u->u.ret_submit.number_of_packets, u->u.ret_submit.error_count);
      else if (m->type == USBIP_MESSAGE_CMD_UNLINK)
        g_string_append_printf (s, " unlink_seqnum=%u", u->u.cmd_unlink.unlink_seqnum);
      else
        g_string_append_printf (s, " status=%d", u->u.ret_unlink.status);
      g_string_append_printf (s, " data_len=%" G_GSIZE_FORMAT, m->data_len);
      for (guint i = 0; i < m->n_iso; i++)
        g_string_append_printf (s, " iso%u={offset=%u length=%u actual_length=%u status=%d}", i, m->iso[i].offset,
                                m->iso[i].length, m->iso[i].actual_length, (gint32) m->iso[i].status);
      break;
    }
  g_string_append_printf (s, " bytes=%" G_GSIZE_FORMAT, raw_len);
}

static const gchar *
note_kind_name (UsbipTraceNoteKind kind)
{
  switch (kind)
    {
    case USBIP_TRACE_NOTE_TRUNCATED:
      return "truncated";
    case USBIP_TRACE_NOTE_PROTOCOL:
      return "protocol-error";
    case USBIP_TRACE_NOTE_DAMAGED:
      return "damaged";
    default:
      return "info";
    }
}

/* ---- JSON ---- */

static void
j_device (JsonBuilder *b, const UsbipDeviceInfo *d)
{
  /* the same device object as `list -r --json`, plus the raw wire values */
  json_builder_begin_object (b);
  usbip_tool_json_device (b, d);
  usbip_tool_json_int (b, "speed_code", d->speed);
  usbip_tool_json_int (b, "num_interfaces", d->bNumInterfaces);
  json_builder_end_object (b);
}

static void
json_message (JsonBuilder *b, const UsbipMessage *m, gsize raw_len)
{
  const UsbipUrbHeader *u = &m->urb;

  usbip_tool_json_str (b, "message", usbip_message_type_to_string (m->type));
  usbip_tool_json_int (b, "bytes", (gint64) raw_len);
  switch (m->type)
    {
    case USBIP_MESSAGE_OP_REQ_DEVLIST:
    case USBIP_MESSAGE_OP_REP_DEVLIST:
    case USBIP_MESSAGE_OP_REQ_IMPORT:
    case USBIP_MESSAGE_OP_REP_IMPORT:
      usbip_tool_json_int (b, "version", m->op.version);
      usbip_tool_json_int (b, "code", m->op.code);
      usbip_tool_json_int (b, "status", m->op.status);
      if (m->type == USBIP_MESSAGE_OP_REQ_IMPORT)
        usbip_tool_json_str (b, "busid", m->busid);
      if (m->type == USBIP_MESSAGE_OP_REP_DEVLIST)
        {
          json_builder_set_member_name (b, "devices");
          json_builder_begin_array (b);
          for (guint i = 0; m->devices != NULL && i < m->devices->len; i++)
            j_device (b, g_ptr_array_index (m->devices, i));
          json_builder_end_array (b);
        }
      if (m->type == USBIP_MESSAGE_OP_REP_IMPORT)
        {
          json_builder_set_member_name (b, "device");
          if (m->device != NULL)
            j_device (b, m->device);
          else
            json_builder_add_null_value (b);
        }
      return;

    default:
      break;
    }

  usbip_tool_json_int (b, "command", u->command);
  usbip_tool_json_int (b, "seqnum", u->seqnum);
  usbip_tool_json_int (b, "devid", u->devid);
  usbip_tool_json_int (b, "direction", u->direction);
  usbip_tool_json_int (b, "ep", u->ep);
  switch (m->type)
    {
    case USBIP_MESSAGE_CMD_SUBMIT:
      {
        g_autofree gchar *setup = hex_bytes (u->u.cmd_submit.setup, 8);
        usbip_tool_json_int (b, "transfer_flags", u->u.cmd_submit.transfer_flags);
        usbip_tool_json_int (b, "transfer_buffer_length", u->u.cmd_submit.transfer_buffer_length);
        usbip_tool_json_int (b, "start_frame", u->u.cmd_submit.start_frame);
        usbip_tool_json_int (b, "number_of_packets", u->u.cmd_submit.number_of_packets);
        usbip_tool_json_int (b, "interval", u->u.cmd_submit.interval);
        usbip_tool_json_str (b, "setup", setup);
        if (has_setup (m))
          {
            guint bm, req, val, idx, len;
            setup_fields (u->u.cmd_submit.setup, &bm, &req, &val, &idx, &len);
            json_builder_set_member_name (b, "setup_packet");
            json_builder_begin_object (b);
            usbip_tool_json_int (b, "bmRequestType", bm);
            usbip_tool_json_int (b, "bRequest", req);
            usbip_tool_json_int (b, "wValue", val);
            usbip_tool_json_int (b, "wIndex", idx);
            usbip_tool_json_int (b, "wLength", len);
            json_builder_end_object (b);
          }
        break;
      }
    case USBIP_MESSAGE_RET_SUBMIT:
      usbip_tool_json_int (b, "status", u->u.ret_submit.status);
      usbip_tool_json_int (b, "actual_length", u->u.ret_submit.actual_length);
      usbip_tool_json_int (b, "start_frame", u->u.ret_submit.start_frame);
      usbip_tool_json_int (b, "number_of_packets", u->u.ret_submit.number_of_packets);
      usbip_tool_json_int (b, "error_count", u->u.ret_submit.error_count);
      break;
    case USBIP_MESSAGE_CMD_UNLINK:
      usbip_tool_json_int (b, "unlink_seqnum", u->u.cmd_unlink.unlink_seqnum);
      break;
    default:
      usbip_tool_json_int (b, "status", u->u.ret_unlink.status);
      break;
    }
  usbip_tool_json_int (b, "data_len", (gint64) m->data_len);
  json_builder_set_member_name (b, "iso_packets");
  json_builder_begin_array (b);
  for (guint i = 0; i < m->n_iso; i++)
    {
      json_builder_begin_object (b);
      usbip_tool_json_int (b, "offset", m->iso[i].offset);
      usbip_tool_json_int (b, "length", m->iso[i].length);
      usbip_tool_json_int (b, "actual_length", m->iso[i].actual_length);
      usbip_tool_json_int (b, "status", (gint32) m->iso[i].status);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static gchar *
json_to_line (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/**
 * usbip_tool_trace_format_event:
 * @event: a `const UsbipTraceEvent *`
 * @json: JSON object instead of text
 *
 * Returns: (transfer full): one line without the newline
 */
gchar *
usbip_tool_trace_format_event (gconstpointer event, gboolean json)
{
  const UsbipTraceEvent *ev = event;
  g_autofree gchar *time = format_time (ev->ts_sec, ev->ts_nsec);
  const gchar *flow = ev->from_client ? "c>s" : "s>c";

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      usbip_tool_json_int (b, "schema", USBIP_TOOL_JSON_SCHEMA);
      usbip_tool_json_str (b, "type", ev->type == USBIP_TRACE_EVENT_MESSAGE ? "usbip-message" : "usbip-note");
      usbip_tool_json_int (b, "frame", ev->frame);
      if (ev->frame != 0)
        {
          usbip_tool_json_str (b, "time", time);
          usbip_tool_json_int (b, "ts_sec", ev->ts_sec);
          usbip_tool_json_int (b, "ts_nsec", ev->ts_nsec);
        }
      if (ev->stream_id >= 0)
        {
          usbip_tool_json_int (b, "stream", ev->stream_id);
          usbip_tool_json_str (b, "flow", flow);
          usbip_tool_json_str (b, "client", ev->client);
          usbip_tool_json_str (b, "server", ev->server);
        }
      if (ev->type == USBIP_TRACE_EVENT_MESSAGE)
        json_message (b, ev->message, ev->raw_len);
      else
        {
          usbip_tool_json_str (b, "kind", note_kind_name (ev->note_kind));
          usbip_tool_json_str (b, "note", ev->note);
        }
      json_builder_end_object (b);
      return json_to_line (b);
    }
  else
    {
      GString *s = g_string_new (NULL);
      if (ev->frame != 0)
        g_string_append_printf (s, "%s #%u", time, ev->frame);
      else
        g_string_append (s, "end");
      if (ev->type == USBIP_TRACE_EVENT_MESSAGE)
        {
          g_string_append_printf (s, " stream %d %s", ev->stream_id, flow);
          text_message (s, ev->message, ev->raw_len);
        }
      else
        g_string_append_printf (s, " note (%s): %s", note_kind_name (ev->note_kind), ev->note);
      {
        /* busids and paths come from the capture: one printable line whatever they hold */
        g_autofree gchar *raw = g_string_free (s, FALSE);
        return usbip_text_escape (raw, -1);
      }
    }
}

typedef struct {
  gboolean json;
} Printer;

static void
print_event (const UsbipTraceEvent *ev, gpointer user_data)
{
  Printer *p = user_data;
  g_autofree gchar *line = usbip_tool_trace_format_event (ev, p->json);

  fputs (line, stdout);
  fputc ('\n', stdout);
}

/* A failure: the message on stderr and, with --json, an error object on stdout (as every
 * verb writes one); returns the exit code the error maps to (docs/cli.md). */
static int
trace_fail (gboolean json, GError *error)
{
  int code = usbip_tool_exit_code (error);

  if (json)
    {
      UsbipToolOutput out = { .json = TRUE, .out = g_string_new (NULL) };
      usbip_tool_print_error (&out, error);
      fputs (out.out->str, stdout);
      fflush (stdout);
      g_string_free (out.out, TRUE);
    }
  {
    g_autofree gchar *shown = usbip_tools_message_text (error->message);
    g_printerr ("usbip-tool: error: %s\n", shown);
  }
  g_error_free (error);
  return code;
}

static int
trace_usage (gboolean json, const gchar *msg)
{
  return trace_fail (json, g_error_new (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                                        "%s (usage: usbip-tool trace decode FILE [--port N] [--json])", msg));
}

/* the capture's bytes; a clear error for what is not a readable regular file */
static GMappedFile *
open_capture (const gchar *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GMappedFile *file;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s is a directory: give a capture file in it (pcap or pcapng, e.g. written "
                   "by `tcpdump -w FILE`)",
                   path);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s is not a regular file (a pipe or a device?): save the capture to a file "
                   "first (`tcpdump -w FILE`) and decode that",
                   path);
      return NULL;
    }
  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      gint code = g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)   ? USBIP_ERROR_NOT_FOUND
                  : g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_ACCES) ? USBIP_ERROR_PERMISSION
                                                                                    : USBIP_ERROR_FAILED;
      g_set_error (error, USBIP_ERROR, code,
                   "cannot read the capture: %s; check the path and its "
                   "permissions",
                   local_error->message);
    }
  return file;
}

int
usbip_tool_trace_main (int argc, char **argv)
{
  gint port = USBIP_DEFAULT_TCP_PORT;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port of the USB/IP server in the capture (default 3240)", "N" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Write JSON Lines (docs/json-schema.md)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("trace decode FILE");
  GError *error = NULL;
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GBytes) bytes = NULL;
  UsbipTraceSummary sum = { 0 };
  Printer printer;
  g_autofree gchar *summary = NULL;

  /* --json may come after an option error: look for it first so that the error object
   * is written too */
  for (int i = 1; i < argc; i++)
    json = json || g_str_equal (argv[i], "--json") || g_str_equal (argv[i], "-j");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "Decode the USB/IP messages of a pcap or pcapng capture.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_autofree gchar *msg = g_strdup_printf ("trace: %s", error->message);
      g_clear_error (&error);
      return trace_usage (json, msg);
    }
  if (argc < 2 || !g_str_equal (argv[1], "decode"))
    return trace_usage (json, argc < 2 ? "trace: give a subcommand" : "trace: unknown subcommand");
  if (argc != 3)
    return trace_usage (json, "trace decode: give exactly one capture FILE");
  if (port <= 0 || port > 65535)
    return trace_usage (json, "trace decode: --port must be 1..65535");

  file = open_capture (argv[2], &error);
  if (file == NULL)
    return trace_fail (json, error);
  bytes = g_mapped_file_get_bytes (file);
  printer.json = json;
  if (!usbip_trace_decode (bytes, (guint16) port, print_event, &printer, &sum, &error))
    {
      /* not a capture at all: a failure of the file, not of the command line */
      GError *e = g_error_new (USBIP_ERROR, USBIP_ERROR_FAILED, "%s: %s", argv[2], error->message);
      g_error_free (error);
      return trace_fail (json, e);
    }

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      usbip_tool_json_int (b, "schema", USBIP_TOOL_JSON_SCHEMA);
      usbip_tool_json_str (b, "type", "usbip-trace-summary");
      usbip_tool_json_int (b, "frames", sum.n_frames);
      usbip_tool_json_int (b, "streams", sum.n_streams);
      usbip_tool_json_int (b, "messages", sum.n_messages);
      usbip_tool_json_int (b, "protocol_errors", sum.n_protocol_errors);
      json_builder_set_member_name (b, "truncated");
      json_builder_add_boolean_value (b, sum.truncated);
      json_builder_set_member_name (b, "damaged");
      json_builder_add_boolean_value (b, sum.damaged);
      json_builder_end_object (b);
      summary = json_to_line (b);
    }
  else
    summary = g_strdup_printf ("end summary: %u frames, %u USB/IP streams, %u messages, %u protocol "
                               "errors%s%s",
                               sum.n_frames, sum.n_streams, sum.n_messages, sum.n_protocol_errors,
                               sum.truncated ? ", capture truncated" : "", sum.damaged ? ", capture file damaged" : "");
  printf ("%s\n", summary);
  fflush (stdout);
  if (sum.damaged)
    return trace_fail (json, g_error_new (USBIP_ERROR, USBIP_ERROR_FAILED,
                                          "%s: the capture file is damaged; %u messages were "
                                          "decoded before the damage (see the notes)",
                                          argv[2], sum.n_messages));
  if (sum.n_protocol_errors > 0)
    return trace_fail (json, g_error_new (USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                                          "%s: %u direction(s) of USB/IP traffic are not valid "
                                          "USB/IP (see the protocol-error notes); is --port %d "
                                          "the USB/IP server's port?",
                                          argv[2], sum.n_protocol_errors, port));
  return USBIP_TOOL_EXIT_OK;
}
