/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Several export backends behind one: usbipcored serves usbip-host devices and the virtual
 * devices of plugins/backend-virtual from one exporter. Each bus ID belongs to the first
 * backend that knows it (the backends' bus ID namespaces do not overlap: `1-1.2`,
 * `usbip-vudc.0`, `virtual-disk`). A backend that cannot list (usbip-host without its
 * module) does not empty the list of the others.
 */
#include "config.h"

#include "usbip-composite-backend.h"
#include "usbip-composite-backend-private.h"
#include "usbip-error.h"

/**
 * UsbipCompositeBackend:
 *
 * An export backend made of others, asked in the order they were added.
 *
 * Since: 1.0
 */
struct _UsbipCompositeBackend {
  GObject parent_instance;
  GPtrArray *backends; /* UsbipExportBackend*, owned */
};

static void usbip_composite_backend_iface_init (UsbipExportBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipCompositeBackend, usbip_composite_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_EXPORT_BACKEND, usbip_composite_backend_iface_init))

static GPtrArray *
composite_list_devices (UsbipExportBackend *backend, GError **error)
{
  UsbipCompositeBackend *self = USBIP_COMPOSITE_BACKEND (backend);
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);
  g_autoptr (GError) first_error = NULL;
  guint n_ok = 0;

  for (guint i = 0; i < self->backends->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GPtrArray) some =
          usbip_export_backend_list_devices (g_ptr_array_index (self->backends, i), &local_error);
      if (some == NULL)
        {
          g_debug ("%s: %s", G_OBJECT_TYPE_NAME (g_ptr_array_index (self->backends, i)), local_error->message);
          if (first_error == NULL)
            first_error = g_steal_pointer (&local_error);
          continue;
        }
      n_ok++;
      for (guint j = 0; j < some->len; j++)
        g_ptr_array_add (all, usbip_device_info_copy (g_ptr_array_index (some, j)));
    }
  if (n_ok == 0 && first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return NULL;
    }
  return g_steal_pointer (&all);
}

/* the backend that knows @busid, with its record; NULL with the first backend's error */
static UsbipExportBackend *
owner (UsbipCompositeBackend *self, const gchar *busid, UsbipDeviceInfo **info, GError **error)
{
  g_autoptr (GError) first_error = NULL;

  for (guint i = 0; i < self->backends->len; i++)
    {
      UsbipExportBackend *b = g_ptr_array_index (self->backends, i);
      g_autoptr (GError) local_error = NULL;
      UsbipDeviceInfo *found = usbip_export_backend_get_device (b, busid, &local_error);

      if (found != NULL)
        {
          if (info != NULL)
            *info = found;
          else
            usbip_device_info_free (found);
          return b;
        }
      if (first_error == NULL)
        first_error = g_steal_pointer (&local_error);
    }
  if (first_error == NULL)
    g_set_error (&first_error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND, "no device %s: no export backend", busid);
  g_propagate_error (error, g_steal_pointer (&first_error));
  return NULL;
}

static UsbipDeviceInfo *
composite_get_device (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipDeviceInfo *info = NULL;

  owner (USBIP_COMPOSITE_BACKEND (backend), busid, &info, error);
  return info;
}

/* bind and unbind concern devices no backend exports yet: the first backend that can */
static UsbipExportBackend *
binder (UsbipCompositeBackend *self)
{
  for (guint i = 0; i < self->backends->len; i++)
    if (USBIP_EXPORT_BACKEND_GET_IFACE (g_ptr_array_index (self->backends, i))->bind != NULL)
      return g_ptr_array_index (self->backends, i);
  return NULL;
}

static gboolean
composite_bind (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipExportBackend *b = binder (USBIP_COMPOSITE_BACKEND (backend));

  if (b == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE, "no export backend here can bind devices");
      return FALSE;
    }
  return usbip_export_backend_bind (b, busid, error);
}

static gboolean
composite_unbind (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipExportBackend *b = binder (USBIP_COMPOSITE_BACKEND (backend));

  if (b == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE, "no export backend here can unbind devices");
      return FALSE;
    }
  return usbip_export_backend_unbind (b, busid, error);
}

static gboolean
composite_export_fd (UsbipExportBackend *backend, const gchar *busid, gint sockfd, GError **error)
{
  UsbipExportBackend *b = owner (USBIP_COMPOSITE_BACKEND (backend), busid, NULL, error);

  return b != NULL && usbip_export_backend_export_fd (b, busid, sockfd, error);
}

static gboolean
composite_export_stream (UsbipExportBackend *backend, const gchar *busid, GIOStream *stream, GBytes *reply,
                         gboolean *taken, GError **error)
{
  UsbipExportBackend *b = owner (USBIP_COMPOSITE_BACKEND (backend), busid, NULL, error);

  return b != NULL && usbip_export_backend_export_stream (b, busid, stream, reply, taken, error);
}

static void
usbip_composite_backend_iface_init (UsbipExportBackendInterface *iface)
{
  iface->list_devices = composite_list_devices;
  iface->get_device = composite_get_device;
  iface->bind = composite_bind;
  iface->unbind = composite_unbind;
  iface->export_fd = composite_export_fd;
  iface->export_stream = composite_export_stream;
}

static void
usbip_composite_backend_finalize (GObject *object)
{
  UsbipCompositeBackend *self = USBIP_COMPOSITE_BACKEND (object);

  g_ptr_array_unref (self->backends);
  G_OBJECT_CLASS (usbip_composite_backend_parent_class)->finalize (object);
}

static void
usbip_composite_backend_class_init (UsbipCompositeBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_composite_backend_finalize;
}

static void
usbip_composite_backend_init (UsbipCompositeBackend *self)
{
  self->backends = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * usbip_composite_backend_new:
 *
 * Returns: (transfer full): a backend with no backends in it yet
 *
 * Since: 1.0
 */
UsbipCompositeBackend *
usbip_composite_backend_new (void)
{
  return g_object_new (USBIP_TYPE_COMPOSITE_BACKEND, NULL);
}

/**
 * usbip_composite_backend_add:
 * @self: a composite backend
 * @backend: (transfer none): one more backend, asked after those added before
 *
 * Since: 1.0
 */
void
usbip_composite_backend_add (UsbipCompositeBackend *self, UsbipExportBackend *backend)
{
  g_return_if_fail (USBIP_IS_COMPOSITE_BACKEND (self));
  g_return_if_fail (USBIP_IS_EXPORT_BACKEND (backend));
  g_ptr_array_add (self->backends, g_object_ref (backend));
}

GPtrArray *
usbip_composite_backend_get_backends (UsbipCompositeBackend *self)
{
  g_return_val_if_fail (USBIP_IS_COMPOSITE_BACKEND (self), NULL);
  return self->backends;
}
