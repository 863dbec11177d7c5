/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What both tools share: loading the configuration and the plugins. */

#include <usbipcore.h>

G_BEGIN_DECLS

/* Loads the plugins enabled in @config: the compiled-in ones in a builtin_plugins build,
 * else the modules from the plugin directory. Failed plugins are reported by the registry. */
/* only: (nullable): load just this plugin (a verb needs one backend); NULL loads all */
UsbipPluginRegistry *usbip_tools_load_plugins (UsbipConfig *config, const gchar *only, GError **error);
/* a registry that has loaded nothing yet (plugins come when asked for, e.g. a transport) */
UsbipPluginRegistry *usbip_tools_new_registry (UsbipConfig *config);

/* Loads the enabled plugins that observe a program rather than provide a backend
 * (`metrics`); one that is enabled but cannot start is an error naming the reason and where
 * its settings came from in @config: a flag (usbip_tools_enable_metrics()) or the file. */
gboolean usbip_tools_load_observers (UsbipPluginRegistry *registry, UsbipConfig *config, GError **error);
/* adds @name to `enabled` in the [plugins] group of @config, whatever the file said */
void usbip_tools_enable_plugin (UsbipConfig *config, const gchar *name);
/* enables the metrics plugin in @config, serving on @listen (ADDR:PORT), whatever the file
 * said; its errors then name `--metrics ADDR:PORT`, not the key */
void usbip_tools_enable_metrics (UsbipConfig *config, const gchar *listen);
/* FALSE with USBIP_ERROR_INVALID_ARGUMENT unless @address is one the metrics plugin can serve
 * on (a numeric ADDR:PORT); the message says what is expected, the caller names where the
 * address came from (the flag or the key) */
gboolean usbip_tools_check_metrics_address (const gchar *address, GError **error);
/* the same for every address of `listen` in the [metrics] group, when the plugin is enabled;
 * the message names the key and the file */
gboolean usbip_tools_check_metrics_config (UsbipConfig *config, GError **error);

/* NULL when every name in `enabled` of the [plugins] group is a plugin @registry found (its
 * loads so far looked through the plugin directory: usbip_plugin_registry_get_names()); else
 * one sentence naming the first that is not, the file and the plugins there are (not
 * escaped); NULL too when no plugin is found at all (loading one says where it looked) */
gchar *usbip_tools_unknown_plugin (UsbipConfig *config, UsbipPluginRegistry *registry);

G_END_DECLS
