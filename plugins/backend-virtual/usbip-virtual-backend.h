/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-virtual-device.h"

G_BEGIN_DECLS

#define USBIP_TYPE_VIRTUAL_BACKEND (usbip_virtual_backend_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVirtualBackend, usbip_virtual_backend, USBIP, VIRTUAL_BACKEND, GObject)

/* @check_only: its devices are checked, not made (usbip_virtual_device_new_from_keyfile()) */
UsbipVirtualBackend *usbip_virtual_backend_new (gboolean check_only);
/* Makes the devices the `[virtual-device NAME]` groups of @keyfile (nullable: none)
 * declare the ones served: a device whose group did not change is kept (with its session),
 * a new group adds one, a changed group replaces its device, a removed one withdraws it;
 * the session of a device replaced or withdrawn is closed (usbip_virtual_session_close()).
 * All or nothing: FALSE names the bad group and leaves the devices served as they were. */
gboolean usbip_virtual_backend_reload (UsbipVirtualBackend *self, GKeyFile *keyfile, GError **error);
/* closes every session (usbip_virtual_session_close()): the program is stopping */
void usbip_virtual_backend_close_sessions (UsbipVirtualBackend *self, const gchar *reason);
guint usbip_virtual_backend_get_n_devices (UsbipVirtualBackend *self);
/* (transfer none) */
UsbipVirtualDevice *usbip_virtual_backend_get_device (UsbipVirtualBackend *self, guint index);

G_END_DECLS
