/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-virtual-device.h"

G_BEGIN_DECLS

/* `type=hid-keyboard` and `type=hid-mouse`: boot-protocol HID devices whose input reports
 * come from lines written to a FIFO the daemon creates (key input=PATH) */
#define USBIP_TYPE_VIRTUAL_HID (usbip_virtual_hid_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVirtualHid, usbip_virtual_hid, USBIP, VIRTUAL_HID, UsbipVirtualDevice)

/* the reports one line of input gives (appended to @reports, each 8 bytes for the
 * keyboard, 4 for the mouse); FALSE if the line means nothing (a mouse line that is not
 * numbers) */
gboolean usbip_virtual_hid_parse_line (gboolean keyboard, const gchar *line, GByteArray *reports);

G_END_DECLS
