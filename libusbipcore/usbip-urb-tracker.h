/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-proto.h"

G_BEGIN_DECLS

/**
 * UsbipUrbTracker:
 *
 * Remembers the direction of each CMD_SUBMIT by seqnum so that the RET_SUBMIT stream can
 * be framed (a RET_SUBMIT carries data only for IN transfers, and its header does not say
 * which). Share one tracker between the command and return deframers of a connection.
 * Bounded: only pending URBs are kept (a RET_SUBMIT forgets its URB), and past a cap of
 * 65536 pending URBs the oldest is forgotten.
 *
 * Since: 1.0
 */
typedef struct _UsbipUrbTracker UsbipUrbTracker;

USBIP_PUBLIC UsbipUrbTracker *usbip_urb_tracker_new (void);
USBIP_PUBLIC void usbip_urb_tracker_free (UsbipUrbTracker *self);
/* record a CMD_SUBMIT's direction (the command deframer does this itself) */
USBIP_PUBLIC void usbip_urb_tracker_add (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection direction);
/* look up and forget; FALSE if unknown */
USBIP_PUBLIC gboolean usbip_urb_tracker_take (UsbipUrbTracker *self, guint32 seqnum, UsbipDirection *direction);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipUrbTracker, usbip_urb_tracker_free)

G_END_DECLS
