/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-port-info.h"

G_DEFINE_BOXED_TYPE (UsbipPortInfo, usbip_port_info, usbip_port_info_copy, usbip_port_info_free)

/**
 * usbip_port_info_new:
 *
 * Returns: (transfer full): a zeroed #UsbipPortInfo with status %USBIP_PORT_STATUS_NULL
 *
 * Since: 0.1
 */
UsbipPortInfo *
usbip_port_info_new (void)
{
  UsbipPortInfo *info = g_new0 (UsbipPortInfo, 1);

  info->status = USBIP_PORT_STATUS_NULL;
  return info;
}

/**
 * usbip_port_info_copy:
 * @info: a #UsbipPortInfo
 *
 * Returns: (transfer full): a deep copy
 *
 * Since: 0.1
 */
UsbipPortInfo *
usbip_port_info_copy (const UsbipPortInfo *info)
{
  UsbipPortInfo *copy;

  g_return_val_if_fail (info != NULL, NULL);
  copy = g_memdup2 (info, sizeof *info);
  copy->remote_host = g_strdup (info->remote_host);
  copy->remote_port = g_strdup (info->remote_port);
  copy->remote_busid = g_strdup (info->remote_busid);
  return copy;
}

/**
 * usbip_port_info_free:
 * @info: (nullable): a #UsbipPortInfo
 *
 * Frees @info.
 *
 * Since: 0.1
 */
void
usbip_port_info_free (UsbipPortInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->remote_host);
  g_free (info->remote_port);
  g_free (info->remote_busid);
  g_free (info);
}
