/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbip-tool: upstream `usbip`'s verbs and flags, plus --json (JSON Lines) and `version`.
 * Holds no protocol or kernel logic: it parses options, calls UsbipImporter or an export
 * backend, and formats the result. Exit codes: see usbip-tool-output.h and docs/cli.md.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gmodule.h>

#include "usbip-tool-dbus.h"
#include "usbip-tool-main.h"
#include "usbip-tool-output.h"
#include "usbip-tool-status.h"
#include "usbip-tool-trace.h"
#include "usbip-tools-common.h"
#include "usbip-tools-text.h"
#include "usbip-tools-dbus.h"
#include "usbip-tools-socket.h"

static gint opt_tcp_port = USBIP_DEFAULT_TCP_PORT;
static gboolean opt_debug, opt_json, opt_version;
static gint opt_timeout_ms = G_MININT; /* G_MININT: not given */
static gchar *opt_config;
static UsbipToolsSocketFlags opt_socket = USBIP_TOOLS_SOCKET_FLAGS_INIT;

static UsbipToolOutput out;
static UsbipConfig *config;
static UsbipPluginRegistry *registry;

static const GOptionEntry global_entries[] = {
  { "tcp-port", 't', 0, G_OPTION_ARG_INT, &opt_tcp_port, "TCP port of the remote (default 3240)", "PORT" },
  { "debug", 'd', 0, G_OPTION_ARG_NONE, &opt_debug, "Print debugging information", NULL },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Write JSON Lines (docs/json-schema.md)", NULL },
  { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout_ms,
    "Connect and reply deadline in milliseconds, 1 to 3600000 (default 10000)", "MS" },
  { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Configuration file (default " USBIP_DEFAULT_CONFIG ")",
    "FILE" },
  { NULL }
};

static const gchar *commands_help =
    "Commands:\n"
    "  list -r HOST      devices exported by HOST\n"
    "  list -l [-p]      local USB devices (-p: upstream's parsable form)\n"
    "  list -d           local usbip-vudc devices (device mode)\n"
    "  attach -r HOST -b BUSID | -d DEVID   import a device onto a vhci port\n"
    "  detach -p PORT    release a vhci port\n"
    "  attach ... --auto-reconnect [--max-attempts N] [--metrics ADDR:PORT]   stay and re-attach after a loss\n"
    "  port              imported devices\n"
    "  events [-i MS]    stream vhci port changes (attach, detach, lost connections)\n"
    "  bind -b BUSID     make a local device exportable (usbip-host)\n"
    "  unbind -b BUSID   give a device back to its usual driver\n"
    "  status [--socket PATH]   what usbipcored is doing (its status socket)\n"
    "  trace decode FILE decode USB/IP in a pcap or pcapng capture\n"
    "  version           print the version\n"
    "  help [COMMAND]    this help, or a command's options (also: COMMAND --help)\n"
    "\n"
    "Exit status: 0 success, 1 other failure, 2 usage, 3 not found, 4 busy, 5 no free port,\n"
    "6 kernel module missing, 7 permission, 8 network or timeout, 9 protocol error.\n";

static int
fail (GError *error)
{
  int code = usbip_tool_exit_code (error);

  if (out.json)
    usbip_tool_print_error (&out, error);
  g_printerr ("usbip-tool: error: %s\n", usbip_tool_message (&out, error->message));
  g_error_free (error);
  return code;
}

static const gchar *verb_summary (const gchar *name);

static int usage_error (const gchar *format, ...) G_GNUC_PRINTF (1, 2);

/* a usage error; one that starts with a command's name ("attach: ...") points at that
 * command's help */
static int
usage_error (const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *msg = NULL;
  g_autofree gchar *verb = NULL;
  const gchar *colon;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  colon = strchr (msg, ':');
  if (colon != NULL)
    verb = g_strndup (msg, (gsize) (colon - msg));
  if (verb != NULL && verb_summary (verb) != NULL)
    return fail (g_error_new (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "%s (see `usbip-tool %s --help`)", msg, verb));
  return fail (g_error_new (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "%s (see `usbip-tool --help`)", msg));
}

/* a global option given after the command (`port --json`), as the user wrote it with its
 * value ("--tcp-port 3241"), or NULL */
static gchar *
misplaced_global_option (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    for (guint j = 0; g_str_has_prefix (argv[i], "--") && global_entries[j].long_name != NULL; j++)
      {
        const GOptionEntry *e = &global_entries[j];
        gsize len = strlen (e->long_name);

        if (strncmp (argv[i] + 2, e->long_name, len) != 0)
          continue;
        if (argv[i][2 + len] == '=' || (argv[i][2 + len] == '\0' && e->arg == G_OPTION_ARG_NONE))
          return g_strdup (argv[i]);
        if (argv[i][2 + len] == '\0')
          return g_strdup_printf ("%s %s", argv[i], i + 1 < argc ? argv[i + 1] : e->arg_description);
      }
  return NULL;
}

/* a verb's options (and at most @max_args arguments); `VERB --help` prints them with the
 * verb's one-line description */
static gboolean
parse_sub_args (const gchar *name, const gchar *args_help, int max_args, const GOptionEntry *entries, int *argc,
                char ***argv, GError **error)
{
  g_autofree gchar *usage = g_strdup_printf ("%s%s", name, args_help);
  g_autoptr (GOptionContext) ctx = g_option_context_new (usage);

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, verb_summary (name));
  g_option_context_set_description (ctx, "Global options (before the command): see `usbip-tool --help`.");
  if (!g_option_context_parse (ctx, argc, argv, error))
    {
      GError *e = *error;
      g_autofree gchar *global = g_error_matches (e, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION)
                                     ? misplaced_global_option (*argc, *argv)
                                     : NULL;

      if (global != NULL)
        *error = g_error_new (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                              "%s: %s is a global option: give it before the command (`usbip-tool %s %s ...`)", name,
                              global, global, name);
      else
        *error = g_error_new (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "%s: %s (see `usbip-tool %s --help`)", name,
                              e->message, name);
      g_error_free (e);
      return FALSE;
    }
  if (*argc > 1 + max_args)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s: unexpected argument \"%s\" (see `usbip-tool %s --help`)", name, (*argv)[1 + max_args], name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_sub (const gchar *name, const GOptionEntry *entries, int *argc, char ***argv, GError **error)
{
  return parse_sub_args (name, "", 0, entries, argc, argv, error);
}

/* a number flag out of its range is a usage error naming the flag, and the help that lists
 * it: the command's (@verb) for its own flags, the global one (@verb NULL) for the others */
static gboolean
check_range (const gchar *verb, const gchar *flag, gint value, gint min, gint max, GError **error)
{
  if (value >= min && value <= max)
    return TRUE;
  if (verb != NULL)
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                 "%s: %s %d: expected %d to %d (see `usbip-tool %s --help`)", verb, flag, value, min, max, verb);
  else
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "%s %d: expected %d to %d (see `usbip-tool --help`)",
                 flag, value, min, max);
  return FALSE;
}

/* the configuration, and the one plugin a verb needs (NULL: none) */
static gboolean
load_plugins (const gchar *plugin, GError **error)
{
  g_autofree gchar *unknown = NULL;

  config = usbip_config_new ();
  if (!usbip_config_load_file (config, opt_config, error))
    return FALSE;
  if (plugin != NULL)
    registry = usbip_tools_load_plugins (config, plugin, error);
  else
    {
      /* nothing to load yet (transports come when asked for); one pass over the plugin
       * directory all the same, for the names the check below needs */
      const gchar *none[] = { NULL };

      registry = usbip_tools_new_registry (config);
      (void) usbip_plugin_registry_load_only (registry, none, NULL);
    }
  if (registry == NULL)
    return FALSE;
  /* usbipcored refuses such a file; a verb that needs no such plugin still works. The
   * registry's own pass over the plugin directory tells the names: no second one */
  unknown = usbip_tools_unknown_plugin (config, registry);
  if (unknown != NULL)
    {
      g_autofree gchar *shown = usbip_text_escape (unknown, -1);
      g_printerr ("usbip-tool: warning: %s\n", shown);
    }
  return TRUE;
}

/* the connection options the flags give */
static gboolean
socket_options (UsbipSocketOptions *opts, GError **error)
{
  if (opt_timeout_ms != G_MININT)
    opts->connect_timeout_ms = opts->read_timeout_ms = opts->write_timeout_ms = (guint) opt_timeout_ms;
  return usbip_tools_socket_resolve (&opt_socket, NULL, NULL, opts, error);
}

static UsbipImporter *
make_importer (gboolean need_backend, GError **error)
{
  UsbipImportBackend *backend = NULL;
  g_autoptr (UsbipImporter) importer = NULL;
  g_autoptr (UsbipSocketOptions) opts = usbip_socket_options_new ();

  if (!load_plugins (need_backend ? "vhci" : NULL, error))
    return NULL;
  if (need_backend)
    {
      backend = usbip_plugin_registry_get_import_backend (registry, "vhci", error);
      if (backend == NULL)
        return NULL;
    }
  importer = usbip_importer_new (backend, NULL);
  usbip_importer_set_plugin_registry (importer, registry);
  if (!socket_options (opts, error))
    return NULL;
  usbip_importer_set_socket_options (importer, opts);
  return g_steal_pointer (&importer);
}

static UsbipRemote *
parse_remote (const gchar *host, GError **error)
{
  return usbip_remote_parse (host, (guint16) opt_tcp_port, error);
}

/* run an async call to completion */
typedef struct {
  GMainLoop *loop;
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;
  w->result = g_object_ref (result);
  g_main_loop_quit (w->loop);
}

static GAsyncResult *
wait_run (Wait *w)
{
  g_main_loop_run (w->loop);
  g_main_loop_unref (w->loop);
  return w->result;
}

static int
cmd_list (int argc, char **argv)
{
  g_autofree gchar *remote_host = NULL;
  gboolean local = FALSE, parsable = FALSE, vudc = FALSE;
  const GOptionEntry entries[] = {
    { "remote", 'r', 0, G_OPTION_ARG_STRING, &remote_host,
      "List the devices exported by HOST (host[:port], [v6]:port, unix:/path, vsock:CID:PORT)", "HOST" },
    { "local", 'l', 0, G_OPTION_ARG_NONE, &local, "List local USB devices", NULL },
    { "parsable", 'p', 0, G_OPTION_ARG_NONE, &parsable, "Upstream's parsable form (with -l)", NULL },
    { "device", 'd', 0, G_OPTION_ARG_NONE, &vudc, "List local usbip-vudc devices", NULL },
    { NULL }
  };
  GError *error = NULL;

  if (!parse_sub ("list", entries, &argc, &argv, &error))
    return fail (error);
  if ((remote_host != NULL) + local + vudc > 1)
    return usage_error ("list: give one of -r HOST, -l or -d, not several");
  out.parsable = parsable;
  if (remote_host != NULL)
    {
      g_autoptr (UsbipImporter) importer = make_importer (FALSE, &error);
      g_autoptr (UsbipRemote) remote = NULL;
      g_autoptr (GPtrArray) devices = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      Wait w = { NULL, NULL };

      if (importer == NULL || (remote = parse_remote (remote_host, &error)) == NULL)
        return fail (error);
      w.loop = g_main_loop_new (NULL, FALSE); /* only now: an early return above would leak it */
      usbip_importer_list_devices_async (importer, remote, NULL, wait_cb, &w);
      result = wait_run (&w);
      devices = usbip_importer_list_devices_finish (importer, result, &error);
      if (devices == NULL)
        return fail (error);
      usbip_tool_print_remote_devices (&out, remote_host, devices);
      if (devices->len == 0 && !out.json)
        g_printerr ("usbip-tool: info: no exportable devices found on %s\n", remote_host);
      return 0;
    }
  if (local || vudc)
    {
      UsbipExportBackend *backend;
      g_autoptr (GPtrArray) devices = NULL;

      if (!load_plugins (vudc ? "vudc" : "host", &error))
        return fail (error);
      backend = usbip_plugin_registry_get_export_backend (registry, vudc ? "vudc" : "host", &error);
      if (backend == NULL)
        return fail (error);
      devices = vudc ? usbip_export_backend_list_devices (backend, &error)
                     : usbip_export_backend_list_local_devices (backend, &error);
      if (devices == NULL)
        return fail (error);
      usbip_tool_print_local_devices (&out, devices);
      return 0;
    }
  return usage_error ("list: give -r HOST, -l or -d");
}

/* ---- supervised attach and events: one line (or JSON object) per event ---- */

typedef struct {
  GMainLoop *loop;
  int rc;
} Session;

static void
emit (const gchar *type, const gchar *human, const UsbipPortInfo *port, guint attempt, guint delay_ms,
      const GError *error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *ts = g_date_time_format_iso8601 (now);

  usbip_tool_print_port_event (&out, type, ts, port, attempt, delay_ms, error, human);
  usbip_tool_flush (&out);
}

static void
on_sup_attached (UsbipSupervisor *s, UsbipPortInfo *p, Session *ss)
{
  g_autofree gchar *h = g_strdup_printf ("attached %s/%s on port %u", p->remote_host, p->remote_busid, p->port);
  emit ("attached", h, p, 0, 0, NULL);
}

static void
on_sup_lost (UsbipSupervisor *s, UsbipPortInfo *p, Session *ss)
{
  g_autofree gchar *h = g_strdup_printf ("connection lost on port %u", p->port);
  emit ("lost", h, p, 0, 0, NULL);
}

static void
on_sup_reconnecting (UsbipSupervisor *s, guint attempt, guint delay, GError *cause, Session *ss)
{
  g_autofree gchar *h = g_strdup_printf ("reconnecting: attempt %u in %u ms (%s)", attempt, delay, cause->message);
  emit ("reconnecting", h, NULL, attempt, delay, cause);
}

static void
on_sup_reconnected (UsbipSupervisor *s, UsbipPortInfo *p, Session *ss)
{
  g_autofree gchar *h = g_strdup_printf ("reconnected on port %u", p->port);
  emit ("reconnected", h, p, 0, 0, NULL);
}

static void
on_sup_detached (UsbipSupervisor *s, UsbipPortInfo *p, Session *ss)
{
  g_autofree gchar *h = g_strdup_printf ("port %u was detached on purpose: stopping", p->port);
  emit ("detached", h, p, 0, 0, NULL);
  g_main_loop_quit (ss->loop);
}

/* giving up ends the command: an error as every verb's, on stderr with its exit code; under
 * --json the gave-up event (its kind and message) stands in stdout's error object */
static void
on_sup_gave_up (UsbipSupervisor *s, GError *error, Session *ss)
{
  g_autofree gchar *h = g_strdup_printf ("gave up: %s", error->message);

  if (out.json)
    emit ("gave-up", h, NULL, 0, 0, error);
  g_printerr ("usbip-tool: error: %s\n", usbip_tool_message (&out, h));
  ss->rc = usbip_tool_exit_code (error);
  g_main_loop_quit (ss->loop);
}

static gboolean
on_quit_signal (gpointer data)
{
  g_main_loop_quit (((Session *) data)->loop);
  return G_SOURCE_CONTINUE;
}

static int
supervise (UsbipImporter *importer, const UsbipRemote *remote, const gchar *busid, guint max_attempts,
           const gchar *metrics)
{
  g_autoptr (UsbipSupervisor) sup = usbip_supervisor_new (importer, remote, busid);
  Session ss = { NULL, 0 };
  GError *error = NULL;
  guint sig_int, sig_term;

  usbip_supervisor_set_max_attempts (sup, max_attempts);
  /* --metrics: the metrics plugin serves the importer's and the supervisor's metrics */
  if (metrics != NULL)
    {
      usbip_tools_enable_metrics (config, metrics);
      if (!usbip_tools_load_observers (registry, config, &error))
        return fail (error);
      usbip_plugin_registry_add_object (registry, G_OBJECT (importer));
      usbip_plugin_registry_add_object (registry, G_OBJECT (sup));
    }
  ss.loop = g_main_loop_new (NULL, FALSE); /* only now: the early return above would leak it */
  g_signal_connect (sup, "attached", G_CALLBACK (on_sup_attached), &ss);
  g_signal_connect (sup, "lost", G_CALLBACK (on_sup_lost), &ss);
  g_signal_connect (sup, "reconnecting", G_CALLBACK (on_sup_reconnecting), &ss);
  g_signal_connect (sup, "reconnected", G_CALLBACK (on_sup_reconnected), &ss);
  g_signal_connect (sup, "detached", G_CALLBACK (on_sup_detached), &ss);
  g_signal_connect (sup, "gave-up", G_CALLBACK (on_sup_gave_up), &ss);
  sig_int = g_unix_signal_add (SIGINT, on_quit_signal, &ss);
  sig_term = g_unix_signal_add (SIGTERM, on_quit_signal, &ss);
  if (!usbip_supervisor_start (sup, &error))
    ss.rc = fail (error);
  else
    g_main_loop_run (ss.loop);
  /* Ctrl-C stops supervising; the device stays attached (detach it with `detach -p`) */
  usbip_supervisor_stop (sup);
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  g_main_loop_unref (ss.loop);
  return ss.rc;
}

/* ---- the same, through usbipcore-dbusd (not root): its Attachment object's signals ---- */

typedef struct {
  Session ss;
  GDBusConnection *bus;
  gchar *path;
  UsbipPortInfo *port; /* as of the last attach */
} BusSession;

/* the attachment's port as its properties tell */
static UsbipPortInfo *
bus_port (BusSession *bs)
{
  g_autoptr (GVariant) reply =
      usbip_tool_dbus_call (bs->bus, bs->path, "org.freedesktop.DBus.Properties", "GetAll",
                            g_variant_new ("(s)", "org.usbipcore.Usbip1.Attachment"), "(a{sv})", NULL);
  g_autoptr (GVariant) props = NULL;
  UsbipPortInfo *p = usbip_port_info_new ();
  gint port = -1;

  if (reply == NULL)
    return p;
  props = g_variant_get_child_value (reply, 0);
  g_variant_lookup (props, "Port", "i", &port);
  p->port = (guint) MAX (port, 0);
  g_variant_lookup (props, "RemoteHost", "s", &p->remote_host);
  g_variant_lookup (props, "RemotePort", "s", &p->remote_port);
  g_variant_lookup (props, "Busid", "s", &p->remote_busid);
  {
    const gchar *local = NULL;
    if (g_variant_lookup (props, "LocalBusid", "&s", &local))
      g_strlcpy (p->local_busid, local, sizeof p->local_busid);
  }
  return p;
}

static void
on_bus_signal (GDBusConnection *bus, const gchar *sender, const gchar *path, const gchar *iface, const gchar *name,
               GVariant *params, gpointer data)
{
  BusSession *bs = data;
  UsbipSupervisor *none = NULL;

  /* another attachment's; none is ours before the Attach reply (signals are dispatched
   * here, in the main loop, which runs only after it) */
  if (bs->path == NULL || !g_str_equal (path, bs->path))
    return;
  if (g_str_equal (name, "Attached") || g_str_equal (name, "Reconnected"))
    {
      g_clear_pointer (&bs->port, usbip_port_info_free);
      bs->port = bus_port (bs);
      (g_str_equal (name, "Attached") ? on_sup_attached : on_sup_reconnected) (none, bs->port, &bs->ss);
    }
  else if (g_str_equal (name, "Lost") && bs->port != NULL)
    on_sup_lost (none, bs->port, &bs->ss);
  else if (g_str_equal (name, "Detached") && bs->port != NULL)
    on_sup_detached (none, bs->port, &bs->ss);
  else if (g_str_equal (name, "Reconnecting") || g_str_equal (name, "GaveUp"))
    {
      guint attempt = 0, delay = 0;
      const gchar *error_name, *message;
      g_autoptr (GError) error = NULL;

      if (g_str_equal (name, "Reconnecting"))
        g_variant_get (params, "(uu&s&s)", &attempt, &delay, &error_name, &message);
      else
        g_variant_get (params, "(&s&s)", &error_name, &message);
      error = usbip_tools_dbus_error_new (error_name, message);
      if (attempt > 0)
        on_sup_reconnecting (none, attempt, delay, error, &bs->ss);
      else
        on_sup_gave_up (none, error, &bs->ss);
    }
}

static void
on_bus_vanished (GDBusConnection *bus, const gchar *name, gpointer data)
{
  BusSession *bs = data;

  g_printerr ("usbip-tool: error: the usbipcore service stopped; the device stays attached as it was\n");
  bs->ss.rc = USBIP_TOOL_EXIT_FAILURE;
  g_main_loop_quit (bs->ss.loop);
}

static int
supervise_bus (GDBusConnection *bus, const gchar *remote, const gchar *busid, GVariantBuilder *options)
{
  BusSession bs = { { g_main_loop_new (NULL, FALSE), 0 }, bus, NULL, NULL };
  GError *error = NULL;
  gboolean already;
  g_autoptr (UsbipPortInfo) first = NULL;
  guint sub, watch, sig_int, sig_term;

  /* One subscription, made before the call and kept: its match rule reaches the bus before
   * the call does, so every signal of the attachment after it comes here, the first ones too
   * (they may arrive with the reply, before the path is known: on_bus_signal sorts them out
   * once it is). A second, narrower subscription after the reply would miss them: GDBus
   * drops what arrived for the first one once it is unsubscribed, and the bus sends nothing
   * between the one's RemoveMatch and the other's AddMatch. */
  sub = g_dbus_connection_signal_subscribe (bus, USBIP_DBUS_NAME, "org.usbipcore.Usbip1.Attachment", NULL, NULL, NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_bus_signal, &bs, NULL);
  g_variant_builder_add (options, "{sv}", "auto-reconnect", g_variant_new_boolean (TRUE));
  first = usbip_tool_dbus_attach (bus, remote, busid, g_variant_builder_end (options), &bs.path, &already, &error);
  if (first == NULL)
    {
      g_dbus_connection_signal_unsubscribe (bus, sub);
      return fail (error);
    }
  watch = g_bus_watch_name_on_connection (bus, USBIP_DBUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, on_bus_vanished,
                                          &bs, NULL);
  sig_int = g_unix_signal_add (SIGINT, on_quit_signal, &bs.ss);
  sig_term = g_unix_signal_add (SIGTERM, on_quit_signal, &bs.ss);
  g_main_loop_run (bs.ss.loop);
  /* as without the service: Ctrl-C stops supervising; the device stays attached */
  if (bs.ss.rc == 0)
    {
      g_autoptr (GVariant) r =
          usbip_tool_dbus_call (bus, bs.path, "org.usbipcore.Usbip1.Attachment", "SetAutoReconnect",
                                g_variant_new ("(ba{sv})", FALSE, NULL), "()", NULL);
    }
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  g_bus_unwatch_name (watch);
  g_dbus_connection_signal_unsubscribe (bus, sub);
  g_main_loop_unref (bs.ss.loop);
  g_clear_pointer (&bs.port, usbip_port_info_free);
  g_free (bs.path);
  return bs.ss.rc;
}

/* attach through the service: the Attach options the flags give */
static int
attach_bus (GDBusConnection *bus, const gchar *remote_host, const gchar *busid, gboolean auto_reconnect,
            guint max_attempts, const gchar *metrics)
{
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (UsbipSocketOptions) opts = usbip_socket_options_new ();
  g_autoptr (UsbipPortInfo) port = NULL;
  g_autofree gchar *path = NULL;
  GVariantBuilder options;
  gboolean already = FALSE;
  GError *error = NULL;

  /* the same checks, in the same order, as without the service */
  if (!socket_options (opts, &error))
    return fail (error);
  remote = parse_remote (remote_host, &error);
  if (remote == NULL)
    return fail (error);
  if (metrics != NULL)
    return usage_error ("attach: --metrics serves this process's supervisor; as a user the usbipcore service "
                        "supervises: run as root for --metrics");
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "tcp-port", g_variant_new_uint16 ((guint16) opt_tcp_port));
  usbip_tools_dbus_add_socket_options (&options, opts);
  if (auto_reconnect)
    {
      g_variant_builder_add (&options, "{sv}", "max-attempts", g_variant_new_uint32 (max_attempts));
      return supervise_bus (bus, remote_host, busid, &options);
    }
  port = usbip_tool_dbus_attach (bus, remote_host, busid, g_variant_builder_end (&options), &path, &already, &error);
  if (port == NULL)
    return fail (error);
  usbip_tool_print_attached (&out, port, already);
  return 0;
}

static void
on_port_added (UsbipPortMonitor *m, UsbipPortInfo *p, gpointer data)
{
  g_autofree gchar *h =
      g_strdup_printf ("port %u: attached %s -> %s:%s/%s", p->port, p->local_busid[0] ? p->local_busid : "?",
                       p->remote_host ? p->remote_host : "?", p->remote_port ? p->remote_port : "?",
                       p->remote_busid ? p->remote_busid : "?");
  emit ("port-attached", h, p, 0, 0, NULL);
}

static void
on_port_removed (UsbipPortMonitor *m, UsbipPortInfo *p, gboolean record_kept, gpointer data)
{
  g_autofree gchar *h =
      g_strdup_printf ("port %u: %s", p->port, record_kept ? "released by the kernel (connection lost)" : "detached");
  emit (record_kept ? "port-lost" : "port-detached", h, p, 0, 0, NULL);
}

static int
cmd_events (int argc, char **argv)
{
  gint interval = USBIP_PORT_MONITOR_DEFAULT_INTERVAL_MS;
  const GOptionEntry entries[] = {
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval,
      "Poll the vhci ports every MS milliseconds, 10 to 3600000 (the kernel's USB uevents are seen at once)", "MS" },
    { NULL }
  };
  GError *error = NULL;
  g_autoptr (UsbipPortMonitor) monitor = NULL;
  UsbipImportBackend *backend;
  Session ss;

  if (!parse_sub ("events", entries, &argc, &argv, &error)
      || !check_range ("events", "--interval", interval, 10, 3600000, &error))
    return fail (error);
  if (!load_plugins ("vhci", &error)
      || (backend = usbip_plugin_registry_get_import_backend (registry, "vhci", &error)) == NULL)
    return fail (error);
  monitor = usbip_port_monitor_new (backend);
  usbip_port_monitor_set_interval (monitor, (guint) interval);
  g_signal_connect (monitor, "port-added", G_CALLBACK (on_port_added), NULL);
  g_signal_connect (monitor, "port-removed", G_CALLBACK (on_port_removed), NULL);
  if (!usbip_port_monitor_start (monitor, &error))
    return fail (error);
  g_debug ("events: watching the vhci ports (changes from now on are reported)");
  ss.loop = g_main_loop_new (NULL, FALSE);
  ss.rc = 0;
  g_unix_signal_add (SIGINT, on_quit_signal, &ss);
  g_unix_signal_add (SIGTERM, on_quit_signal, &ss);
  g_main_loop_run (ss.loop);
  g_main_loop_unref (ss.loop);
  return 0;
}

static int
cmd_attach (int argc, char **argv)
{
  g_autofree gchar *remote_host = NULL, *busid = NULL, *devid = NULL;
  gboolean auto_reconnect = FALSE;
  gint max_attempts = G_MININT; /* not given */
  g_autofree gchar *metrics = NULL;
  const GOptionEntry entries[] = {
    { "remote", 'r', 0, G_OPTION_ARG_STRING, &remote_host,
      "The exporting host (host[:port], [v6]:port, unix:/path, vsock:CID:PORT)", "HOST" },
    { "busid", 'b', 0, G_OPTION_ARG_STRING, &busid, "Bus ID of the device on HOST", "BUSID" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &devid, "Device-mode ID on HOST (usbip-vudc.N)", "DEVID" },
    { "auto-reconnect", 0, 0, G_OPTION_ARG_NONE, &auto_reconnect,
      "Stay in the foreground and re-attach whenever the connection is lost (docs/reconnect.md)", NULL },
    { "max-attempts", 0, 0, G_OPTION_ARG_INT, &max_attempts,
      "With --auto-reconnect: give up after N failed attempts in a row (default 0 = never)", "N" },
    { "metrics", 0, 0, G_OPTION_ARG_STRING, &metrics,
      "With --auto-reconnect: serve Prometheus metrics of the importer and the supervisor at http://ADDR:PORT/metrics "
      "(docs/ops.md)",
      "ADDR:PORT" },
    { NULL }
  };
  GError *error = NULL;
  g_autoptr (UsbipImporter) importer = NULL;
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  Wait w;

  gboolean already_attached = FALSE;

  if (!parse_sub ("attach", entries, &argc, &argv, &error)
      || (max_attempts != G_MININT && !check_range ("attach", "--max-attempts", max_attempts, 0, 1000000, &error)))
    return fail (error);
  if (remote_host == NULL || (busid == NULL) == (devid == NULL))
    return usage_error ("attach: give -r HOST and one of -b BUSID or -d DEVID");
  /* before anything is tried: a one-shot attach would quietly ignore them */
  if (max_attempts != G_MININT && !auto_reconnect)
    return usage_error ("attach: --max-attempts needs --auto-reconnect (a one-shot attach makes one attempt)");
  if (metrics != NULL && !auto_reconnect)
    return usage_error ("attach: --metrics needs --auto-reconnect (a one-shot attach has nothing to watch)");
  if (metrics != NULL && !usbip_tools_check_metrics_address (metrics, &error))
    {
      g_autofree gchar *message = g_strdup_printf ("attach: --metrics %s: %s", metrics, error->message);
      g_clear_error (&error);
      return usage_error ("%s", message);
    }
  max_attempts = MAX (max_attempts, 0);
  if ((bus = usbip_tool_dbus_get ()) != NULL)
    return attach_bus (bus, remote_host, busid != NULL ? busid : devid, auto_reconnect, (guint) max_attempts, metrics);
  importer = make_importer (TRUE, &error);
  if (importer == NULL || (remote = parse_remote (remote_host, &error)) == NULL)
    return fail (error);
  if (auto_reconnect)
    return supervise (importer, remote, busid != NULL ? busid : devid, (guint) max_attempts, metrics);
  w.loop = g_main_loop_new (NULL, FALSE);
  w.result = NULL;
  usbip_importer_attach_async (importer, remote, busid != NULL ? busid : devid, NULL, NULL, wait_cb, &w);
  result = wait_run (&w);
  port = usbip_importer_attach_finish_full (importer, result, &already_attached, &error);
  if (port == NULL)
    return fail (error);
  usbip_tool_print_attached (&out, port, already_attached);
  return 0;
}

static int
cmd_detach (int argc, char **argv)
{
  g_autofree gchar *port_text = NULL;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_STRING, &port_text, "The vhci port (see `usbip-tool port`)", "PORT" }, { NULL }
  };
  GError *error = NULL;
  g_autoptr (UsbipImporter) importer = NULL;
  g_autofree gchar *human = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  guint64 port;

  if (!parse_sub ("detach", entries, &argc, &argv, &error))
    return fail (error);
  if (port_text == NULL || !g_ascii_string_to_unsigned (port_text, 10, 0, 65535, &port, NULL))
    return usage_error ("detach: give -p PORT, a port number from `usbip-tool port`");
  if ((bus = usbip_tool_dbus_get ()) != NULL)
    {
      if (!usbip_tool_dbus_detach (bus, (guint) port, &error))
        return fail (error);
    }
  else if ((importer = make_importer (TRUE, &error)) == NULL || !usbip_importer_detach (importer, (guint) port, &error))
    return fail (error);
  human = g_strdup_printf ("Port %u is now detached!", (guint) port);
  usbip_tool_print_event (&out, "detached", "port", port_text, human);
  return 0;
}

static int
cmd_port (int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  GError *error = NULL;
  g_autoptr (UsbipImporter) importer = NULL;
  g_autoptr (GPtrArray) ports = NULL;
  g_autoptr (GDBusConnection) bus = NULL;

  if (!parse_sub ("port", entries, &argc, &argv, &error))
    return fail (error);
  if ((bus = usbip_tool_dbus_get ()) != NULL)
    ports = usbip_tool_dbus_list_ports (bus, &error);
  else if ((importer = make_importer (TRUE, &error)) != NULL)
    ports = usbip_importer_list_ports (importer, &error);
  if (ports == NULL)
    return fail (error);
  usbip_tool_print_ports (&out, ports);
  return 0;
}

static int
cmd_bind (int argc, char **argv, gboolean bind)
{
  g_autofree gchar *busid = NULL;
  const GOptionEntry entries[] = {
    { "busid", 'b', 0, G_OPTION_ARG_STRING, &busid, "Bus ID of the local device", "BUSID" }, { NULL }
  };
  GError *error = NULL;
  UsbipExportBackend *backend;
  g_autofree gchar *human = NULL;
  g_autoptr (GDBusConnection) bus = NULL;

  if (!parse_sub (bind ? "bind" : "unbind", entries, &argc, &argv, &error))
    return fail (error);
  if (busid == NULL)
    return usage_error ("%s: give -b BUSID, a bus ID from `usbip-tool list -l`", bind ? "bind" : "unbind");
  if ((bus = usbip_tool_dbus_get ()) != NULL)
    {
      if (!usbip_tool_dbus_bind (bus, busid, bind, &error))
        return fail (error);
    }
  else if (!load_plugins ("host", &error)
           || (backend = usbip_plugin_registry_get_export_backend (registry, "host", &error)) == NULL
           || !(bind ? usbip_export_backend_bind (backend, busid, &error)
                     : usbip_export_backend_unbind (backend, busid, &error)))
    return fail (error);
  human = g_strdup_printf ("%s device on busid %s: complete", bind ? "bind" : "unbind", busid);
  usbip_tool_print_event (&out, bind ? "bound" : "unbound", "busid", busid, human);
  return 0;
}

static int cmd_help (int argc, char **argv);

static int
cmd_version (int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  GError *error = NULL;

  if (!parse_sub ("version", entries, &argc, &argv, &error))
    return fail (error);
  if (out.json)
    usbip_tool_print_event (&out, "version", "version", PACKAGE_VERSION, NULL);
  else
    g_string_append (out.out, USBIP_TOOL_VERSION_LINE);
  return 0;
}

static int
cmd_trace (int argc, char **argv)
{
  /* the global --json applies to trace too */
  g_autoptr (GPtrArray) args = g_ptr_array_new ();

  for (int i = 0; i < argc; i++)
    g_ptr_array_add (args, argv[i]);
  if (out.json)
    g_ptr_array_add (args, (gpointer) "--json");
  g_ptr_array_add (args, NULL);
  return usbip_tool_trace_main ((int) args->len - 1, (char **) args->pdata);
}

/* `status` runs from its own module (libsoup comes with it, usbip-tool-status.h): found in
 * USBIP_TOOL_MODULE_DIR if set (the build tree), else where the package installs it */
static gboolean
run_status_module (const gchar *socket_path, GError **error)
{
  const gchar *dir = g_getenv ("USBIP_TOOL_MODULE_DIR");
  g_autofree gchar *path =
      g_build_filename (dir != NULL && *dir ? dir : USBIP_TOOL_MODULEDIR, USBIP_TOOL_STATUS_MODULE, NULL);
  GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL);
  UsbipToolStatusFunc status = NULL;

  if (module == NULL || !g_module_symbol (module, "usbip_tool_status", (gpointer *) &status))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "`status` needs its module %s, which cannot be loaded (%s): reinstall usbip-tool's package, "
                   "or set USBIP_TOOL_MODULE_DIR to the directory that holds it",
                   path, g_module_error ());
      if (module != NULL)
        g_module_close (module);
      return FALSE;
    }
  return status (&out, socket_path, error);
}

static int
cmd_status (int argc, char **argv)
{
  g_autofree gchar *socket_path = NULL;
  const GOptionEntry entries[] = { { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
                                     "usbipcored's status socket (default " USBIP_TOOL_STATUS_SOCKET ")", "PATH" },
                                   { NULL } };
  GError *error = NULL;

  if (!parse_sub ("status", entries, &argc, &argv, &error))
    return fail (error);
  if (socket_path != NULL && *socket_path == '\0')
    return usage_error ("status: --socket needs a path, e.g. --socket " USBIP_TOOL_STATUS_SOCKET);
  if (!run_status_module (socket_path, &error))
    return fail (error);
  return 0;
}

static int
cmd_bind_verb (int argc, char **argv)
{
  return cmd_bind (argc, argv, TRUE);
}

static int
cmd_unbind_verb (int argc, char **argv)
{
  return cmd_bind (argc, argv, FALSE);
}

static const struct {
  const gchar *name;
  int (*run) (int argc, char **argv);
  const gchar *summary;
} verbs[] = {
  { "list", cmd_list,
    "List the devices a remote exports (-r HOST), local USB devices (-l) or usbip-vudc devices (-d)." },
  { "attach", cmd_attach,
    "Import a remote device onto a free vhci port (-r HOST -b BUSID); --auto-reconnect stays and re-attaches." },
  { "detach", cmd_detach, "Release a vhci port (-p PORT, from `usbip-tool port`)." },
  { "port", cmd_port, "Show the imported devices: vhci ports in use and their remotes." },
  { "events", cmd_events, "Stream vhci port changes (attach, detach, lost connections) until interrupted." },
  { "bind", cmd_bind_verb, "Make a local device exportable through usbip-host (-b BUSID)." },
  { "unbind", cmd_unbind_verb, "Give a device back to its usual driver (-b BUSID)." },
  { "status", cmd_status, "Show what usbipcored is doing, from its status socket (--socket PATH)." },
  { "trace", cmd_trace, "Decode USB/IP in a pcap or pcapng capture (trace decode FILE)." },
  { "version", cmd_version, "Print the version." },
  { "help", cmd_help, "Print the commands, or one command's options (help COMMAND)." },
};

static const gchar *
verb_summary (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_str_equal (verbs[i].name, name))
      return verbs[i].summary;
  return NULL;
}

static GOptionContext *main_context;

static int
cmd_help (int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  GError *error = NULL;

  if (!parse_sub_args ("help", " [COMMAND]", 1, entries, &argc, &argv, &error))
    return fail (error);
  if (argc == 2)
    {
      char *args[] = { argv[1], (char *) "--help", NULL };

      if (verb_summary (argv[1]) == NULL || g_str_equal (argv[1], "help"))
        return usage_error ("help: unknown command \"%s\"", argv[1]);
      /* GOption prints the command's help and exits 0 */
      for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
        if (g_str_equal (verbs[i].name, argv[1]))
          return verbs[i].run (2, args);
    }
  {
    g_autofree gchar *help = g_option_context_get_help (main_context, TRUE, NULL);
    g_string_append (out.out, help);
  }
  return 0;
}

/* library warnings in the tool's own format: "usbip-tool: warning: ..." */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const gchar *message = NULL, *domain = NULL;
  const gchar *label;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
      else if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
    }
  if (message == NULL || g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  label = level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL) ? "error"
          : level & G_LOG_LEVEL_WARNING                      ? "warning"
          : level & G_LOG_LEVEL_DEBUG                        ? "debug"
                                                             : "info";
  {
    g_autofree gchar *shown = usbip_tools_message_text (message);
    if (level & G_LOG_LEVEL_DEBUG)
      g_printerr ("usbip-tool: debug: %s: %s\n", domain != NULL ? domain : "usbip-tool", shown);
    else
      g_printerr ("usbip-tool: %s: %s\n", label, shown);
  }
  return G_LOG_WRITER_HANDLED;
}

/* the executable (usbip-tool-front.c) runs this for every command line but the version */
int
usbip_tool_main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("COMMAND [ARGS]");
  g_autoptr (GError) error = NULL;
  int rc = -1;

  setlocale (LC_ALL, "");
  g_log_set_writer_func (log_writer, NULL, NULL);
  main_context = ctx;
  g_option_context_add_main_entries (ctx, global_entries, NULL);
  usbip_tools_socket_add_entries (ctx, &opt_socket);
  g_option_context_set_strict_posix (ctx, TRUE);
  g_option_context_set_summary (ctx, "Import and export USB devices over USB/IP (upstream usbip's verbs).");
  g_option_context_set_description (ctx, commands_help);
  out.out = g_string_new (NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  out.json = opt_json;
  if (opt_debug)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  if (!check_range (NULL, "--tcp-port", opt_tcp_port, 1, 65535, &error)
      || (opt_timeout_ms != G_MININT && !check_range (NULL, "--timeout", opt_timeout_ms, 1, 3600000, &error)))
    return fail (g_steal_pointer (&error));
  {
    g_autoptr (UsbipSocketOptions) checked = usbip_socket_options_new ();
    if (!usbip_tools_socket_resolve (&opt_socket, NULL, NULL, checked, &error))
      return usage_error ("%s", error->message);
  }
  if (opt_version)
    {
      fputs (USBIP_TOOL_VERSION_LINE, stdout);
      return 0;
    }
  if (argc < 2)
    {
      g_autofree gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
      g_printerr ("%s", help);
      return USBIP_TOOL_EXIT_USAGE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (verbs) && rc < 0; i++)
    if (g_str_equal (argv[1], verbs[i].name))
      rc = verbs[i].run (argc - 1, argv + 1);
  if (rc < 0)
    rc = usage_error ("unknown command \"%s\"", argv[1]);

  usbip_tool_flush (&out);
  g_string_free (out.out, TRUE);
  g_clear_pointer (&out.scratch, g_ptr_array_unref);
  g_clear_object (&registry);
  g_clear_object (&config);
  return rc;
}
