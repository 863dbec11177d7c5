/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

#define USBIP_VUDC_DEVICES_DIR "/sys/bus/platform/devices"
#define USBIP_VUDC_PREFIX "usbip-vudc."

#define USBIP_TYPE_VUDC_BACKEND (usbip_vudc_backend_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVudcBackend, usbip_vudc_backend, USBIP, VUDC_BACKEND, GObject)

/* sysfs: (nullable): the seam, default when NULL */
UsbipVudcBackend *usbip_vudc_backend_new (UsbipSysfs *sysfs);

/* Decodes an 18-byte USB device descriptor into @info (ids, classes, configurations). */
gboolean usbip_vudc_decode_device_descriptor (const guint8 *desc, gsize len, UsbipDeviceInfo *info, GError **error);

G_END_DECLS
