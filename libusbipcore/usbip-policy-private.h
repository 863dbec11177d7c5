/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* UsbipPolicy internals the exporter uses: not installed, not exported */

#include "usbip-policy.h"

G_BEGIN_DECLS

/* whether usbip_policy_admit_peer() looks at an IP peer's address (admission rules or an
 * accept rate are set): when not, the exporter need not build a #GInetAddress per connection */
gboolean usbip_policy_judges_address (UsbipPolicy *self);

G_END_DECLS
