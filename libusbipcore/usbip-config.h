/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One GKeyFile: `[plugins]` enables plugins by name (`enabled=vhci;host;vudc`), one group
 * per plugin (`[vhci]`, ...) and one per program that registers keys (`[daemon]`, by
 * usbipcored) for settings.
 * Keys and defaults are registered in code; loading validates every registered key (a bad
 * value is USBIP_ERROR_CONFIG naming file, group, key and the accepted values) and warns
 * about keys nobody registered.
 */

#include <glib-object.h>
#include "usbip-common.h"

G_BEGIN_DECLS

/**
 * UsbipConfigType:
 * @USBIP_CONFIG_TYPE_STRING: free text
 * @USBIP_CONFIG_TYPE_BOOLEAN: true/false
 * @USBIP_CONFIG_TYPE_UINT: unsigned integer within [min, max]
 * @USBIP_CONFIG_TYPE_DOUBLE: floating point within [min, max]
 * @USBIP_CONFIG_TYPE_STRING_LIST: `a;b;c`
 * @USBIP_CONFIG_TYPE_ENUM: one of an accepted list
 *
 * Value types of registered keys.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_CONFIG_TYPE_STRING,
  USBIP_CONFIG_TYPE_BOOLEAN,
  USBIP_CONFIG_TYPE_UINT,
  USBIP_CONFIG_TYPE_DOUBLE,
  USBIP_CONFIG_TYPE_STRING_LIST,
  USBIP_CONFIG_TYPE_ENUM,
} UsbipConfigType;

#define USBIP_TYPE_CONFIG (usbip_config_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipConfig, usbip_config, USBIP, CONFIG, GObject)

/* defaults only; registers the [plugins] keys */
USBIP_PUBLIC UsbipConfig *usbip_config_new (void);
/* accepted: (nullable) (array zero-terminated=1): for ENUM; min/max for UINT and DOUBLE */
USBIP_PUBLIC void usbip_config_register_key (UsbipConfig *self, const gchar *group, const gchar *key,
                                             UsbipConfigType type, const gchar *default_value,
                                             const gchar *const *accepted, gdouble min, gdouble max,
                                             const gchar *description);
/* path: (nullable): NULL takes $USBIP_CONFIG, else the compiled default
 * (/etc/usbipcore/usbipcore.conf); a missing file is fine only when path was NULL */
USBIP_PUBLIC gboolean usbip_config_load_file (UsbipConfig *self, const gchar *path, GError **error);
USBIP_PUBLIC gboolean usbip_config_load_data (UsbipConfig *self, const gchar *data, gsize len, GError **error);
/* re-check every registered key (call after plugins registered theirs); warns unknown keys */
USBIP_PUBLIC gboolean usbip_config_validate (UsbipConfig *self, GError **error);
USBIP_PUBLIC gboolean usbip_config_validate_group (UsbipConfig *self, const gchar *group, GError **error);
USBIP_PUBLIC const gchar *usbip_config_get_path (UsbipConfig *self);
USBIP_PUBLIC GKeyFile *usbip_config_get_keyfile (UsbipConfig *self);

/* typed getters of registered keys: the file's value, else the registered default */
USBIP_PUBLIC gchar *usbip_config_get_string (UsbipConfig *self, const gchar *group, const gchar *key);
USBIP_PUBLIC gboolean usbip_config_get_boolean (UsbipConfig *self, const gchar *group, const gchar *key);
USBIP_PUBLIC guint64 usbip_config_get_uint (UsbipConfig *self, const gchar *group, const gchar *key);
USBIP_PUBLIC gdouble usbip_config_get_double (UsbipConfig *self, const gchar *group, const gchar *key);
USBIP_PUBLIC gchar **usbip_config_get_string_list (UsbipConfig *self, const gchar *group, const gchar *key);
/* TRUE if @name is in [plugins] enabled (default: vhci;host;vudc) */
USBIP_PUBLIC gboolean usbip_config_get_plugin_enabled (UsbipConfig *self, const gchar *name);

G_END_DECLS
