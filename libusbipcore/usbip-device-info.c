/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-device-info.h"

G_DEFINE_BOXED_TYPE (UsbipDeviceInfo, usbip_device_info, usbip_device_info_copy, usbip_device_info_free)

/**
 * usbip_device_info_new:
 *
 * Returns: (transfer full): a zeroed #UsbipDeviceInfo
 *
 * Since: 1.0
 */
UsbipDeviceInfo *
usbip_device_info_new (void)
{
  return g_new0 (UsbipDeviceInfo, 1);
}

/**
 * usbip_device_info_copy:
 * @info: a #UsbipDeviceInfo
 *
 * Returns: (transfer full): a copy
 *
 * Since: 1.0
 */
UsbipDeviceInfo *
usbip_device_info_copy (const UsbipDeviceInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return g_memdup2 (info, sizeof *info);
}

/**
 * usbip_device_info_free:
 * @info: (nullable): a #UsbipDeviceInfo
 *
 * Frees @info.
 *
 * Since: 1.0
 */
void
usbip_device_info_free (UsbipDeviceInfo *info)
{
  g_free (info);
}

/**
 * usbip_device_info_get_devid:
 * @info: a #UsbipDeviceInfo
 *
 * Returns: `busnum << 16 | devnum`
 *
 * Since: 1.0
 */
guint32
usbip_device_info_get_devid (const UsbipDeviceInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (info->busnum << 16) | (info->devnum & 0xffff);
}

/**
 * usbip_device_info_get_busid:
 * @info: a #UsbipDeviceInfo
 *
 * The bus ID as a string, for bindings (the field is a fixed-size array).
 *
 * Returns: (transfer none): the bus ID, e.g. `1-1.2`
 *
 * Since: 1.0
 */
const gchar *
usbip_device_info_get_busid (const UsbipDeviceInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->busid;
}

/**
 * usbip_device_info_get_path:
 * @info: a #UsbipDeviceInfo
 *
 * The sysfs path as a string, for bindings (the field is a fixed-size array).
 *
 * Returns: (transfer none): the device's sysfs path on the exporting host
 *
 * Since: 1.0
 */
const gchar *
usbip_device_info_get_path (const UsbipDeviceInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->path;
}
