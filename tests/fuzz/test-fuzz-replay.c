/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs every fuzz target's entry function over its seed corpus (tests/fuzz/corpus/<target>/)
 * and over the crash files kept as regressions (tests/fuzz/crashes/<target>/), without
 * libFuzzer. Seeds are valid input, so each must be accepted; a crash file must only pass
 * the target's checks (most are rejected inputs). Each kept crash file is a test of its
 * own (/fuzz/crash/<target>/<file>); a target without crash files registers none.
 */
#include "config.h"

#include <string.h>

#include "fuzz-targets.h"

static const gchar *fuzz_dir;

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* sorted list of the regular files in dir (empty if it does not exist) */
static GPtrArray *
list_files (const gchar *dir)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (d == NULL)
    return files;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = g_build_filename (dir, name, NULL);
      if (g_str_has_prefix (name, ".") || g_str_equal (name, "README.md")
          || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      g_ptr_array_add (files, g_steal_pointer (&path));
    }
  g_ptr_array_sort (files, compare_paths);
  return files;
}

static gint
run_file (const UsbipFuzzTarget *target, const gchar *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s (%" G_GSIZE_FORMAT " bytes)", target->name, path, len);
  return target->func ((const guint8 *) contents, len);
}

static void
test_corpus (gconstpointer data)
{
  const UsbipFuzzTarget *target = data;
  g_autofree gchar *dir = g_build_filename (fuzz_dir, "corpus", target->name, NULL);
  g_autoptr (GPtrArray) files = list_files (dir);

  /* a target without seeds would make this test pass on nothing */
  g_assert_cmpuint (files->len, >, 0);
  for (guint i = 0; i < files->len; i++)
    {
      gint accepted = run_file (target, g_ptr_array_index (files, i));
      if (accepted <= 0)
        g_error ("seed %s was rejected by %s: seeds must be valid input", (const gchar *) g_ptr_array_index (files, i),
                 target->name);
    }
}

typedef struct {
  const UsbipFuzzTarget *target;
  gchar *path;
} CrashCase;

static void
crash_case_free (gpointer data)
{
  CrashCase *c = data;

  g_free (c->path);
  g_free (c);
}

/* the input that once crashed the target now passes its checks */
static void
test_crash (gconstpointer data)
{
  const CrashCase *c = data;

  run_file (c->target, c->path);
}

/* the corpus and crashes directories hold only known targets */
static void
test_no_stray_dirs (void)
{
  const gchar *kinds[] = { "corpus", "crashes" };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autofree gchar *dir = g_build_filename (fuzz_dir, kinds[k], NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const gchar *name;

      if (d == NULL)
        continue;
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree gchar *path = g_build_filename (dir, name, NULL);
          gboolean known = FALSE;
          if (!g_file_test (path, G_FILE_TEST_IS_DIR))
            continue;
          for (const UsbipFuzzTarget *t = usbip_fuzz_targets; t->name != NULL; t++)
            known = known || g_str_equal (t->name, name);
          if (!known)
            g_error ("%s is not named after a fuzz target (see fuzz-targets.c)", path);
        }
    }
}

int
main (int argc, char *argv[])
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  fuzz_dir = g_getenv ("USBIP_FUZZ_DIR");
  if (fuzz_dir == NULL)
    fuzz_dir = USBIP_FUZZ_SOURCE_DIR;

  for (const UsbipFuzzTarget *t = usbip_fuzz_targets; t->name != NULL; t++)
    {
      g_autofree gchar *corpus = g_strdup_printf ("/fuzz/corpus/%s", t->name);
      g_autofree gchar *dir = g_build_filename (fuzz_dir, "crashes", t->name, NULL);
      g_autoptr (GPtrArray) files = list_files (dir);

      g_test_add_data_func (corpus, t, test_corpus);
      for (guint i = 0; i < files->len; i++)
        {
          CrashCase *c = g_new0 (CrashCase, 1); /* freed with the test (valgrind: no leak) */
          g_autofree gchar *base = g_path_get_basename (g_ptr_array_index (files, i));
          g_autofree gchar *name = g_strdup_printf ("/fuzz/crash/%s/%s", t->name, base);
          c->target = t;
          c->path = g_strdup (g_ptr_array_index (files, i));
          g_test_add_data_func_full (name, c, test_crash, crash_case_free);
        }
    }
  g_test_add_func ("/fuzz/no-stray-dirs", test_no_stray_dirs);
  return g_test_run ();
}
