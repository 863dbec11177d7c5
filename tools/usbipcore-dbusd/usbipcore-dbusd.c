/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbipcore-dbusd: the org.usbipcore.Usbip1 system bus service (docs/desktop.md). D-Bus
 * activates it on the first call; it exits after --idle-timeout seconds with no call in
 * flight and nothing supervised, counted from when it owns its name (a slow start must not
 * drop the call that activated it). Callers are checked with polkit (UsbipDbusService).
 *
 * Exit codes: 0 idle or signalled, 1 runtime failure (no bus, name not ours), 2 usage or
 * configuration error.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>

#include <glib-unix.h>

#include "usbip-dbus-service.h"
#include "usbip-tools-common.h"
#include "usbip-tools-dbus.h"
#include "usbip-tools-text.h"

#define EXIT_USAGE 2

static gint opt_idle_timeout = 60;
static gchar *opt_config;
static gboolean opt_debug, opt_version;

static const GOptionEntry entries[] = {
  { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &opt_idle_timeout,
    "Exit after S seconds with no call in flight and nothing supervised, 0 to 86400; 0 = never (default 60)", "S" },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Configuration file (default " USBIP_DEFAULT_CONFIG ")",
    "FILE" },
  { "debug", 'd', 0, G_OPTION_ARG_NONE, &opt_debug, "Print debugging information", NULL },
  { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
  { NULL }
};

typedef struct {
  GMainLoop *loop;
  UsbipDbusService *service;
  int rc;
} Run;

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (((Run *) data)->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_idle (UsbipDbusService *service, Run *run)
{
  g_main_loop_quit (run->loop);
}

/* the idle timer counts from here: D-Bus delivers the call that activated the service once
 * the name is ours, so a start slower than --idle-timeout must not end the service first */
static void
on_name_acquired (GDBusConnection *connection, const gchar *name, gpointer data)
{
  usbip_dbus_service_set_idle_timeout (((Run *) data)->service, (guint) opt_idle_timeout);
}

static void
on_name_lost (GDBusConnection *connection, const gchar *name, gpointer data)
{
  Run *run = data;

  g_printerr ("usbipcore-dbusd: error: cannot own %s on the system bus: another usbipcore-dbusd runs, or the bus "
              "policy does not let this user own it (run it as root, with /usr/share/dbus-1/system.d/%s.conf "
              "installed: D-Bus reads policies there and in /etc/dbus-1/system.d, not under /usr/local)\n",
              name, name);
  run->rc = 1;
  g_main_loop_quit (run->loop);
}

/* the backend of @name, or NULL with the reason kept in @missing */
static gpointer
backend (UsbipPluginRegistry *registry, const gchar *name, gboolean import, GError **missing)
{
  g_autoptr (GError) error = NULL;
  gpointer b = import ? (gpointer) usbip_plugin_registry_get_import_backend (registry, name, &error)
                      : (gpointer) usbip_plugin_registry_get_export_backend (registry, name, &error);

  if (b == NULL)
    {
      g_debug ("no %s backend: %s", name, error->message);
      if (*missing == NULL)
        *missing = g_steal_pointer (&error);
    }
  return b;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) missing = NULL;
  g_autoptr (UsbipConfig) config = NULL;
  g_autoptr (UsbipPluginRegistry) registry = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (UsbipDbusService) service = NULL;
  g_autofree gchar *unknown = NULL;
  Run run = { NULL, NULL, 0 };
  guint owner;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "The org.usbipcore.Usbip1 system bus service: attach, detach, bind and unbind "
                                     "for callers polkit allows. D-Bus starts it; see docs/desktop.md.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("usbipcore-dbusd: error: %s (see `usbipcore-dbusd --help`)\n", error->message);
      return EXIT_USAGE;
    }
  if (argc > 1 || opt_idle_timeout < 0 || opt_idle_timeout > 86400)
    {
      g_printerr ("usbipcore-dbusd: error: %s (see `usbipcore-dbusd --help`)\n",
                  argc > 1 ? "unexpected argument" : "--idle-timeout: expected 0 to 86400 seconds");
      return EXIT_USAGE;
    }
  if (opt_version)
    {
      printf ("usbipcore-dbusd (usbipcore) %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (opt_debug)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  config = usbip_config_new ();
  if (!usbip_config_load_file (config, opt_config, &error)
      || (registry = usbip_tools_load_plugins (config, NULL, &error)) == NULL)
    {
      g_autofree gchar *shown = usbip_tools_message_text (error->message);
      g_printerr ("usbipcore-dbusd: error: %s\n", shown);
      return EXIT_USAGE;
    }
  /* a name that is no plugin (a typo): a warning in the log, as usbip-tool gives, not
   * usbipcored's refusal. D-Bus starts this service for a caller, who would see only that
   * it failed to start, on every call, over a name most calls do not need */
  unknown = usbip_tools_unknown_plugin (config, registry);
  if (unknown != NULL)
    {
      g_autofree gchar *shown = usbip_text_escape (unknown, -1);
      g_printerr ("usbipcore-dbusd: warning: %s\n", shown);
    }
  service = usbip_dbus_service_new (usbip_sysfs_get_default (), registry, backend (registry, "vhci", TRUE, &missing),
                                    backend (registry, "host", FALSE, &missing),
                                    backend (registry, "vudc", FALSE, &missing), missing);
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      /* GLib's message names neither the bus nor what to do */
      g_printerr ("usbipcore-dbusd: error: cannot reach the system bus: %s (is dbus running? see "
                  "`systemctl status dbus`; D-Bus starts this service itself on the first call)\n",
                  error->message);
      return 1;
    }
  if (!usbip_dbus_service_export (service, bus, &error))
    {
      g_autofree gchar *shown = usbip_tools_message_text (error->message);
      g_printerr ("usbipcore-dbusd: error: %s\n", shown);
      return 1;
    }
  run.loop = g_main_loop_new (NULL, FALSE);
  run.service = service;
  g_signal_connect (service, "idle", G_CALLBACK (on_idle), &run);
  g_unix_signal_add (SIGINT, on_signal, &run);
  g_unix_signal_add (SIGTERM, on_signal, &run);
  owner = g_bus_own_name_on_connection (bus, USBIP_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, on_name_acquired,
                                        on_name_lost, &run, NULL);
  g_main_loop_run (run.loop);
  g_bus_unown_name (owner);
  g_main_loop_unref (run.loop);
  return run.rc;
}
