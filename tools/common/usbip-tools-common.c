/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-tools-common.h"
#ifdef USBIP_BUILTIN_PLUGINS
#include "usbip-builtin-plugins.h"
#endif

UsbipPluginRegistry *
usbip_tools_load_plugins (UsbipConfig *config, const gchar *only, GError **error)
{
  g_autoptr (UsbipPluginRegistry) registry = usbip_plugin_registry_new (config, NULL);

#ifdef USBIP_BUILTIN_PLUGINS
  usbip_builtin_plugins_add_all (registry);
#endif
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
usbip_tools_load_observers (UsbipPluginRegistry *registry, GError **error)
{
  static const gchar *const observers[] = { "metrics", NULL };

  if (!usbip_plugin_registry_load_only (registry, observers, error))
    return FALSE;
  for (guint i = 0; observers[i] != NULL; i++)
    {
      const UsbipPluginInfo *info = usbip_plugin_registry_get_info (registry, observers[i]);
      if (info != NULL && info->state == USBIP_PLUGIN_STATE_FAILED)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN, "the %s plugin is enabled but failed: %s",
                       observers[i], info->reason);
          return FALSE;
        }
    }
  return TRUE;
}
