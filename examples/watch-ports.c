/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prints each vhci port as it is attached or released, by this program or any other
 * (upstream `usbip attach` included). Needs the vhci plugin; reading needs no root.
 *
 *   cc watch-ports.c $(pkg-config --cflags --libs usbipcore-1) -o watch-ports
 *   ./watch-ports
 */
#include <stdio.h>

#include <glib-unix.h>
#include <usbipcore.h>

static void
on_added (UsbipPortMonitor *monitor, const UsbipPortInfo *p, gpointer data)
{
  g_print ("port %u: %s:%s %s\n", p->port, p->remote_host, p->remote_port, p->remote_busid);
}

static void
on_removed (UsbipPortMonitor *monitor, const UsbipPortInfo *p, gboolean kept, gpointer data)
{
  g_print ("port %u: released%s\n", p->port, kept ? " (link lost)" : "");
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
  g_autoptr (UsbipPluginRegistry) registry = usbip_plugin_registry_new (NULL, NULL);
  g_autoptr (UsbipPortMonitor) monitor = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  UsbipImportBackend *vhci;

  setvbuf (stdout, NULL, _IOLBF, 0); /* each event as it happens, through a pipe too */
  if (!usbip_plugin_registry_load (registry, &error)
      || (vhci = usbip_plugin_registry_get_import_backend (registry, "vhci", &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  monitor = usbip_port_monitor_new (vhci);
  g_signal_connect (monitor, "port-added", G_CALLBACK (on_added), NULL);
  g_signal_connect (monitor, "port-removed", G_CALLBACK (on_removed), NULL);
  if (!usbip_port_monitor_start (monitor, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("watching the vhci ports\n");
  g_unix_signal_add (SIGINT, on_sigint, loop);
  g_main_loop_run (loop);
  usbip_port_monitor_stop (monitor);
  return 0;
}
