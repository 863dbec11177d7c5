/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"
#include "usbip-export-backend.h"

G_BEGIN_DECLS

#define USBIP_TYPE_DEVICE_CACHE (usbip_device_cache_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipDeviceCache, usbip_device_cache, USBIP, DEVICE_CACHE, GObject)

USBIP_PUBLIC UsbipDeviceCache *usbip_device_cache_new (UsbipExportBackend *backend);
USBIP_PUBLIC gboolean usbip_device_cache_is_caching (UsbipDeviceCache *self);
USBIP_PUBLIC GPtrArray *usbip_device_cache_list (UsbipDeviceCache *self, GError **error);
USBIP_PUBLIC void usbip_device_cache_invalidate (UsbipDeviceCache *self);
USBIP_PUBLIC guint usbip_device_cache_get_rescans (UsbipDeviceCache *self);

G_END_DECLS
