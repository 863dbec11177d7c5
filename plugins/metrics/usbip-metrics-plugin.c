/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics plugin: serves GET /metrics (Prometheus text format 0.0.4) with libsoup's
 * SoupServer on each `[metrics] listen` address, counting the events of every exporter,
 * importer and supervisor the program hands to the plugin registry.
 */
#include "config.h"

#include <libsoup/soup.h>

#include "usbip-metrics-collector.h"
#include "usbip-metrics-text.h"

/* loopback only unless configured otherwise; the port is in docs/ops.md */
#define DEFAULT_LISTEN "127.0.0.1:9240"

gboolean usbip_metrics_plugin_register (UsbipPluginContext *ctx, GError **error);

static void
on_object_added (GObject *registry, GObject *object, UsbipMetricsCollector *collector)
{
  usbip_metrics_collector_watch (collector, object);
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

static gboolean
listen_on (SoupServer *server, const gchar *address, GError **error)
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
  if (!soup_server_listen (server, sockaddr, 0, &local_error))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "cannot serve metrics on %s: %s: pick another [metrics] listen address", address,
                   local_error->message);
      return FALSE;
    }
  g_info ("serving metrics on http://%s/metrics", address);
  return TRUE;
}

gboolean
usbip_metrics_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_autoptr (UsbipMetricsCollector) collector = NULL;
  g_autoptr (SoupServer) server = NULL;
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
  soup_server_add_handler (server, NULL, handle_metrics, collector, NULL);
  for (guint i = 0; listen[i] != NULL; i++)
    if (!listen_on (server, g_strstrip (listen[i]), error))
      {
        soup_server_disconnect (server);
        return FALSE;
      }
  g_signal_connect_object (usbip_plugin_context_get_registry (ctx), "object-added", G_CALLBACK (on_object_added),
                           collector, 0);
  usbip_plugin_context_keep (ctx, G_OBJECT (collector));
  usbip_plugin_context_keep (ctx, G_OBJECT (server));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (metrics, usbip_metrics_plugin_register)
