/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Names from usb.ids (hwdata; USBIP_USB_IDS overrides the path), as upstream prints them. */

#include <glib.h>

G_BEGIN_DECLS

/* the name of ids[depth] under ids[0..depth-1]: a top-level entry "<prefix><ids[0]>" (prefix
 * "" for vendors, "C " for classes) in @width hex digits, its children one tab in, theirs
 * two tabs in; NULL when usb.ids does not list it */
gchar *usbip_tools_usb_ids_lookup (const gchar *prefix, guint width, const guint *ids, guint depth);

G_END_DECLS
