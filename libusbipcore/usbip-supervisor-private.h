/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* test seams of UsbipSupervisor: not installed, not exported */

#include "usbip-supervisor.h"

G_BEGIN_DECLS

/**
 * UsbipSupervisorClockFunc:
 * @user_data: data given to usbip_supervisor_set_clock()
 *
 * Returns: monotonic time in microseconds
 *
 * Since: 1.0
 */
typedef gint64 (*UsbipSupervisorClockFunc) (gpointer user_data);

void usbip_supervisor_set_clock (UsbipSupervisor *self, UsbipSupervisorClockFunc clock, gpointer user_data);

G_END_DECLS
