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
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <systemd/sd-daemon.h>

#include "usbip-tools-common.h"
#include "usbip-tools-text.h"
#include "usbip-tools-socket.h"
#include "usbipcored-log.h"
#include "usbipcored-status.h"

#define EXIT_USAGE 2
#define EXIT_LISTEN 3

/* descriptors kept back from the session cap derived from the open file limit: stdio,
 * the listeners, the log, plugin modules, the sysfs files of an export in progress and
 * the main loop's own (an eventfd, signal and timer sources), with room to spare */
#define RESERVED_FDS 64

/* The numeric settings: one table gives the config keys their ranges and checks the
 * flags of the same name against the same ranges. */
enum { NUM_MAX_SESSIONS, NUM_MAX_PER_PEER, NUM_ACCEPT_RATE, NUM_HANDSHAKE_TIMEOUT, NUM_SHUTDOWN_TIMEOUT, N_NUMS };
static const struct {
  const gchar *group;
  const gchar *key;
  UsbipConfigType type;
  const gchar *default_value;
  gdouble max;
  const gchar *description;
} numbers[N_NUMS] = {
  [NUM_MAX_SESSIONS] = { "daemon", "max-sessions", USBIP_CONFIG_TYPE_UINT, "0", 1000000,
                         "most handshakes at once; 0 = derived from the open file limit" },
  [NUM_MAX_PER_PEER] = { "daemon", "max-sessions-per-peer", USBIP_CONFIG_TYPE_UINT, "0", 1000000,
                         "most handshakes per client (IPv6: per /64)" },
  [NUM_ACCEPT_RATE] = { "daemon", "accept-rate-limit", USBIP_CONFIG_TYPE_DOUBLE, "0", 1e6,
                        "new connections per second per client" },
  [NUM_HANDSHAKE_TIMEOUT] = { "daemon", "handshake-timeout", USBIP_CONFIG_TYPE_UINT, "10000", 3600000, "milliseconds" },
  [NUM_SHUTDOWN_TIMEOUT] = { "daemon", "shutdown-timeout", USBIP_CONFIG_TYPE_UINT, "5000", 3600000, "milliseconds" },
};

typedef struct {
  /* command line; unset values are NULL and fall back to the config file */
  gboolean ipv4, ipv6, device_mode, daemonize, debug, version, check_config;
  gchar *tcp_port_text;
  gint tcp_port;
  gchar *pid_file;
  gboolean want_pid;
  gchar **listen;
  gchar *config_path;
  gchar **allow_cidr;
  gchar **allow_uid;
  gchar **allow_gid;
  gchar **allow_cid;
  gchar *number_text[N_NUMS];
  gdouble number[N_NUMS]; /* parsed flag, or -1 */
  gchar *log_format;
  gchar *status_socket;
  gchar **virtual_specs;
  UsbipToolsSocketFlags socket_flags;
  rlim_t nofile;
  gint ready_fd; /* -D: tells the waiting parent we are serving; -1 otherwise */

  GMainLoop *loop;
  UsbipConfig *config;
  UsbipPluginRegistry *registry;
  UsbipExporter *exporter;
  UsbipExportBackend *virtual; /* the virtual plugin's backend, if enabled at start (registry's) */
  gint exit_code;
  gboolean draining;
  guint watchdog_id;
  UsbipcoredStatus *status;
  gchar *listeners;          /* "addr:port, ..." as the status API shows them */
  GSocket *activated_status; /* the socket-activated fd named "status" */
} Daemon;

static Daemon d = {
  .tcp_port = -1,
  .number = { -1, -1, -1, -1, -1 },
  .ready_fd = -1,
  .socket_flags = USBIP_TOOLS_SOCKET_FLAGS_INIT,
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
  { "tcp-port", 't', 0, G_OPTION_ARG_STRING, &d.tcp_port_text, "TCP port to listen on (default 3240)", "PORT" },
  { "device", 'e', 0, G_OPTION_ARG_NONE, &d.device_mode,
    "Device mode: export usbip-vudc gadgets instead of usbip-host devices", NULL },
  { "daemon", 'D', 0, G_OPTION_ARG_NONE, &d.daemonize, "Run in the background", NULL },
  { "pid", 'P', G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, pid_option,
    "Write the process id to FILE (default /run/usbipcored.pid)", "FILE" },
  { "debug", 'd', 0, G_OPTION_ARG_NONE, &d.debug, "Log every handshake", NULL },
  { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.listen,
    "Listen on ADDR:PORT, [v6]:PORT, unix:/path, unix:@name or vsock:CID:PORT (repeatable)", "ADDRESS" },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &d.config_path, "Configuration file (default " USBIP_DEFAULT_CONFIG ")",
    "FILE" },
  { "allow-cidr", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.allow_cidr, "Admit only IP clients in this prefix (repeatable)",
    "PREFIX" },
  { "allow-uid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.allow_uid,
    "Admit only Unix-socket clients of this user, name or id (repeatable)", "USER" },
  { "allow-gid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.allow_gid,
    "Admit only Unix-socket clients of this primary group, name or id (repeatable)", "GROUP" },
  { "allow-cid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.allow_cid,
    "Admit only vsock clients of this context id (repeatable)", "CID" },
  { "max-sessions", 0, 0, G_OPTION_ARG_STRING, &d.number_text[NUM_MAX_SESSIONS],
    "Most handshakes at once, 0..1000000 (0 = the open file limit - 64)", "N" },
  { "max-sessions-per-peer", 0, 0, G_OPTION_ARG_STRING, &d.number_text[NUM_MAX_PER_PEER],
    "Most handshakes at once per client address (IPv6: per /64), 0..1000000 (0 = no limit)", "N" },
  { "accept-rate-limit", 0, 0, G_OPTION_ARG_STRING, &d.number_text[NUM_ACCEPT_RATE],
    "Most new connections per second per client, 0..1000000 (0 = no limit)", "RATE" },
  { "handshake-timeout", 0, 0, G_OPTION_ARG_STRING, &d.number_text[NUM_HANDSHAKE_TIMEOUT],
    "Milliseconds a client may take to send its request, 0..3600000 (default 10000)", "MS" },
  { "shutdown-timeout", 0, 0, G_OPTION_ARG_STRING, &d.number_text[NUM_SHUTDOWN_TIMEOUT],
    "Milliseconds to let handshakes finish on SIGTERM, 0..3600000 (default 5000)", "MS" },
  { "log-format", 0, 0, G_OPTION_ARG_STRING, &d.log_format,
    "text, json or journal (default: journal under systemd, else text)", "FORMAT" },
  { "status-socket", 0, 0, G_OPTION_ARG_FILENAME, &d.status_socket,
    "Serve the status API (HTTP+JSON) on this Unix socket (default " USBIPCORED_DEFAULT_STATUS_SOCKET "; \"\" = off)",
    "PATH" },
  { "virtual", 0, 0, G_OPTION_ARG_STRING_ARRAY, &d.virtual_specs,
    "Serve a virtual device (repeatable): TYPE is mass-storage, cdc-acm, hid-keyboard or hid-mouse, KEYs as in a "
    "[virtual-device NAME] group, plus name=NAME (bus ID virtual-NAME; default: its position, 1, 2, ...)",
    "TYPE[:KEY=VALUE,...]" },
  { "check-config", 0, 0, G_OPTION_ARG_NONE, &d.check_config,
    "Validate the configuration file, the flags, the listen addresses and the virtual devices, then exit (0 "
    "valid, 2 not)",
    NULL },
  { "version", 'v', 0, G_OPTION_ARG_NONE, &d.version, "Print the version and exit", NULL },
  { NULL }
};

static void
register_daemon_keys (UsbipConfig *config)
{
  static const gchar *const formats[] = { "text", "json", "journal", "auto", NULL };

  usbip_config_register_key (config, "daemon", "listen", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0,
                             "addresses to listen on: ADDR:PORT, unix:/path, vsock:CID:PORT");
  usbip_config_register_key (config, "daemon", "device-mode", USBIP_CONFIG_TYPE_BOOLEAN, "false", NULL, 0, 0,
                             "export usbip-vudc gadgets");
  usbip_config_register_key (config, "daemon", "allow-cidr", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0,
                             "admitted IP client prefixes");
  usbip_config_register_key (config, "daemon", "allow-uid", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0,
                             "admitted Unix-socket client users");
  usbip_config_register_key (config, "daemon", "allow-gid", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0,
                             "admitted Unix-socket client groups");
  usbip_config_register_key (config, "daemon", "allow-cid", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0,
                             "admitted vsock client context ids");
  for (guint i = 0; i < N_NUMS; i++)
    usbip_config_register_key (config, numbers[i].group, numbers[i].key, numbers[i].type, numbers[i].default_value,
                               NULL, 0, numbers[i].max, numbers[i].description);
  usbip_config_register_key (config, "daemon", "status-socket", USBIP_CONFIG_TYPE_STRING,
                             USBIPCORED_DEFAULT_STATUS_SOCKET, NULL, 0, 0,
                             "Unix socket of the status API; empty = off");
  usbip_config_register_key (config, "daemon", "log-format", USBIP_CONFIG_TYPE_ENUM, "auto", formats, 0, 0,
                             "log output");
  usbip_tools_socket_register_keys (config, "daemon");
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

/* the flags' numbers, checked against the ranges of the config keys; FALSE names the flag */
static gboolean
parse_number_flags (GError **error)
{
  for (guint i = 0; i < N_NUMS; i++)
    {
      const gchar *text = d.number_text[i];
      gchar *end = NULL;
      gdouble v;

      if (text == NULL)
        continue;
      v = g_ascii_strtod (text, &end);
      if (end == text || *end != '\0' || !(v >= 0 && v <= numbers[i].max)
          || (numbers[i].type == USBIP_CONFIG_TYPE_UINT && v != (gdouble) (guint64) v))
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "--%s %s: expected %s from 0 to %.0f",
                       numbers[i].key, text, numbers[i].type == USBIP_CONFIG_TYPE_UINT ? "a whole number" : "a number",
                       numbers[i].max);
          return FALSE;
        }
      d.number[i] = v;
    }
  if (d.tcp_port_text != NULL)
    {
      guint64 port;
      if (!g_ascii_string_to_unsigned (d.tcp_port_text, 10, 1, 65535, &port, NULL))
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "--tcp-port %s: expected a port number from 1 to 65535", d.tcp_port_text);
          return FALSE;
        }
      d.tcp_port = (gint) port;
    }
  return TRUE;
}

static gdouble
setting_number (guint which)
{
  if (d.number[which] >= 0)
    return d.number[which];
  if (numbers[which].type == USBIP_CONFIG_TYPE_DOUBLE)
    return usbip_config_get_double (d.config, "daemon", numbers[which].key);
  return (gdouble) usbip_config_get_uint (d.config, "daemon", numbers[which].key);
}

static guint
setting_uint (guint which)
{
  return (guint) setting_number (which);
}

/* Raises the soft open file limit to the hard one (as a server expecting many clients
 * should); returns the limit in force */
static rlim_t
raise_nofile_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    return 1024;
  if (rl.rlim_cur < rl.rlim_max)
    {
      struct rlimit raised = { rl.rlim_max, rl.rlim_max };
      if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
        rl.rlim_cur = rl.rlim_max;
    }
  return rl.rlim_cur;
}

/* the session cap: as set, or (0) the open file limit less RESERVED_FDS (at least 1) */
static guint
session_cap (void)
{
  guint set = setting_uint (NUM_MAX_SESSIONS);

  if (set > 0)
    return set;
  if (d.nofile == RLIM_INFINITY || d.nofile > 1000000 + RESERVED_FDS)
    return 1000000;
  return d.nofile > RESERVED_FDS ? (guint) (d.nofile - RESERVED_FDS) : 1;
}

/* the session sockets' tunables: flags over [daemon] keys (both checked before) */
static void
apply_socket_options (void)
{
  g_autoptr (UsbipSocketOptions) opts = usbip_socket_options_new ();

  if (usbip_tools_socket_resolve (&d.socket_flags, d.config, "daemon", opts, NULL))
    usbip_exporter_set_socket_options (d.exporter, opts);
}

/* one admission list: the flag, else the [daemon] key; a bad value names where it is */
typedef gboolean (*AddRule) (UsbipPolicy *policy, const gchar *text, GError **error);

/* a policy rule's values: the flag's if given, else the [daemon] key's (a new list) */
static GStrv
rule_values (gchar **flag, const gchar *key)
{
  return flag != NULL ? g_strdupv (flag) : usbip_config_get_string_list (d.config, "daemon", key);
}

static gboolean
add_rules (UsbipPolicy *policy, gchar **flag, const gchar *key, AddRule add, GError **error)
{
  g_auto (GStrv) values = rule_values (flag, key);

  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    if (!add (policy, values[i], error))
      {
        if (flag == NULL) /* name where the bad value is: the file */
          g_prefix_error (error, "%s: [daemon] %s: ", usbip_config_get_path (d.config), key);
        else
          g_prefix_error (error, "--%s: ", key);
        return FALSE;
      }
  return TRUE;
}

static gboolean
add_uid (UsbipPolicy *policy, const gchar *text, GError **error)
{
  guint32 id;
  if (!usbip_peer_parse_uid (text, &id, error))
    return FALSE;
  usbip_policy_add_allow_uid (policy, id);
  return TRUE;
}

static gboolean
add_gid (UsbipPolicy *policy, const gchar *text, GError **error)
{
  guint32 id;
  if (!usbip_peer_parse_gid (text, &id, error))
    return FALSE;
  usbip_policy_add_allow_gid (policy, id);
  return TRUE;
}

static gboolean
add_cid (UsbipPolicy *policy, const gchar *text, GError **error)
{
  guint64 cid;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32 - 1, &cid, NULL))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not a vsock context id (0 to 4294967294; 2 is the host, 1 this machine)", text);
      return FALSE;
    }
  usbip_policy_add_allow_cid (policy, (guint32) cid);
  return TRUE;
}

static UsbipPolicy *
build_policy (GError **error)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  gdouble rate;

  if (!add_rules (policy, d.allow_cidr, "allow-cidr", usbip_policy_add_allow_cidr, error)
      || !add_rules (policy, d.allow_uid, "allow-uid", add_uid, error)
      || !add_rules (policy, d.allow_gid, "allow-gid", add_gid, error)
      || !add_rules (policy, d.allow_cid, "allow-cid", add_cid, error))
    return NULL;
  usbip_policy_set_max_sessions (policy, session_cap ());
  usbip_policy_set_max_sessions_per_peer (policy, setting_uint (NUM_MAX_PER_PEER));
  rate = setting_number (NUM_ACCEPT_RATE);
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
  g_message ("draining: no new connections; %u handshakes in flight", usbip_exporter_get_n_sessions (d.exporter));
  usbip_exporter_shutdown_async (d.exporter, setting_uint (NUM_SHUTDOWN_TIMEOUT), NULL, shutdown_done, NULL);
  return G_SOURCE_CONTINUE;
}

/* what the status API shows of the settings in force: at start and after a reload */
static void
publish_status_info (void)
{
  g_auto (GStrv) cidrs = rule_values (d.allow_cidr, "allow-cidr");
  g_auto (GStrv) uids = rule_values (d.allow_uid, "allow-uid");
  g_auto (GStrv) gids = rule_values (d.allow_gid, "allow-gid");
  g_auto (GStrv) cids = rule_values (d.allow_cid, "allow-cid");
  UsbipcoredStatusInfo info = { d.listeners,
                                (const gchar *const *) cidrs,
                                (const gchar *const *) uids,
                                (const gchar *const *) gids,
                                (const gchar *const *) cids,
                                session_cap (),
                                setting_uint (NUM_MAX_PER_PEER),
                                setting_number (NUM_ACCEPT_RATE) };

  if (d.status != NULL)
    usbipcored_status_set_info (d.status, &info);
}

static gboolean add_virtual_devices (UsbipConfig *config, GError **error);

/* the virtual devices of @config ([virtual-device] groups, --virtual flags) replace the
 * ones served; all or nothing (the plugin's "reload") */
static gboolean
reload_virtual_devices (UsbipConfig *config, GError **error)
{
  gboolean enabled = usbip_config_get_plugin_enabled (config, "virtual");
  gboolean ok = FALSE;

  if (d.virtual == NULL)
    {
      if (enabled)
        g_warning ("reload: the virtual plugin was not enabled at start: restart usbipcored to serve its devices");
      return TRUE;
    }
  /* the plugin disabled: none of the file's devices (the --virtual ones enable it again) */
  g_signal_emit_by_name (d.virtual, "reload", enabled ? usbip_config_get_keyfile (config) : NULL, error, &ok);
  if (ok) /* the device list changed without a uevent */
    usbip_device_cache_invalidate (usbip_exporter_get_device_cache (d.exporter));
  return ok;
}

/* SIGHUP: a new configuration applies as a whole or not at all (a bad file, a bad rule, a
 * bad virtual device keep everything as it was) */
static gboolean
on_reload (gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipConfig) config = NULL;
  g_autoptr (UsbipPolicy) policy = NULL;
  g_autoptr (UsbipConfig) old = NULL;

  sd_notify (0, "RELOADING=1");
  config = load_config (&error);
  if (config != NULL && add_virtual_devices (config, &error))
    {
      old = g_steal_pointer (&d.config);
      d.config = g_steal_pointer (&config);
      policy = build_policy (&error);
      if (policy != NULL && !reload_virtual_devices (d.config, &error))
        g_clear_object (&policy);
      if (policy == NULL)
        {
          g_clear_object (&d.config);
          d.config = g_steal_pointer (&old);
        }
    }
  if (policy == NULL)
    g_warning ("reload failed, keeping the old settings and devices: %s", error->message);
  else
    {
      usbip_exporter_set_policy (d.exporter, policy);
      usbip_exporter_set_handshake_timeout (d.exporter, setting_uint (NUM_HANDSHAKE_TIMEOUT));
      apply_socket_options ();
      publish_status_info ();
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

/* USBIPCORED_RUNTIME_DIR, made when @path (a socket file) is in it and it is missing: a
 * start by hand finds it as one under systemd's RuntimeDirectory= does. No other directory
 * is made (as root, a typo in a path would make a tree of them). */
static gboolean
make_runtime_dir (const gchar *path, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);

  if (!g_str_equal (dir, USBIPCORED_RUNTIME_DIR) || g_mkdir (dir, 0755) == 0 || errno == EEXIST)
    return TRUE;
  usbip_error_set_from_errno (error, errno, "cannot create %s for %s", dir, path);
  return FALSE;
}

/* the status API: on the socket-activated fd named "status", else on the configured path;
 * only an explicitly chosen path that fails is fatal, and one in a directory that does not
 * exist (other than USBIPCORED_RUNTIME_DIR) is a USBIP_ERROR_CONFIG */
static gboolean
start_status (UsbipExportBackend *backend, UsbipPolicy *policy, const gchar *listeners, GError **error)
{
  g_autofree gchar *path = d.status_socket != NULL ? g_strdup (d.status_socket)
                                                   : usbip_config_get_string (d.config, "daemon", "status-socket");
  g_autofree gchar *dir = NULL;
  g_autoptr (GError) local_error = NULL;

  if (d.activated_status == NULL && (path == NULL || *path == '\0'))
    return TRUE;
  dir = path != NULL ? g_path_get_dirname (path) : NULL;
  if (d.activated_status == NULL && !g_str_equal (dir, USBIPCORED_RUNTIME_DIR)
      && !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree gchar *source = d.status_socket != NULL ? g_strdup_printf ("--status-socket %s", path)
                                                         : g_strdup_printf ("[daemon] status-socket=%s in %s", path,
                                                                            usbip_config_get_path (d.config));
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "%s: no directory %s: create it (under systemd, RuntimeDirectory= makes one in /run), or give a "
                   "path in an existing directory (\"\" turns the status API off)",
                   source, dir);
      return FALSE;
    }
  d.status = usbipcored_status_new (d.exporter, backend, d.registry);
  g_free (d.listeners);
  d.listeners = g_strdup (listeners);
  publish_status_info ();
  if (d.activated_status != NULL)
    return usbipcored_status_add_socket (d.status, d.activated_status, error);
  if (make_runtime_dir (path, &local_error) && usbipcored_status_listen (d.status, path, &local_error))
    {
      g_info ("status API on %s", path);
      return TRUE;
    }
  g_clear_pointer (&d.status, usbipcored_status_free);
  g_clear_pointer (&d.listeners, g_free);
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
    /* a copy (g_strdupv), not a g_new0 array filled here: clang 14's analyzer did not
     * follow main's g_auto cleanup of an array it saw allocated and reported it leaked */
    g_autofree gchar *any =
        d.ipv4 && !d.ipv6 ? g_strdup_printf ("0.0.0.0:%u", port) : g_strdup_printf ("[::]:%u", port);
    gchar *one[] = { any, NULL };

    return g_strdupv (one);
  }
}

/* the device name of the INDEXth --virtual SPEC: its name=NAME, else its position */
static gchar *
virtual_spec_name (const gchar *spec, guint index)
{
  const gchar *colon = strchr (spec, ':');
  g_auto (GStrv) pairs = g_strsplit (colon != NULL ? colon + 1 : "", ",", -1);
  gchar *name = g_strdup_printf ("%u", index + 1);

  for (guint j = 0; pairs[j] != NULL; j++)
    if (g_str_has_prefix (pairs[j], "name="))
      {
        g_free (name);
        name = g_strdup (pairs[j] + 5);
      }
  return name;
}

/* the INDEXth --virtual SPEC as a [virtual-device NAME] group of @kf */
static gboolean
add_virtual_spec (GKeyFile *kf, const gchar *spec, guint index, GError **error)
{
  const gchar *colon = strchr (spec, ':');
  g_autofree gchar *type = g_strndup (spec, colon != NULL ? (gsize) (colon - spec) : strlen (spec));
  g_auto (GStrv) pairs = g_strsplit (colon != NULL ? colon + 1 : "", ",", -1);
  g_autofree gchar *name = virtual_spec_name (spec, index);
  g_autofree gchar *group = g_strdup_printf ("virtual-device %s", name);

  if (*type == '\0')
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "--virtual %s: give a device type first, e.g. --virtual mass-storage:image=disk.img", spec);
      return FALSE;
    }
  if (g_key_file_has_group (kf, group))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "--virtual %s: a device named %s is already declared: give another name=NAME", spec, name);
      return FALSE;
    }
  g_key_file_set_string (kf, group, "type", type);
  for (guint j = 0; pairs[j] != NULL; j++)
    {
      const gchar *eq = strchr (pairs[j], '=');
      g_autofree gchar *key = NULL;

      if (eq == NULL || eq == pairs[j])
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "--virtual %s: \"%s\" is not KEY=VALUE (separate pairs with commas)", spec, pairs[j]);
          return FALSE;
        }
      key = g_strndup (pairs[j], (gsize) (eq - pairs[j]));
      for (guint k = 0; k < j; k++)
        if (g_str_has_prefix (pairs[k], key) && pairs[k][strlen (key)] == '=')
          {
            g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                         "--virtual %s: %s is given twice: give each key once", spec, key);
            return FALSE;
          }
      if (!g_str_equal (key, "name"))
        g_key_file_set_string (kf, group, key, eq + 1);
    }
  return TRUE;
}

/* --virtual TYPE[:KEY=VALUE,...]: each becomes a [virtual-device NAME] group of @config
 * (the plugin reads and checks them there) and enables the virtual plugin */
static gboolean
add_virtual_devices (UsbipConfig *config, GError **error)
{
  GKeyFile *kf = usbip_config_get_keyfile (config);

  for (guint i = 0; d.virtual_specs != NULL && d.virtual_specs[i] != NULL; i++)
    if (!add_virtual_spec (kf, d.virtual_specs[i], i, error))
      return FALSE;
  if (d.virtual_specs != NULL)
    usbip_tools_enable_plugin (config, "virtual");
  return TRUE;
}

/* @message on standard error after "usbipcored: " (usbip_tools_message_text(): escaped once),
 * and the hint to --help for a usage error: a value from the file or a flag cannot forge a line */
static void
print_error (const gchar *message, gboolean usage)
{
  g_autofree gchar *shown = usbip_tools_message_text (message);

  g_printerr ("usbipcored: %s\n%s", shown, usage ? "Try `usbipcored --help`.\n" : "");
}

static UsbipExportBackend *load_virtual_plugin (UsbipPluginRegistry *registry, GError **error);

/* the --virtual that fails on its own, made again in a configuration of its own group
 * only; -1 when each is good alone (then the file's groups, or how they meet, failed) */
static gint
failing_virtual_spec (void)
{
  for (guint i = 0; d.virtual_specs != NULL && d.virtual_specs[i] != NULL; i++)
    {
      g_autoptr (UsbipConfig) alone = usbip_config_new ();
      g_autoptr (UsbipPluginRegistry) registry = NULL;
      g_autoptr (GError) error = NULL;

      if (!add_virtual_spec (usbip_config_get_keyfile (alone), d.virtual_specs[i], i, &error))
        return (gint) i;
      usbip_tools_enable_plugin (alone, "virtual");
      registry = usbip_tools_new_registry (alone);
      g_object_set (registry, "check-only", d.check_config, NULL);
      if (load_virtual_plugin (registry, &error) == NULL) /* owned by @registry */
        return (gint) i;
    }
  return -1;
}

/* A bad virtual device as the user should read it: the --virtual flag it came from, else
 * where the groups are */
static void
print_virtual_error (const GError *error)
{
  gint culprit = failing_virtual_spec ();
  g_autofree gchar *message = NULL;

  if (culprit >= 0)
    message = g_strdup_printf ("--virtual %s: %s", d.virtual_specs[culprit], error->message);
  else
    message = g_strdup_printf ("virtual devices: %s: %s", usbip_config_get_path (d.config), error->message);
  print_error (message, culprit >= 0);
}

/* the virtual plugin of @registry, loaded; its failure (a bad device) as a configuration
 * error, USBIP_ERROR_CONFIG */
static UsbipExportBackend *
load_virtual_plugin (UsbipPluginRegistry *registry, GError **error)
{
  const gchar *names[] = { "virtual", NULL };
  const UsbipPluginInfo *info;

  if (!usbip_plugin_registry_load_only (registry, names, error))
    return NULL;
  info = usbip_plugin_registry_get_info (registry, "virtual");
  if (info == NULL || info->state != USBIP_PLUGIN_STATE_LOADED)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "%s",
                   info != NULL && info->reason != NULL ? info->reason
                                                        : "the virtual plugin is not installed: install the package "
                                                          "that ships plugins/libusbip-plugin-virtual.so");
      return NULL;
    }
  return usbip_plugin_registry_get_export_backend (registry, "virtual", error);
}

/* with the virtual plugin enabled, its devices are served beside @primary's */
static UsbipExportBackend *
add_virtual_backend (UsbipExportBackend *primary, GError **error)
{
  UsbipCompositeBackend *both;

  if (!usbip_config_get_plugin_enabled (d.config, "virtual"))
    return g_object_ref (primary);
  d.virtual = load_virtual_plugin (d.registry, error);
  if (d.virtual == NULL)
    return NULL;
  both = usbip_composite_backend_new ();
  usbip_composite_backend_add (both, d.virtual);
  usbip_composite_backend_add (both, primary);
  return USBIP_EXPORT_BACKEND (both);
}

/* upstream usbipd's -P takes its optional argument attached (`-P/run/x.pid`, getopt's
 * "P::"); GOption would read that as a cluster of short flags: spell it --pid=FILE. The
 * respelled arguments are added to RESPELLED, which frees them: parsing drops them from
 * argv (memcheck reported them lost). */
static void
attach_pid_argument (gint argc, gchar **argv, GPtrArray *respelled)
{
  for (gint i = 1; i < argc && !g_str_equal (argv[i], "--"); i++)
    if (g_str_has_prefix (argv[i], "-P") && argv[i][2] != '\0')
      {
        argv[i] = g_strconcat ("--pid=", argv[i] + 2, NULL);
        g_ptr_array_add (respelled, argv[i]);
      }
}

/* -D: fork at once; the parent stays until the child serves (exit 0) or fails (the
 * child's exit status), so a busy port or a bad address reaches the caller's terminal
 * and exit status before anything detaches. In the parent *PARENT_EXIT is that status,
 * for main to return: its cleanups run (memcheck reported what the parent held lost when
 * it ended in _exit here); in the child it stays -1. */
static gboolean
detach_start (gint *parent_exit, GError **error)
{
  gint fds[2];
  pid_t pid;

  *parent_exit = -1;
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return FALSE;
  fflush (NULL); /* nothing buffered is written twice, by both processes */
  pid = fork ();
  if (pid < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot fork: %s", g_strerror (errno));
      return FALSE;
    }
  if (pid > 0)
    {
      gchar c;
      gint status = 0;

      close (fds[1]);
      if (read (fds[0], &c, 1) == 1)
        *parent_exit = 0;
      else
        {
          while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
            ;
          *parent_exit = WIFEXITED (status) ? WEXITSTATUS (status) : 1;
        }
      close (fds[0]);
      return TRUE;
    }
  close (fds[0]);
  d.ready_fd = fds[1];
  setsid ();
  return TRUE;
}

/* serving: release the waiting parent and leave the terminal */
static void
detach_finish (void)
{
  gint null_fd;

  if (d.ready_fd < 0)
    return;
  if (chdir ("/") != 0)
    g_debug ("chdir /: %s", g_strerror (errno));
  null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0)
    {
      dup2 (null_fd, STDIN_FILENO);
      dup2 (null_fd, STDOUT_FILENO);
      dup2 (null_fd, STDERR_FILENO);
      if (null_fd > STDERR_FILENO)
        close (null_fd);
    }
  if (write (d.ready_fd, "1", 1) != 1)
    g_debug ("telling the parent we serve: %s", g_strerror (errno));
  close (d.ready_fd);
  d.ready_fd = -1;
}

/* --check-config: the addresses must parse and their transport plugins be enabled (binding
 * them is for the real start) */
static gboolean
check_listen_addresses (gchar **addresses, GError **error)
{
  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autoptr (UsbipRemote) remote = usbip_remote_parse (addresses[i], USBIP_DEFAULT_TCP_PORT, error);
      if (remote == NULL)
        return FALSE;
      if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_TCP) != 0
          && !usbip_config_get_plugin_enabled (d.config, remote->scheme))
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                       "%s: %s: addresses need the %s transport plugin, which is not in [plugins] enabled of %s: "
                       "add %s to `enabled` in the [plugins] group",
                       addresses[i], remote->scheme, remote->scheme, usbip_config_get_path (d.config), remote->scheme);
          return FALSE;
        }
    }
  return TRUE;
}

/* --check-config: the virtual devices ([virtual-device NAME] groups and --virtual) are
 * checked as the start would make them, with its errors, but nothing is made: the plugin
 * loads under the registry's "check-only" (no pty opened, no HID FIFO created, no image
 * opened) */
static gboolean
check_virtual_devices (GError **error)
{
  if (!usbip_config_get_plugin_enabled (d.config, "virtual"))
    return TRUE;
  g_object_set (d.registry, "check-only", TRUE, NULL);
  return load_virtual_plugin (d.registry, error) != NULL;
}

/* the family a listening address serves, for the policy's per-family rules */
static GSocketFamily
address_family (const UsbipRemote *remote)
{
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_UNIX) == 0)
    return G_SOCKET_FAMILY_UNIX;
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_VSOCK) == 0)
    return USBIP_SOCKET_FAMILY_VSOCK;
  return G_SOCKET_FAMILY_IPV6;
}

/* listens on one address with the transport of its scheme (TCP built in, unix and vsock
 * from their plugins); says when the policy leaves that family no way in */
static gboolean
listen_on (UsbipPolicy *policy, const gchar *address, GError **error)
{
  g_autoptr (UsbipRemote) remote = usbip_remote_parse (address, USBIP_DEFAULT_TCP_PORT, error);
  UsbipTransport *transport;

  if (remote == NULL)
    return FALSE;
  if (g_str_equal (remote->scheme, USBIP_REMOTE_SCHEME_UNIX) && remote->host[0] != '@'
      && !make_runtime_dir (remote->host, error))
    return FALSE;
  transport = usbip_plugin_registry_get_transport (d.registry, remote->scheme, error);
  if (transport == NULL || !usbip_exporter_listen (d.exporter, transport, address, error))
    return FALSE;
  if (usbip_policy_refuses_family (policy, address_family (remote)))
    g_warning ("listening on %s, but no admission rule covers its clients while others are set: every one of them "
               "will be refused (add %s)",
               address,
               g_str_equal (remote->scheme, USBIP_REMOTE_SCHEME_UNIX)    ? "allow-uid or allow-gid"
               : g_str_equal (remote->scheme, USBIP_REMOTE_SCHEME_VSOCK) ? "allow-cid"
                                                                         : "allow-cidr");
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPolicy) policy = NULL;
  g_auto (GStrv) addresses = NULL;
  g_autoptr (GString) where = g_string_new (NULL);
  g_autoptr (UsbipExportBackend) backend = NULL;
  UsbipcoredLogFormat format = USBIPCORED_LOG_TEXT;
  g_autofree gchar *format_text = NULL;
  guint64 watchdog_usec = 0;
  gint n_activated;
  const gchar *wanted;
  const gchar *no_plugin[] = { NULL };
  const gchar *wanted_plugin[] = { NULL, NULL };
  g_autoptr (GPtrArray) respelled = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *unknown = NULL;

  setlocale (LC_ALL, "");
  attach_pid_argument (argc, argv, respelled);
  ctx = g_option_context_new ("- serve USB devices over USB/IP");
  g_option_context_add_main_entries (ctx, entries, NULL);
  usbip_tools_socket_add_entries (ctx, &d.socket_flags);
  g_option_context_set_description (
      ctx, "Exit status: 0 clean shutdown, 1 runtime failure, 2 usage or configuration error\n"
           "(a bad --virtual too), 3 cannot listen. SIGTERM/SIGINT drain (stop accepting, finish\n"
           "handshakes within --shutdown-timeout, end the virtual devices' sessions), SIGHUP\n"
           "reloads the configuration and applies its [virtual-device NAME] groups.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      print_error (error->message, TRUE);
      return EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_autofree gchar *message =
          g_strdup_printf ("unexpected argument \"%s\": usbipcored takes options only", argv[1]);
      print_error (message, TRUE);
      return EXIT_USAGE;
    }
  {
    g_autoptr (UsbipSocketOptions) checked = usbip_socket_options_new ();
    if (!parse_number_flags (&error) || !usbip_tools_socket_resolve (&d.socket_flags, NULL, NULL, checked, &error))
      {
        print_error (error->message, TRUE);
        return EXIT_USAGE;
      }
  }
  if (d.version)
    {
      printf ("usbipcored %s\n", PACKAGE_VERSION);
      return 0;
    }
  d.nofile = raise_nofile_limit ();

  /* text until the configuration names the format: its own warnings use our format too */
  usbipcored_log_setup (USBIPCORED_LOG_TEXT, d.debug);
  d.config = load_config (&error);
  if (d.config == NULL)
    {
      print_error (error->message, FALSE);
      return EXIT_USAGE;
    }
  format_text =
      d.log_format != NULL ? g_strdup (d.log_format) : usbip_config_get_string (d.config, "daemon", "log-format");
  if (g_strcmp0 (format_text, "auto") == 0)
    format = g_log_writer_is_journald (fileno (stderr)) ? USBIPCORED_LOG_JOURNAL : USBIPCORED_LOG_TEXT;
  else if (!usbipcored_log_format_parse (format_text, &format))
    {
      g_autofree gchar *message = g_strdup_printf ("--log-format %s: expected text, json or journal", format_text);
      print_error (message, FALSE);
      return EXIT_USAGE;
    }
  usbipcored_log_setup (format, d.debug);
  if (!add_virtual_devices (d.config, &error))
    {
      print_error (error->message, TRUE);
      return EXIT_USAGE;
    }

  policy = build_policy (&error);
  if (policy == NULL)
    {
      print_error (error->message, FALSE);
      return EXIT_USAGE;
    }
  addresses = listen_addresses ();
  /* a malformed address is a usage error at start as under --check-config (exit 2, not
   * 3: nothing was tried on the network) */
  if (!check_listen_addresses (addresses, &error))
    {
      g_autofree gchar *message = g_strdup_printf ("listen address: %s", error->message);
      print_error (message, FALSE);
      return EXIT_USAGE;
    }
  /* the backend to serve must be enabled: a configuration error, under --check-config too */
  d.device_mode = d.device_mode || usbip_config_get_boolean (d.config, "daemon", "device-mode");
  wanted = d.device_mode ? "vudc" : "host";
  if (!usbip_config_get_plugin_enabled (d.config, wanted))
    {
      g_autofree gchar *message = g_strdup_printf (
          "no export backend: the %s plugin is not in [plugins] enabled of %s: add %s to `enabled` in the [plugins] "
          "group",
          wanted, usbip_config_get_path (d.config), wanted);
      print_error (message, FALSE);
      return EXIT_USAGE;
    }
  /* a bad metrics address: a configuration error here too, not the plugin's failure at start */
  if (!usbip_tools_check_metrics_config (d.config, &error))
    {
      print_error (error->message, FALSE);
      return EXIT_USAGE;
    }
  /* a name that is no plugin (a typo) would be ignored without a word. The daemon's registry,
   * nothing loaded yet (that comes after the fork), tells the names from its pass over the
   * plugin directory */
  d.registry = usbip_tools_new_registry (d.config);
  (void) usbip_plugin_registry_load_only (d.registry, no_plugin, NULL);
  unknown = usbip_tools_unknown_plugin (d.config, d.registry);
  if (unknown != NULL)
    {
      print_error (unknown, FALSE);
      return EXIT_USAGE;
    }
  if (d.check_config)
    {
      const gchar *path = usbip_config_get_path (d.config);
      g_autofree gchar *joined = g_strjoinv (", ", addresses);

      if (!check_virtual_devices (&error))
        {
          print_virtual_error (error);
          return EXIT_USAGE;
        }
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        printf ("%s: valid; flags valid; would listen on %s\n", path, joined);
      else
        printf ("%s: no such file, the defaults apply; flags valid; would listen on %s\n", path, joined);
      return 0;
    }

  if (d.daemonize)
    {
      gint parent_exit;

      if (!detach_start (&parent_exit, &error))
        {
          g_autofree gchar *message = g_strdup_printf ("cannot run in the background: %s", error->message);
          print_error (message, FALSE);
          return 1;
        }
      if (parent_exit >= 0)
        return parent_exit;
    }

  wanted_plugin[0] = wanted;
  if (!usbip_plugin_registry_load_only (d.registry, wanted_plugin, &error))
    {
      g_critical ("%s", error->message);
      return 1;
    }
  {
    UsbipExportBackend *primary = usbip_plugin_registry_get_export_backend (d.registry, wanted, &error);
    if (primary != NULL)
      backend = add_virtual_backend (primary, &error);
  }
  if (backend != NULL && !usbip_tools_load_observers (d.registry, d.config, &error))
    {
      g_critical ("%s", error->message);
      return 1;
    }
  if (backend == NULL && g_error_matches (error, USBIP_ERROR, USBIP_ERROR_CONFIG))
    {
      print_virtual_error (error);
      return EXIT_USAGE;
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
      g_info ("%u %s exportable", devices->len, devices->len == 1 ? "device" : "devices");
  }

  d.exporter = usbip_exporter_new (backend);
  usbip_exporter_set_policy (d.exporter, policy);
  usbip_exporter_set_handshake_timeout (d.exporter, setting_uint (NUM_HANDSHAKE_TIMEOUT));
  apply_socket_options ();
  usbip_plugin_registry_add_object (d.registry, G_OBJECT (d.exporter));
  /* before listening: a signal that comes as soon as clients can connect is handled */
  d.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_terminate, NULL);
  g_unix_signal_add (SIGINT, on_terminate, NULL);
  g_unix_signal_add (SIGHUP, on_reload, NULL);

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
      for (guint i = 0; addresses[i] != NULL; i++)
        {
          if (!listen_on (policy, addresses[i], &error))
            {
              /* a path in a missing directory: the configuration's (the transport names it) */
              if (g_error_matches (error, USBIP_ERROR, USBIP_ERROR_CONFIG))
                {
                  print_error (error->message, FALSE);
                  return EXIT_USAGE;
                }
              g_critical ("%s", error->message);
              return g_error_matches (error, USBIP_ERROR, USBIP_ERROR_PLUGIN) ? EXIT_USAGE : EXIT_LISTEN;
            }
          g_string_append_printf (where, "%s%s", i ? ", " : "", addresses[i]);
        }
    }

  if (!start_status (backend, policy, where->str, &error))
    {
      if (!g_error_matches (error, USBIP_ERROR, USBIP_ERROR_CONFIG))
        {
          g_critical ("%s", error->message);
          return EXIT_LISTEN;
        }
      print_error (error->message, d.status_socket != NULL);
      return EXIT_USAGE;
    }

  if (sd_watchdog_enabled (0, &watchdog_usec) > 0 && watchdog_usec > 0)
    d.watchdog_id = g_timeout_add (MAX (watchdog_usec / 2000, 1), on_watchdog, NULL);

  /* only now: a failed start leaves no pid file behind */
  if (d.want_pid && !write_pid_file (&error))
    {
      g_critical ("cannot write the pid file: %s", error->message);
      return 1;
    }
  usbip_exporter_start (d.exporter);
  g_message ("serving usbip-%s%s devices on %s", wanted,
             usbip_config_get_plugin_enabled (d.config, "virtual") ? " and virtual" : "", where->str);
  g_info ("at most %u handshakes at once (%s; open file limit %" G_GUINT64_FORMAT ")", session_cap (),
          setting_uint (NUM_MAX_SESSIONS) > 0 ? "max-sessions" : "the open file limit less " G_STRINGIFY (RESERVED_FDS),
          (guint64) d.nofile);
  detach_finish ();
  {
    g_autofree gchar *status = g_strdup_printf ("READY=1\nSTATUS=serving on %s", where->str);
    sd_notify (0, status);
  }
  g_main_loop_run (d.loop);

  notify_status ("stopped");
  if (d.want_pid)
    unlink (d.pid_file);
  g_clear_pointer (&d.status, usbipcored_status_free);
  g_clear_pointer (&d.listeners, g_free);
  g_clear_object (&d.activated_status);
  g_clear_object (&d.exporter);
  /* let the cancelled accept finish: it holds the listening sockets, and a Unix socket's
   * file is removed when its socket goes */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&d.registry);
  g_clear_object (&d.config);
  g_main_loop_unref (d.loop);
  return d.exit_code;
}
