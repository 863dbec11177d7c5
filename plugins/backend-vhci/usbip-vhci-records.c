/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhci port records. Reading and listing go through a sysfs seam rooted at the record
 * directory (one read path, one errno mapping); creating and removing a record are file
 * operations the seam deliberately does not offer (a sysfs attribute is never created),
 * so they are done here with GLib, as upstream does them with fopen()/remove().
 */
#include "config.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "usbip-vhci-records.h"

struct _UsbipVhciRecords {
  GObject parent_instance;
  gchar *dir;
  UsbipSysfs *dir_seam; /* root = dir: "/port0" is the record of port 0 */
};

G_DEFINE_FINAL_TYPE (UsbipVhciRecords, usbip_vhci_records, G_TYPE_OBJECT)

static void
usbip_vhci_records_finalize (GObject *object)
{
  UsbipVhciRecords *self = USBIP_VHCI_RECORDS (object);

  g_free (self->dir);
  g_clear_object (&self->dir_seam);
  G_OBJECT_CLASS (usbip_vhci_records_parent_class)->finalize (object);
}

static void
usbip_vhci_records_class_init (UsbipVhciRecordsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_vhci_records_finalize;
}

static void
usbip_vhci_records_init (UsbipVhciRecords *self)
{
}

UsbipVhciRecords *
usbip_vhci_records_new (UsbipSysfs *sysfs, const gchar *dir)
{
  UsbipVhciRecords *self = g_object_new (USBIP_TYPE_VHCI_RECORDS, NULL);

  if (dir == NULL)
    dir = g_getenv ("USBIP_VHCI_STATE_DIR");
  if (dir != NULL && *dir != '\0')
    self->dir = g_strdup (dir);
  else
    self->dir = usbip_sysfs_resolve (sysfs != NULL ? sysfs : usbip_sysfs_get_default (), USBIP_VHCI_STATE_DIR);
  self->dir_seam = usbip_sysfs_new (self->dir);
  return self;
}

const gchar *
usbip_vhci_records_get_dir (UsbipVhciRecords *self)
{
  return self->dir;
}

static gint
cmp_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

/* one directory read instead of one open per port */
GArray *
usbip_vhci_records_list (UsbipVhciRecords *self)
{
  GArray *ports = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GPtrArray) names = usbip_sysfs_list_dir (self->dir_seam, "/", "port", NULL);

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const gchar *name = g_ptr_array_index (names, i);
      guint64 port;
      if (g_ascii_string_to_unsigned (name + 4, 10, 0, G_MAXUINT, &port, NULL))
        {
          guint p = (guint) port;
          g_array_append_val (ports, p);
        }
    }
  g_array_sort (ports, cmp_uint);
  return ports;
}

static gchar *
record_name (guint port)
{
  return g_strdup_printf ("/port%u", port);
}

gboolean
usbip_vhci_records_write (UsbipVhciRecords *self, guint port, const gchar *host, const gchar *service,
                          const gchar *busid, GError **error)
{
  g_autofree gchar *name = record_name (port);
  g_autofree gchar *path = g_build_filename (self->dir, name, NULL);
  g_autofree gchar *text = g_strdup_printf ("%s %s %s\n", host, service, busid);
  g_autoptr (GError) file_error = NULL;

  if (g_mkdir_with_parents (self->dir, 0700) < 0)
    {
      gint errsv = errno;
      g_set_error (error, USBIP_ERROR, errsv == EACCES || errsv == EPERM ? USBIP_ERROR_PERMISSION : USBIP_ERROR_FAILED,
                   "creating the port-record directory %s: %s: run as root, or set "
                   "USBIP_VHCI_STATE_DIR to a writable directory",
                   self->dir, g_strerror (errsv));
      return FALSE;
    }
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0700, &file_error))
    {
      g_set_error (error, USBIP_ERROR,
                   file_error->code == G_FILE_ERROR_ACCES ? USBIP_ERROR_PERMISSION : USBIP_ERROR_FAILED,
                   "writing the port record %s: %s", path, file_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
usbip_vhci_records_read (UsbipVhciRecords *self, guint port, gchar **host, gchar **service, gchar **busid,
                         GError **error)
{
  g_autofree gchar *name = record_name (port);
  g_autofree gchar *text = usbip_sysfs_read (self->dir_seam, name, NULL);
  g_auto (GStrv) all = NULL;
  g_autoptr (GPtrArray) words = g_ptr_array_new ();

  if (text == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND, "no port record for port %u", port);
      return FALSE;
    }
  /* "<host> <port> <busid>": three words separated by any run of white space, as
   * upstream's sscanf("%s %s %s") reads them */
  all = g_strsplit_set (text, " \t\n\r\v\f", -1);
  for (guint i = 0; all[i] != NULL; i++)
    if (*all[i] != '\0')
      g_ptr_array_add (words, all[i]);
  if (words->len != 3)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED,
                   "port record %s%s is malformed: expected '<host> <port> <busid>'", self->dir, name);
      return FALSE;
    }
  if (host != NULL)
    *host = g_strdup (g_ptr_array_index (words, 0));
  if (service != NULL)
    *service = g_strdup (g_ptr_array_index (words, 1));
  if (busid != NULL)
    *busid = g_strdup (g_ptr_array_index (words, 2));
  return TRUE;
}

gboolean
usbip_vhci_records_remove (UsbipVhciRecords *self, guint port, GError **error)
{
  g_autofree gchar *name = record_name (port);
  g_autofree gchar *path = g_build_filename (self->dir, name, NULL);

  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      usbip_error_set_from_errno (error, errno, "removing the port record %s", path);
      return FALSE;
    }
  /* like upstream: drop the directory once the last record is gone (fails if not empty) */
  g_rmdir (self->dir);
  return TRUE;
}
