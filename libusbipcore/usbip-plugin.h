/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What a plugin sees. A plugin is `libusbip-plugin-<name>.so` exporting exactly two
 * symbols (linker version script plugins/plugin.map): `usbip_plugin_abi` (a
 * UsbipPluginAbi) and `usbip_plugin_register` (a UsbipPluginRegisterFunc). A plugin's
 * source writes USBIP_PLUGIN_DEFINE (name, register_func) once; in a builtin_plugins build
 * the same source is linked statically and registered by name instead.
 */

#include <glib-object.h>
#include "usbip-common.h"
#include "usbip-sysfs.h"
#include "usbip-import-backend.h"
#include "usbip-export-backend.h"
#include "usbip-config.h"
#include "usbip-transport.h"

G_BEGIN_DECLS

#define USBIP_PLUGIN_ABI_MAJOR 1
#define USBIP_PLUGIN_ABI_MINOR 2

/**
 * UsbipPluginAbi:
 * @major: must equal the loader's USBIP_PLUGIN_ABI_MAJOR
 * @minor: must be <= the loader's USBIP_PLUGIN_ABI_MINOR
 *
 * The ABI a plugin was built for.
 *
 * Since: 1.0
 */
typedef struct {
  guint32 major;
  guint32 minor;
} UsbipPluginAbi;

typedef struct _UsbipPluginContext UsbipPluginContext;

/**
 * UsbipPluginRegisterFunc:
 * @ctx: the context: name, config group, sysfs seam, and where to add backends
 * @error: return location for a #GError
 *
 * Called once when the plugin is enabled. Creates the plugin's objects and adds them.
 *
 * Returns: %FALSE with @error set if the plugin cannot run here (e.g. kernel module
 *   missing is NOT a reason: backends report that per operation, with the fix)
 *
 * Since: 1.0
 */
typedef gboolean (*UsbipPluginRegisterFunc) (UsbipPluginContext *ctx, GError **error);

USBIP_PUBLIC const gchar *usbip_plugin_context_get_name (UsbipPluginContext *ctx);
/* the plugin's own config group `[<name>]` lives in this keyfile (transfer none) */
USBIP_PUBLIC GKeyFile *usbip_plugin_context_get_keyfile (UsbipPluginContext *ctx);
USBIP_PUBLIC UsbipSysfs *usbip_plugin_context_get_sysfs (UsbipPluginContext *ctx);
/* backend: (transfer none): the registry takes its own reference */
USBIP_PUBLIC void usbip_plugin_context_add_import_backend (UsbipPluginContext *ctx, const gchar *name,
                                                           UsbipImportBackend *backend);
USBIP_PUBLIC void usbip_plugin_context_add_export_backend (UsbipPluginContext *ctx, const gchar *name,
                                                           UsbipExportBackend *backend);

/* ABI 1.1: observing what the program creates. The registry (a GObject) emits
 * `object-added::UsbipExporter` (and `::UsbipImporter`, `::UsbipSupervisor`) when the
 * program hands it one (usbip_plugin_registry_add_object()); connect to it. Its boolean
 * property `check-only` (look it up with g_object_class_find_property(): older libraries
 * lack it) is TRUE when the program only checks its configuration (`usbipcored
 * --check-config`): validate, with a real start's errors, but create, open and bind
 * nothing. (transfer none) */
USBIP_PUBLIC GObject *usbip_plugin_context_get_registry (UsbipPluginContext *ctx);
/* keeps @object alive as long as the registry (the plugin's own state) */
USBIP_PUBLIC void usbip_plugin_context_keep (UsbipPluginContext *ctx, GObject *object);

/* ABI 1.1: typed access to the plugin's own group `[<name>]`: declare each key with its
 * type, default and bounds, then check the group (a bad value fails the plugin with an
 * error naming file, group, key and what is accepted), then read typed values. */
USBIP_PUBLIC void usbip_plugin_context_register_key (UsbipPluginContext *ctx, const gchar *key, UsbipConfigType type,
                                                     const gchar *default_value, gdouble min, gdouble max,
                                                     const gchar *description);
USBIP_PUBLIC gboolean usbip_plugin_context_check_config (UsbipPluginContext *ctx, GError **error);
USBIP_PUBLIC gchar *usbip_plugin_context_get_string (UsbipPluginContext *ctx, const gchar *key);
USBIP_PUBLIC gchar **usbip_plugin_context_get_string_list (UsbipPluginContext *ctx, const gchar *key);
USBIP_PUBLIC guint64 usbip_plugin_context_get_uint (UsbipPluginContext *ctx, const gchar *key);
USBIP_PUBLIC gboolean usbip_plugin_context_get_boolean (UsbipPluginContext *ctx, const gchar *key);

/* ABI 1.2: a transport for the addresses of @scheme (`unix:...`, `vsock:...`); TCP is built
 * in. (transfer none): the registry takes its own reference */
USBIP_PUBLIC void usbip_plugin_context_add_transport (UsbipPluginContext *ctx, const gchar *scheme,
                                                      UsbipTransport *transport);

#ifdef USBIP_PLUGIN_MODULE
#define USBIP_PLUGIN_DEFINE(name, func)                                                                                \
  __attribute__ ((visibility ("default")))                                                                             \
  const UsbipPluginAbi usbip_plugin_abi = { USBIP_PLUGIN_ABI_MAJOR, USBIP_PLUGIN_ABI_MINOR };                          \
  __attribute__ ((visibility ("default"))) gboolean usbip_plugin_register (UsbipPluginContext *, GError **);           \
  gboolean usbip_plugin_register (UsbipPluginContext *ctx, GError **error) { return func (ctx, error); }
#else
#define USBIP_PLUGIN_DEFINE(name, func)
#endif

G_END_DECLS
