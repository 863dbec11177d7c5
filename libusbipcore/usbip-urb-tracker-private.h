/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* not installed, not exported */

#include "usbip-urb-tracker.h"

G_BEGIN_DECLS

/* the direction of a pending URB, without forgetting it; FALSE if unknown */
gboolean usbip_urb_tracker_lookup (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection *direction);

G_END_DECLS
