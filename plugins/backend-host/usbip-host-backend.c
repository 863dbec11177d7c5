/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The exporter's kernel side for real USB devices: usbip-host (stub driver).
 *
 * Enumeration reads /sys/bus/usb/devices through the sysfs seam (not libgudev) so that
 * every kernel read goes through one module and the fake-tree tests see the same path.
 * Bind and unbind follow upstream `usbip bind/unbind` step by step.
 */
#include "config.h"

#include <string.h>

#include "usbip-host-backend.h"

struct _UsbipHostBackend {
  GObject parent_instance;
  UsbipSysfs *sysfs;
};

static void usbip_host_backend_iface_init (UsbipExportBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipHostBackend, usbip_host_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_EXPORT_BACKEND, usbip_host_backend_iface_init))

static gboolean
check_module (UsbipHostBackend *self, GError **error)
{
  if (usbip_sysfs_exists (self->sysfs, USBIP_HOST_DRIVER_DIR))
    return TRUE;
  g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING,
                       "usbip-host is not loaded: run `modprobe usbip-host` (as root)");
  return FALSE;
}

/* a USB device (not an interface "1-1:1.0", not a root hub "usb1") */
static gboolean
is_device_name (const gchar *name)
{
  return strchr (name, ':') == NULL && !g_str_has_prefix (name, "usb") && usbip_busid_validate (name, NULL);
}

static guint64
attr_uint (UsbipSysfs *sysfs, const gchar *dir, const gchar *name, guint base)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  guint64 v = 0;

  /* empty while unconfigured (bound to usbip-host): 0, as upstream sends it */
  if (!usbip_sysfs_read_uint (sysfs, path, base, &v, NULL))
    return 0;
  return v;
}

static gchar *
attr_text (UsbipSysfs *sysfs, const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);

  return usbip_sysfs_read (sysfs, path, NULL);
}

UsbipDeviceInfo *
usbip_host_read_device (UsbipSysfs *sysfs, const gchar *busid, GError **error)
{
  g_autofree gchar *dir = g_build_filename (USBIP_HOST_DEVICES_DIR, busid, NULL);
  g_autofree gchar *canon = NULL;
  g_autofree gchar *speed = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (UsbipDeviceInfo) info = NULL;
  g_autofree gchar *prefix = NULL;

  if (!usbip_busid_validate (busid, error))
    return NULL;
  if (!usbip_sysfs_exists (sysfs, dir))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "no USB device with bus ID %s: see `usbip-tool list -l` for the devices on this host", busid);
      return NULL;
    }
  {
    g_autofree gchar *probe = g_build_filename (dir, "idVendor", NULL);
    if (!usbip_sysfs_exists (sysfs, probe))
      {
        g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                     "%s is not a USB device: see `usbip-tool list -l` for the devices on this host", busid);
        return NULL;
      }
  }
  info = usbip_device_info_new ();
  canon = usbip_sysfs_canonicalize (sysfs, dir);
  g_strlcpy (info->path, canon != NULL ? canon : dir, sizeof info->path);
  g_strlcpy (info->busid, busid, sizeof info->busid);
  info->busnum = (guint32) attr_uint (sysfs, dir, "busnum", 10);
  info->devnum = (guint32) attr_uint (sysfs, dir, "devnum", 10);
  speed = attr_text (sysfs, dir, "speed");
  info->speed = usbip_speed_from_sysfs (speed);
  info->idVendor = (guint16) attr_uint (sysfs, dir, "idVendor", 16);
  info->idProduct = (guint16) attr_uint (sysfs, dir, "idProduct", 16);
  info->bcdDevice = (guint16) attr_uint (sysfs, dir, "bcdDevice", 16);
  info->bDeviceClass = (guint8) attr_uint (sysfs, dir, "bDeviceClass", 16);
  info->bDeviceSubClass = (guint8) attr_uint (sysfs, dir, "bDeviceSubClass", 16);
  info->bDeviceProtocol = (guint8) attr_uint (sysfs, dir, "bDeviceProtocol", 16);
  info->bConfigurationValue = (guint8) attr_uint (sysfs, dir, "bConfigurationValue", 10);
  info->bNumConfigurations = (guint8) attr_uint (sysfs, dir, "bNumConfigurations", 10);
  info->bNumInterfaces = (guint8) MIN (attr_uint (sysfs, dir, "bNumInterfaces", 10), USBIP_MAX_INTERFACES);

  /* interfaces of the active configuration: "<busid>:<config>.<n>" */
  prefix = g_strdup_printf ("%s:%u.", busid, info->bConfigurationValue);
  entries = usbip_sysfs_list_dir (sysfs, dir, prefix, NULL);
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      const gchar *name = g_ptr_array_index (entries, i);
      g_autofree gchar *idir = g_build_filename (dir, name, NULL);
      guint64 n = 0;

      if (!g_ascii_string_to_unsigned (name + strlen (prefix), 10, 0, USBIP_MAX_INTERFACES - 1, &n, NULL)
          || n >= info->bNumInterfaces)
        continue;
      info->interfaces[n].bInterfaceClass = (guint8) attr_uint (sysfs, idir, "bInterfaceClass", 16);
      info->interfaces[n].bInterfaceSubClass = (guint8) attr_uint (sysfs, idir, "bInterfaceSubClass", 16);
      info->interfaces[n].bInterfaceProtocol = (guint8) attr_uint (sysfs, idir, "bInterfaceProtocol", 16);
    }
  info->status = USBIP_DEVICE_STATUS_UNKNOWN;
  {
    g_autofree gchar *status_path = g_build_filename (dir, "usbip_status", NULL);
    guint64 st = 0;

    if (usbip_sysfs_exists (sysfs, status_path) && usbip_sysfs_read_uint (sysfs, status_path, 10, &st, NULL)
        && st >= USBIP_DEVICE_STATUS_AVAILABLE && st <= USBIP_DEVICE_STATUS_ERROR)
      info->status = (UsbipDeviceStatus) st;
  }
  return g_steal_pointer (&info);
}

static gchar *
device_driver (UsbipHostBackend *self, const gchar *busid)
{
  g_autofree gchar *link = g_build_filename (USBIP_HOST_DEVICES_DIR, busid, "driver", NULL);

  return usbip_sysfs_read_link_basename (self->sysfs, link, NULL);
}

static GPtrArray *
enumerate (UsbipHostBackend *self, gboolean exported_only, GError **error)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);

  names = usbip_sysfs_list_dir (self->sysfs, USBIP_HOST_DEVICES_DIR, NULL, error);
  if (names == NULL)
    return NULL;
  for (guint i = 0; i < names->len; i++)
    {
      const gchar *name = g_ptr_array_index (names, i);
      g_autoptr (UsbipDeviceInfo) info = NULL;

      if (!is_device_name (name))
        continue;
      if (exported_only)
        {
          g_autofree gchar *driver = device_driver (self, name);
          if (g_strcmp0 (driver, "usbip-host") != 0)
            continue;
        }
      info = usbip_host_read_device (self->sysfs, name, NULL);
      if (info == NULL) /* vanished while we looked */
        continue;
      if (exported_only && info->status == USBIP_DEVICE_STATUS_UNKNOWN)
        continue; /* usbip_status unreadable (unbound while we looked): as upstream, left out */
      if (!exported_only && info->bDeviceClass == 0x09)
        continue; /* hubs are never exportable */
      g_ptr_array_add (devices, g_steal_pointer (&info));
    }
  return g_steal_pointer (&devices);
}

static GPtrArray *
host_list_devices (UsbipExportBackend *backend, GError **error)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (backend);

  if (!check_module (self, error))
    return NULL;
  return enumerate (self, TRUE, error);
}

static GPtrArray *
host_list_local_devices (UsbipExportBackend *backend, GError **error)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (backend);

  if (!usbip_sysfs_exists (self->sysfs, USBIP_HOST_DEVICES_DIR))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "%s does not exist: this kernel has no USB support, or /sys is not mounted "
                   "(in a container, run on the host or bind-mount /sys)",
                   USBIP_HOST_DEVICES_DIR);
      return NULL;
    }
  return enumerate (self, FALSE, error);
}

static UsbipDeviceInfo *
host_get_device (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (backend);
  g_autofree gchar *driver = NULL;
  g_autoptr (UsbipDeviceInfo) info = NULL;

  if (!check_module (self, error))
    return NULL;
  info = usbip_host_read_device (self->sysfs, busid, error);
  if (info == NULL)
    return NULL;
  driver = device_driver (self, busid);
  if (g_strcmp0 (driver, "usbip-host") != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "%s is not exported: bind it first with `usbip-tool bind -b %s`", busid, busid);
      return NULL;
    }
  return g_steal_pointer (&info);
}

static gboolean
write_driver_attr (UsbipHostBackend *self, const gchar *driver, const gchar *attr, const gchar *value, GError **error)
{
  g_autofree gchar *path = g_build_filename (USBIP_HOST_DRIVERS_DIR, driver, attr, NULL);

  return usbip_sysfs_write (self->sysfs, path, value, error);
}

static gboolean
host_bind (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (backend);
  g_autoptr (UsbipDeviceInfo) info = NULL;
  g_autofree gchar *driver = NULL;
  g_autofree gchar *match = NULL;
  GError *local_error = NULL;

  if (!check_module (self, error))
    return FALSE;
  info = usbip_host_read_device (self->sysfs, busid, error);
  if (info == NULL)
    return FALSE;
  if (info->bDeviceClass == 0x09)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s is a hub: hubs cannot be exported; bind the devices behind it instead", busid);
      return FALSE;
    }
  if (strstr (info->path, "/vhci_hcd.") != NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s is attached through vhci_hcd (imported from another host): "
                   "exporting it again would loop; export it from the host it comes from",
                   busid);
      return FALSE;
    }
  driver = device_driver (self, busid);
  if (g_strcmp0 (driver, "usbip-host") == 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
                   "%s is already bound to usbip-host: nothing to do (`usbip-tool unbind -b %s` undoes it)", busid,
                   busid);
      return FALSE;
    }
  if (driver != NULL && !write_driver_attr (self, driver, "unbind", busid, error))
    return FALSE;
  match = g_strdup_printf ("add %s", busid);
  if (!write_driver_attr (self, "usbip-host", "match_busid", match, error))
    return FALSE;
  if (!write_driver_attr (self, "usbip-host", "bind", busid, &local_error))
    {
      g_autofree gchar *del = g_strdup_printf ("del %s", busid);

      write_driver_attr (self, "usbip-host", "match_busid", del, NULL);
      if (driver != NULL) /* give the device back to the driver it had */
        write_driver_attr (self, driver, "bind", busid, NULL);
      g_propagate_prefixed_error (error, local_error, "binding %s to usbip-host failed (rolled back): ", busid);
      return FALSE;
    }
  return TRUE;
}

static gboolean
host_unbind (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (backend);
  g_autofree gchar *driver = NULL;
  g_autofree gchar *del = NULL;
  g_autofree gchar *dir = NULL;

  if (!usbip_busid_validate (busid, error))
    return FALSE;
  if (!check_module (self, error))
    return FALSE;
  dir = g_build_filename (USBIP_HOST_DEVICES_DIR, busid, NULL);
  if (!usbip_sysfs_exists (self->sysfs, dir))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND, "no USB device with bus ID %s: see `usbip-tool list -l`",
                   busid);
      return FALSE;
    }
  driver = device_driver (self, busid);
  if (g_strcmp0 (driver, "usbip-host") != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s is not bound to usbip-host (driver: %s): nothing to unbind", busid,
                   driver != NULL ? driver : "none");
      return FALSE;
    }
  if (!write_driver_attr (self, "usbip-host", "unbind", busid, error))
    return FALSE;
  del = g_strdup_printf ("del %s", busid);
  if (!write_driver_attr (self, "usbip-host", "match_busid", del, error))
    return FALSE;
  /* let the usual driver take it back */
  return write_driver_attr (self, "usbip-host", "rebind", busid, error);
}

static gboolean
host_export_fd (UsbipExportBackend *backend, const gchar *busid, gint sockfd, GError **error)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (backend);
  g_autofree gchar *path = g_build_filename (USBIP_HOST_DEVICES_DIR, busid, "usbip_sockfd", NULL);
  g_autofree gchar *value = g_strdup_printf ("%d", sockfd);

  if (!usbip_busid_validate (busid, error))
    return FALSE;
  return usbip_sysfs_write (self->sysfs, path, value, error);
}

/* one read: what UsbipDeviceCache checks on every OP_REQ_DEVLIST */
static UsbipDeviceStatus
host_get_status (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (backend);
  g_autofree gchar *path = NULL;
  guint64 st = 0;

  if (!usbip_busid_validate (busid, error))
    return USBIP_DEVICE_STATUS_UNKNOWN;
  /* a validated bus ID has no '/': concatenation gives g_build_filename()'s path at a
   * fraction of its cost, once per bound device per OP_REQ_DEVLIST */
  path = g_strconcat (USBIP_HOST_DEVICES_DIR "/", busid, "/usbip_status", NULL);
  if (!usbip_sysfs_read_uint (self->sysfs, path, 10, &st, error))
    return USBIP_DEVICE_STATUS_UNKNOWN;
  if (st < USBIP_DEVICE_STATUS_AVAILABLE || st > USBIP_DEVICE_STATUS_ERROR)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL, "%s: usbip_status %" G_GUINT64_FORMAT " is not 1, 2 or 3",
                   busid, st);
      return USBIP_DEVICE_STATUS_UNKNOWN;
    }
  return (UsbipDeviceStatus) st;
}

static void
usbip_host_backend_iface_init (UsbipExportBackendInterface *iface)
{
  iface->list_devices = host_list_devices;
  iface->list_local_devices = host_list_local_devices;
  iface->get_device = host_get_device;
  iface->bind = host_bind;
  iface->unbind = host_unbind;
  iface->export_fd = host_export_fd;
  iface->get_status = host_get_status;
}

static void
usbip_host_backend_finalize (GObject *object)
{
  UsbipHostBackend *self = USBIP_HOST_BACKEND (object);

  g_clear_object (&self->sysfs);
  G_OBJECT_CLASS (usbip_host_backend_parent_class)->finalize (object);
}

static void
usbip_host_backend_class_init (UsbipHostBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_host_backend_finalize;
}

static void
usbip_host_backend_init (UsbipHostBackend *self)
{
}

UsbipHostBackend *
usbip_host_backend_new (UsbipSysfs *sysfs)
{
  UsbipHostBackend *self = g_object_new (USBIP_TYPE_HOST_BACKEND, NULL);

  self->sysfs = g_object_ref (sysfs != NULL ? sysfs : usbip_sysfs_get_default ());
  return self;
}
