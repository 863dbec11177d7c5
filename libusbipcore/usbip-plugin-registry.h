/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"
#include "usbip-config.h"
#include "usbip-sysfs.h"
#include "usbip-import-backend.h"
#include "usbip-export-backend.h"
#include "usbip-transport.h"

G_BEGIN_DECLS

/**
 * UsbipPluginState:
 * @USBIP_PLUGIN_STATE_LOADED: loaded and registered
 * @USBIP_PLUGIN_STATE_DISABLED: present but not enabled in the config
 * @USBIP_PLUGIN_STATE_FAILED: enabled but could not load (see the reason)
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_PLUGIN_STATE_LOADED,
  USBIP_PLUGIN_STATE_DISABLED,
  USBIP_PLUGIN_STATE_FAILED,
} UsbipPluginState;

#define USBIP_TYPE_PLUGIN_INFO (usbip_plugin_info_get_type ())

/**
 * UsbipPluginInfo:
 * @name: plugin name (`vhci`, `host`, ...)
 * @path: (nullable): module file, %NULL when builtin
 * @state: outcome
 * @reason: (nullable): why it is disabled or failed
 *
 * Since: 1.0
 */
typedef struct {
  gchar *name;
  gchar *path;
  UsbipPluginState state;
  gchar *reason;
} UsbipPluginInfo;

USBIP_PUBLIC GType usbip_plugin_info_get_type (void) G_GNUC_CONST;
USBIP_PUBLIC UsbipPluginInfo *usbip_plugin_info_copy (const UsbipPluginInfo *info);
USBIP_PUBLIC void usbip_plugin_info_free (UsbipPluginInfo *info);
USBIP_PUBLIC const gchar *usbip_plugin_state_to_string (UsbipPluginState state);

#define USBIP_TYPE_PLUGIN_REGISTRY (usbip_plugin_registry_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipPluginRegistry, usbip_plugin_registry, USBIP, PLUGIN_REGISTRY, GObject)

/* config, sysfs: (nullable): defaults when NULL */
USBIP_PUBLIC UsbipPluginRegistry *usbip_plugin_registry_new (UsbipConfig *config, UsbipSysfs *sysfs);
/* module directory: $USBIP_PLUGIN_DIR, else $libdir/usbipcore-1/plugins */
USBIP_PUBLIC const gchar *usbip_plugin_registry_get_plugin_dir (UsbipPluginRegistry *self);
USBIP_PUBLIC void usbip_plugin_registry_set_plugin_dir (UsbipPluginRegistry *self, const gchar *dir);
/* load every enabled plugin (builtin first, then modules); a plugin that fails is recorded
 * as FAILED and does not fail the call; FALSE only for a registry-wide problem */
USBIP_PUBLIC gboolean usbip_plugin_registry_load (UsbipPluginRegistry *self, GError **error);
/* only the named plugins (those enabled among them) */
USBIP_PUBLIC gboolean usbip_plugin_registry_load_only (UsbipPluginRegistry *self, const gchar *const *names,
                                                       GError **error);
/* load one module file (tests); USBIP_ERROR_PLUGIN on a wrong ABI or missing symbol */
USBIP_PUBLIC gboolean usbip_plugin_registry_load_module (UsbipPluginRegistry *self, const gchar *path, GError **error);
/* (element-type UsbipPluginInfo) (transfer container) */
USBIP_PUBLIC GPtrArray *usbip_plugin_registry_list (UsbipPluginRegistry *self);
USBIP_PUBLIC gchar **usbip_plugin_registry_get_names (UsbipPluginRegistry *self);
/* name: (nullable): NULL = the first one registered. (transfer none). Error says which
 * plugin would provide it and why it is not there (disabled in FILE / failed: REASON). */
USBIP_PUBLIC UsbipImportBackend *usbip_plugin_registry_get_import_backend (UsbipPluginRegistry *self, const gchar *name,
                                                                           GError **error);
USBIP_PUBLIC UsbipExportBackend *usbip_plugin_registry_get_export_backend (UsbipPluginRegistry *self, const gchar *name,
                                                                           GError **error);
/* the transport for @scheme (`tcp` is built in; `unix`, `vsock` come from the plugins of
 * those names). (transfer none). The error names the plugin to enable or install. */
USBIP_PUBLIC UsbipTransport *usbip_plugin_registry_get_transport (UsbipPluginRegistry *self, const gchar *scheme,
                                                                  GError **error);
/* the program hands over each exporter, importer and supervisor it creates so that plugins
 * can observe it: the registry keeps a reference and emits `object-added` (detailed by the
 * type name, e.g. `object-added::UsbipExporter`) */
USBIP_PUBLIC void usbip_plugin_registry_add_object (UsbipPluginRegistry *self, GObject *object);
/* (nullable) (transfer none): the record of plugin @name, NULL if never seen */
USBIP_PUBLIC const UsbipPluginInfo *usbip_plugin_registry_get_info (UsbipPluginRegistry *self, const gchar *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipPluginInfo, usbip_plugin_info_free)

G_END_DECLS
