/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-export-backend.h"

G_BEGIN_DECLS

#define USBIP_TYPE_COMPOSITE_BACKEND (usbip_composite_backend_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipCompositeBackend, usbip_composite_backend, USBIP, COMPOSITE_BACKEND, GObject)

USBIP_PUBLIC UsbipCompositeBackend *usbip_composite_backend_new (void);
USBIP_PUBLIC void usbip_composite_backend_add (UsbipCompositeBackend *self, UsbipExportBackend *backend);

G_END_DECLS
