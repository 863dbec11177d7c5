/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* UsbipPortMonitor internals the tests use: not installed, not exported */

#include "usbip-port-monitor.h"

G_BEGIN_DECLS

void usbip_port_monitor_set_uevent_fd (UsbipPortMonitor *self, gint fd);

G_END_DECLS
