/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-common.h"

G_BEGIN_DECLS

USBIP_PUBLIC gchar *usbip_text_escape (const gchar *data, gssize len);

G_END_DECLS
