/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* UsbipCompositeBackend internals UsbipDeviceCache uses: not installed, not exported */

#include "usbip-composite-backend.h"

G_BEGIN_DECLS

/* (transfer none) (element-type UsbipExportBackend): its backends, in the order asked */
GPtrArray *usbip_composite_backend_get_backends (UsbipCompositeBackend *self);

G_END_DECLS
