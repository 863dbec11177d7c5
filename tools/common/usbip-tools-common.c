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
