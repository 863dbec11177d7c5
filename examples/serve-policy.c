/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Serves the devices bound to usbip-host (`usbip-tool bind -b BUSID` first) to one subnet
 * only, at most 4 handshakes at once, printing who connects and what is exported.
 * Needs root (usbip-host) and the host plugin.
 *
 *   cc serve-policy.c $(pkg-config --cflags --libs usbipcore-1) -o serve-policy
 *   ./serve-policy 0.0.0.0:3240 192.0.2.0/24
 */
#include <stdio.h>

#include <glib-unix.h>
#include <usbipcore.h>

static void
on_opened (UsbipExporter *exporter, const gchar *peer, gpointer data)
{
  g_print ("connected %s\n", peer);
}

static void
on_exported (UsbipExporter *exporter, const gchar *busid, const gchar *peer, gpointer data)
{
  g_print ("exported %s to %s\n", busid, peer);
}

static void
on_import_refused (UsbipExporter *exporter, const gchar *peer, const gchar *busid, guint status, const gchar *reason,
                   gpointer data)
{
  g_print ("refused %s to %s %s\n", busid, peer, reason);
}

static void
on_connection_refused (UsbipExporter *exporter, const gchar *peer, const gchar *rule, gpointer data)
{
  g_print ("refused %s by %s\n", peer, rule);
}

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
  g_autoptr (UsbipPluginRegistry) registry = NULL;
  g_autoptr (UsbipExporter) exporter = NULL;
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  g_autoptr (UsbipTransport) tcp = usbip_transport_tcp_new ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  UsbipExportBackend *host;

  setvbuf (stdout, NULL, _IOLBF, 0); /* each event as it happens, through a pipe too */
  if (argc != 3)
    {
      g_printerr ("usage: %s ADDRESS:PORT CIDR\n", argv[0]);
      return 2;
    }
  registry = usbip_plugin_registry_new (NULL, NULL);
  if (!usbip_plugin_registry_load (registry, &error)
      || (host = usbip_plugin_registry_get_export_backend (registry, "host", &error)) == NULL
      || !usbip_policy_add_allow_cidr (policy, argv[2], &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  usbip_policy_set_max_sessions (policy, 4);
  exporter = usbip_exporter_new (host);
  usbip_exporter_set_policy (exporter, policy);
  g_signal_connect (exporter, "session-opened", G_CALLBACK (on_opened), NULL);
  g_signal_connect (exporter, "device-exported", G_CALLBACK (on_exported), NULL);
  g_signal_connect (exporter, "import-refused", G_CALLBACK (on_import_refused), NULL);
  g_signal_connect (exporter, "connection-refused", G_CALLBACK (on_connection_refused), NULL);
  if (!usbip_exporter_listen (exporter, tcp, argv[1], &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  usbip_exporter_start (exporter);
  g_print ("serving on %s\n", argv[1]);
  g_unix_signal_add (SIGINT, on_sigint, loop);
  g_main_loop_run (loop);
  return 0;
}
