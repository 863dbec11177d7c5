/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-virtual-device.h"

G_BEGIN_DECLS

/* `type=mass-storage`: a disk backed by an image file (keys image, read-only), USB
 * Mass Storage Bulk-Only Transport with the SCSI commands Linux and Windows use */
#define USBIP_TYPE_VIRTUAL_MASS_STORAGE (usbip_virtual_mass_storage_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVirtualMassStorage, usbip_virtual_mass_storage, USBIP, VIRTUAL_MASS_STORAGE,
                      UsbipVirtualDevice)

G_END_DECLS
