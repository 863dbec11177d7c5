/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-virtual-device.h"

G_BEGIN_DECLS

/* `type=cdc-acm`: a serial port (CDC ACM) bridged to a pseudo-terminal on this host
 * (mode=pty) or echoing what it receives (mode=loopback) */
#define USBIP_TYPE_VIRTUAL_CDC_ACM (usbip_virtual_cdc_acm_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVirtualCdcAcm, usbip_virtual_cdc_acm, USBIP, VIRTUAL_CDC_ACM, UsbipVirtualDevice)

/* mode=pty: the terminal to open on this host (e.g. /dev/pts/3); NULL in loopback mode */
const gchar *usbip_virtual_cdc_acm_get_pty (UsbipVirtualCdcAcm *self);

G_END_DECLS
