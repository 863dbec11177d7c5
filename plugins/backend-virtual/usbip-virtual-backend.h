/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-virtual-device.h"

G_BEGIN_DECLS

#define USBIP_TYPE_VIRTUAL_BACKEND (usbip_virtual_backend_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVirtualBackend, usbip_virtual_backend, USBIP, VIRTUAL_BACKEND, GObject)

UsbipVirtualBackend *usbip_virtual_backend_new (void);
/* the devices of every `[virtual-device NAME]` group of @keyfile; FALSE names the group */
gboolean usbip_virtual_backend_add_from_keyfile (UsbipVirtualBackend *self, GKeyFile *keyfile, GError **error);
void usbip_virtual_backend_add (UsbipVirtualBackend *self, UsbipVirtualDevice *device);
guint usbip_virtual_backend_get_n_devices (UsbipVirtualBackend *self);
/* (transfer none) */
UsbipVirtualDevice *usbip_virtual_backend_get_device (UsbipVirtualBackend *self, guint index);

G_END_DECLS
