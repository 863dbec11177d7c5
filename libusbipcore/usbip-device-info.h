/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"
#include "usbip-busid.h"
#include "usbip-speed.h"

G_BEGIN_DECLS

/**
 * USBIP_PATH_SIZE:
 *
 * Width of the sysfs path field of a device record on the wire, including NUL.
 *
 * Since: 1.0
 */
#define USBIP_PATH_SIZE 256

/**
 * USBIP_MAX_INTERFACES:
 *
 * Cap on interface records per device; a record announcing more is rejected as invalid.
 *
 * Since: 1.0
 */
#define USBIP_MAX_INTERFACES 32

/**
 * UsbipDeviceStatus:
 * @USBIP_DEVICE_STATUS_UNKNOWN: not known (not bound to an export driver)
 * @USBIP_DEVICE_STATUS_AVAILABLE: bound and free to export (sysfs `usbip_status` 1)
 * @USBIP_DEVICE_STATUS_USED: exported to a client (2)
 * @USBIP_DEVICE_STATUS_ERROR: in error (3)
 *
 * Local export state of a device, read from its `usbip_status`.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_DEVICE_STATUS_UNKNOWN = 0,
  USBIP_DEVICE_STATUS_AVAILABLE = 1,
  USBIP_DEVICE_STATUS_USED = 2,
  USBIP_DEVICE_STATUS_ERROR = 3,
} UsbipDeviceStatus;

/**
 * UsbipInterfaceInfo:
 * @bInterfaceClass: class
 * @bInterfaceSubClass: subclass
 * @bInterfaceProtocol: protocol
 *
 * One 4-byte interface record (the fourth byte is padding on the wire).
 *
 * Since: 1.0
 */
typedef struct {
  guint8 bInterfaceClass;
  guint8 bInterfaceSubClass;
  guint8 bInterfaceProtocol;
} UsbipInterfaceInfo;

#define USBIP_TYPE_DEVICE_INFO (usbip_device_info_get_type ())

/**
 * UsbipDeviceInfo:
 * @path: sysfs path of the device on the exporting host
 * @busid: busid, e.g. `1-1.2`
 * @busnum: bus number
 * @devnum: device number
 * @speed: speed code
 * @idVendor: vendor id
 * @idProduct: product id
 * @bcdDevice: device release
 * @bDeviceClass: class
 * @bDeviceSubClass: subclass
 * @bDeviceProtocol: protocol
 * @bConfigurationValue: active configuration (0 once usbip-host has bound it)
 * @bNumConfigurations: number of configurations
 * @bNumInterfaces: number of interface records in @interfaces
 * @interfaces: interface records (only the first @bNumInterfaces are meaningful)
 * @status: local export state; not carried on the wire
 *
 * The 312-byte device record of OP_REP_DEVLIST and OP_REP_IMPORT, plus its interfaces.
 * A plain struct: allocate with g_new0() or on the stack.
 *
 * Since: 1.0
 */
typedef struct {
  gchar path[USBIP_PATH_SIZE];
  gchar busid[USBIP_BUSID_SIZE];
  guint32 busnum;
  guint32 devnum;
  UsbipSpeed speed;
  guint16 idVendor;
  guint16 idProduct;
  guint16 bcdDevice;
  guint8 bDeviceClass;
  guint8 bDeviceSubClass;
  guint8 bDeviceProtocol;
  guint8 bConfigurationValue;
  guint8 bNumConfigurations;
  guint8 bNumInterfaces;
  UsbipInterfaceInfo interfaces[USBIP_MAX_INTERFACES];
  UsbipDeviceStatus status;
} UsbipDeviceInfo;

USBIP_PUBLIC GType usbip_device_info_get_type (void) G_GNUC_CONST;
USBIP_PUBLIC UsbipDeviceInfo *usbip_device_info_new (void);
USBIP_PUBLIC UsbipDeviceInfo *usbip_device_info_copy (const UsbipDeviceInfo *info);
USBIP_PUBLIC void usbip_device_info_free (UsbipDeviceInfo *info);
/* busnum << 16 | devnum, as vhci's attach and the URB headers use it */
USBIP_PUBLIC guint32 usbip_device_info_get_devid (const UsbipDeviceInfo *info);
USBIP_PUBLIC const gchar *usbip_device_info_get_busid (const UsbipDeviceInfo *info);
USBIP_PUBLIC const gchar *usbip_device_info_get_path (const UsbipDeviceInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipDeviceInfo, usbip_device_info_free)

G_END_DECLS
