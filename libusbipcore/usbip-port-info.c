/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-port-info.h"

G_DEFINE_BOXED_TYPE (UsbipPortInfo, usbip_port_info, usbip_port_info_copy, usbip_port_info_free)

/**
 * usbip_port_info_new:
 *
 * Returns: (transfer full): a zeroed #UsbipPortInfo with status %USBIP_PORT_STATUS_NULL
 *
 * Since: 1.0
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
 * Since: 1.0
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
 * Since: 1.0
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

/**
 * usbip_port_info_get_local_busid:
 * @info: a #UsbipPortInfo
 *
 * The local bus ID as a string, for bindings (the field is a fixed-size array).
 *
 * Returns: (transfer none): the bus ID the attached device has on this host (e.g. `3-1`),
 *   `0-0` on a free port
 *
 * Since: 1.0
 */
const gchar *
usbip_port_info_get_local_busid (const UsbipPortInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->local_busid;
}
