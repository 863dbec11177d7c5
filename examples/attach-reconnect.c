/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Attaches a remote device and keeps it attached across outages, printing each event.
 * Needs root (vhci_hcd) and the vhci plugin.
 *
 *   cc attach-reconnect.c $(pkg-config --cflags --libs usbipcore-1) -o attach-reconnect
 *   ./attach-reconnect 192.0.2.10:3240 1-1
 */
#include <stdio.h>

#include <glib-unix.h>
#include <usbipcore.h>

static void
on_state (UsbipSupervisor *supervisor, GParamSpec *pspec, gpointer data)
{
  g_print ("state %s\n", usbip_supervisor_state_to_string (usbip_supervisor_get_state (supervisor)));
}

static void
on_attached (UsbipSupervisor *supervisor, const UsbipPortInfo *port, gpointer data)
{
  g_print ("attached on port %u\n", port->port);
}

static void
on_lost (UsbipSupervisor *supervisor, const UsbipPortInfo *port, gpointer data)
{
  g_print ("lost port %u\n", port->port);
}

static void
on_reconnecting (UsbipSupervisor *supervisor, guint attempt, guint delay_ms, const GError *cause, gpointer data)
{
  g_print ("retry %u in %u ms: %s\n", attempt, delay_ms, cause->message);
}

static void
on_reconnected (UsbipSupervisor *supervisor, const UsbipPortInfo *port, gpointer data)
{
  g_print ("back on port %u\n", port->port);
}

static void
on_gave_up (UsbipSupervisor *supervisor, const GError *error, GMainLoop *loop)
{
  g_print ("gave up: %s\n", error->message);
  g_main_loop_quit (loop);
}

static void
on_detached (UsbipSupervisor *supervisor, const UsbipPortInfo *port, GMainLoop *loop)
{
  g_print ("detached by someone\n");
  g_main_loop_quit (loop);
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
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (UsbipImporter) importer = NULL;
  g_autoptr (UsbipSupervisor) supervisor = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  UsbipImportBackend *vhci;

  setvbuf (stdout, NULL, _IOLBF, 0); /* each event as it happens, through a pipe too */
  if (argc != 3)
    {
      g_printerr ("usage: %s HOST[:PORT] BUSID\n", argv[0]);
      return 2;
    }
  registry = usbip_plugin_registry_new (NULL, NULL);
  remote = usbip_remote_parse (argv[1], USBIP_DEFAULT_TCP_PORT, &error);
  if (remote == NULL || !usbip_plugin_registry_load (registry, &error)
      || (vhci = usbip_plugin_registry_get_import_backend (registry, "vhci", &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  /* the registry also gives the transports of unix: and vsock: remotes */
  importer = usbip_importer_new (vhci, NULL);
  usbip_importer_set_plugin_registry (importer, registry);
  supervisor = usbip_supervisor_new (importer, remote, argv[2]);
  g_signal_connect (supervisor, "notify::state", G_CALLBACK (on_state), NULL);
  g_signal_connect (supervisor, "attached", G_CALLBACK (on_attached), NULL);
  g_signal_connect (supervisor, "lost", G_CALLBACK (on_lost), NULL);
  g_signal_connect (supervisor, "reconnecting", G_CALLBACK (on_reconnecting), NULL);
  g_signal_connect (supervisor, "reconnected", G_CALLBACK (on_reconnected), NULL);
  g_signal_connect (supervisor, "gave-up", G_CALLBACK (on_gave_up), loop);
  g_signal_connect (supervisor, "detached", G_CALLBACK (on_detached), loop);
  if (!usbip_supervisor_start (supervisor, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_unix_signal_add (SIGINT, on_sigint, loop);
  g_main_loop_run (loop);
  usbip_supervisor_stop (supervisor);
  return 0;
}
