/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loads backend plugins: builtins first, then `libusbip-plugin-<name>.so` modules from the
 * plugin search path. A module must export `usbip_plugin_abi` with our major and a minor
 * not above ours, and `usbip_plugin_register`. Loaded modules stay resident.
 */
#include "config.h"

#include <gmodule.h>
#include <stdlib.h>
#include <string.h>

#include "usbip-error.h"
#include "usbip-plugin-registry.h"
#include "usbip-plugin-registry-private.h"
#include "usbip-transport-tcp.h"

#define MODULE_PREFIX "libusbip-plugin-"

struct _UsbipPluginContext {
  UsbipPluginRegistry *registry;
  const gchar *name;
};

typedef struct {
  gchar *name;
  UsbipPluginRegisterFunc func;
} Builtin;

/* a module file the pass over the plugin directories found */
typedef struct {
  gchar *name;
  gchar *path;
} Module;

/**
 * UsbipPluginRegistry:
 *
 * Loads the plugins the configuration enables (modules from the plugin directory, or built
 * in) and hands out their import and export backends and transports by name.
 *
 * Since: 1.0
 */
struct _UsbipPluginRegistry {
  GObject parent_instance;
  UsbipConfig *config;
  UsbipSysfs *sysfs;
  gchar *plugin_dir;
  GPtrArray *builtins; /* Builtin */
  GPtrArray *infos;    /* UsbipPluginInfo */
  GHashTable *names;   /* every plugin name a load found, also those load_only passed over */
  GPtrArray *imports;  /* (name, backend) pairs as GObject data */
  GPtrArray *exports;
  GPtrArray *objects;     /* what the program handed over (usbip_plugin_registry_add_object) */
  GPtrArray *kept;        /* plugins' own state objects */
  GHashTable *transports; /* scheme -> UsbipTransport */
  GPtrArray *modules;     /* Module, in search order: the one pass over the plugin directories; NULL before */
  gboolean check_only;
};

enum { SIGNAL_OBJECT_ADDED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_CHECK_ONLY, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (UsbipPluginRegistry, usbip_plugin_registry, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (UsbipPluginInfo, usbip_plugin_info, usbip_plugin_info_copy, usbip_plugin_info_free)

/**
 * usbip_plugin_info_copy:
 * @info: a #UsbipPluginInfo
 *
 * Returns: (transfer full): a copy
 *
 * Since: 1.0
 */
UsbipPluginInfo *
usbip_plugin_info_copy (const UsbipPluginInfo *info)
{
  UsbipPluginInfo *c = NULL;

  g_return_val_if_fail (info != NULL, NULL);
  c = g_new0 (UsbipPluginInfo, 1);
  c->name = g_strdup (info->name);
  c->path = g_strdup (info->path);
  c->state = info->state;
  c->reason = g_strdup (info->reason);
  return c;
}

/**
 * usbip_plugin_info_free:
 * @info: (nullable): a #UsbipPluginInfo
 *
 * Frees @info.
 *
 * Since: 1.0
 */
void
usbip_plugin_info_free (UsbipPluginInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->path);
  g_free (info->reason);
  g_free (info);
}

/**
 * usbip_plugin_state_to_string:
 * @state: a #UsbipPluginState
 *
 * Returns: "loaded", "disabled" or "failed"
 *
 * Since: 1.0
 */
const gchar *
usbip_plugin_state_to_string (UsbipPluginState state)
{
  switch (state)
    {
    case USBIP_PLUGIN_STATE_LOADED:
      return "loaded";
    case USBIP_PLUGIN_STATE_DISABLED:
      return "disabled";
    default:
      return "failed";
    }
}

static void
builtin_free (Builtin *b)
{
  g_free (b->name);
  g_free (b);
}

static void
module_free (Module *m)
{
  g_free (m->name);
  g_free (m->path);
  g_free (m);
}

static void
usbip_plugin_registry_finalize (GObject *object)
{
  UsbipPluginRegistry *self = USBIP_PLUGIN_REGISTRY (object);

  g_clear_object (&self->config);
  g_clear_object (&self->sysfs);
  g_free (self->plugin_dir);
  g_ptr_array_unref (self->builtins);
  g_ptr_array_unref (self->infos);
  g_hash_table_unref (self->names);
  g_ptr_array_unref (self->imports);
  g_ptr_array_unref (self->exports);
  g_ptr_array_unref (self->kept);
  g_ptr_array_unref (self->objects);
  g_hash_table_unref (self->transports);
  g_clear_pointer (&self->modules, g_ptr_array_unref);
  G_OBJECT_CLASS (usbip_plugin_registry_parent_class)->finalize (object);
}

static void
usbip_plugin_registry_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  UsbipPluginRegistry *self = USBIP_PLUGIN_REGISTRY (object);

  switch (prop_id)
    {
    case PROP_CHECK_ONLY:
      g_value_set_boolean (value, self->check_only);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
usbip_plugin_registry_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  UsbipPluginRegistry *self = USBIP_PLUGIN_REGISTRY (object);

  switch (prop_id)
    {
    case PROP_CHECK_ONLY:
      self->check_only = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
usbip_plugin_registry_class_init (UsbipPluginRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = usbip_plugin_registry_finalize;
  object_class->get_property = usbip_plugin_registry_get_property;
  object_class->set_property = usbip_plugin_registry_set_property;

  /**
   * UsbipPluginRegistry:check-only:
   *
   * The program only checks its configuration (`usbipcored --check-config`): a plugin
   * that reads it (from the object usbip_plugin_context_get_registry() returns, with
   * g_object_get()) validates its settings and creates nothing: no device node, pty or
   * FIFO made or opened, no socket bound. Its errors are those a real start would give.
   *
   * Since: 1.0
   */
  props[PROP_CHECK_ONLY] = g_param_spec_boolean ("check-only", NULL, NULL, FALSE,
                                                 G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * UsbipPluginRegistry::object-added:
   * @self: the registry
   * @object: an exporter, importer or supervisor the program created
   *
   * Detailed by the object's type name (`object-added::UsbipExporter`, ...): plugins that
   * observe the program connect to it from their register function.
   *
   * Since: 1.0
   */
  signals[SIGNAL_OBJECT_ADDED] =
      g_signal_new ("object-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_OBJECT);
}

static void
usbip_plugin_registry_init (UsbipPluginRegistry *self)
{
  self->builtins = g_ptr_array_new_with_free_func ((GDestroyNotify) builtin_free);
  self->infos = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_plugin_info_free);
  self->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->imports = g_ptr_array_new_with_free_func (g_object_unref);
  self->exports = g_ptr_array_new_with_free_func (g_object_unref);
  self->objects = g_ptr_array_new_with_free_func (g_object_unref);
  self->kept = g_ptr_array_new_with_free_func (g_object_unref);
  self->transports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_hash_table_insert (self->transports, g_strdup (USBIP_REMOTE_SCHEME_TCP), usbip_transport_tcp_new ());
}

/**
 * usbip_plugin_registry_new:
 * @config: (nullable): configuration; defaults when %NULL
 * @sysfs: (nullable): the sysfs seam handed to plugins; the default when %NULL
 *
 * Returns: (transfer full): a registry with nothing loaded yet
 *
 * Since: 1.0
 */
UsbipPluginRegistry *
usbip_plugin_registry_new (UsbipConfig *config, UsbipSysfs *sysfs)
{
  UsbipPluginRegistry *self = NULL;
  const gchar *env = g_getenv ("USBIP_PLUGIN_DIR");

  g_return_val_if_fail (config == NULL || USBIP_IS_CONFIG (config), NULL);
  g_return_val_if_fail (sysfs == NULL || USBIP_IS_SYSFS (sysfs), NULL);
  self = g_object_new (USBIP_TYPE_PLUGIN_REGISTRY, NULL);
  self->config = config != NULL ? g_object_ref (config) : usbip_config_new ();
  self->sysfs = g_object_ref (sysfs != NULL ? sysfs : usbip_sysfs_get_default ());
  self->plugin_dir = g_strdup (env != NULL && *env != '\0' ? env : USBIP_PLUGINDIR);
  return self;
}

/**
 * usbip_plugin_registry_get_plugin_dir:
 * @self: a #UsbipPluginRegistry
 *
 * Returns: the module search path (directories separated by ':')
 *
 * Since: 1.0
 */
const gchar *
usbip_plugin_registry_get_plugin_dir (UsbipPluginRegistry *self)
{
  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), NULL);
  return self->plugin_dir;
}

/**
 * usbip_plugin_registry_set_plugin_dir:
 * @self: a #UsbipPluginRegistry
 * @dir: a search path (directories separated by ':')
 *
 * Since: 1.0
 */
void
usbip_plugin_registry_set_plugin_dir (UsbipPluginRegistry *self, const gchar *dir)
{
  g_return_if_fail (USBIP_IS_PLUGIN_REGISTRY (self));
  g_free (self->plugin_dir);
  self->plugin_dir = g_strdup (dir);
  g_clear_pointer (&self->modules, g_ptr_array_unref); /* the next load reads the new path */
}

/**
 * usbip_plugin_registry_add_builtin:
 * @self: a #UsbipPluginRegistry
 * @name: plugin name
 * @func: (scope forever): its register function
 *
 * Adds a statically linked plugin; loaded by usbip_plugin_registry_load() if enabled.
 *
 * Since: 1.0
 */
void
usbip_plugin_registry_add_builtin (UsbipPluginRegistry *self, const gchar *name, UsbipPluginRegisterFunc func)
{
  Builtin *b = g_new0 (Builtin, 1);

  b->name = g_strdup (name);
  b->func = func;
  g_ptr_array_add (self->builtins, b);
}

static UsbipPluginInfo *
find_info (UsbipPluginRegistry *self, const gchar *name)
{
  for (guint i = 0; i < self->infos->len; i++)
    {
      UsbipPluginInfo *info = g_ptr_array_index (self->infos, i);
      if (g_strcmp0 (info->name, name) == 0)
        return info;
    }
  return NULL;
}

static void
record (UsbipPluginRegistry *self, const gchar *name, const gchar *path, UsbipPluginState state, const gchar *reason)
{
  UsbipPluginInfo *info = find_info (self, name);

  if (info == NULL)
    {
      info = g_new0 (UsbipPluginInfo, 1);
      info->name = g_strdup (name);
      g_ptr_array_add (self->infos, info);
    }
  g_free (info->path);
  info->path = g_strdup (path);
  info->state = state;
  g_free (info->reason);
  info->reason = g_strdup (reason);
}

static gboolean
run_register (UsbipPluginRegistry *self, const gchar *name, UsbipPluginRegisterFunc func, GError **error)
{
  UsbipPluginContext ctx = { self, name };
  return func (&ctx, error);
}

/* name from "libusbip-plugin-<name>.so" */
static gchar *
module_name (const gchar *basename)
{
  if (!g_str_has_prefix (basename, MODULE_PREFIX) || !g_str_has_suffix (basename, ".so"))
    return NULL;
  return g_strndup (basename + strlen (MODULE_PREFIX), strlen (basename) - strlen (MODULE_PREFIX) - strlen (".so"));
}

/* the module loader without the public guards: load_filtered passes a registry and a path,
 * so gcc -fanalyzer sees no FALSE return that leaves @error unset */
static gboolean
load_module (UsbipPluginRegistry *self, const gchar *path, GError **error)
{
  g_autofree gchar *base = NULL;
  g_autofree gchar *name = NULL;
  const UsbipPluginAbi *abi = NULL;
  UsbipPluginRegisterFunc func = NULL;
  g_autoptr (GError) reg_error = NULL;
  GModule *module;

  base = g_path_get_basename (path);
  name = module_name (base);
  if (name == NULL)
    name = g_strdup (base);
  module = g_module_open (path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (module == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN, "cannot load plugin %s: %s", path, g_module_error ());
      return FALSE;
    }
  if (!g_module_symbol (module, "usbip_plugin_abi", (gpointer *) &abi) || abi == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                   "%s is not a usbipcore plugin: it exports no usbip_plugin_abi", path);
      g_module_close (module);
      return FALSE;
    }
  if (abi->major != USBIP_PLUGIN_ABI_MAJOR || abi->minor > USBIP_PLUGIN_ABI_MINOR)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                   "plugin %s was built for plugin ABI %u.%u, this library provides %d.%d: "
                   "rebuild the plugin against this usbipcore",
                   path, abi->major, abi->minor, USBIP_PLUGIN_ABI_MAJOR, USBIP_PLUGIN_ABI_MINOR);
      g_module_close (module);
      return FALSE;
    }
  if (!g_module_symbol (module, "usbip_plugin_register", (gpointer *) &func) || func == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN, "plugin %s exports no usbip_plugin_register function", path);
      g_module_close (module);
      return FALSE;
    }
  g_module_make_resident (module);
  if (!run_register (self, name, func, &reg_error))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN, "plugin %s failed to start: %s", name, reg_error->message);
      return FALSE;
    }
  record (self, name, path, USBIP_PLUGIN_STATE_LOADED, NULL);
  return TRUE;
}

/**
 * usbip_plugin_registry_load_module:
 * @self: a #UsbipPluginRegistry
 * @path: a module file
 * @error: return location for a #GError, or %NULL
 *
 * Loads one module, checks its ABI and registers it (whether or not it is enabled).
 *
 * Returns: %TRUE on success; %USBIP_ERROR_PLUGIN naming the file and the reason otherwise
 *
 * Since: 1.0
 */
gboolean
usbip_plugin_registry_load_module (UsbipPluginRegistry *self, const gchar *path, GError **error)
{
  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return load_module (self, path, error);
}

/* the module files of the search path, read at the first load only: a program that loads
 * its plugins one kind at a time (usbipcored: its backend, the virtual devices, the
 * observers, a transport) reads the directories once */
static GPtrArray *
find_modules (UsbipPluginRegistry *self)
{
  g_auto (GStrv) dirs = NULL;

  if (self->modules != NULL)
    return self->modules;
  self->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) module_free);
  dirs = g_strsplit (self->plugin_dir, ":", -1);
  for (guint d = 0; dirs[d] != NULL; d++)
    {
      g_autoptr (GDir) dir = NULL;
      const gchar *base;

      if (*dirs[d] == '\0')
        continue;
      g_debug ("reading the plugin directory %s", dirs[d]);
      dir = g_dir_open (dirs[d], 0, NULL);
      if (dir == NULL)
        continue;
      while ((base = g_dir_read_name (dir)) != NULL)
        {
          gchar *name = module_name (base);
          Module *m;

          if (name == NULL)
            continue;
          m = g_new0 (Module, 1);
          m->name = name;
          m->path = g_build_filename (dirs[d], base, NULL);
          g_ptr_array_add (self->modules, m);
        }
    }
  return self->modules;
}

static gboolean
load_filtered (UsbipPluginRegistry *self, const gchar *const *only, GError **error)
{
  GPtrArray *modules = find_modules (self);
  const gchar *conf = usbip_config_get_path (self->config);
  g_autofree gchar *disabled_reason =
      g_strdup_printf ("not in [plugins] enabled of %s", conf != NULL ? conf : "the configuration");

  for (guint i = 0; i < self->builtins->len; i++)
    {
      Builtin *b = g_ptr_array_index (self->builtins, i);
      g_autoptr (GError) local_error = NULL;

      g_hash_table_add (self->names, g_strdup (b->name));
      if (find_info (self, b->name) != NULL || (only != NULL && !g_strv_contains (only, b->name)))
        continue;
      if (!usbip_config_get_plugin_enabled (self->config, b->name))
        {
          record (self, b->name, NULL, USBIP_PLUGIN_STATE_DISABLED, disabled_reason);
          continue;
        }
      if (!run_register (self, b->name, b->func, &local_error))
        {
          if (only == NULL) /* one asked for by name: its caller reports why */
            g_warning ("plugin %s failed to start: %s", b->name, local_error->message);
          record (self, b->name, NULL, USBIP_PLUGIN_STATE_FAILED, local_error->message);
          continue;
        }
      record (self, b->name, NULL, USBIP_PLUGIN_STATE_LOADED, NULL);
    }

  for (guint i = 0; i < modules->len; i++)
    {
      Module *m = g_ptr_array_index (modules, i);
      g_autoptr (GError) local_error = NULL;

      g_hash_table_add (self->names, g_strdup (m->name));
      if (find_info (self, m->name) != NULL || (only != NULL && !g_strv_contains (only, m->name)))
        continue;
      if (!usbip_config_get_plugin_enabled (self->config, m->name))
        {
          record (self, m->name, m->path, USBIP_PLUGIN_STATE_DISABLED, disabled_reason);
          continue;
        }
      if (!load_module (self, m->path, &local_error))
        {
          if (only == NULL)
            g_warning ("%s", local_error->message);
          record (self, m->name, m->path, USBIP_PLUGIN_STATE_FAILED, local_error->message);
        }
    }
  return TRUE;
}

/**
 * usbip_plugin_registry_load:
 * @self: a #UsbipPluginRegistry
 * @error: return location for a #GError, or %NULL
 *
 * Loads every enabled plugin: builtins first, then modules found on the search path.
 * A plugin that fails is recorded as failed (see usbip_plugin_registry_list()) and logged.
 *
 * Returns: %TRUE (reserved for registry-wide failures)
 *
 * Since: 1.0
 */
gboolean
usbip_plugin_registry_load (UsbipPluginRegistry *self, GError **error)
{
  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), FALSE);
  return load_filtered (self, NULL, error);
}

/**
 * usbip_plugin_registry_load_only:
 * @self: a registry
 * @names: (array zero-terminated=1): the plugins wanted now
 * @error: return location for a #GError
 *
 * Like usbip_plugin_registry_load(), for the named plugins only (if enabled): a command
 * that needs one backend does not pay for loading the others. Can be called again later
 * for more: the plugin directories are read at the first load only (again after
 * usbip_plugin_registry_set_plugin_dir()), so loading kind by kind reads them once. A named plugin that fails is recorded as failed but not logged: the caller
 * asked for it and reports the reason (usbip_plugin_registry_get_export_backend() and
 * the others name it, as does usbip_plugin_registry_get_info()).
 *
 * Returns: %TRUE
 *
 * Since: 1.0
 */
gboolean
usbip_plugin_registry_load_only (UsbipPluginRegistry *self, const gchar *const *names, GError **error)
{
  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), FALSE);
  g_return_val_if_fail (names != NULL, FALSE);
  return load_filtered (self, names, error);
}

/**
 * usbip_plugin_registry_list:
 * @self: a #UsbipPluginRegistry
 *
 * Returns: (element-type UsbipPluginInfo) (transfer container): every plugin seen
 *
 * Since: 1.0
 */
GPtrArray *
usbip_plugin_registry_list (UsbipPluginRegistry *self)
{
  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), NULL);
  return g_ptr_array_ref (self->infos);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

/**
 * usbip_plugin_registry_get_names:
 * @self: a #UsbipPluginRegistry
 *
 * Every plugin the loads so far found, built in or a module on the search path: loaded,
 * disabled, failed, or passed over by usbip_plugin_registry_load_only(). A program that
 * loads only what it needs can still tell a name in `[plugins] enabled` that no plugin has
 * (a typo) without looking through the plugin directory again.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted; empty before a load
 *
 * Since: 1.0
 */
gchar **
usbip_plugin_registry_get_names (UsbipPluginRegistry *self)
{
  gchar **names;

  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), NULL);
  names = (gchar **) g_hash_table_get_keys_as_array (self->names, NULL);
  for (guint i = 0; names[i] != NULL; i++)
    names[i] = g_strdup (names[i]);
  qsort (names, g_strv_length (names), sizeof (gchar *), compare_names);
  return names;
}

static GObject *
find_backend (GPtrArray *list, const gchar *name)
{
  for (guint i = 0; i < list->len; i++)
    {
      GObject *b = g_ptr_array_index (list, i);
      if (name == NULL || g_strcmp0 (g_object_get_data (b, "usbip-backend-name"), name) == 0)
        return b;
    }
  return NULL;
}

static void
set_missing (UsbipPluginRegistry *self, const gchar *kind, const gchar *name, GError **error)
{
  UsbipPluginInfo *info = name != NULL ? find_info (self, name) : NULL;

  if (info != NULL && info->state == USBIP_PLUGIN_STATE_DISABLED)
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                 "no %s backend: the %s plugin is %s: add it to `enabled` in the [plugins] group", kind, name,
                 info->reason);
  else if (info != NULL && info->state == USBIP_PLUGIN_STATE_FAILED)
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN, "no %s backend: the %s plugin failed: %s", kind, name,
                 info->reason);
  else
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                 "no %s backend%s%s: no such plugin in %s: install usbipcore's plugins or set "
                 "USBIP_PLUGIN_DIR",
                 kind, name != NULL ? " named " : "", name != NULL ? name : "", self->plugin_dir);
}

/**
 * usbip_plugin_registry_get_import_backend:
 * @self: a #UsbipPluginRegistry
 * @name: (nullable): backend name, %NULL for the first
 * @error: return location for a #GError, or %NULL
 *
 * Returns: (transfer none): the backend, or %NULL with an error saying why it is missing
 *
 * Since: 1.0
 */
UsbipImportBackend *
usbip_plugin_registry_get_import_backend (UsbipPluginRegistry *self, const gchar *name, GError **error)
{
  GObject *b = NULL;

  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  b = find_backend (self->imports, name);
  if (b == NULL)
    {
      set_missing (self, "import", name, error);
      return NULL;
    }
  return USBIP_IMPORT_BACKEND (b);
}

/**
 * usbip_plugin_registry_get_export_backend:
 * @self: a #UsbipPluginRegistry
 * @name: (nullable): backend name, %NULL for the first
 * @error: return location for a #GError, or %NULL
 *
 * Returns: (transfer none): the backend, or %NULL with an error saying why it is missing
 *
 * Since: 1.0
 */
UsbipExportBackend *
usbip_plugin_registry_get_export_backend (UsbipPluginRegistry *self, const gchar *name, GError **error)
{
  GObject *b = NULL;

  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  b = find_backend (self->exports, name);
  if (b == NULL)
    {
      set_missing (self, "export", name, error);
      return NULL;
    }
  return USBIP_EXPORT_BACKEND (b);
}

/**
 * usbip_plugin_registry_get_transport:
 * @self: a #UsbipPluginRegistry
 * @scheme: `tcp`, `unix`, `vsock`, ... (the scheme of a #UsbipRemote)
 * @error: return location for a #GError, or %NULL
 *
 * TCP is built in; any other scheme comes from the plugin of the same name, which must be
 * enabled; it is loaded now if it was not yet (a command pays only for the transport its
 * address needs).
 *
 * Returns: (transfer none): the transport, or %NULL with %USBIP_ERROR_PLUGIN naming the
 *   plugin to enable (and where), the reason it failed, or that it is not installed
 *
 * Since: 1.0
 */
UsbipTransport *
usbip_plugin_registry_get_transport (UsbipPluginRegistry *self, const gchar *scheme, GError **error)
{
  UsbipTransport *transport;
  UsbipPluginInfo *info;

  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), NULL);
  g_return_val_if_fail (scheme != NULL, NULL);
  transport = g_hash_table_lookup (self->transports, scheme);
  if (transport == NULL && find_info (self, scheme) == NULL)
    {
      const gchar *only[] = { scheme, NULL };
      load_filtered (self, only, NULL);
      transport = g_hash_table_lookup (self->transports, scheme);
    }
  if (transport != NULL)
    return transport;
  info = find_info (self, scheme);
  if (info != NULL && info->state == USBIP_PLUGIN_STATE_DISABLED)
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                 "%s: addresses need the %s transport plugin, which is %s: add %s to `enabled` in the "
                 "[plugins] group",
                 scheme, scheme, info->reason, scheme);
  else if (info != NULL && info->state == USBIP_PLUGIN_STATE_FAILED)
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN, "%s: addresses need the %s transport plugin, which failed: %s",
                 scheme, scheme, info->reason);
  else
    g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
                 "%s: addresses need the %s transport plugin (libusbip-plugin-%s.so), which is not in %s: "
                 "install usbipcore's plugins or set USBIP_PLUGIN_DIR",
                 scheme, scheme, scheme, self->plugin_dir);
  return NULL;
}

/**
 * usbip_plugin_registry_add_object:
 * @self: a #UsbipPluginRegistry
 * @object: an exporter, importer or supervisor the program created
 *
 * Lets the loaded plugins observe @object: emits #UsbipPluginRegistry::object-added with
 * the type name as detail and keeps a reference for the registry's lifetime. Costs one
 * signal emission when no plugin listens.
 *
 * Since: 1.0
 */
void
usbip_plugin_registry_add_object (UsbipPluginRegistry *self, GObject *object)
{
  g_return_if_fail (USBIP_IS_PLUGIN_REGISTRY (self));
  g_return_if_fail (G_IS_OBJECT (object));
  g_ptr_array_add (self->objects, g_object_ref (object));
  g_signal_emit (self, signals[SIGNAL_OBJECT_ADDED], g_quark_from_string (G_OBJECT_TYPE_NAME (object)), object);
}

/**
 * usbip_plugin_registry_get_info:
 * @self: a #UsbipPluginRegistry
 * @name: a plugin name
 *
 * Returns: (nullable) (transfer none): what happened to plugin @name, %NULL if never seen
 *
 * Since: 1.0
 */
const UsbipPluginInfo *
usbip_plugin_registry_get_info (UsbipPluginRegistry *self, const gchar *name)
{
  g_return_val_if_fail (USBIP_IS_PLUGIN_REGISTRY (self), NULL);
  return find_info (self, name);
}

/* ---- the context plugins see ---- */

/**
 * usbip_plugin_context_get_name:
 * @ctx: a #UsbipPluginContext
 *
 * Returns: the plugin's name
 *
 * Since: 1.0
 */
const gchar *
usbip_plugin_context_get_name (UsbipPluginContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->name;
}

/**
 * usbip_plugin_context_get_keyfile:
 * @ctx: a #UsbipPluginContext
 *
 * Returns: (transfer none): the configuration keyfile; the plugin's group is `[<name>]`
 *
 * Since: 1.0
 */
GKeyFile *
usbip_plugin_context_get_keyfile (UsbipPluginContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return usbip_config_get_keyfile (ctx->registry->config);
}

/**
 * usbip_plugin_context_get_sysfs:
 * @ctx: a #UsbipPluginContext
 *
 * Returns: (transfer none): the sysfs seam to use
 *
 * Since: 1.0
 */
UsbipSysfs *
usbip_plugin_context_get_sysfs (UsbipPluginContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->registry->sysfs;
}

/**
 * usbip_plugin_context_add_import_backend:
 * @ctx: a #UsbipPluginContext
 * @name: backend name
 * @backend: (transfer none): the backend
 *
 * Since: 1.0
 */
void
usbip_plugin_context_add_import_backend (UsbipPluginContext *ctx, const gchar *name, UsbipImportBackend *backend)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (name != NULL);
  g_return_if_fail (USBIP_IS_IMPORT_BACKEND (backend));
  g_object_set_data_full (G_OBJECT (backend), "usbip-backend-name", g_strdup (name), g_free);
  g_ptr_array_add (ctx->registry->imports, g_object_ref (backend));
}

/**
 * usbip_plugin_context_add_export_backend:
 * @ctx: a #UsbipPluginContext
 * @name: backend name
 * @backend: (transfer none): the backend
 *
 * Since: 1.0
 */
void
usbip_plugin_context_add_export_backend (UsbipPluginContext *ctx, const gchar *name, UsbipExportBackend *backend)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (name != NULL);
  g_return_if_fail (USBIP_IS_EXPORT_BACKEND (backend));
  g_object_set_data_full (G_OBJECT (backend), "usbip-backend-name", g_strdup (name), g_free);
  g_ptr_array_add (ctx->registry->exports, g_object_ref (backend));
}

/**
 * usbip_plugin_context_add_transport:
 * @ctx: a #UsbipPluginContext
 * @scheme: the address scheme it serves, e.g. `unix` (`unix:/path`)
 * @transport: (transfer none): the transport
 *
 * Since: 1.0
 */
void
usbip_plugin_context_add_transport (UsbipPluginContext *ctx, const gchar *scheme, UsbipTransport *transport)
{
  g_return_if_fail (USBIP_IS_TRANSPORT (transport));
  g_hash_table_replace (ctx->registry->transports, g_strdup (scheme), g_object_ref (transport));
}

/**
 * usbip_plugin_context_get_registry:
 * @ctx: a #UsbipPluginContext
 *
 * Returns: (transfer none): the #UsbipPluginRegistry, to connect to its
 *   #UsbipPluginRegistry::object-added signal
 *
 * Since: 1.0
 */
GObject *
usbip_plugin_context_get_registry (UsbipPluginContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return G_OBJECT (ctx->registry);
}

/**
 * usbip_plugin_context_keep:
 * @ctx: a #UsbipPluginContext
 * @object: (transfer none): the plugin's state
 *
 * Keeps @object alive as long as the registry.
 *
 * Since: 1.0
 */
void
usbip_plugin_context_keep (UsbipPluginContext *ctx, GObject *object)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (G_IS_OBJECT (object));
  g_ptr_array_add (ctx->registry->kept, g_object_ref (object));
}

/**
 * usbip_plugin_context_register_key:
 * @ctx: a #UsbipPluginContext
 * @key: a key of the plugin's group `[<name>]`
 * @type: its type
 * @default_value: its default, in keyfile syntax
 * @min: minimum for numbers
 * @max: maximum for numbers
 * @description: one line for humans
 *
 * Since: 1.0
 */
void
usbip_plugin_context_register_key (UsbipPluginContext *ctx, const gchar *key, UsbipConfigType type,
                                   const gchar *default_value, gdouble min, gdouble max, const gchar *description)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (key != NULL);
  usbip_config_register_key (ctx->registry->config, ctx->name, key, type, default_value, NULL, min, max, description);
}

/**
 * usbip_plugin_context_check_config:
 * @ctx: a #UsbipPluginContext
 * @error: return location for a #GError
 *
 * Checks the values of the plugin's group against the registered keys.
 *
 * Returns: %FALSE with %USBIP_ERROR_CONFIG naming file, group, key and the accepted values
 *
 * Since: 1.0
 */
gboolean
usbip_plugin_context_check_config (UsbipPluginContext *ctx, GError **error)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  return usbip_config_validate_group (ctx->registry->config, ctx->name, error);
}

/**
 * usbip_plugin_context_get_string:
 * @ctx: a #UsbipPluginContext
 * @key: a registered key of the plugin's group
 *
 * Returns: (transfer full): the value, else the default
 *
 * Since: 1.0
 */
gchar *
usbip_plugin_context_get_string (UsbipPluginContext *ctx, const gchar *key)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return usbip_config_get_string (ctx->registry->config, ctx->name, key);
}

/**
 * usbip_plugin_context_get_string_list:
 * @ctx: a #UsbipPluginContext
 * @key: a registered key of the plugin's group
 *
 * Returns: (transfer full) (array zero-terminated=1): the value, else the default
 *
 * Since: 1.0
 */
gchar **
usbip_plugin_context_get_string_list (UsbipPluginContext *ctx, const gchar *key)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return usbip_config_get_string_list (ctx->registry->config, ctx->name, key);
}

/**
 * usbip_plugin_context_get_uint:
 * @ctx: a #UsbipPluginContext
 * @key: a registered key of the plugin's group
 *
 * Returns: the value, else the default
 *
 * Since: 1.0
 */
guint64
usbip_plugin_context_get_uint (UsbipPluginContext *ctx, const gchar *key)
{
  g_return_val_if_fail (ctx != NULL, 0);
  g_return_val_if_fail (key != NULL, 0);
  return usbip_config_get_uint (ctx->registry->config, ctx->name, key);
}

/**
 * usbip_plugin_context_get_boolean:
 * @ctx: a #UsbipPluginContext
 * @key: a registered key of the plugin's group
 *
 * Returns: the value, else the default
 *
 * Since: 1.0
 */
gboolean
usbip_plugin_context_get_boolean (UsbipPluginContext *ctx, const gchar *key)
{
  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  return usbip_config_get_boolean (ctx->registry->config, ctx->name, key);
}
