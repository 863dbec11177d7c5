/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-device-info.h"

G_DEFINE_BOXED_TYPE (UsbipDeviceInfo, usbip_device_info, usbip_device_info_copy, usbip_device_info_free)

/**
 * usbip_device_info_new:
 *
 * Returns: (transfer full): a zeroed #UsbipDeviceInfo
 *
 * Since: 0.1
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
 * Since: 0.1
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
 * Since: 0.1
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
 * Since: 0.1
 */
guint32
usbip_device_info_get_devid (const UsbipDeviceInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (info->busnum << 16) | (info->devnum & 0xffff);
}
