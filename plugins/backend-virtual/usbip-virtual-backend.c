/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The export backend of virtual devices: they live in this process, so an import takes
 * the connection itself (usbip_export_backend_export_stream()) instead of a kernel
 * driver taking the socket.
 */
#include "config.h"

#include "usbip-virtual-backend.h"
#include "usbip-virtual-session.h"

struct _UsbipVirtualBackend {
  GObject parent_instance;
  GPtrArray *devices; /* UsbipVirtualDevice* */
};

static void usbip_virtual_backend_iface_init (UsbipExportBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipVirtualBackend, usbip_virtual_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_EXPORT_BACKEND, usbip_virtual_backend_iface_init))

static UsbipVirtualDevice *
find (UsbipVirtualBackend *self, const gchar *busid)
{
  for (guint i = 0; i < self->devices->len; i++)
    if (g_str_equal (usbip_virtual_device_get_busid (g_ptr_array_index (self->devices, i)), busid))
      return g_ptr_array_index (self->devices, i);
  return NULL;
}

static GPtrArray *
virtual_list_devices (UsbipExportBackend *backend, GError **error)
{
  UsbipVirtualBackend *self = USBIP_VIRTUAL_BACKEND (backend);
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);

  for (guint i = 0; i < self->devices->len; i++)
    g_ptr_array_add (list, usbip_virtual_device_get_info (g_ptr_array_index (self->devices, i)));
  return list;
}

static UsbipDeviceInfo *
virtual_get_device (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipVirtualDevice *device = find (USBIP_VIRTUAL_BACKEND (backend), busid);

  if (device == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "no virtual device %s: declare it as a [virtual-device NAME] group (bus ID virtual-NAME)", busid);
      return NULL;
    }
  return usbip_virtual_device_get_info (device);
}

static UsbipDeviceStatus
virtual_get_status (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  g_autoptr (UsbipDeviceInfo) info = virtual_get_device (backend, busid, error);

  return info != NULL ? info->status : USBIP_DEVICE_STATUS_UNKNOWN;
}

static gboolean
virtual_export_fd (UsbipExportBackend *backend, const gchar *busid, gint sockfd, GError **error)
{
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE,
               "virtual device %s runs in userspace: it takes the connection, not a socket", busid);
  return FALSE;
}

static gboolean
virtual_export_stream (UsbipExportBackend *backend, const gchar *busid, GIOStream *stream, GBytes *reply,
                       gboolean *taken, GError **error)
{
  UsbipVirtualDevice *device = find (USBIP_VIRTUAL_BACKEND (backend), busid);

  *taken = FALSE;
  if (device == NULL)
    return TRUE;
  if (!usbip_virtual_session_start (device, stream, reply, error))
    return FALSE;
  *taken = TRUE;
  return TRUE;
}

static void
usbip_virtual_backend_iface_init (UsbipExportBackendInterface *iface)
{
  iface->list_devices = virtual_list_devices;
  iface->list_local_devices = virtual_list_devices;
  iface->get_device = virtual_get_device;
  iface->get_status = virtual_get_status;
  iface->export_fd = virtual_export_fd;
  iface->export_stream = virtual_export_stream;
}

static void
usbip_virtual_backend_finalize (GObject *object)
{
  g_ptr_array_unref (USBIP_VIRTUAL_BACKEND (object)->devices);
  G_OBJECT_CLASS (usbip_virtual_backend_parent_class)->finalize (object);
}

static void
usbip_virtual_backend_class_init (UsbipVirtualBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_virtual_backend_finalize;
}

static void
usbip_virtual_backend_init (UsbipVirtualBackend *self)
{
  self->devices = g_ptr_array_new_with_free_func (g_object_unref);
}

UsbipVirtualBackend *
usbip_virtual_backend_new (void)
{
  return g_object_new (USBIP_TYPE_VIRTUAL_BACKEND, NULL);
}

void
usbip_virtual_backend_add (UsbipVirtualBackend *self, UsbipVirtualDevice *device)
{
  g_ptr_array_add (self->devices, g_object_ref (device));
}

guint
usbip_virtual_backend_get_n_devices (UsbipVirtualBackend *self)
{
  return self->devices->len;
}

UsbipVirtualDevice *
usbip_virtual_backend_get_device (UsbipVirtualBackend *self, guint index)
{
  g_return_val_if_fail (index < self->devices->len, NULL);
  return g_ptr_array_index (self->devices, index);
}

gboolean
usbip_virtual_backend_add_from_keyfile (UsbipVirtualBackend *self, GKeyFile *keyfile, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (keyfile, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autoptr (UsbipVirtualDevice) device = NULL;

      if (!g_str_has_prefix (groups[i], "virtual-device "))
        continue;
      device = usbip_virtual_device_new_from_keyfile (keyfile, groups[i], self->devices->len, error);
      if (device == NULL)
        return FALSE;
      if (find (self, usbip_virtual_device_get_busid (device)) != NULL)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s]: a second device with bus ID %s: rename one",
                       groups[i], usbip_virtual_device_get_busid (device));
          return FALSE;
        }
      usbip_virtual_backend_add (self, device);
    }
  return TRUE;
}
