/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

#define USBIP_HOST_DEVICES_DIR "/sys/bus/usb/devices"
#define USBIP_HOST_DRIVERS_DIR "/sys/bus/usb/drivers"
#define USBIP_HOST_DRIVER_DIR "/sys/bus/usb/drivers/usbip-host"

#define USBIP_TYPE_HOST_BACKEND (usbip_host_backend_get_type ())
G_DECLARE_FINAL_TYPE (UsbipHostBackend, usbip_host_backend, USBIP, HOST_BACKEND, GObject)

/* sysfs: (nullable): the seam, default when NULL */
UsbipHostBackend *usbip_host_backend_new (UsbipSysfs *sysfs);

/* Reads the device info of @busid from its sysfs directory (any driver). */
UsbipDeviceInfo *usbip_host_read_device (UsbipSysfs *sysfs, const gchar *busid, GError **error);

G_END_DECLS
