/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device mode (upstream `usbipd -e`): a gadget bound to usbip-vudc.N is exported as a
 * USB/IP device with bus ID "usbip-vudc.N". Its identity comes from `dev_desc`, the raw
 * 18-byte device descriptor; bus and device numbers are 0 on the wire.
 */
#include "config.h"

#include <string.h>

#include "usbip-vudc-backend.h"

struct _UsbipVudcBackend {
  GObject parent_instance;
  UsbipSysfs *sysfs;
};

static void usbip_vudc_backend_iface_init (UsbipExportBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipVudcBackend, usbip_vudc_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_EXPORT_BACKEND, usbip_vudc_backend_iface_init))

gboolean
usbip_vudc_decode_device_descriptor (const guint8 *d, gsize len, UsbipDeviceInfo *info, GError **error)
{
  if (len < 18 || d[0] < 18 || d[1] != 0x01)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_DEVICE_ERROR,
                   "dev_desc is not a USB device descriptor (%" G_GSIZE_FORMAT " bytes): "
                   "is a gadget bound to the usbip-vudc UDC?",
                   len);
      return FALSE;
    }
  info->bDeviceClass = d[4];
  info->bDeviceSubClass = d[5];
  info->bDeviceProtocol = d[6];
  info->idVendor = (guint16) (d[8] | d[9] << 8);
  info->idProduct = (guint16) (d[10] | d[11] << 8);
  info->bcdDevice = (guint16) (d[12] | d[13] << 8);
  info->bNumConfigurations = d[17];
  return TRUE;
}

static UsbipSpeed
udc_speed (UsbipVudcBackend *self, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (USBIP_VUDC_DEVICES_DIR, name, "udc", name, "current_speed", NULL);
  g_autofree gchar *text = usbip_sysfs_read (self->sysfs, path, NULL);
  static const struct {
    const gchar *name;
    UsbipSpeed speed;
  } map[] = {
    { "low-speed", USBIP_SPEED_LOW },     { "full-speed", USBIP_SPEED_FULL },
    { "high-speed", USBIP_SPEED_HIGH },   { "wireless", USBIP_SPEED_WIRELESS },
    { "super-speed", USBIP_SPEED_SUPER }, { "super-speed-plus", USBIP_SPEED_SUPER_PLUS },
  };

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (g_strstrip (text), map[i].name))
      return map[i].speed;
  return USBIP_SPEED_UNKNOWN;
}

static UsbipDeviceInfo *
read_vudc (UsbipVudcBackend *self, const gchar *name, GError **error)
{
  g_autofree gchar *dir = g_build_filename (USBIP_VUDC_DEVICES_DIR, name, NULL);
  g_autofree gchar *desc_path = g_build_filename (dir, "dev_desc", NULL);
  g_autofree gchar *status_path = g_build_filename (dir, "usbip_status", NULL);
  g_autofree gchar *canon = NULL;
  g_autoptr (GBytes) desc = NULL;
  g_autoptr (UsbipDeviceInfo) info = NULL;
  guint64 st = 0;
  gsize len;
  const guint8 *d;

  if (!g_str_has_prefix (name, USBIP_VUDC_PREFIX) || !usbip_sysfs_exists (self->sysfs, dir))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "no device %s: is usbip-vudc loaded (`modprobe usbip-vudc`) and a gadget bound to it?", name);
      return NULL;
    }
  desc = usbip_sysfs_read_bytes (self->sysfs, desc_path, error);
  if (desc == NULL)
    return NULL;
  info = usbip_device_info_new ();
  d = g_bytes_get_data (desc, &len);
  if (!usbip_vudc_decode_device_descriptor (d, len, info, error))
    return NULL;
  canon = usbip_sysfs_canonicalize (self->sysfs, dir);
  g_strlcpy (info->path, canon != NULL ? canon : dir, sizeof info->path);
  g_strlcpy (info->busid, name, sizeof info->busid);
  info->speed = udc_speed (self, name);
  if (usbip_sysfs_read_uint (self->sysfs, status_path, 10, &st, NULL) && st >= 1 && st <= 3)
    info->status = (UsbipDeviceStatus) st;
  return g_steal_pointer (&info);
}

static GPtrArray *
vudc_list_devices (UsbipExportBackend *backend, GError **error)
{
  UsbipVudcBackend *self = USBIP_VUDC_BACKEND (backend);
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);

  names = usbip_sysfs_list_dir (self->sysfs, USBIP_VUDC_DEVICES_DIR, USBIP_VUDC_PREFIX, NULL);
  if (names == NULL || names->len == 0)
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING,
                           "usbip-vudc is not loaded: run `modprobe usbip-vudc` (as root) "
                           "and bind a gadget to its UDC");
      return NULL;
    }
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (UsbipDeviceInfo) info = read_vudc (self, g_ptr_array_index (names, i), NULL);

      /* no gadget bound (dev_desc unreadable) or no state: not listed; one in use is, marked
       * used (the exporter leaves it out of OP_REP_DEVLIST) */
      if (info != NULL && info->status != USBIP_DEVICE_STATUS_UNKNOWN)
        g_ptr_array_add (devices, g_steal_pointer (&info));
    }
  return g_steal_pointer (&devices);
}

static UsbipDeviceInfo *
vudc_get_device (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  return read_vudc (USBIP_VUDC_BACKEND (backend), busid, error);
}

static gboolean
vudc_export_fd (UsbipExportBackend *backend, const gchar *busid, gint sockfd, GError **error)
{
  UsbipVudcBackend *self = USBIP_VUDC_BACKEND (backend);
  g_autofree gchar *path = NULL;
  g_autofree gchar *value = g_strdup_printf ("%d", sockfd);

  /* the busid was validated by usbip_export_backend_export_fd() */
  if (!g_str_has_prefix (busid, USBIP_VUDC_PREFIX))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND, "%s is not a usbip-vudc device", busid);
      return FALSE;
    }
  path = g_build_filename (USBIP_VUDC_DEVICES_DIR, busid, "usbip_sockfd", NULL);
  return usbip_sysfs_write (self->sysfs, path, value, error);
}

static void
usbip_vudc_backend_iface_init (UsbipExportBackendInterface *iface)
{
  iface->list_devices = vudc_list_devices;
  iface->get_device = vudc_get_device;
  iface->export_fd = vudc_export_fd;
}

static void
usbip_vudc_backend_finalize (GObject *object)
{
  g_clear_object (&USBIP_VUDC_BACKEND (object)->sysfs);
  G_OBJECT_CLASS (usbip_vudc_backend_parent_class)->finalize (object);
}

static void
usbip_vudc_backend_class_init (UsbipVudcBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_vudc_backend_finalize;
}

static void
usbip_vudc_backend_init (UsbipVudcBackend *self)
{
}

UsbipVudcBackend *
usbip_vudc_backend_new (UsbipSysfs *sysfs)
{
  UsbipVudcBackend *self = g_object_new (USBIP_TYPE_VUDC_BACKEND, NULL);

  self->sysfs = g_object_ref (sysfs != NULL ? sysfs : usbip_sysfs_get_default ());
  return self;
}
