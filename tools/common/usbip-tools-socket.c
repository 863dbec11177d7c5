/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-tools-socket.h"

/* one numeric tunable: the flag and key name, where it lives in the flags and the options,
 * and its range (the kernel's limits for the keepalive ones) */
typedef struct {
  const gchar *name;
  gsize flag_offset;
  gsize opt_offset;
  gint max;
  const gchar *arg;
  const gchar *help;
} Tunable;

#define TUNABLE(n, f, o, m, a, h)                                                                                      \
  {                                                                                                                    \
    n, G_STRUCT_OFFSET (UsbipToolsSocketFlags, f), G_STRUCT_OFFSET (UsbipSocketOptions, o), m, a, h                    \
  }

static const Tunable tunables[] = {
  TUNABLE ("keepalive-idle", keepalive_idle_s, keepalive_idle_s, 32767, "S",
           "Seconds idle before the first keepalive probe, 0 to 32767 (0 = kernel default; default 4)"),
  TUNABLE ("keepalive-interval", keepalive_interval_s, keepalive_interval_s, 32767, "S",
           "Seconds between keepalive probes, 0 to 32767 (0 = kernel default; default 3)"),
  TUNABLE ("keepalive-probes", keepalive_probes, keepalive_probes, 127, "N",
           "Unanswered keepalive probes that end the connection, 0 to 127 (0 = kernel default; default 5)"),
  TUNABLE (
      "user-timeout", user_timeout_ms, user_timeout_ms, 3600000, "MS",
      "TCP_USER_TIMEOUT: milliseconds data may stay unacknowledged, 0 to 3600000 (0 = kernel default; default 16000)"),
  TUNABLE ("sndbuf", sndbuf, sndbuf, 67108864, "BYTES", "SO_SNDBUF, 0 to 67108864 (0 = kernel default, the default)"),
  TUNABLE ("rcvbuf", rcvbuf, rcvbuf, 67108864, "BYTES", "SO_RCVBUF, 0 to 67108864 (0 = kernel default, the default)"),
};

#define FLAG(flags, t) G_STRUCT_MEMBER (gint, flags, (t)->flag_offset)
#define OPT(opts, t) G_STRUCT_MEMBER (guint, opts, (t)->opt_offset)

void
usbip_tools_socket_add_entries (GOptionContext *ctx, UsbipToolsSocketFlags *flags)
{
  GOptionEntry entries[G_N_ELEMENTS (tunables) + 3] = { { NULL } };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (tunables); i++)
    entries[i] =
        (GOptionEntry){ tunables[i].name, 0, 0, G_OPTION_ARG_INT, &FLAG (flags, &tunables[i]), tunables[i].help,
                        tunables[i].arg };
  entries[i++] = (GOptionEntry){
    "no-keepalive", 0, 0, G_OPTION_ARG_NONE, &flags->no_keepalive, "Turn TCP keepalive off (SO_KEEPALIVE)", NULL
  };
  entries[i] = (GOptionEntry){
    "no-nodelay", 0, 0, G_OPTION_ARG_NONE, &flags->no_nodelay, "Turn TCP_NODELAY off (Nagle batches small writes)", NULL
  };
  /* GOption keeps pointers into the entries: copy them into the context */
  g_option_context_add_main_entries (ctx, entries, NULL);
}

void
usbip_tools_socket_register_keys (UsbipConfig *config, const gchar *group)
{
  g_autoptr (UsbipSocketOptions) defaults = usbip_socket_options_new ();

  for (guint i = 0; i < G_N_ELEMENTS (tunables); i++)
    {
      g_autofree gchar *def = g_strdup_printf ("%u", OPT (defaults, &tunables[i]));
      usbip_config_register_key (config, group, tunables[i].name, USBIP_CONFIG_TYPE_UINT, def, NULL, 0, tunables[i].max,
                                 tunables[i].help);
    }
  usbip_config_register_key (config, group, "keepalive", USBIP_CONFIG_TYPE_BOOLEAN, "true", NULL, 0, 0, "SO_KEEPALIVE");
  usbip_config_register_key (config, group, "nodelay", USBIP_CONFIG_TYPE_BOOLEAN, "true", NULL, 0, 0, "TCP_NODELAY");
}

gboolean
usbip_tools_socket_resolve (const UsbipToolsSocketFlags *flags, UsbipConfig *config, const gchar *group,
                            UsbipSocketOptions *opts, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (tunables); i++)
    {
      const Tunable *t = &tunables[i];
      gint flag = FLAG ((gpointer) flags, t);

      if (flag != G_MININT && (flag < 0 || flag > t->max))
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "--%s %d: expected 0 to %d", t->name, flag,
                       t->max);
          return FALSE;
        }
      if (flag != G_MININT)
        OPT (opts, t) = (guint) flag;
      else if (config != NULL)
        OPT (opts, t) = (guint) usbip_config_get_uint (config, group, t->name);
    }
  opts->keepalive = !flags->no_keepalive && (config == NULL || usbip_config_get_boolean (config, group, "keepalive"));
  opts->nodelay = !flags->no_nodelay && (config == NULL || usbip_config_get_boolean (config, group, "nodelay"));
  return TRUE;
}
