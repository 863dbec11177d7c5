/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-busid.h"
#include "usbip-error.h"
#include "usbip-export-backend.h"

/**
 * UsbipExportBackend:
 *
 * The exporter side of the kernel: usbip-host devices or usbip-vudc gadgets.
 *
 * Every entry point that takes a busid (often peer-supplied, from OP_REQ_IMPORT)
 * validates it with usbip_busid_validate() before the backend sees it, so no
 * implementation forms a sysfs path from a name with `/`, `..` or control bytes in it:
 * implementations may trust the busid they are given.
 *
 * Since: 1.0
 */
G_DEFINE_INTERFACE (UsbipExportBackend, usbip_export_backend, G_TYPE_OBJECT)

static void
usbip_export_backend_default_init (UsbipExportBackendInterface *iface)
{
}

/**
 * usbip_export_backend_list_devices:
 * @self: a #UsbipExportBackend
 * @error: return location for a #GError, or %NULL
 *
 * Returns: (element-type UsbipDeviceInfo) (transfer container): the devices bound to the
 *   backend's export driver, each with its status (in use ones included), or %NULL on error
 *
 * Since: 1.0
 */
GPtrArray *
usbip_export_backend_list_devices (UsbipExportBackend *self, GError **error)
{
  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), NULL);
  return USBIP_EXPORT_BACKEND_GET_IFACE (self)->list_devices (self, error);
}

/**
 * usbip_export_backend_list_local_devices:
 * @self: a #UsbipExportBackend
 * @error: return location for a #GError, or %NULL
 *
 * Lists every local device, bound or not (what `list -l` shows).
 *
 * Returns: (element-type UsbipDeviceInfo) (transfer container): devices, or %NULL on error
 *
 * Since: 1.0
 */
GPtrArray *
usbip_export_backend_list_local_devices (UsbipExportBackend *self, GError **error)
{
  UsbipExportBackendInterface *iface;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), NULL);
  iface = USBIP_EXPORT_BACKEND_GET_IFACE (self);
  if (iface->list_local_devices == NULL)
    return iface->list_devices (self, error);
  return iface->list_local_devices (self, error);
}

/**
 * usbip_export_backend_get_device:
 * @self: a #UsbipExportBackend
 * @busid: a busid
 * @error: return location for a #GError, or %NULL
 *
 * Returns: (transfer full): the device, or %NULL with %USBIP_ERROR_NOT_FOUND
 *
 * Since: 1.0
 */
UsbipDeviceInfo *
usbip_export_backend_get_device (UsbipExportBackend *self, const gchar *busid, GError **error)
{
  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), NULL);
  g_return_val_if_fail (busid != NULL, NULL);
  if (!usbip_busid_validate (busid, error))
    return NULL;
  return USBIP_EXPORT_BACKEND_GET_IFACE (self)->get_device (self, busid, error);
}

/**
 * usbip_export_backend_bind:
 * @self: a #UsbipExportBackend
 * @busid: a busid
 * @error: return location for a #GError, or %NULL
 *
 * Makes a device exportable.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_export_backend_bind (UsbipExportBackend *self, const gchar *busid, GError **error)
{
  UsbipExportBackendInterface *iface;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), FALSE);
  iface = USBIP_EXPORT_BACKEND_GET_IFACE (self);
  if (iface->bind == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE, "the %s backend cannot bind devices",
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }
  if (!usbip_busid_validate (busid, error))
    return FALSE;
  return iface->bind (self, busid, error);
}

/**
 * usbip_export_backend_unbind:
 * @self: a #UsbipExportBackend
 * @busid: a busid
 * @error: return location for a #GError, or %NULL
 *
 * Gives a device back to its normal driver.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_export_backend_unbind (UsbipExportBackend *self, const gchar *busid, GError **error)
{
  UsbipExportBackendInterface *iface;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), FALSE);
  iface = USBIP_EXPORT_BACKEND_GET_IFACE (self);
  if (iface->unbind == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE, "the %s backend cannot unbind devices",
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }
  if (!usbip_busid_validate (busid, error))
    return FALSE;
  return iface->unbind (self, busid, error);
}

/**
 * usbip_export_backend_export_fd:
 * @self: a #UsbipExportBackend
 * @busid: the device
 * @sockfd: an accepted socket after a successful OP_REQ_IMPORT
 * @error: return location for a #GError, or %NULL
 *
 * Hands @sockfd to the device's kernel driver. The caller still owns @sockfd.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_export_backend_export_fd (UsbipExportBackend *self, const gchar *busid, gint sockfd, GError **error)
{
  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), FALSE);
  g_return_val_if_fail (sockfd >= 0, FALSE);
  if (!usbip_busid_validate (busid, error))
    return FALSE;
  return USBIP_EXPORT_BACKEND_GET_IFACE (self)->export_fd (self, busid, sockfd, error);
}

/**
 * usbip_export_backend_export_stream:
 * @self: a #UsbipExportBackend
 * @busid: the device
 * @stream: the accepted connection after a successful OP_REQ_IMPORT
 * @reply: the OP_REP_IMPORT to send before anything else
 * @taken: (out): %TRUE if the backend took @stream
 * @error: return location for a #GError, or %NULL
 *
 * The hook for devices that live in userspace (plugins/backend-virtual): instead of handing
 * a socket to a kernel driver, the backend keeps @stream (its own reference), writes @reply
 * first and then answers the URB stream itself. Claiming the device and taking the stream
 * happen in this one call, so two clients cannot both import it: a device in use fails with
 * %USBIP_ERROR_DEVICE_BUSY. When the device is not one of the backend's userspace devices
 * (or the backend has no such devices) this returns %TRUE with @taken %FALSE and the caller
 * uses usbip_export_backend_export_fd().
 *
 * Returns: %FALSE with @error set when the import must be refused
 *
 * Since: 1.0
 */
gboolean
usbip_export_backend_export_stream (UsbipExportBackend *self, const gchar *busid, GIOStream *stream, GBytes *reply,
                                    gboolean *taken, GError **error)
{
  UsbipExportBackendInterface *iface;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), FALSE);
  g_return_val_if_fail (G_IS_IO_STREAM (stream), FALSE);
  g_return_val_if_fail (reply != NULL && taken != NULL, FALSE);
  *taken = FALSE;
  if (!usbip_busid_validate (busid, error))
    return FALSE;
  iface = USBIP_EXPORT_BACKEND_GET_IFACE (self);
  if (iface->export_stream == NULL)
    return TRUE;
  return iface->export_stream (self, busid, stream, reply, taken, error);
}

/**
 * usbip_export_backend_get_status:
 * @self: a #UsbipExportBackend
 * @busid: a busid
 * @error: return location for a #GError, or %NULL
 *
 * Reads one device's export state only (cheaper than usbip_export_backend_get_device()).
 *
 * Returns: the state; %USBIP_DEVICE_STATUS_UNKNOWN with @error set when the device is not
 *   bound (any more) or the backend cannot tell
 *
 * Since: 1.0
 */
UsbipDeviceStatus
usbip_export_backend_get_status (UsbipExportBackend *self, const gchar *busid, GError **error)
{
  UsbipExportBackendInterface *iface;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), USBIP_DEVICE_STATUS_UNKNOWN);
  g_return_val_if_fail (busid != NULL, USBIP_DEVICE_STATUS_UNKNOWN);
  iface = USBIP_EXPORT_BACKEND_GET_IFACE (self);
  if (iface->get_status == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE, "the %s backend cannot read one device's status",
                   G_OBJECT_TYPE_NAME (self));
      return USBIP_DEVICE_STATUS_UNKNOWN;
    }
  return iface->get_status (self, busid, error);
}

/**
 * usbip_export_backend_has_status:
 * @self: a #UsbipExportBackend
 *
 * Returns: %TRUE if the backend lists every bound device (usbip_export_backend_list_local_devices(),
 *   with their state) and reads one device's state cheaply (usbip_export_backend_get_status())
 *
 * Since: 1.0
 */
gboolean
usbip_export_backend_has_status (UsbipExportBackend *self)
{
  UsbipExportBackendInterface *iface;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (self), FALSE);
  iface = USBIP_EXPORT_BACKEND_GET_IFACE (self);
  return iface->get_status != NULL && iface->list_local_devices != NULL;
}
