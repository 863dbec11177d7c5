/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plugin registry (modules from a directory, builtin, disabled, refused) and keyfile config. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include <usbipcore.h>

#ifdef TEST_BUILTIN
#include "usbip-builtin-plugins.h"
#endif

static UsbipPluginInfo *
find_info (GPtrArray *list, const gchar *name)
{
  for (guint i = 0; i < list->len; i++)
    {
      UsbipPluginInfo *info = g_ptr_array_index (list, i);
      if (g_str_equal (info->name, name))
        return info;
    }
  return NULL;
}

#ifndef TEST_BUILTIN
static void
test_modules_from_dir (void)
{
  g_autoptr (UsbipPluginRegistry) reg = usbip_plugin_registry_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;

  /* USBIP_PLUGIN_DIR points at this build's plugin directories (set by meson) */
  g_assert_true (usbip_plugin_registry_load (reg, &error));
  g_assert_no_error (error);
  list = usbip_plugin_registry_list (reg);
  for (const gchar *const *n = (const gchar *const[]){ "vhci", "host", "vudc", NULL }; *n; n++)
    {
      UsbipPluginInfo *info = find_info (list, *n);
      if (info == NULL)
        g_error ("plugin %s not listed", *n);
      g_assert_cmpint (info->state, ==, USBIP_PLUGIN_STATE_LOADED);
      g_assert_true (g_str_has_suffix (info->path, ".so"));
    }
  g_assert_nonnull (usbip_plugin_registry_get_import_backend (reg, "vhci", &error));
  g_assert_nonnull (usbip_plugin_registry_get_export_backend (reg, "host", &error));
  g_assert_nonnull (usbip_plugin_registry_get_export_backend (reg, "vudc", &error));
  g_assert_null (usbip_plugin_registry_get_export_backend (reg, "nope", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN);
}

static void
test_load_only (void)
{
  g_autoptr (UsbipPluginRegistry) reg = usbip_plugin_registry_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  const gchar *vhci_only[] = { "vhci", NULL };
  const gchar *host_too[] = { "host", NULL };
  g_auto (GStrv) before = usbip_plugin_registry_get_names (reg);
  g_auto (GStrv) names = NULL;

  g_assert_cmpuint (g_strv_length (before), ==, 0);
  g_assert_true (usbip_plugin_registry_load_only (reg, vhci_only, &error));
  list = usbip_plugin_registry_list (reg);
  g_assert_nonnull (find_info (list, "vhci"));
  g_assert_null (find_info (list, "host")); /* not loaded, not even looked at */
  /* but its name was seen in the same pass over the directory: a typo in `enabled` can be
   * told without another (usbip_tools_unknown_plugin) */
  names = usbip_plugin_registry_get_names (reg);
  for (const gchar *const *n = (const gchar *const[]){ "host", "vhci", "vudc", NULL }; *n; n++)
    g_assert_true (g_strv_contains ((const gchar *const *) names, *n));
  for (guint i = 1; names[i] != NULL; i++)
    g_assert_cmpstr (names[i - 1], <, names[i]);
  g_assert_null (usbip_plugin_registry_get_export_backend (reg, "host", &error));
  g_clear_error (&error);
  /* more later, on demand */
  g_assert_true (usbip_plugin_registry_load_only (reg, host_too, &error));
  g_assert_nonnull (usbip_plugin_registry_get_export_backend (reg, "host", &error));
  g_assert_nonnull (usbip_plugin_registry_get_import_backend (reg, "vhci", &error));
}

static void
test_wrong_abi_refused (void)
{
  g_autoptr (UsbipPluginRegistry) reg = usbip_plugin_registry_new (NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (usbip_plugin_registry_load_module (reg, g_getenv ("WRONG_ABI_PLUGIN"), &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "ABI"));
  g_clear_error (&error);
  g_assert_false (usbip_plugin_registry_load_module (reg, g_getenv ("NO_REGISTER_PLUGIN"), &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN);
  g_assert_nonnull (strstr (error->message, "usbip_plugin_register"));
  g_clear_error (&error);
  g_assert_false (usbip_plugin_registry_load_module (reg, "/nonexistent/libusbip-plugin-x.so", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN);
}

#endif

#ifdef TEST_BUILTIN
static void
test_builtin_and_disabled (void)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (UsbipPluginRegistry) reg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  const gchar *conf = "[plugins]\nenabled=vhci\n";

  g_assert_true (usbip_config_load_data (config, conf, strlen (conf), &error));
  reg = usbip_plugin_registry_new (config, NULL);
  usbip_plugin_registry_set_plugin_dir (reg, "/nonexistent");
  usbip_builtin_plugins_add_all (reg);
  g_assert_true (usbip_plugin_registry_load (reg, &error));
  list = usbip_plugin_registry_list (reg);
  {
    UsbipPluginInfo *vhci = find_info (list, "vhci");
    UsbipPluginInfo *host = find_info (list, "host");
    if (vhci == NULL || host == NULL)
      g_error ("builtin plugins not listed");
    g_assert_cmpint (vhci->state, ==, USBIP_PLUGIN_STATE_LOADED);
    g_assert_cmpint (host->state, ==, USBIP_PLUGIN_STATE_DISABLED);
  }
  g_assert_nonnull (usbip_plugin_registry_get_import_backend (reg, "vhci", &error));
  g_assert_null (usbip_plugin_registry_get_export_backend (reg, "host", &error));
  g_assert_nonnull (error);
}

#endif

static void
test_config_errors (void)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (GError) error = NULL;
  const gchar *bad = "[demo]\nsize=huge\n";
  const gchar *unknown = "[demo]\nsize=3\ncolour=red\n";
  static const gchar *const modes[] = { "fast", "slow", NULL };

  usbip_config_register_key (config, "demo", "size", USBIP_CONFIG_TYPE_UINT, "1", NULL, 0, 10, "a size");
  usbip_config_register_key (config, "demo", "mode", USBIP_CONFIG_TYPE_ENUM, "fast", modes, 0, 0, "a mode");
  g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, 1); /* default in code */
  g_assert_false (usbip_config_load_data (config, bad, strlen (bad), &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "[demo] size=huge"));
  g_assert_nonnull (strstr (error->message, "0 to 10"));
  g_clear_error (&error);
  g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, 1); /* a bad value is never read */

  g_test_expect_message ("usbipcore", G_LOG_LEVEL_WARNING, "*unknown key [demo] colour*");
  g_assert_true (usbip_config_load_data (config, unknown, strlen (unknown), &error));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, 3);
}

/* each type refuses a value it cannot take, naming the key, the value and what it expects */
static void
test_config_each_type_refused (void)
{
  static const gchar *const modes[] = { "fast", "slow", NULL };
  static const struct {
    const gchar *text;
    const gchar *message;
  } bad[] = {
    { "[demo]\nverbose=yes\n", "[demo] verbose=yes: expected true or false" },
    { "[demo]\nratio=1.5\n", "[demo] ratio=1.5: expected a number from 0 to 1" },
    { "[demo]\nratio=half\n", "[demo] ratio=half: expected a number from 0 to 1" },
    { "[demo]\nmode=medium\n", "[demo] mode=medium: expected one of fast, slow" },
    { "[demo]\nsize=11\n", "[demo] size=11: expected an integer from 0 to 10" },
    { "[demo]\nsize=a\n", "[demo] size=a: expected an integer from 0 to 10" }, /* decimal only */
    { "[demo\n", "configuration: " },                                          /* not a keyfile at all */
    /* an escape GKeyFile refuses would read as no value: an empty allow-cidr admits everyone */
    { "[demo]\nnames=10.0.0.0/8\\x1b\n", "[demo] names=10.0.0.0/8\\x1b: expected valid escapes only" },
    { "[demo]\nname=a\\q\n", "[demo] name=a\\q: expected valid escapes only" },
    { "[demo]\nname=\\\\\\\n", "[demo] name=\\\\\\: expected valid escapes only" }, /* a lone backslash */
  };
  const gchar *good = "[demo]\nverbose=true\nratio=0.25\nmode=slow\n";

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (UsbipConfig) config = usbip_config_new ();
      g_autoptr (GError) error = NULL;

      usbip_config_register_key (config, "demo", "verbose", USBIP_CONFIG_TYPE_BOOLEAN, "false", NULL, 0, 0, NULL);
      usbip_config_register_key (config, "demo", "ratio", USBIP_CONFIG_TYPE_DOUBLE, "0.5", NULL, 0, 1, NULL);
      usbip_config_register_key (config, "demo", "mode", USBIP_CONFIG_TYPE_ENUM, "fast", modes, 0, 0, NULL);
      usbip_config_register_key (config, "demo", "size", USBIP_CONFIG_TYPE_UINT, "1", NULL, 0, 10, NULL);
      usbip_config_register_key (config, "demo", "name", USBIP_CONFIG_TYPE_STRING, "", NULL, 0, 0, NULL);
      usbip_config_register_key (config, "demo", "names", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0, NULL);
      g_assert_false (usbip_config_load_data (config, bad[i].text, strlen (bad[i].text), &error));
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, bad[i].message));
    }

  {
    g_autoptr (UsbipConfig) config = usbip_config_new ();
    g_autoptr (GError) error = NULL;
    g_autofree gchar *mode = NULL;

    usbip_config_register_key (config, "demo", "verbose", USBIP_CONFIG_TYPE_BOOLEAN, "false", NULL, 0, 0, NULL);
    usbip_config_register_key (config, "demo", "ratio", USBIP_CONFIG_TYPE_DOUBLE, "0.5", NULL, 0, 1, NULL);
    usbip_config_register_key (config, "demo", "mode", USBIP_CONFIG_TYPE_ENUM, "fast", modes, 0, 0, NULL);
    g_assert_true (usbip_config_load_data (config, good, strlen (good), &error));
    g_assert_no_error (error);
    g_assert_true (usbip_config_get_boolean (config, "demo", "verbose"));
    g_assert_cmpfloat (usbip_config_get_double (config, "demo", "ratio"), ==, 0.25);
    mode = usbip_config_get_string (config, "demo", "mode");
    g_assert_cmpstr (mode, ==, "slow");
  }

  /* each bound is inside its range */
  for (guint max = 0; max <= 1; max++)
    {
      g_autoptr (UsbipConfig) config = usbip_config_new ();
      g_autoptr (GError) error = NULL;
      g_autofree gchar *text = g_strdup_printf ("[demo]\nratio=%u\nsize=%u\n", max, max * 10);

      usbip_config_register_key (config, "demo", "ratio", USBIP_CONFIG_TYPE_DOUBLE, "0.5", NULL, 0, 1, NULL);
      usbip_config_register_key (config, "demo", "size", USBIP_CONFIG_TYPE_UINT, "1", NULL, 0, 10, NULL);
      g_assert_true (usbip_config_load_data (config, text, strlen (text), &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (usbip_config_get_double (config, "demo", "ratio"), ==, max);
      g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, max * 10);
    }
}

/* a key declared again takes the new declaration (its default and its range) */
static void
test_config_register_again (void)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (GError) error = NULL;
  const gchar *text = "[demo]\nsize=70\n";

  usbip_config_register_key (config, "demo", "size", USBIP_CONFIG_TYPE_UINT, "1", NULL, 0, 10, "a size");
  usbip_config_register_key (config, "demo", "size", USBIP_CONFIG_TYPE_UINT, "50", NULL, 0, 100, "a bigger size");
  g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, 50);
  g_assert_true (usbip_config_load_data (config, text, strlen (text), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, 70);
}

/* a file asked for by name must exist; reading a key nobody declared is a programming error */
static void
test_config_missing_file_and_undeclared_key (void)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *value = NULL;

  g_assert_false (usbip_config_load_file (config, "/nonexistent/usbipcore.conf", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "cannot read configuration /nonexistent/usbipcore.conf"));

  g_test_expect_message ("usbipcore", G_LOG_LEVEL_CRITICAL, "*[demo] nothing was never registered*");
  value = usbip_config_get_string (config, "demo", "nothing");
  g_test_assert_expected_messages ();
  g_assert_cmpstr (value, ==, "");
}

/* a string value reads as GKeyFile reads it: its trailing blanks kept (numbers and booleans
 * are checked and read with them stripped) */
static void
test_config_string_as_keyfile (void)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *name = NULL;
  g_autofree gchar *expected = NULL;
  const gchar *data = "[demo]\nname=padded \\s \nsize=4  \n";

  usbip_config_register_key (config, "demo", "name", USBIP_CONFIG_TYPE_STRING, "", NULL, 0, 0, "a name");
  usbip_config_register_key (config, "demo", "size", USBIP_CONFIG_TYPE_UINT, "1", NULL, 0, 10, "a size");
  g_assert_true (usbip_config_load_data (config, data, strlen (data), NULL));
  g_assert_true (g_key_file_load_from_data (kf, data, strlen (data), G_KEY_FILE_NONE, NULL));
  expected = g_key_file_get_string (kf, "demo", "name", NULL);
  g_assert_true (g_str_has_suffix (expected, "  ")); /* the blank escaped as \s, and the one after it */
  name = usbip_config_get_string (config, "demo", "name");
  g_assert_cmpstr (name, ==, expected);
  g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, 4);

  /* values made of backslashes only: an escaped one reads as one, a lone one is malformed
   * and refused (test_config_each_type_refused) */
  {
    const gchar *backslashes = "[demo]\nname=\\\\\n";
    const gchar *lone = "[demo]\nname=\\\\\\\n";
    g_autofree gchar *one = NULL;

    g_assert_true (usbip_config_load_data (config, backslashes, strlen (backslashes), NULL));
    one = usbip_config_get_string (config, "demo", "name");
    g_assert_cmpstr (one, ==, "\\");
    g_assert_false (usbip_config_load_data (config, lone, strlen (lone), NULL));
  }

  /* a list's items lose the blanks around each separator, the first item's too */
  {
    const gchar *text = "[demo]\nnames=a ; b\n";
    const gchar *const expected_names[] = { "a", "b", NULL };
    g_auto (GStrv) names = NULL;

    usbip_config_register_key (config, "demo", "names", USBIP_CONFIG_TYPE_STRING_LIST, "", NULL, 0, 0, NULL);
    g_assert_true (usbip_config_load_data (config, text, strlen (text), NULL));
    names = usbip_config_get_string_list (config, "demo", "names");
    g_assert_true (g_strv_equal ((const gchar *const *) names, expected_names));
  }
}

/* each program checks the groups it owns: another component's group ([daemon] for
 * usbip-tool, an enabled plugin's [<name>]) is left alone; a group nobody owns is reported
 * once, as a group */
static void
test_config_group_ownership (void)
{
  g_autoptr (UsbipConfig) config = usbip_config_new (); /* owns [plugins] only, like usbip-tool */
  g_autoptr (GError) error = NULL;
  const gchar *text =
      "[plugins]\nenabled=vhci;host\nenable=vudc\n[daemon]\nmax-sessions=lots\ndevice-mode=false\n"
      "[vhci]\nanything=1\n[vhci-device one]\nanything=1\n[vhci-device]\nx=1\n[frobnicator]\na=1\nb=2\n";

  g_test_expect_message ("usbipcore", G_LOG_LEVEL_WARNING, "*unknown key [plugins] enable is ignored*");
  g_test_expect_message ("usbipcore", G_LOG_LEVEL_WARNING, "*unknown group [vhci-device] is ignored*"); /* no NAME */
  g_test_expect_message ("usbipcore", G_LOG_LEVEL_WARNING, "*unknown group [frobnicator] is ignored*");
  g_assert_true (usbip_config_load_data (config, text, strlen (text), &error));
  g_assert_no_error (error);
  /* exactly these warnings: a typo in a group of ours, a plugin's kind of group without its
   * name; none for [daemon], [vhci] or an enabled plugin's named group [vhci-device one] */
  g_test_assert_expected_messages ();
}

/* with no path, the file named by USBIP_CONFIG is read and must exist; without that
 * variable the default file is read, and when it does not exist the defaults hold */
static void
test_config_file_from_environment (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("usbip-config-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "usbipcore.conf", NULL);
  g_autofree gchar *missing = g_build_filename (dir, "missing.conf", NULL);
  g_autofree gchar *saved = g_strdup (g_getenv ("USBIP_CONFIG"));

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, "[demo]\nsize=7\n", -1, &error));
  g_setenv ("USBIP_CONFIG", path, TRUE);
  {
    g_autoptr (UsbipConfig) config = usbip_config_new ();

    usbip_config_register_key (config, "demo", "size", USBIP_CONFIG_TYPE_UINT, "1", NULL, 0, 10, NULL);
    g_assert_true (usbip_config_load_file (config, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (usbip_config_get_path (config), ==, path);
    g_assert_cmpuint (usbip_config_get_uint (config, "demo", "size"), ==, 7);
  }
  g_setenv ("USBIP_CONFIG", missing, TRUE);
  {
    g_autoptr (UsbipConfig) config = usbip_config_new ();

    g_assert_false (usbip_config_load_file (config, NULL, &error));
    g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, missing));
    g_clear_error (&error);
  }
  g_unsetenv ("USBIP_CONFIG");
  {
    g_autoptr (UsbipConfig) config = usbip_config_new ();
    gboolean loaded = usbip_config_load_file (config, NULL, &error);

    g_assert_cmpstr (usbip_config_get_path (config), ==, USBIP_DEFAULT_CONFIG);
    if (g_file_test (USBIP_DEFAULT_CONFIG, G_FILE_TEST_EXISTS))
      g_test_message ("%s exists here: only its path is checked", USBIP_DEFAULT_CONFIG);
    else
      {
        g_assert_no_error (error);
        g_assert_true (loaded);
      }
    g_clear_error (&error);
  }
  if (saved != NULL)
    g_setenv ("USBIP_CONFIG", saved, TRUE);
  g_unlink (path);
  g_rmdir (dir);
}

static void
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* UsbipConfig chains up to GObject's finalize: what is attached to it goes with it */
static void
test_config_released_with_its_data (void)
{
  UsbipConfig *config = usbip_config_new ();
  gboolean released = FALSE;

  g_object_set_data_full (G_OBJECT (config), "test-flag", &released, set_flag);
  g_object_unref (config);
  g_assert_true (released);
}

/* object-added carries the object, detailed by its type name: a handler for one type sees
 * only that type */
static void
on_object_added (UsbipPluginRegistry *reg, GObject *object, GPtrArray *seen)
{
  g_ptr_array_add (seen, object);
}

static void
test_object_added_signal (void)
{
  g_autoptr (UsbipPluginRegistry) reg = usbip_plugin_registry_new (NULL, NULL);
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  g_autoptr (GPtrArray) cancellables = g_ptr_array_new ();
  g_autoptr (GObject) plain = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr (GObject) cancellable = G_OBJECT (g_cancellable_new ());

  g_signal_connect (reg, "object-added", G_CALLBACK (on_object_added), all);
  g_signal_connect (reg, "object-added::GCancellable", G_CALLBACK (on_object_added), cancellables);
  usbip_plugin_registry_add_object (reg, plain);
  usbip_plugin_registry_add_object (reg, cancellable);
  g_assert_cmpuint (all->len, ==, 2);
  g_assert_true (g_ptr_array_index (all, 0) == plain);
  g_assert_true (g_ptr_array_index (all, 1) == cancellable);
  g_assert_cmpuint (cancellables->len, ==, 1);
  g_assert_true (g_ptr_array_index (cancellables, 0) == cancellable);
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
#ifdef TEST_BUILTIN
  /* a builtin build must never load the modules too (two copies of the GTypes) */
  g_test_add_func ("/plugins/builtin-and-disabled", test_builtin_and_disabled);
#else
  g_test_add_func ("/plugins/modules-from-dir", test_modules_from_dir);
  g_test_add_func ("/plugins/wrong-abi-refused", test_wrong_abi_refused);
  g_test_add_func ("/plugins/load-only", test_load_only);
#endif
  g_test_add_func ("/plugins/object-added-signal", test_object_added_signal);
  g_test_add_func ("/config/errors", test_config_errors);
  g_test_add_func ("/config/string-as-keyfile", test_config_string_as_keyfile);
  g_test_add_func ("/config/each-type-refused", test_config_each_type_refused);
  g_test_add_func ("/config/register-again", test_config_register_again);
  g_test_add_func ("/config/missing-file-undeclared-key", test_config_missing_file_and_undeclared_key);
  g_test_add_func ("/config/group-ownership", test_config_group_ownership);
  g_test_add_func ("/config/file-from-environment", test_config_file_from_environment);
  g_test_add_func ("/config/released-with-its-data", test_config_released_with_its_data);
  return g_test_run ();
}
