/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sysfs seam. Every read and write of /sys happens here, so tests can point the root
 * at a fake tree and inject kernel errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usbip-error.h"
#include "usbip-sysfs.h"
#include "usbip-sysfs-private.h"

/**
 * UsbipSysfs:
 *
 * The sysfs seam: every read and write of `/sys` goes through it, under a root that tests
 * point at a fake tree (`USBIP_SYSFS_ROOT`). Errors name the file and map errno to
 * #UsbipError codes.
 *
 * Since: 1.0
 */
struct _UsbipSysfs {
  GObject parent_instance;
  gchar *root;
  UsbipSysfsWriteHook hook;
  gpointer hook_data;
};

G_DEFINE_FINAL_TYPE (UsbipSysfs, usbip_sysfs, G_TYPE_OBJECT)

static void
usbip_sysfs_finalize (GObject *object)
{
  UsbipSysfs *self = USBIP_SYSFS (object);

  g_free (self->root);
  G_OBJECT_CLASS (usbip_sysfs_parent_class)->finalize (object);
}

static void
usbip_sysfs_class_init (UsbipSysfsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_sysfs_finalize;
}

static void
usbip_sysfs_init (UsbipSysfs *self)
{
}

/**
 * usbip_sysfs_new:
 * @root: (nullable): prefix for every kernel path; %NULL takes `$USBIP_SYSFS_ROOT`, else "/"
 *
 * Returns: (transfer full): a new seam
 *
 * Since: 1.0
 */
UsbipSysfs *
usbip_sysfs_new (const gchar *root)
{
  UsbipSysfs *self = g_object_new (USBIP_TYPE_SYSFS, NULL);

  if (root == NULL)
    root = g_getenv ("USBIP_SYSFS_ROOT");
  if (root == NULL || *root == '\0')
    root = "/";
  self->root = g_strdup (root);
  return self;
}

/**
 * usbip_sysfs_get_default:
 *
 * Returns: (transfer none): a process-wide seam built from the environment
 *
 * Since: 1.0
 */
UsbipSysfs *
usbip_sysfs_get_default (void)
{
  static UsbipSysfs *def = NULL;

  if (g_once_init_enter (&def))
    g_once_init_leave (&def, usbip_sysfs_new (NULL));
  return def;
}

/**
 * usbip_sysfs_get_root:
 * @self: a #UsbipSysfs
 *
 * Returns: the root prefix
 *
 * Since: 1.0
 */
const gchar *
usbip_sysfs_get_root (UsbipSysfs *self)
{
  g_return_val_if_fail (USBIP_IS_SYSFS (self), NULL);
  return self->root;
}

/* usbip_sysfs_resolve() for callers that checked @self themselves: never %NULL for a
 * non-%NULL @path (gcc -fanalyzer follows the %NULL of a failed precondition into open()) */
static gchar *
resolve (UsbipSysfs *self, const gchar *path)
{
  if (strcmp (self->root, "/") == 0)
    return g_strdup (path);
  return g_build_filename (self->root, path, NULL);
}

/**
 * usbip_sysfs_resolve:
 * @self: a #UsbipSysfs
 * @path: a kernel path such as `/sys/devices/platform/vhci_hcd.0/status`
 *
 * Returns: (transfer full): the path on this filesystem
 *
 * Since: 1.0
 */
gchar *
usbip_sysfs_resolve (UsbipSysfs *self, const gchar *path)
{
  g_return_val_if_fail (USBIP_IS_SYSFS (self), NULL);
  return resolve (self, path);
}

/**
 * usbip_sysfs_exists:
 * @self: a #UsbipSysfs
 * @path: a kernel path
 *
 * Returns: %TRUE if @path exists
 *
 * Since: 1.0
 */
gboolean
usbip_sysfs_exists (UsbipSysfs *self, const gchar *path)
{
  g_autofree gchar *real = NULL;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  real = usbip_sysfs_resolve (self, path);
  return g_file_test (real, G_FILE_TEST_EXISTS);
}

static void
set_io_error (GError **error, gint errsv, const gchar *verb, const gchar *path)
{
  if (errsv == EACCES || errsv == EPERM)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PERMISSION, "%s %s: %s: run as root (or with CAP_SYS_ADMIN)", verb,
                   path, g_strerror (errsv));
      return;
    }
  usbip_error_set_from_errno (error, errsv, "%s %s", verb, path);
}

/**
 * usbip_sysfs_read_bytes:
 * @self: a #UsbipSysfs
 * @path: a kernel path
 * @error: return location for a #GError
 *
 * Reads a binary attribute (e.g. usbip-vudc's `dev_desc`) whole.
 *
 * Returns: (transfer full): the bytes, or %NULL with @error set
 *
 * Since: 1.0
 */
GBytes *
usbip_sysfs_read_bytes (UsbipSysfs *self, const gchar *path, GError **error)
{
  g_autofree gchar *real = NULL;
  g_autoptr (GByteArray) buf = NULL;
  gint fd;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  real = resolve (self, path);
  buf = g_byte_array_new ();
  fd = open (real, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      set_io_error (error, errno, "reading", path);
      return NULL;
    }
  for (;;)
    {
      guint8 chunk[4096];
      gssize n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          gint errsv = errno;
          close (fd);
          set_io_error (error, errsv, "reading", path);
          return NULL;
        }
      if (n == 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
      /* a short read is the end: a sysfs attribute comes whole in one read (and a regular
       * file short only at its end), so no second read() just to see 0 (one per device per
       * OP_REQ_DEVLIST, for its usbip_status) */
      if (n < (gssize) sizeof chunk)
        break;
    }
  close (fd);
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

/**
 * usbip_sysfs_read:
 * @self: a #UsbipSysfs
 * @path: a kernel path
 * @error: return location for a #GError
 *
 * Reads a text attribute whole; one trailing newline is removed.
 *
 * Returns: (transfer full): the text, or %NULL with @error set
 *
 * Since: 1.0
 */
gchar *
usbip_sysfs_read (UsbipSysfs *self, const gchar *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  gsize len;
  const gchar *data;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  bytes = usbip_sysfs_read_bytes (self, path, error);
  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (len > 0 && data[len - 1] == '\n')
    len--;
  return g_strndup (data, len);
}

/**
 * usbip_sysfs_canonicalize:
 * @self: a #UsbipSysfs
 * @path: a kernel path, possibly through symlinks (e.g. `/sys/bus/usb/devices/1-1`)
 *
 * Returns: (transfer full) (nullable): the kernel path with every symlink resolved
 *   (e.g. `/sys/devices/pci0000:00/.../usb1/1-1`), or %NULL if it does not exist
 *
 * Since: 1.0
 */
gchar *
usbip_sysfs_canonicalize (UsbipSysfs *self, const gchar *path)
{
  g_autofree gchar *real = NULL;
  g_autofree gchar *canon = NULL;
  g_autofree gchar *root = NULL;
  gsize n;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  real = usbip_sysfs_resolve (self, path);
  canon = realpath (real, NULL);
  if (canon == NULL)
    return NULL;
  root = realpath (self->root, NULL);
  if (root == NULL || g_str_equal (root, "/"))
    return g_steal_pointer (&canon);
  n = strlen (root);
  if (strncmp (canon, root, n) == 0 && (canon[n] == '/' || canon[n] == '\0'))
    return g_strdup (canon[n] ? canon + n : "/");
  return g_steal_pointer (&canon);
}

/* Reads a short attribute into @buf (NUL-terminated): its length, 0 if it did not fit (read
 * it whole then), or -1 with @error set. A number fits, so usbip_sysfs_read_uint() (one per
 * bound device per OP_REQ_DEVLIST, for its usbip_status) makes no byte array, bytes and copy. */
static gssize
read_small (UsbipSysfs *self, const gchar *path, gchar *buf, gsize size, GError **error)
{
  g_autofree gchar *real = resolve (self, path);
  gssize n;
  gint fd = open (real, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      set_io_error (error, errno, "reading", path);
      return -1;
    }
  do
    n = read (fd, buf, size - 1);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      gint errsv = errno;
      close (fd);
      set_io_error (error, errsv, "reading", path);
      return -1;
    }
  close (fd);
  /* a short read is the end, as in usbip_sysfs_read_bytes(); a full one may have more */
  if ((gsize) n == size - 1)
    return 0;
  buf[n] = '\0';
  return n + 1;
}

/**
 * usbip_sysfs_read_uint:
 * @self: a #UsbipSysfs
 * @path: a kernel path
 * @base: 10 or 16
 * @out: (out): the value
 * @error: return location for a #GError, or %NULL
 *
 * Reads an unsigned integer attribute. An empty attribute (as usbip-host leaves
 * `bConfigurationValue` after bind) reads as 0.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_sysfs_read_uint (UsbipSysfs *self, const gchar *path, guint base, guint64 *out, GError **error)
{
  gchar small[64];
  g_autofree gchar *long_text = NULL;
  gchar *text = small;
  g_autoptr (GError) parse_error = NULL;
  gssize n;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  n = read_small (self, path, small, sizeof small, error);
  if (n < 0)
    return FALSE;
  if (n == 0)
    {
      long_text = usbip_sysfs_read (self, path, error);
      if (long_text == NULL)
        return FALSE;
      text = long_text;
    }
  g_strstrip (text);
  if (*text == '\0')
    {
      *out = 0;
      return TRUE;
    }
  if (base == 16 && g_str_has_prefix (text, "0x"))
    memmove (text, text + 2, strlen (text + 2) + 1);
  if (!g_ascii_string_to_unsigned (text, base, 0, G_MAXUINT64, out, &parse_error))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED, "%s: unexpected content '%s': %s", path, text,
                   parse_error->message);
      return FALSE;
    }
  return TRUE;
}

/**
 * usbip_sysfs_write:
 * @self: a #UsbipSysfs
 * @path: a kernel path
 * @value: what to write
 * @error: return location for a #GError, or %NULL
 *
 * Writes @value to an attribute with open() and a single write(), as sysfs requires.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_sysfs_write (UsbipSysfs *self, const gchar *path, const gchar *value, GError **error)
{
  g_autofree gchar *real = NULL;
  gsize len;
  gssize n;
  gint fd;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), FALSE);
  g_return_val_if_fail (path != NULL && value != NULL, FALSE);
  real = resolve (self, path);
  len = strlen (value);
  if (self->hook != NULL)
    {
      gint errsv = self->hook (path, value, self->hook_data);
      if (errsv != 0)
        {
          set_io_error (error, errsv, "writing to", path);
          return FALSE;
        }
    }
  fd = open (real, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    {
      set_io_error (error, errno, "writing to", path);
      return FALSE;
    }
  do
    n = write (fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      gint errsv = errno;
      close (fd);
      set_io_error (error, errsv, "writing to", path);
      return FALSE;
    }
  if (close (fd) < 0 && errno != EINTR)
    {
      set_io_error (error, errno, "writing to", path);
      return FALSE;
    }
  if ((gsize) n != len)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED,
                   "writing to %s: short write (%" G_GSSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes)", path, n, len);
      return FALSE;
    }
  return TRUE;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/**
 * usbip_sysfs_list_dir:
 * @self: a #UsbipSysfs
 * @path: a kernel directory
 * @prefix: (nullable): keep only names starting with this
 * @error: return location for a #GError, or %NULL
 *
 * Returns: (element-type utf8) (transfer full): sorted entry names, or %NULL with @error
 *
 * Since: 1.0
 */
GPtrArray *
usbip_sysfs_list_dir (UsbipSysfs *self, const gchar *path, const gchar *prefix, GError **error)
{
  g_autofree gchar *real = NULL;
  g_autoptr (GError) dir_error = NULL;
  g_autoptr (GDir) dir = NULL;
  GPtrArray *names;
  const gchar *name;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  real = usbip_sysfs_resolve (self, path);
  dir = g_dir_open (real, 0, &dir_error);
  if (dir == NULL)
    {
      gint errsv = dir_error->code == G_FILE_ERROR_NOENT   ? ENOENT
                   : dir_error->code == G_FILE_ERROR_ACCES ? EACCES
                                                           : EIO;
      set_io_error (error, errsv, "listing", path);
      return NULL;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (prefix == NULL || g_str_has_prefix (name, prefix))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_str);
  return names;
}

/**
 * usbip_sysfs_read_link_basename:
 * @self: a #UsbipSysfs
 * @path: a kernel path of a symlink, e.g. a device's `driver`
 * @error: return location for a #GError, or %NULL
 *
 * Returns: (transfer full): the last component of the link target, or %NULL with
 *   %USBIP_ERROR_NOT_FOUND when there is no link
 *
 * Since: 1.0
 */
gchar *
usbip_sysfs_read_link_basename (UsbipSysfs *self, const gchar *path, GError **error)
{
  g_autofree gchar *real = NULL;
  g_autofree gchar *target = NULL;

  g_return_val_if_fail (USBIP_IS_SYSFS (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  real = usbip_sysfs_resolve (self, path);
  target = g_file_read_link (real, NULL);
  if (target == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND, "%s is not a link", path);
      return NULL;
    }
  return g_path_get_basename (target);
}

/**
 * usbip_sysfs_set_write_hook:
 * @self: a #UsbipSysfs
 * @hook: (nullable) (scope notified): called before each write
 * @user_data: data for @hook
 *
 * Test seam: lets a test play the kernel or inject errno values.
 *
 * Since: 1.0
 */
void
usbip_sysfs_set_write_hook (UsbipSysfs *self, UsbipSysfsWriteHook hook, gpointer user_data)
{
  g_return_if_fail (USBIP_IS_SYSFS (self));
  self->hook = hook;
  self->hook_data = user_data;
}
