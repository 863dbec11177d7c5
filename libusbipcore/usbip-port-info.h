/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"
#include "usbip-busid.h"
#include "usbip-speed.h"

G_BEGIN_DECLS

/**
 * UsbipHubSpeed:
 * @USBIP_HUB_SPEED_HIGH: a USB 2.0 (`hs`) root-hub port: low, full, high speed devices
 * @USBIP_HUB_SPEED_SUPER: a USB 3.x (`ss`) root-hub port: SuperSpeed and faster
 *
 * The speed class of a vhci port.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_HUB_SPEED_HIGH,
  USBIP_HUB_SPEED_SUPER,
} UsbipHubSpeed;

/**
 * UsbipPortStatus:
 * @USBIP_PORT_STATUS_NULL: free (kernel VDEV_ST_NULL, 4)
 * @USBIP_PORT_STATUS_NOT_ASSIGNED: reserved, not yet attached (5)
 * @USBIP_PORT_STATUS_USED: a remote device is attached (6)
 * @USBIP_PORT_STATUS_ERROR: error (7)
 *
 * The `sta` column of vhci's status file.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_PORT_STATUS_NULL = 4,
  USBIP_PORT_STATUS_NOT_ASSIGNED = 5,
  USBIP_PORT_STATUS_USED = 6,
  USBIP_PORT_STATUS_ERROR = 7,
} UsbipPortStatus;

#define USBIP_TYPE_PORT_INFO (usbip_port_info_get_type ())

/**
 * UsbipPortInfo:
 * @port: port number as vhci's `attach`/`detach` and upstream `usbip port` number it
 * @controller: vhci_hcd controller index (N of `vhci_hcd.N`)
 * @hub: speed class of the port
 * @status: port state
 * @speed: speed of the attached device
 * @devid: remote busnum << 16 | devnum of the attached device
 * @sockfd: socket fd number recorded by the kernel (informational)
 * @local_busid: busid of the device on the local vhci bus (e.g. `3-1`), or empty
 * @remote_host: (nullable): host from the port record, if one exists
 * @remote_port: (nullable): port (service) from the port record
 * @remote_busid: (nullable): busid on the remote from the port record
 *
 * One vhci port with what its port record (`/var/run/vhci_hcd/port<N>`) says.
 *
 * Since: 1.0
 */
typedef struct {
  guint port;
  guint controller;
  UsbipHubSpeed hub;
  UsbipPortStatus status;
  UsbipSpeed speed;
  guint32 devid;
  gint sockfd;
  gchar local_busid[USBIP_BUSID_SIZE];
  gchar *remote_host;
  gchar *remote_port;
  gchar *remote_busid;
} UsbipPortInfo;

USBIP_PUBLIC GType usbip_port_info_get_type (void) G_GNUC_CONST;
USBIP_PUBLIC UsbipPortInfo *usbip_port_info_new (void);
USBIP_PUBLIC UsbipPortInfo *usbip_port_info_copy (const UsbipPortInfo *info);
USBIP_PUBLIC void usbip_port_info_free (UsbipPortInfo *info);
USBIP_PUBLIC const gchar *usbip_port_info_get_local_busid (const UsbipPortInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipPortInfo, usbip_port_info_free)

G_END_DECLS
