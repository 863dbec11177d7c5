/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-tools-common.h"
#ifdef USBIP_BUILTIN_PLUGINS
#include "usbip-builtin-plugins.h"
#endif

/* on a UsbipConfig: the address of usbip-tool's --metrics, which replaced the file's
 * [metrics] listen (usbip_tools_enable_metrics()) */
#define METRICS_FLAG "usbip-tools-metrics-flag"

UsbipPluginRegistry *
usbip_tools_new_registry (UsbipConfig *config)
{
  UsbipPluginRegistry *registry = usbip_plugin_registry_new (config, NULL);

#ifdef USBIP_BUILTIN_PLUGINS
  usbip_builtin_plugins_add_all (registry);
#endif
  return registry;
}

UsbipPluginRegistry *
usbip_tools_load_plugins (UsbipConfig *config, const gchar *only, GError **error)
{
  g_autoptr (UsbipPluginRegistry) registry = usbip_tools_new_registry (config);
  if (only != NULL)
    {
      const gchar *names[] = { only, NULL };
      if (!usbip_plugin_registry_load_only (registry, names, error))
        return NULL;
    }
  else if (!usbip_plugin_registry_load (registry, error))
    return NULL;
  return g_steal_pointer (&registry);
}

gboolean
usbip_tools_load_observers (UsbipPluginRegistry *registry, UsbipConfig *config, GError **error)
{
  static const gchar *const observers[] = { "metrics", NULL };
  const gchar *flag = g_object_get_data (G_OBJECT (config), METRICS_FLAG);

  if (!usbip_plugin_registry_load_only (registry, observers, error))
    return FALSE;
  for (guint i = 0; observers[i] != NULL; i++)
    {
      const UsbipPluginInfo *info = usbip_plugin_registry_get_info (registry, observers[i]);
      if (info != NULL && info->state == USBIP_PLUGIN_STATE_FAILED)
        {
          g_autofree gchar *source = flag != NULL
                                         ? g_strdup_printf ("--metrics %s", flag)
                                         : g_strdup_printf ("[metrics] listen in %s", usbip_config_get_path (config));

          /* the plugin reads its group and cannot tell a flag's value from the file's */
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                       "the %s plugin is enabled but failed (its address from %s): %s", observers[i], source,
                       info->reason);
          return FALSE;
        }
    }
  return TRUE;
}

void
usbip_tools_enable_plugin (UsbipConfig *config, const gchar *name)
{
  GKeyFile *kf = usbip_config_get_keyfile (config);
  g_auto (GStrv) enabled = usbip_config_get_string_list (config, "plugins", "enabled");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) list = NULL;

  g_strv_builder_addv (builder, (const gchar **) enabled);
  if (!g_strv_contains ((const gchar *const *) enabled, name))
    g_strv_builder_add (builder, name);
  list = g_strv_builder_end (builder);
  g_key_file_set_string_list (kf, "plugins", "enabled", (const gchar *const *) list, g_strv_length (list));
}

void
usbip_tools_enable_metrics (UsbipConfig *config, const gchar *listen)
{
  usbip_tools_enable_plugin (config, "metrics");
  g_key_file_set_string (usbip_config_get_keyfile (config), "metrics", "listen", listen);
  g_object_set_data_full (G_OBJECT (config), METRICS_FLAG, g_strdup (listen), g_free);
}

gboolean
usbip_tools_check_metrics_address (const gchar *address, GError **error)
{
  g_autoptr (UsbipRemote) remote = usbip_remote_parse (address, 0, NULL);
  g_autoptr (GInetAddress) inet = remote != NULL ? g_inet_address_new_from_string (remote->host) : NULL;

  if (inet != NULL && remote->port != 0)
    return TRUE;
  g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "expected a numeric ADDR:PORT such as 127.0.0.1:9240 or [::1]:9240");
  return FALSE;
}

gboolean
usbip_tools_check_metrics_config (UsbipConfig *config, GError **error)
{
  g_auto (GStrv) listen = NULL;

  if (!usbip_config_get_plugin_enabled (config, "metrics"))
    return TRUE;
  /* from the file itself: the key is the plugin's, registered when it loads */
  listen = g_key_file_get_string_list (usbip_config_get_keyfile (config), "metrics", "listen", NULL, NULL);
  for (guint i = 0; listen != NULL && listen[i] != NULL; i++)
    if (!usbip_tools_check_metrics_address (g_strstrip (listen[i]), error))
      {
        g_prefix_error (error, "[metrics] listen=%s in %s: ", listen[i], usbip_config_get_path (config));
        return FALSE;
      }
  return TRUE;
}

gchar *
usbip_tools_unknown_plugin (UsbipConfig *config, UsbipPluginRegistry *registry)
{
  g_auto (GStrv) enabled = usbip_config_get_string_list (config, "plugins", "enabled");
  g_auto (GStrv) known = usbip_plugin_registry_get_names (registry);
  const gchar *path = usbip_config_get_path (config);

  /* none at all: not a typo but a missing install, which loading names with its fix */
  if (known[0] == NULL)
    return NULL;
  for (guint i = 0; enabled[i] != NULL; i++)
    {
      g_autofree gchar *list = NULL;

      if (*enabled[i] == '\0' || g_strv_contains ((const gchar *const *) known, enabled[i]))
        continue;
      list = g_strjoinv (", ", known);
      return g_strdup_printf ("unknown plugin %s in [plugins] enabled of %s: the plugins are %s", enabled[i],
                              path != NULL ? path : "the configuration", list);
    }
  return NULL;
}
