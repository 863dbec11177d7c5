/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbipcored: serves local USB devices (usbip-host) or gadgets (usbip-vudc, -e) to USB/IP
 * clients. Takes upstream usbipd's flags plus listeners, policy, timeouts and log format;
 * settings also come from the [daemon] group of the config file, and flags win.
 *
 * Exit codes: 0 clean shutdown, 1 runtime failure, 2 usage or configuration error,
 * 3 cannot listen (address in use, permission).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <systemd/sd-daemon.h>

#include "usbip-tools-common.h"
#include "usbipcored-log.h"
#include "usbipcored-status.h"

#define EXIT_USAGE 2
#define EXIT_LISTEN 3

typedef struct {
  /* command line; unset values are -1 / NULL and fall back to the config file */
  gboolean ipv4, ipv6, device_mode, daemonize, debug, version, check_config;
  gint tcp_port;
  gchar *pid_file;
  gboolean want_pid;
  gchar **listen;
  gchar *config_path;
  gchar **allow_cidr;
  gint max_sessions, max_per_peer;
  gdouble accept_rate;
  gint handshake_timeout_ms, shutdown_timeout_ms;
  gchar *log_format;
  gchar *status_socket;

  GMainLoop *loop;
  UsbipConfig *config;
  UsbipPluginRegistry *registry;
  UsbipExporter *exporter;
  gint exit_code;
  gboolean draining;
  guint watchdog_id;
  UsbipcoredStatus *status;
  GSocket *activated_status; /* the socket-activated fd named "status" */
} Daemon;

static Daemon d = {
  .tcp_port = -1,
  .max_sessions = -1,
  .max_per_peer = -1,
  .accept_rate = -1,
  .handshake_timeout_ms = -1,
  .shutdown_timeout_ms = -1,
};

static gboolean
pid_option (const gchar *name, const gchar *value, gpointer data, GError **error)
{
  d.want_pid = TRUE;
  g_free (d.pid_file);
  d.pid_file = g_strdup (value != NULL ? value : "/run/usbipcored.pid");
  return TRUE;
}

static const GOptionEntry entries[] = {
  { "ipv4", '4', 0, G_OPTION_ARG_NONE, &d.ipv4, "Listen on IPv4 only (0.0.0.0)", NULL },
  { "ipv6", '6', 0, G_OPTION_ARG_NONE, &d.ipv6, "Listen on IPv6 (::)", NULL },
  { "tcp-port", 't', 0, G_OPTION_ARG_INT, &d.tcp_port, "TCP port to listen on (default 3240)", "PORT" },
  { "device", 'e', 0, G_OPTION_ARG_NONE, &d.device_mode, "Device mode: export usbip-vudc gadgets instead of usbip-host devices", NULL },
  { "daemon", 'D', 0, G_OPTION_ARG_NONE, &d.daemonize, "Run in the background", NULL },
  { "pid", 'P', G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, pid_option, "Write the process id to FILE (default /run/usbipcored.pid)", "FILE" },
  { "debug", 'd', 0, G_OPTION_ARG_NONE, &d.debug, "Log every handshake", NULL },
  { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.listen, "Listen on ADDR:PORT (repeatable; [v6]:port for IPv6)", "ADDR:PORT" },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &d.config_path, "Configuration file (default " USBIP_DEFAULT_CONFIG ")", "FILE" },
  { "allow-cidr", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.allow_cidr, "Admit only clients in this prefix (repeatable)", "PREFIX" },
  { "max-sessions", 0, 0, G_OPTION_ARG_INT, &d.max_sessions, "Most handshakes at once (0 = no limit)", "N" },
  { "max-sessions-per-peer", 0, 0, G_OPTION_ARG_INT, &d.max_per_peer, "Most handshakes at once per client address (0 = no limit)", "N" },
  { "accept-rate-limit", 0, 0, G_OPTION_ARG_DOUBLE, &d.accept_rate, "Most new connections per second (0 = no limit)", "RATE" },
  { "handshake-timeout", 0, 0, G_OPTION_ARG_INT, &d.handshake_timeout_ms, "Milliseconds a client may take to send its request (default 10000)", "MS" },
  { "shutdown-timeout", 0, 0, G_OPTION_ARG_INT, &d.shutdown_timeout_ms, "Milliseconds to let handshakes finish on SIGTERM (default 5000)", "MS" },
  { "log-format", 0, 0, G_OPTION_ARG_STRING, &d.log_format, "text, json or journal (default: journal under systemd, else text)", "FORMAT" },
  { "status-socket", 0, 0, G_OPTION_ARG_FILENAME, &d.status_socket, "Serve the status API (HTTP+JSON) on this Unix socket (default " USBIPCORED_DEFAULT_STATUS_SOCKET "; \"\" = off)", "PATH" },
  { "check-config", 0, 0, G_OPTION_ARG_NONE, &d.check_config, "Validate the configuration and the flags, then exit (0 valid, 2 not)", NULL },
  { "version", 'v', 0, G_OPTION_ARG_NONE, &d.version, "Print the version and exit", NULL },
  { NULL }
};

static void
register_daemon_keys (UsbipConfig *config)
{
  static const gchar *const formats[] = { "text", "json", "journal", "auto", NULL };

  usbip_config_register_key (config, "daemon", "listen", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0,
                             "addresses to listen on, ADDR:PORT");
  usbip_config_register_key (config, "daemon", "device-mode", USBIP_CONFIG_TYPE_BOOLEAN, "false", NULL, 0, 0,
                             "export usbip-vudc gadgets");
  usbip_config_register_key (config, "daemon", "allow-cidr", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0,
                             "admitted client prefixes");
  usbip_config_register_key (config, "daemon", "max-sessions", USBIP_CONFIG_TYPE_UINT, "0", NULL, 0, 1000000,
                             "most handshakes at once");
  usbip_config_register_key (config, "daemon", "max-sessions-per-peer", USBIP_CONFIG_TYPE_UINT, "0", NULL, 0,
                             1000000, "most handshakes per client");
  usbip_config_register_key (config, "daemon", "accept-rate-limit", USBIP_CONFIG_TYPE_DOUBLE, "0", NULL, 0, 1e6,
                             "new connections per second");
  usbip_config_register_key (config, "daemon", "handshake-timeout", USBIP_CONFIG_TYPE_UINT, "10000", NULL, 0,
                             3600000, "milliseconds");
  usbip_config_register_key (config, "daemon", "shutdown-timeout", USBIP_CONFIG_TYPE_UINT, "5000", NULL, 0,
                             3600000, "milliseconds");
  usbip_config_register_key (config, "daemon", "status-socket", USBIP_CONFIG_TYPE_STRING,
                             USBIPCORED_DEFAULT_STATUS_SOCKET, NULL, 0, 0, "Unix socket of the status API; empty = off");
  usbip_config_register_key (config, "daemon", "log-format", USBIP_CONFIG_TYPE_ENUM, "auto", formats, 0, 0,
                             "log output");
}

static UsbipConfig *
load_config (GError **error)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();

  register_daemon_keys (config);
  if (!usbip_config_load_file (config, d.config_path, error))
    return NULL;
  return g_steal_pointer (&config);
}

static guint
setting_uint (gint flag, const gchar *key)
{
  return flag >= 0 ? (guint) flag : (guint) usbip_config_get_uint (d.config, "daemon", key);
}

static UsbipPolicy *
build_policy (GError **error)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  g_auto (GStrv) from_config = NULL;
  gchar **cidrs = d.allow_cidr;
  gdouble rate;

  if (cidrs == NULL)
    cidrs = from_config = usbip_config_get_string_list (d.config, "daemon", "allow-cidr");
  for (guint i = 0; cidrs != NULL && cidrs[i] != NULL; i++)
    if (!usbip_policy_add_allow_cidr (policy, cidrs[i], error))
      {
        if (from_config != NULL) /* name where the bad value is */
          g_prefix_error (error, "%s: [daemon] allow-cidr: ", usbip_config_get_path (d.config));
        else
          g_prefix_error (error, "--allow-cidr: ");
        return NULL;
      }
  usbip_policy_set_max_sessions (policy, setting_uint (d.max_sessions, "max-sessions"));
  usbip_policy_set_max_sessions_per_peer (policy, setting_uint (d.max_per_peer, "max-sessions-per-peer"));
  rate = d.accept_rate >= 0 ? d.accept_rate : usbip_config_get_double (d.config, "daemon", "accept-rate-limit");
  usbip_policy_set_accept_rate (policy, rate, (guint) MAX (1.0, rate));
  return g_steal_pointer (&policy);
}

static void
notify_status (const gchar *status)
{
  g_autofree gchar *msg = g_strdup_printf ("STATUS=%s", status);
  sd_notify (0, msg);
}

static void
shutdown_done (GObject *source, GAsyncResult *result, gpointer data)
{
  guint aborted = 0;

  usbip_exporter_shutdown_finish (USBIP_EXPORTER (source), result, &aborted, NULL);
  if (aborted > 0)
    g_message ("shutdown: %u handshakes did not finish in time and were closed", aborted);
  else
    g_message ("shutdown: drained");
  g_main_loop_quit (d.loop);
}

static gboolean
on_terminate (gpointer data)
{
  if (d.draining)
    {
      g_message ("second signal: stopping now");
      g_main_loop_quit (d.loop);
      return G_SOURCE_CONTINUE;
    }
  d.draining = TRUE;
  sd_notify (0, "STOPPING=1\nSTATUS=draining");
  g_message ("draining: no new connections; %u handshakes in flight",
             usbip_exporter_get_n_sessions (d.exporter));
  usbip_exporter_shutdown_async (d.exporter, setting_uint (d.shutdown_timeout_ms, "shutdown-timeout"), NULL,
                                 shutdown_done, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload (gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipConfig) config = NULL;
  g_autoptr (UsbipPolicy) policy = NULL;
  g_autoptr (UsbipConfig) old = NULL;

  sd_notify (0, "RELOADING=1");
  config = load_config (&error);
  if (config != NULL)
    {
      old = g_steal_pointer (&d.config);
      d.config = g_steal_pointer (&config);
      policy = build_policy (&error);
      if (policy == NULL)
        {
          g_clear_object (&d.config);
          d.config = g_steal_pointer (&old);
        }
    }
  if (policy == NULL)
    g_warning ("reload failed, keeping the old settings: %s", error->message);
  else
    {
      usbip_exporter_set_policy (d.exporter, policy);
      usbip_exporter_set_handshake_timeout (d.exporter, setting_uint (d.handshake_timeout_ms, "handshake-timeout"));
      g_message ("configuration reloaded: new connections follow the new policy");
    }
  sd_notify (0, "READY=1");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_watchdog (gpointer data)
{
  sd_notify (0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

static gboolean
write_pid_file (GError **error)
{
  g_autofree gchar *text = g_strdup_printf ("%d\n", (gint) getpid ());

  if (!g_file_set_contents (d.pid_file, text, -1, error))
    return FALSE;
  return TRUE;
}

/* systemd socket activation: listening sockets passed as fds 3.. */
static gint
add_activated_sockets (GError **error)
{
  gchar **names = NULL;
  gint n = sd_listen_fds_with_names (1, &names);

  for (gint i = 0; i < n; i++)
    {
      g_autoptr (GSocket) socket = g_socket_new_from_fd (SD_LISTEN_FDS_START + i, error);
      if (socket != NULL && names != NULL && g_strcmp0 (names[i], "status") == 0)
        {
          g_set_object (&d.activated_status, socket);
          continue;
        }
      if (socket == NULL || !usbip_exporter_add_socket (d.exporter, socket, error))
        {
          g_strfreev (names);
          return -1;
        }
      g_info ("listening on socket-activated fd %d (%s)", SD_LISTEN_FDS_START + i,
              names != NULL && names[i] != NULL ? names[i] : "unnamed");
    }
  g_strfreev (names);
  return MAX (n, 0) - (d.activated_status != NULL);
}

/* the status API: on the socket-activated fd named "status", else on the configured path;
 * only an explicitly chosen path that fails is fatal */
static gboolean
start_status (UsbipExportBackend *backend, UsbipPolicy *policy, const gchar *listeners, GError **error)
{
  g_autofree gchar *path = d.status_socket != NULL ? g_strdup (d.status_socket)
                                                   : usbip_config_get_string (d.config, "daemon", "status-socket");
  g_auto (GStrv) cidrs = d.allow_cidr != NULL ? g_strdupv (d.allow_cidr)
                                              : usbip_config_get_string_list (d.config, "daemon", "allow-cidr");
  UsbipcoredStatusInfo info = { listeners, (const gchar *const *) cidrs,
                                setting_uint (d.max_sessions, "max-sessions"),
                                setting_uint (d.max_per_peer, "max-sessions-per-peer"),
                                d.accept_rate >= 0 ? d.accept_rate
                                                   : usbip_config_get_double (d.config, "daemon", "accept-rate-limit") };
  g_autoptr (GError) local_error = NULL;

  if (d.activated_status == NULL && (path == NULL || *path == '\0'))
    return TRUE;
  d.status = usbipcored_status_new (d.exporter, backend, d.registry);
  usbipcored_status_set_info (d.status, &info);
  if (d.activated_status != NULL)
    return usbipcored_status_add_socket (d.status, d.activated_status, error);
  if (usbipcored_status_listen (d.status, path, &local_error))
    {
      g_info ("status API on %s", path);
      return TRUE;
    }
  g_clear_pointer (&d.status, usbipcored_status_free);
  if (d.status_socket == NULL && g_str_equal (path, USBIPCORED_DEFAULT_STATUS_SOCKET))
    {
      /* the default place is taken or not writable: not an error (give a path to insist) */
      g_message ("no status API: %s", local_error->message);
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gchar **
listen_addresses (void)
{
  g_auto (GStrv) from_config = NULL;
  guint port = d.tcp_port > 0 ? (guint) d.tcp_port : USBIP_DEFAULT_TCP_PORT;

  if (d.listen != NULL)
    return g_strdupv (d.listen);
  from_config = usbip_config_get_string_list (d.config, "daemon", "listen");
  if (from_config != NULL && from_config[0] != NULL && d.tcp_port < 0 && !d.ipv4 && !d.ipv6)
    return g_steal_pointer (&from_config);
  /* like upstream: all addresses; [::] is dual-stack and takes IPv4 too */
  {
    gchar **one = g_new0 (gchar *, 2);
    one[0] = d.ipv4 && !d.ipv6 ? g_strdup_printf ("0.0.0.0:%u", port) : g_strdup_printf ("[::]:%u", port);
    return one;
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPolicy) policy = NULL;
  g_autoptr (UsbipTransport) tcp = NULL;
  g_auto (GStrv) addresses = NULL;
  g_autoptr (GString) where = g_string_new (NULL);
  UsbipExportBackend *backend;
  UsbipcoredLogFormat format = USBIPCORED_LOG_TEXT;
  g_autofree gchar *format_text = NULL;
  guint64 watchdog_usec = 0;
  gint n_activated;

  ctx = g_option_context_new ("- serve USB devices over USB/IP");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Exit status: 0 clean shutdown, 1 runtime failure, 2 usage or configuration error,\n"
    "3 cannot listen. SIGTERM/SIGINT drain (stop accepting, finish handshakes within\n"
    "--shutdown-timeout), SIGHUP reloads the configuration.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "usbipcored: %s\nTry `usbipcored --help`.\n", error->message);
      return EXIT_USAGE;
    }
  if (d.version)
    {
      printf ("usbipcored %s\n", PACKAGE_VERSION);
      return 0;
    }

  /* text until the configuration names the format: its own warnings use our format too */
  usbipcored_log_setup (USBIPCORED_LOG_TEXT, d.debug);
  d.config = load_config (&error);
  if (d.config == NULL)
    {
      fprintf (stderr, "usbipcored: %s\n", error->message);
      return EXIT_USAGE;
    }
  format_text = d.log_format != NULL ? g_strdup (d.log_format) : usbip_config_get_string (d.config, "daemon", "log-format");
  if (g_strcmp0 (format_text, "auto") == 0)
    format = g_log_writer_is_journald (fileno (stderr)) ? USBIPCORED_LOG_JOURNAL : USBIPCORED_LOG_TEXT;
  else if (!usbipcored_log_format_parse (format_text, &format))
    {
      fprintf (stderr, "usbipcored: --log-format %s: expected text, json or journal\n", format_text);
      return EXIT_USAGE;
    }
  usbipcored_log_setup (format, d.debug);

  policy = build_policy (&error);
  if (policy == NULL)
    {
      g_printerr ("usbipcored: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (d.check_config)
    {
      printf ("%s: valid\n", usbip_config_get_path (d.config));
      return 0;
    }

  if (d.daemonize && daemon (0, 0) < 0)
    {
      g_printerr ("usbipcored: cannot daemonize: %s\n", g_strerror (errno));
      return 1;
    }
  if (d.want_pid && !write_pid_file (&error))
    {
      g_critical ("cannot write the pid file: %s", error->message);
      return 1;
    }

  {
    const gchar *wanted;

    d.device_mode = d.device_mode || usbip_config_get_boolean (d.config, "daemon", "device-mode");
    wanted = d.device_mode ? "vudc" : "host";

    d.registry = usbip_tools_load_plugins (d.config, wanted, &error);
    if (d.registry == NULL)
      {
        g_critical ("%s", error->message);
        return 1;
      }
    backend = usbip_plugin_registry_get_export_backend (d.registry, wanted, &error);
  }
  if (backend != NULL && !usbip_tools_load_observers (d.registry, &error))
    {
      g_critical ("%s", error->message);
      return 1;
    }
  if (backend == NULL)
    {
      g_critical ("%s", error->message);
      return 1;
    }
  {
    g_autoptr (GError) probe_error = NULL;
    g_autoptr (GPtrArray) devices = usbip_export_backend_list_devices (backend, &probe_error);
    if (devices == NULL)
      g_warning ("%s; until then the device list is empty", probe_error->message);
    else
      g_info ("%u devices exportable", devices->len);
  }

  d.exporter = usbip_exporter_new (backend);
  usbip_exporter_set_policy (d.exporter, policy);
  usbip_exporter_set_handshake_timeout (d.exporter, setting_uint (d.handshake_timeout_ms, "handshake-timeout"));
  usbip_plugin_registry_add_object (d.registry, G_OBJECT (d.exporter));

  n_activated = add_activated_sockets (&error);
  if (n_activated < 0)
    {
      g_critical ("socket activation: %s", error->message);
      return 1;
    }
  if (n_activated > 0)
    g_string_append_printf (where, "%d socket-activated listeners", n_activated);
  else
    {
      tcp = usbip_transport_tcp_new ();
      addresses = listen_addresses ();
      for (guint i = 0; addresses[i] != NULL; i++)
        {
          if (!usbip_exporter_listen (d.exporter, tcp, addresses[i], &error))
            {
              g_critical ("%s", error->message);
              return EXIT_LISTEN;
            }
          g_string_append_printf (where, "%s%s", i ? ", " : "", addresses[i]);
        }
    }

  if (!start_status (backend, policy, where->str, &error))
    {
      g_critical ("%s", error->message);
      return EXIT_LISTEN;
    }

  d.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_terminate, NULL);
  g_unix_signal_add (SIGINT, on_terminate, NULL);
  g_unix_signal_add (SIGHUP, on_reload, NULL);
  if (sd_watchdog_enabled (0, &watchdog_usec) > 0 && watchdog_usec > 0)
    d.watchdog_id = g_timeout_add (MAX (watchdog_usec / 2000, 1), on_watchdog, NULL);

  usbip_exporter_start (d.exporter);
  g_message ("serving %s devices on %s", d.device_mode ? "usbip-vudc" : "usbip-host", where->str);
  {
    g_autofree gchar *status = g_strdup_printf ("READY=1\nSTATUS=serving on %s", where->str);
    sd_notify (0, status);
  }
  g_main_loop_run (d.loop);

  notify_status ("stopped");
  if (d.want_pid)
    unlink (d.pid_file);
  g_clear_pointer (&d.status, usbipcored_status_free);
  g_clear_object (&d.activated_status);
  g_clear_object (&d.exporter);
  g_clear_object (&d.registry);
  g_clear_object (&d.config);
  g_main_loop_unref (d.loop);
  return d.exit_code;
}
