/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Serves the devices bound to usbip-host with the metrics plugin enabled from the program
 * (no configuration file): Prometheus scrapes the exporter's counters at
 * http://METRICS/metrics. Needs root (usbip-host) and the host and metrics plugins.
 *
 *   cc serve-metrics.c $(pkg-config --cflags --libs usbipcore-1) -o serve-metrics
 *   ./serve-metrics 0.0.0.0:3240 127.0.0.1:9240
 *   curl http://127.0.0.1:9240/metrics
 */
#include <stdio.h>

#include <glib-unix.h>
#include <usbipcore.h>

static gboolean
on_sigint (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (UsbipPluginRegistry) registry = NULL;
  g_autoptr (UsbipExporter) exporter = NULL;
  g_autoptr (UsbipTransport) tcp = usbip_transport_tcp_new ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree gchar *conf = NULL;
  UsbipExportBackend *host;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (argc != 3)
    {
      g_printerr ("usage: %s ADDRESS:PORT METRICS-ADDRESS:PORT\n", argv[0]);
      return 2;
    }
  /* what usbipcore.conf would say: the plugins to load, and the [metrics] group */
  conf = g_strdup_printf ("[plugins]\nenabled=host;metrics\n[metrics]\nlisten=%s\n", argv[2]);
  if (!usbip_config_load_data (config, conf, (gsize) -1, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  registry = usbip_plugin_registry_new (config, NULL);
  if (!usbip_plugin_registry_load (registry, &error)
      || (host = usbip_plugin_registry_get_export_backend (registry, "host", &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  exporter = usbip_exporter_new (host);
  /* the plugins see the exporter (the metrics plugin counts its events) */
  usbip_plugin_registry_add_object (registry, G_OBJECT (exporter));
  if (!usbip_exporter_listen (exporter, tcp, argv[1], &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  usbip_exporter_start (exporter);
  g_print ("serving on %s, metrics at http://%s/metrics\n", argv[1], argv[2]);
  g_unix_signal_add (SIGINT, on_sigint, loop);
  g_main_loop_run (loop);
  return 0;
}
