/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keyfile configuration with keys, types and defaults registered in code. Loading checks
 * the groups this program registered keys for; unknown keys and groups only warn, so a
 * newer config works with an older daemon; other components' groups are theirs to check.
 */
#include "config.h"

#include <string.h>

#include <errno.h>
#include <math.h>

#include "usbip-config.h"
#include "usbip-defaults-private.h"
#include "usbip-error.h"

typedef struct {
  gchar *group;
  gchar *key;
  UsbipConfigType type;
  gchar *default_value;
  GStrv accepted;
  gdouble min;
  gdouble max;
  gchar *description;
} KeyInfo;

/**
 * UsbipConfig:
 *
 * The configuration file (`usbipcore.conf`): its keys are registered with their type, default
 * and range by the core and by each plugin, in the plugin's own group, and validated on load.
 *
 * Since: 1.0
 */
struct _UsbipConfig {
  GObject parent_instance;
  GKeyFile *keyfile;
  gchar *path;
  GHashTable *keys; /* "group\nkey" -> KeyInfo */
  GPtrArray *order; /* KeyInfo, registration order */
};

G_DEFINE_FINAL_TYPE (UsbipConfig, usbip_config, G_TYPE_OBJECT)

static void
key_info_free (KeyInfo *k)
{
  g_free (k->group);
  g_free (k->key);
  g_free (k->default_value);
  g_strfreev (k->accepted);
  g_free (k->description);
  g_free (k);
}

static void
usbip_config_finalize (GObject *object)
{
  UsbipConfig *self = USBIP_CONFIG (object);

  g_key_file_unref (self->keyfile);
  g_free (self->path);
  g_hash_table_unref (self->keys);
  g_ptr_array_unref (self->order);
  G_OBJECT_CLASS (usbip_config_parent_class)->finalize (object);
}

static void
usbip_config_class_init (UsbipConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_config_finalize;
}

static void
usbip_config_init (UsbipConfig *self)
{
  self->keyfile = g_key_file_new ();
  self->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->order = g_ptr_array_new_with_free_func ((GDestroyNotify) key_info_free);
}

/**
 * usbip_config_new:
 *
 * Returns: (transfer full): a configuration holding only defaults, with the `[plugins]`
 *   keys registered
 *
 * Since: 1.0
 */
UsbipConfig *
usbip_config_new (void)
{
  UsbipConfig *self = g_object_new (USBIP_TYPE_CONFIG, NULL);

  usbip_config_register_key (self, "plugins", "enabled", USBIP_CONFIG_TYPE_STRING_LIST, USBIP_DEFAULT_PLUGINS_ENABLED,
                             NULL, 0, 0, "plugins to load, by name");
  return self;
}

static KeyInfo *
lookup (UsbipConfig *self, const gchar *group, const gchar *key)
{
  g_autofree gchar *id = g_strdup_printf ("%s\n%s", group, key);
  return g_hash_table_lookup (self->keys, id);
}

/**
 * usbip_config_register_key:
 * @self: a #UsbipConfig
 * @group: keyfile group
 * @key: key name
 * @type: value type
 * @default_value: default, in keyfile syntax
 * @accepted: (nullable) (array zero-terminated=1): accepted values for %USBIP_CONFIG_TYPE_ENUM
 * @min: minimum for numbers
 * @max: maximum for numbers
 * @description: (nullable): one line for humans
 *
 * Declares a key. Registering a key twice replaces the first declaration.
 *
 * Since: 1.0
 */
void
usbip_config_register_key (UsbipConfig *self, const gchar *group, const gchar *key, UsbipConfigType type,
                           const gchar *default_value, const gchar *const *accepted, gdouble min, gdouble max,
                           const gchar *description)
{
  KeyInfo *k;

  g_return_if_fail (USBIP_IS_CONFIG (self));
  k = lookup (self, group, key);
  if (k == NULL)
    {
      k = g_new0 (KeyInfo, 1);
      g_ptr_array_add (self->order, k);
      g_hash_table_insert (self->keys, g_strdup_printf ("%s\n%s", group, key), k);
    }
  else
    {
      g_free (k->group);
      g_free (k->key);
      g_free (k->default_value);
      g_strfreev (k->accepted);
      g_free (k->description);
    }
  k->group = g_strdup (group);
  k->key = g_strdup (key);
  k->type = type;
  k->default_value = g_strdup (default_value);
  k->accepted = g_strdupv ((gchar **) accepted);
  k->min = min;
  k->max = max;
  k->description = g_strdup (description);
}

static const gchar *
where (UsbipConfig *self)
{
  return self->path != NULL ? self->path : "configuration";
}

/* A value ending in a lone backslash is malformed. It is decided here, before GLib parses
 * the value: GLib 2.74, having seen an invalid escape earlier in the same value, sets its
 * GError a second time at the lone backslash and warns (found by fuzz config_keyfile). */
static gboolean
ends_in_lone_backslash (const gchar *raw)
{
  gsize len = strlen (raw), trailing = 0;

  while (trailing < len && raw[len - 1 - trailing] == '\\')
    trailing++;
  return trailing % 2 == 1;
}

/* @raw, a string or list value as written, unescapes as GKeyFile reads it: an invalid
 * escape (`\\x`) or a lone backslash would read as no value at all, so that a typo in
 * allow-cidr, say, would quietly admit everyone */
static gboolean
unescapes (const KeyInfo *k, const gchar *raw)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;

  if (ends_in_lone_backslash (raw))
    return FALSE;
  g_key_file_set_value (kf, "x", "x", raw);
  /* GLib 2.74 returns a string for a bad escape and sets the error: the error decides */
  if (k->type == USBIP_CONFIG_TYPE_STRING_LIST)
    g_strfreev (g_key_file_get_string_list (kf, "x", "x", NULL, &error));
  else
    g_free (g_key_file_get_string (kf, "x", "x", &error));
  return error == NULL;
}

/* checks one value against its declaration */
static gboolean
check_value (UsbipConfig *self, KeyInfo *k, const gchar *value, GError **error)
{
  g_autofree gchar *expected = NULL;

  switch (k->type)
    {
    case USBIP_CONFIG_TYPE_STRING:
    case USBIP_CONFIG_TYPE_STRING_LIST:
      if (unescapes (k, value))
        return TRUE;
      expected = g_strdup ("valid escapes only: \\s \\n \\t \\r \\\\ (a backslash is written \\\\)");
      break;
    case USBIP_CONFIG_TYPE_BOOLEAN:
      if (g_strcmp0 (value, "true") == 0 || g_strcmp0 (value, "false") == 0)
        return TRUE;
      expected = g_strdup ("true or false");
      break;
    case USBIP_CONFIG_TYPE_UINT:
      {
        guint64 v;
        if (g_ascii_string_to_unsigned (value, 10, (guint64) k->min, (guint64) k->max, &v, NULL))
          return TRUE;
        expected = g_strdup_printf ("an integer from %.0f to %.0f", k->min, k->max);
        break;
      }
    case USBIP_CONFIG_TYPE_DOUBLE:
      {
        gchar *end = NULL;
        gdouble v = g_ascii_strtod (value, &end);
        if (end != value && *end == '\0' && isfinite (v) && v >= k->min && v <= k->max)
          return TRUE;
        expected = g_strdup_printf ("a number from %g to %g", k->min, k->max);
        break;
      }
    case USBIP_CONFIG_TYPE_ENUM:
      if (k->accepted != NULL && g_strv_contains ((const gchar *const *) k->accepted, value))
        return TRUE;
      {
        g_autofree gchar *list = k->accepted != NULL ? g_strjoinv (", ", k->accepted) : g_strdup ("(none)");
        expected = g_strdup_printf ("one of %s", list);
      }
      break;
    default:
      g_assert_not_reached ();
    }
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "%s: [%s] %s=%s: expected %s", where (self), k->group, k->key,
               value, expected);
  return FALSE;
}

/* groups that belong to a usbipcore program: each program registers the keys of the groups
 * it reads and leaves the others' groups alone (usbip-tool reads the daemon's file too) */
static const gchar *const component_groups[] = { "plugins", "daemon", NULL };

static gboolean
group_registered (UsbipConfig *self, const gchar *group)
{
  for (guint i = 0; i < self->order->len; i++)
    if (g_str_equal (((KeyInfo *) g_ptr_array_index (self->order, i))->group, group))
      return TRUE;
  return FALSE;
}

/* another program's group, or a plugin's own group (`[<name>]`, read by that plugin), or
 * one of a plugin's named groups (`[<name>-<kind> NAME]`, e.g. `[virtual-device disk]`) */
static gboolean
group_owned_elsewhere (UsbipConfig *self, const gchar *group)
{
  const gchar *dash = strchr (group, '-');
  g_autofree gchar *plugin = NULL;

  if (g_strv_contains (component_groups, group) || usbip_config_get_plugin_enabled (self, group))
    return TRUE;
  if (dash == NULL || strchr (group, ' ') == NULL)
    return FALSE;
  plugin = g_strndup (group, (gsize) (dash - group));
  return usbip_config_get_plugin_enabled (self, plugin);
}

/**
 * usbip_config_validate:
 * @self: a #UsbipConfig
 * @error: return location for a #GError, or %NULL
 *
 * Checks every key of the groups this program registered keys for, and warns once about
 * each key nobody registered in those groups and once about each group no usbipcore
 * component owns. Groups owned by another component (`[daemon]` for usbip-tool, a
 * plugin's `[<name>]`) are left to their owner and only noted at debug level.
 *
 * Returns: %FALSE with %USBIP_ERROR_CONFIG on the first bad value
 *
 * Since: 1.0
 */
gboolean
usbip_config_validate (UsbipConfig *self, GError **error)
{
  g_auto (GStrv) groups = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  groups = g_key_file_get_groups (self->keyfile, NULL);

  for (guint g = 0; groups[g] != NULL; g++)
    {
      if (!group_registered (self, groups[g]))
        {
          if (group_owned_elsewhere (self, groups[g]))
            g_debug ("%s: [%s] belongs to another component: not checked here", where (self), groups[g]);
          else
            g_warning ("%s: unknown group [%s] is ignored: no usbipcore program or enabled plugin reads it "
                       "(docs/configuration.md lists the groups)",
                       where (self), groups[g]);
          continue;
        }
      if (!usbip_config_validate_group (self, groups[g], error))
        return FALSE;
    }
  return TRUE;
}

/**
 * usbip_config_validate_group:
 * @self: a #UsbipConfig
 * @group: a group
 * @error: return location for a #GError, or %NULL
 *
 * Like usbip_config_validate() for one group (a plugin checks its own group when it loads).
 *
 * Returns: %FALSE with %USBIP_ERROR_CONFIG on the first bad value
 *
 * Since: 1.0
 */
gboolean
usbip_config_validate_group (UsbipConfig *self, const gchar *group, GError **error)
{
  g_auto (GStrv) keys = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (group != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  keys = g_key_file_get_keys (self->keyfile, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      KeyInfo *k = lookup (self, group, keys[i]);
      g_autofree gchar *value = NULL;
      if (k == NULL)
        {
          g_warning ("%s: unknown key [%s] %s is ignored (docs/configuration.md lists the keys)", where (self), group,
                     keys[i]);
          continue;
        }
      value = g_key_file_get_value (self->keyfile, group, keys[i], NULL);
      if (k->type != USBIP_CONFIG_TYPE_STRING && k->type != USBIP_CONFIG_TYPE_STRING_LIST)
        g_strstrip (value);
      if (!check_value (self, k, value, error))
        return FALSE;
    }
  return TRUE;
}

/* a key given twice in a group (or in two groups of one name): GKeyFile keeps the last one
 * silently, so one of the two lines would be ignored without a word */
static gboolean
check_repeated_keys (UsbipConfig *self, GKeyFile *kf, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint g = 0; groups[g] != NULL; g++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);

      for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
        for (guint j = 0; j < i; j++)
          if (g_str_equal (keys[i], keys[j]))
            {
              g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "%s: [%s] %s is given twice: keep one of the lines",
                           where (self), groups[g], keys[i]);
              return FALSE;
            }
    }
  return TRUE;
}

static gboolean
load (UsbipConfig *self, GKeyFile *kf, GError **error)
{
  if (!check_repeated_keys (self, kf, error))
    return FALSE;
  g_key_file_unref (self->keyfile);
  self->keyfile = g_key_file_ref (kf);
  return usbip_config_validate (self, error);
}

/**
 * usbip_config_load_file:
 * @self: a #UsbipConfig
 * @path: (nullable): a keyfile; %NULL takes `$USBIP_CONFIG`, else the compiled default
 * @error: return location for a #GError, or %NULL
 *
 * Loads and validates a file. A missing default file is fine (defaults apply); a
 * missing file that was asked for is an error.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_config_load_file (UsbipConfig *self, const gchar *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  gboolean explicit = path != NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (path == NULL)
    {
      path = g_getenv ("USBIP_CONFIG");
      explicit = path != NULL;
    }
  if (path == NULL)
    path = USBIP_DEFAULT_CONFIG;
  g_free (self->path);
  self->path = g_strdup (path);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      if (!explicit && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_debug ("no configuration at %s: using defaults", path);
          return TRUE;
        }
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "cannot read configuration %s: %s", path,
                   local_error->message);
      return FALSE;
    }
  return load (self, kf, error);
}

/**
 * usbip_config_load_data:
 * @self: a #UsbipConfig
 * @data: keyfile text
 * @len: its length, or -1 if NUL-terminated
 * @error: return location for a #GError, or %NULL
 *
 * Returns: %TRUE if @data parses and validates
 *
 * Since: 1.0
 */
gboolean
usbip_config_load_data (UsbipConfig *self, const gchar *data, gsize len, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "%s: %s", where (self), local_error->message);
      return FALSE;
    }
  return load (self, kf, error);
}

/**
 * usbip_config_get_path:
 * @self: a #UsbipConfig
 *
 * Returns: (nullable): the file last loaded or looked for
 *
 * Since: 1.0
 */
const gchar *
usbip_config_get_path (UsbipConfig *self)
{
  g_return_val_if_fail (USBIP_IS_CONFIG (self), NULL);
  return self->path;
}

/**
 * usbip_config_get_keyfile:
 * @self: a #UsbipConfig
 *
 * Returns: (transfer none): the keyfile
 *
 * Since: 1.0
 */
GKeyFile *
usbip_config_get_keyfile (UsbipConfig *self)
{
  g_return_val_if_fail (USBIP_IS_CONFIG (self), NULL);
  return self->keyfile;
}

/* the file's (valid) value, else the default; (transfer full) */
static gchar *
raw_value (UsbipConfig *self, const gchar *group, const gchar *key)
{
  KeyInfo *k = lookup (self, group, key);
  gchar *v;

  if (k == NULL)
    {
      g_critical ("configuration key [%s] %s was never registered", group, key);
      return g_strdup ("");
    }
  v = g_key_file_get_value (self->keyfile, group, key, NULL);
  if (v != NULL
      && (k->type == USBIP_CONFIG_TYPE_STRING || k->type == USBIP_CONFIG_TYPE_STRING_LIST
          || check_value (self, k, g_strstrip (v), NULL)))
    return v;
  g_free (v);
  return g_strdup (k->default_value != NULL ? k->default_value : "");
}

/**
 * usbip_config_get_string:
 * @self: a #UsbipConfig
 * @group: group
 * @key: a registered key
 *
 * Returns: (transfer full): the value
 *
 * Since: 1.0
 */
gchar *
usbip_config_get_string (UsbipConfig *self, const gchar *group, const gchar *key)
{
  g_autofree gchar *raw = NULL;
  g_autoptr (GKeyFile) kf = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), NULL);
  g_return_val_if_fail (group != NULL && key != NULL, NULL);
  raw = raw_value (self, group, key);
  kf = g_key_file_new ();
  if (raw == NULL || ends_in_lone_backslash (raw))
    return NULL; /* malformed, as GLib answers for every other bad escape */
  /* unescape as the keyfile would */
  g_key_file_set_value (kf, "x", "x", raw);
  return g_key_file_get_string (kf, "x", "x", NULL);
}

/**
 * usbip_config_get_boolean:
 * @self: a #UsbipConfig
 * @group: group
 * @key: a registered key
 *
 * Returns: the value
 *
 * Since: 1.0
 */
gboolean
usbip_config_get_boolean (UsbipConfig *self, const gchar *group, const gchar *key)
{
  g_autofree gchar *raw = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (group != NULL && key != NULL, FALSE);
  raw = raw_value (self, group, key);
  return g_strcmp0 (raw, "true") == 0;
}

/**
 * usbip_config_get_uint:
 * @self: a #UsbipConfig
 * @group: group
 * @key: a registered key
 *
 * Returns: the value
 *
 * Since: 1.0
 */
guint64
usbip_config_get_uint (UsbipConfig *self, const gchar *group, const gchar *key)
{
  g_autofree gchar *raw = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), 0);
  g_return_val_if_fail (group != NULL && key != NULL, 0);
  raw = raw_value (self, group, key);
  return g_ascii_strtoull (raw, NULL, 10);
}

/**
 * usbip_config_get_double:
 * @self: a #UsbipConfig
 * @group: group
 * @key: a registered key
 *
 * Returns: the value
 *
 * Since: 1.0
 */
gdouble
usbip_config_get_double (UsbipConfig *self, const gchar *group, const gchar *key)
{
  g_autofree gchar *raw = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), 0.0);
  g_return_val_if_fail (group != NULL && key != NULL, 0.0);
  raw = raw_value (self, group, key);
  return g_ascii_strtod (raw, NULL);
}

/**
 * usbip_config_get_string_list:
 * @self: a #UsbipConfig
 * @group: group
 * @key: a registered key
 *
 * Returns: (transfer full) (array zero-terminated=1): the values
 *
 * Since: 1.0
 */
gchar **
usbip_config_get_string_list (UsbipConfig *self, const gchar *group, const gchar *key)
{
  g_autofree gchar *raw = NULL;
  g_autoptr (GKeyFile) kf = NULL;
  gchar **list = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), NULL);
  g_return_val_if_fail (group != NULL && key != NULL, NULL);
  raw = raw_value (self, group, key);
  kf = g_key_file_new ();
  if (raw != NULL && !ends_in_lone_backslash (raw))
    {
      g_key_file_set_value (kf, "x", "x", raw);
      list = g_key_file_get_string_list (kf, "x", "x", NULL, NULL);
    }
  if (list == NULL)
    list = g_new0 (gchar *, 1);
  for (guint i = 0; list[i] != NULL; i++)
    g_strstrip (list[i]);
  return list;
}

/**
 * usbip_config_get_plugin_enabled:
 * @self: a #UsbipConfig
 * @name: a plugin name
 *
 * Returns: %TRUE if `[plugins] enabled` names @name
 *
 * Since: 1.0
 */
gboolean
usbip_config_get_plugin_enabled (UsbipConfig *self, const gchar *name)
{
  g_auto (GStrv) list = NULL;

  g_return_val_if_fail (USBIP_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  list = usbip_config_get_string_list (self, "plugins", "enabled");
  return g_strv_contains ((const gchar *const *) list, name);
}
