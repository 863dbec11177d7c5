/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-common.h"

G_BEGIN_DECLS

/**
 * UsbipSpeed:
 * @USBIP_SPEED_UNKNOWN: unknown
 * @USBIP_SPEED_LOW: USB 1.x low speed, 1.5 Mbps
 * @USBIP_SPEED_FULL: USB 1.x full speed, 12 Mbps
 * @USBIP_SPEED_HIGH: USB 2.0 high speed, 480 Mbps
 * @USBIP_SPEED_WIRELESS: wireless USB, 53.3-480 Mbps
 * @USBIP_SPEED_SUPER: USB 3.x SuperSpeed, 5 Gbps
 * @USBIP_SPEED_SUPER_PLUS: USB 3.1+ SuperSpeedPlus, 10 Gbps
 *
 * Device speeds as the kernel's `enum usb_device_speed` numbers them; these are the codes
 * carried on the wire and written to vhci's `attach`.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_SPEED_UNKNOWN = 0,
  USBIP_SPEED_LOW = 1,
  USBIP_SPEED_FULL = 2,
  USBIP_SPEED_HIGH = 3,
  USBIP_SPEED_WIRELESS = 4,
  USBIP_SPEED_SUPER = 5,
  USBIP_SPEED_SUPER_PLUS = 6,
} UsbipSpeed;

/* "Low Speed(1.5Mbps)" style, as upstream prints it */
USBIP_PUBLIC const gchar *usbip_speed_to_string (UsbipSpeed speed);
/* short stable names for JSON: "unknown", "low", "full", "high", "wireless", "super", "super-plus" */
USBIP_PUBLIC const gchar *usbip_speed_to_nick (UsbipSpeed speed);
/* parse a nick as above; FALSE if unknown */
USBIP_PUBLIC gboolean usbip_speed_from_nick (const gchar *nick, UsbipSpeed *out);
/* parse sysfs `speed` attribute text ("1.5", "12", "480", "53.3-480", "5000", "10000", "20000") */
USBIP_PUBLIC UsbipSpeed usbip_speed_from_sysfs (const gchar *text);
/* nominal Mbps, 0 for unknown (low speed rounds to 1) */
USBIP_PUBLIC guint usbip_speed_to_mbps (UsbipSpeed speed);
/* TRUE for SuperSpeed and faster: these need an `ss` vhci port */
USBIP_PUBLIC gboolean usbip_speed_is_superspeed (UsbipSpeed speed);

G_END_DECLS
