/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

/* Parses one vhci `status` / `status.N` file by its header line and appends a
 * UsbipPortInfo per port to @ports (controller set to @controller). Knows the 6.x layout
 * `hub port sta spd dev sockfd local_busid` and the pre-4.13 layout
 * `prt sta spd bus dev socket local_busid` (high-speed ports only). */
gboolean usbip_vhci_status_parse (const gchar *text, guint controller, GPtrArray *ports, GError **error);

G_END_DECLS
