/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

#define USBIP_VHCI_SYSFS_DIR "/sys/devices/platform/vhci_hcd.0"
/* how many times a port taken between our read and our write is retried (here and in
 * usbip-tool's quick attach) */
#define USBIP_VHCI_ATTACH_RETRIES 16

#define USBIP_TYPE_VHCI_BACKEND (usbip_vhci_backend_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVhciBackend, usbip_vhci_backend, USBIP, VHCI_BACKEND, GObject)

/* sysfs: (nullable): the seam, default when NULL */
UsbipVhciBackend *usbip_vhci_backend_new (UsbipSysfs *sysfs);

G_END_DECLS
