/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status socket: a libsoup server on a Unix socket answering JSON about the daemon.
 * It reads the exporter's state when asked and counts the exporter's signals; it changes
 * nothing. `curl --unix-socket PATH http://localhost/v1/status` and `usbip-tool status`
 * are its clients.
 */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "usbipcored-status.h"

struct _UsbipcoredStatus {
  UsbipExporter *exporter;
  UsbipExportBackend *backend;
  UsbipPluginRegistry *registry;
  SoupServer *server;
  gchar *path; /* the socket file we created, removed on free */
  gint64 start_us;
  gchar *listeners;
  GStrv allow_cidr, allow_uid, allow_gid, allow_cid;
  guint max_sessions, max_sessions_per_peer;
  gdouble accept_rate;
  guint64 connections, connections_refused, handshakes, devices_exported, imports_refused;
};

static void
on_session_opened (UsbipExporter *e, const gchar *peer, UsbipcoredStatus *self)
{
  self->connections++;
}

static void
on_session_closed (UsbipExporter *e, const gchar *peer, const gchar *op, guint status, guint64 ms,
                   UsbipcoredStatus *self)
{
  self->handshakes++;
}

static void
on_connection_refused (UsbipExporter *e, const gchar *peer, const gchar *rule, UsbipcoredStatus *self)
{
  self->connections_refused++;
}

static void
on_device_exported (UsbipExporter *e, const gchar *busid, const gchar *peer, UsbipcoredStatus *self)
{
  self->devices_exported++;
}

static void
on_import_refused (UsbipExporter *e, const gchar *peer, const gchar *busid, guint status, const gchar *reason,
                   UsbipcoredStatus *self)
{
  self->imports_refused++;
}

static void
add_strv (JsonBuilder *b, const gchar *name, const gchar *const *list)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    json_builder_add_string_value (b, list[i]);
  json_builder_end_array (b);
}

static void
add_int (JsonBuilder *b, const gchar *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
build_status (UsbipcoredStatus *self, JsonBuilder *b)
{
  g_autoptr (GPtrArray) plugins = usbip_plugin_registry_list (self->registry);
  g_auto (GStrv) listeners = g_strsplit (self->listeners != NULL ? self->listeners : "", ", ", -1);
  gboolean draining = usbip_exporter_get_draining (self->exporter);

  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  add_int (b, "uptime_s", (g_get_monotonic_time () - self->start_us) / G_USEC_PER_SEC);
  add_strv (b, "listeners", (const gchar *const *) (listeners[0] != NULL && *listeners[0] ? listeners : NULL));
  json_builder_set_member_name (b, "plugins");
  json_builder_begin_array (b);
  for (guint i = 0; i < plugins->len; i++)
    {
      const UsbipPluginInfo *info = g_ptr_array_index (plugins, i);
      if (info->state == USBIP_PLUGIN_STATE_LOADED)
        json_builder_add_string_value (b, info->name);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "policy");
  json_builder_begin_object (b);
  add_strv (b, "allow_cidr", (const gchar *const *) self->allow_cidr);
  add_strv (b, "allow_uid", (const gchar *const *) self->allow_uid);
  add_strv (b, "allow_gid", (const gchar *const *) self->allow_gid);
  add_strv (b, "allow_cid", (const gchar *const *) self->allow_cid);
  add_int (b, "max_sessions", self->max_sessions);
  add_int (b, "max_sessions_per_peer", self->max_sessions_per_peer);
  json_builder_set_member_name (b, "accept_rate_limit");
  json_builder_add_double_value (b, self->accept_rate);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "draining");
  json_builder_add_boolean_value (b, draining);
  add_int (b, "sessions", usbip_exporter_get_n_sessions (self->exporter));
  json_builder_set_member_name (b, "counters");
  json_builder_begin_object (b);
  add_int (b, "connections", (gint64) self->connections);
  add_int (b, "connections_refused", (gint64) self->connections_refused);
  add_int (b, "handshakes", (gint64) self->handshakes);
  add_int (b, "devices_exported", (gint64) self->devices_exported);
  add_int (b, "imports_refused", (gint64) self->imports_refused);
  json_builder_end_object (b);
}

static void
build_sessions (UsbipcoredStatus *self, JsonBuilder *b)
{
  g_autoptr (GPtrArray) sessions = usbip_exporter_list_sessions (self->exporter);

  json_builder_set_member_name (b, "sessions");
  json_builder_begin_array (b);
  for (guint i = 0; i < sessions->len; i++)
    {
      const UsbipExporterSession *s = g_ptr_array_index (sessions, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "peer");
      json_builder_add_string_value (b, s->peer);
      json_builder_set_member_name (b, "op");
      json_builder_add_string_value (b, s->op);
      json_builder_set_member_name (b, "busid");
      json_builder_add_string_value (b, s->busid);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, s->state);
      add_int (b, "age_ms", (gint64) s->age_ms);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static const gchar *
device_status (UsbipDeviceStatus status)
{
  switch (status)
    {
    case USBIP_DEVICE_STATUS_AVAILABLE:
      return "available";
    case USBIP_DEVICE_STATUS_USED:
      return "exported";
    case USBIP_DEVICE_STATUS_ERROR:
      return "error";
    default:
      return "unknown";
    }
}

static void
build_devices (UsbipcoredStatus *self, JsonBuilder *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = usbip_export_backend_list_devices (self->backend, &error);
  g_autoptr (GHashTable) exports = usbip_exporter_list_exports (self->exporter);

  json_builder_set_member_name (b, "devices");
  json_builder_begin_array (b);
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      const UsbipDeviceInfo *d = g_ptr_array_index (devices, i);
      g_autofree gchar *vid = g_strdup_printf ("%04x", d->idVendor);
      g_autofree gchar *pid = g_strdup_printf ("%04x", d->idProduct);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "busid");
      json_builder_add_string_value (b, d->busid);
      json_builder_set_member_name (b, "vendor_id");
      json_builder_add_string_value (b, vid);
      json_builder_set_member_name (b, "product_id");
      json_builder_add_string_value (b, pid);
      json_builder_set_member_name (b, "status");
      json_builder_add_string_value (b, device_status (d->status));
      /* the peer we handed it to, while the kernel still holds it */
      json_builder_set_member_name (b, "peer");
      json_builder_add_string_value (b, d->status == USBIP_DEVICE_STATUS_USED ? g_hash_table_lookup (exports, d->busid)
                                                                              : NULL);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (devices == NULL)
    {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error->message);
    }
}

static void
respond (SoupServerMessage *msg, guint status, const gchar *type, gchar *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  UsbipcoredStatus *self = data;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) root = NULL;
  gboolean draining = usbip_exporter_get_draining (self->exporter);

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0)
    {
      respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", g_strdup ("only GET\n"));
      return;
    }
  if (g_str_equal (path, "/healthz"))
    {
      respond (msg, SOUP_STATUS_OK, "text/plain", g_strdup ("ok\n"));
      return;
    }
  if (g_str_equal (path, "/readyz"))
    {
      respond (msg, draining ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_OK, "text/plain",
               g_strdup (draining ? "draining\n" : "ready\n"));
      return;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  if (g_str_equal (path, "/v1/status"))
    build_status (self, b);
  else if (g_str_equal (path, "/v1/sessions"))
    build_sessions (self, b);
  else if (g_str_equal (path, "/v1/devices"))
    build_devices (self, b);
  else
    {
      respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain",
               g_strdup ("not found: try /v1/status, /v1/sessions, /v1/devices, /healthz, /readyz\n"));
      return;
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  respond (msg, SOUP_STATUS_OK, "application/json", json_to_string (root, FALSE));
}

UsbipcoredStatus *
usbipcored_status_new (UsbipExporter *exporter, UsbipExportBackend *backend, UsbipPluginRegistry *registry)
{
  UsbipcoredStatus *self = g_new0 (UsbipcoredStatus, 1);

  self->exporter = g_object_ref (exporter);
  self->backend = g_object_ref (backend);
  self->registry = g_object_ref (registry);
  self->start_us = g_get_monotonic_time ();
  self->server = soup_server_new ("server-header", "usbipcored", NULL);
  soup_server_add_handler (self->server, NULL, handle, self, NULL);
  g_signal_connect (exporter, "session-opened", G_CALLBACK (on_session_opened), self);
  g_signal_connect (exporter, "session-closed", G_CALLBACK (on_session_closed), self);
  g_signal_connect (exporter, "connection-refused", G_CALLBACK (on_connection_refused), self);
  g_signal_connect (exporter, "device-exported", G_CALLBACK (on_device_exported), self);
  g_signal_connect (exporter, "import-refused", G_CALLBACK (on_import_refused), self);
  return self;
}

void
usbipcored_status_set_info (UsbipcoredStatus *self, const UsbipcoredStatusInfo *info)
{
  g_free (self->listeners);
  self->listeners = g_strdup (info->listeners);
  g_strfreev (self->allow_cidr);
  self->allow_cidr = g_strdupv ((gchar **) info->allow_cidr);
  g_strfreev (self->allow_uid);
  self->allow_uid = g_strdupv ((gchar **) info->allow_uid);
  g_strfreev (self->allow_gid);
  self->allow_gid = g_strdupv ((gchar **) info->allow_gid);
  g_strfreev (self->allow_cid);
  self->allow_cid = g_strdupv ((gchar **) info->allow_cid);
  self->max_sessions = info->max_sessions;
  self->max_sessions_per_peer = info->max_sessions_per_peer;
  self->accept_rate = info->accept_rate;
}

/* TRUE if a server answers on @path */
static gboolean
socket_alive (const gchar *path)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
  g_autoptr (GSocketConnection) conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (addr), NULL, NULL);

  return conn != NULL;
}

gboolean
usbipcored_status_listen (UsbipcoredStatus *self, const gchar *path, GError **error)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) addr = NULL;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (socket_alive (path))
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
                       "status socket %s: another usbipcored answers there: stop it or give --status-socket "
                       "another path",
                       path);
          return FALSE;
        }
      unlink (path); /* left by a daemon that died */
    }
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  addr = g_unix_socket_address_new (path);
  if (socket == NULL || !g_socket_bind (socket, addr, FALSE, error) || !g_socket_listen (socket, error))
    {
      g_prefix_error (error, "status socket %s: ", path);
      usbip_error_convert (error);
      return FALSE;
    }
  if (chmod (path, 0660) < 0)
    {
      usbip_error_set_from_errno (error, errno, "status socket %s: cannot set mode 0660", path);
      return FALSE;
    }
  self->path = g_strdup (path);
  return usbipcored_status_add_socket (self, socket, error);
}

gboolean
usbipcored_status_add_socket (UsbipcoredStatus *self, GSocket *socket, GError **error)
{
  if (!soup_server_listen_socket (self->server, socket, 0, error))
    {
      usbip_error_convert (error);
      return FALSE;
    }
  return TRUE;
}

void
usbipcored_status_free (UsbipcoredStatus *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->exporter, self);
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  if (self->path != NULL)
    unlink (self->path);
  g_free (self->path);
  g_object_unref (self->exporter);
  g_object_unref (self->backend);
  g_object_unref (self->registry);
  g_free (self->listeners);
  g_strfreev (self->allow_cidr);
  g_strfreev (self->allow_uid);
  g_strfreev (self->allow_gid);
  g_strfreev (self->allow_cid);
  g_free (self);
}
