/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics plugin: serves GET /metrics (Prometheus text format 0.0.4) with libsoup's
 * SoupServer, fed by a GSocketService of its own on each `[metrics] listen` address,
 * counting the events of every exporter, importer and supervisor the program hands to the
 * plugin registry.
 */
#include "config.h"

#include <libsoup/soup.h>

#include "usbip-metrics-collector.h"
#include "usbip-metrics-text.h"

/* loopback only unless configured otherwise; the port is in docs/ops.md */
#define DEFAULT_LISTEN "127.0.0.1:9240"
/* SoupServer bounds neither how many connections it keeps nor how long one may idle: past
 * MAX_CONNECTIONS a new one is closed at once, and one with no traffic for IDLE_TIMEOUT_S is
 * closed, so scrapers cannot take the descriptors the program serves USB/IP with */
#define MAX_CONNECTIONS 64
#define IDLE_TIMEOUT_S 10

typedef struct {
  SoupServer *server; /* NULL once the service is gone: the last connection frees this */
  guint connections;
} Endpoint;

gboolean usbip_metrics_plugin_register (UsbipPluginContext *ctx, GError **error);

static void
on_object_added (GObject *registry, GObject *object, UsbipMetricsCollector *collector)
{
  usbip_metrics_collector_watch (collector, object);
}

/* before the body is read: a request that carries one (no GET of /metrics has any) gets its
 * answer, and its body is read and dropped as it comes instead of being kept for a handler,
 * so a large upload costs no memory */
static void
refuse_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0
      && g_strcmp0 (soup_server_message_get_method (msg), "HEAD") != 0)
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
  else if (encoding == SOUP_ENCODING_CHUNKED
           || (encoding == SOUP_ENCODING_CONTENT_LENGTH && soup_message_headers_get_content_length (headers) > 0))
    soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
  else
    return;
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
handle_metrics (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  UsbipMetricsCollector *collector = data;
  gchar *text;

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0
      && g_strcmp0 (soup_server_message_get_method (msg), "HEAD") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }
  if (g_strcmp0 (path, "/metrics") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "see /metrics\n", 13);
      return;
    }
  text = usbip_metrics_collector_render (collector);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, USBIP_METRICS_CONTENT_TYPE, SOUP_MEMORY_TAKE, text, strlen (text));
}

static void
connection_closed (gpointer data, GObject *where_the_connection_was)
{
  Endpoint *endpoint = data;

  if (--endpoint->connections == 0 && endpoint->server == NULL)
    g_free (endpoint);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source, Endpoint *endpoint)
{
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr (GError) error = NULL;

  if (endpoint->connections >= MAX_CONNECTIONS)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  g_socket_set_timeout (g_socket_connection_get_socket (connection), IDLE_TIMEOUT_S);
  if (!soup_server_accept_iostream (endpoint->server, G_IO_STREAM (connection), local, remote, &error))
    {
      g_debug ("metrics: cannot serve a connection: %s", error->message);
      return TRUE;
    }
  endpoint->connections++;
  g_object_weak_ref (G_OBJECT (connection), connection_closed, endpoint);
  return TRUE;
}

static gboolean
listen_on (GSocketService *service, const gchar *address, GError **error)
{
  g_autoptr (UsbipRemote) remote = usbip_remote_parse (address, 0, error);
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) sockaddr = NULL;
  g_autoptr (GError) local_error = NULL;

  if (remote == NULL)
    {
      g_prefix_error (error, "[metrics] listen=%s: ", address);
      return FALSE;
    }
  inet = g_inet_address_new_from_string (remote->host);
  if (inet == NULL || remote->port == 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[metrics] listen=%s: expected a numeric ADDR:PORT such as " DEFAULT_LISTEN " or [::1]:9240",
                   address);
      return FALSE;
    }
  sockaddr = g_inet_socket_address_new (inet, remote->port);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), sockaddr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, NULL, &local_error))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "cannot serve metrics on %s: %s: pick another address",
                   address, local_error->message);
      return FALSE;
    }
  g_info ("serving metrics on http://%s/metrics", address);
  return TRUE;
}

static void
endpoint_free (gpointer data, GObject *where_the_service_was)
{
  Endpoint *endpoint = data;

  g_clear_object (&endpoint->server);
  if (endpoint->connections == 0)
    g_free (endpoint);
}

gboolean
usbip_metrics_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_autoptr (UsbipMetricsCollector) collector = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (GSocketService) service = NULL;
  Endpoint *endpoint;
  g_auto (GStrv) listen = NULL;

  usbip_plugin_context_register_key (ctx, "listen", USBIP_CONFIG_TYPE_STRING_LIST, DEFAULT_LISTEN, 0, 0,
                                     "ADDR:PORT list to serve /metrics on");
  if (!usbip_plugin_context_check_config (ctx, error))
    return FALSE;
  listen = usbip_plugin_context_get_string_list (ctx, "listen");
  if (listen == NULL || listen[0] == NULL)
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                           "[metrics] listen is empty: give at least one ADDR:PORT (default " DEFAULT_LISTEN ")");
      return FALSE;
    }
  collector = usbip_metrics_collector_new ();
  server = soup_server_new ("server-header", "usbipcore-metrics", NULL);
  soup_server_add_early_handler (server, NULL, refuse_early, NULL, NULL);
  soup_server_add_handler (server, NULL, handle_metrics, collector, NULL);
  service = g_socket_service_new ();
  endpoint = g_new0 (Endpoint, 1);
  endpoint->server = g_object_ref (server);
  g_object_weak_ref (G_OBJECT (service), endpoint_free, endpoint);
  /* GSocketListener's default of 10 would leave a burst of scrapers waiting on SYN retries */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), MAX_CONNECTIONS);
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), endpoint);
  for (guint i = 0; listen[i] != NULL; i++)
    if (!listen_on (service, g_strstrip (listen[i]), error))
      {
        g_socket_listener_close (G_SOCKET_LISTENER (service));
        return FALSE;
      }
  g_signal_connect_object (usbip_plugin_context_get_registry (ctx), "object-added", G_CALLBACK (on_object_added),
                           collector, 0);
  usbip_plugin_context_keep (ctx, G_OBJECT (collector));
  usbip_plugin_context_keep (ctx, G_OBJECT (server));
  usbip_plugin_context_keep (ctx, G_OBJECT (service));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (metrics, usbip_metrics_plugin_register)
