/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `usbip-tool status [--socket PATH]`: what usbipcored is doing, read from its status socket
 * (HTTP+JSON on a Unix socket, docs/ops.md). --json writes one `status` object carrying
 * /v1/status and the handshakes in progress from /v1/sessions.
 */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "usbip-tool-status.h"

static JsonObject *
get_json (SoupSession *session, const gchar *socket_path, const gchar *path, GError **error)
{
  g_autofree gchar *uri = g_strconcat ("http://localhost", path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  body = soup_session_send_and_read (session, msg, NULL, &local_error);
  if (body == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONNECTION,
                   "cannot reach usbipcored's status socket %s: %s: is usbipcored running, and is this its "
                   "--status-socket? (give it with --socket)",
                   socket_path, local_error->message);
      return NULL;
    }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL)
      || !JSON_NODE_HOLDS_OBJECT ((root = json_parser_get_root (parser))))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s answered %s with HTTP %u and no JSON object: is it usbipcored's status socket?", socket_path,
                   path, soup_message_get_status (msg));
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

/* TRUE when MEMBER of O holds a value of TYPE (G_TYPE_INVALID: an array; G_TYPE_OBJECT: an
 * object); another JSON server on the socket answers with other members, or none */
static gboolean
has_member_of (JsonObject *o, const gchar *member, GType type)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, member) : NULL;

  if (node == NULL)
    return FALSE;
  if (type == G_TYPE_INVALID)
    return JSON_NODE_HOLDS_ARRAY (node);
  if (type == G_TYPE_OBJECT)
    return JSON_NODE_HOLDS_OBJECT (node);
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* the members this verb reads, each of the type usbipcored writes (docs/ops.md) */
static gboolean
check_shape (JsonObject *st, JsonObject *sessions, const gchar *socket_path, GError **error)
{
  static const struct {
    const gchar *member;
    GType type;
  } members[] = { { "version", G_TYPE_STRING },    { "uptime_s", G_TYPE_INT64 },  { "draining", G_TYPE_BOOLEAN },
                  { "listeners", G_TYPE_INVALID }, { "plugins", G_TYPE_INVALID }, { "policy", G_TYPE_OBJECT },
                  { "counters", G_TYPE_OBJECT } };
  const gchar *missing = NULL;
  JsonArray *list;

  for (guint i = 0; missing == NULL && i < G_N_ELEMENTS (members); i++)
    if (!has_member_of (st, members[i].member, members[i].type))
      missing = members[i].member;
  if (missing == NULL && !has_member_of (sessions, "sessions", G_TYPE_INVALID))
    missing = "sessions";
  list = missing == NULL ? json_object_get_array_member (sessions, "sessions") : NULL;
  for (guint i = 0; missing == NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *s =
          JSON_NODE_HOLDS_OBJECT (json_array_get_element (list, i)) ? json_array_get_object_element (list, i) : NULL;

      if (!has_member_of (s, "peer", G_TYPE_STRING) || !has_member_of (s, "state", G_TYPE_STRING)
          || !has_member_of (s, "age_ms", G_TYPE_INT64))
        missing = "sessions";
    }
  if (missing == NULL)
    return TRUE;
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
               "%s answered with JSON that is not usbipcored's status (member \"%s\" is missing or of another "
               "type): is it usbipcored's status socket? (give that with --socket)",
               socket_path, missing);
  return FALSE;
}

static gchar *
join_strings (JsonObject *o, const gchar *member, const gchar *none)
{
  JsonArray *a = has_member_of (o, member, G_TYPE_INVALID) ? json_object_get_array_member (o, member) : NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new ();

  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      JsonNode *node = json_array_get_element (a, i);

      /* a value of another type is left out rather than ending the list */
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_ptr_array_add (items, (gpointer) json_node_get_string (node));
    }
  g_ptr_array_add (items, NULL);
  return items->len > 1 ? g_strjoinv (", ", (gchar **) items->pdata) : g_strdup (none);
}

/* the Unix-socket and vsock peer rules, on a line of their own when any is set (a daemon
 * before these rules existed has no such members) */
static void
append_peer_rules (UsbipToolOutput *out, JsonObject *policy)
{
  static const gchar *const members[] = { "allow_uid", "allow_gid", "allow_cid" };
  g_autoptr (GString) line = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      g_autofree gchar *key = g_strdelimit (g_strdup (members[i]), "_", '-');
      g_autofree gchar *values = join_strings (policy, members[i], NULL);

      if (values == NULL)
        continue;
      g_string_append_printf (line, "%s%s %s", line->len > 0 ? "; " : "", key, usbip_tool_text (out, values));
    }
  if (line->len > 0)
    g_string_append_printf (out->out, "peer rules: %s\n", line->str);
}

static void
print_human (UsbipToolOutput *out, JsonObject *st, JsonArray *sessions)
{
  JsonObject *policy = json_object_get_object_member (st, "policy");
  JsonObject *counters = json_object_get_object_member (st, "counters");
  g_autofree gchar *listeners = join_strings (st, "listeners", "none");
  g_autofree gchar *plugins = join_strings (st, "plugins", "none");
  g_autofree gchar *cidrs = join_strings (policy, "allow_cidr", "any");

  g_string_append_printf (out->out, "usbipcored %s: %s, up %" G_GINT64_FORMAT " s\n",
                          usbip_tool_text (out, json_object_get_string_member (st, "version")),
                          json_object_get_boolean_member (st, "draining") ? "draining" : "serving",
                          json_object_get_int_member (st, "uptime_s"));
  g_string_append_printf (out->out, "listeners: %s\n", usbip_tool_text (out, listeners));
  g_string_append_printf (out->out, "plugins: %s\n", usbip_tool_text (out, plugins));
  g_string_append_printf (out->out,
                          "policy: allow-cidr %s; max-sessions %" G_GINT64_FORMAT
                          "; max-sessions-per-peer %" G_GINT64_FORMAT "; accept-rate-limit %g (0 = no limit)\n",
                          usbip_tool_text (out, cidrs),
                          json_object_get_int_member_with_default (policy, "max_sessions", 0),
                          json_object_get_int_member_with_default (policy, "max_sessions_per_peer", 0),
                          json_object_get_double_member_with_default (policy, "accept_rate_limit", 0));
  append_peer_rules (out, policy);
  g_string_append_printf (out->out, "handshakes in progress: %u\n", json_array_get_length (sessions));
  for (guint i = 0; i < json_array_get_length (sessions); i++)
    {
      JsonObject *s = json_array_get_object_element (sessions, i);
      const gchar *op = json_object_get_string_member_with_default (s, "op", NULL);
      const gchar *busid = json_object_get_string_member_with_default (s, "busid", NULL);

      g_string_append_printf (out->out, "  %s %s%s%s %s, %" G_GINT64_FORMAT " ms\n",
                              usbip_tool_text (out, json_object_get_string_member (s, "peer")),
                              op != NULL ? op : "(no request yet)", busid != NULL ? " " : "",
                              busid != NULL ? usbip_tool_text (out, busid) : "",
                              json_object_get_string_member (s, "state"), json_object_get_int_member (s, "age_ms"));
    }
  g_string_append_printf (out->out,
                          "since start: %" G_GINT64_FORMAT " connections, %" G_GINT64_FORMAT
                          " refused by policy, %" G_GINT64_FORMAT " handshakes, %" G_GINT64_FORMAT
                          " devices exported, %" G_GINT64_FORMAT " imports refused\n",
                          json_object_get_int_member_with_default (counters, "connections", 0),
                          json_object_get_int_member_with_default (counters, "connections_refused", 0),
                          json_object_get_int_member_with_default (counters, "handshakes", 0),
                          json_object_get_int_member_with_default (counters, "devices_exported", 0),
                          json_object_get_int_member_with_default (counters, "imports_refused", 0));
}

gboolean
usbip_tool_status (UsbipToolOutput *out, const gchar *socket_path, GError **error)
{
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (JsonObject) st = NULL;
  g_autoptr (JsonObject) sessions = NULL;

  if (socket_path == NULL)
    socket_path = USBIP_TOOL_STATUS_SOCKET;
  addr = g_unix_socket_address_new (socket_path);
  session = soup_session_new_with_options ("remote-connectable", addr, "timeout", 10, NULL);
  st = get_json (session, socket_path, "/v1/status", error);
  if (st == NULL || (sessions = get_json (session, socket_path, "/v1/sessions", error)) == NULL
      || !check_shape (st, sessions, socket_path, error))
    return FALSE;
  if (out->json)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autofree gchar *text = NULL;

      json_object_set_int_member (st, "schema", USBIP_TOOL_JSON_SCHEMA);
      json_object_set_string_member (st, "type", "status");
      /* the count of /v1/status becomes the list of /v1/sessions */
      json_object_set_array_member (st, "sessions",
                                    json_array_ref (json_object_get_array_member (sessions, "sessions")));
      json_node_set_object (node, st);
      text = json_to_string (node, FALSE);
      g_string_append_printf (out->out, "%s\n", text);
    }
  else
    print_human (out, st, json_object_get_array_member (sessions, "sessions"));
  return TRUE;
}
