/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-tool-output.h"

G_BEGIN_DECLS

#define USBIP_TOOL_STATUS_SOCKET "/run/usbipcored/status.sock"

/* `usbip-tool status`: asks usbipcored's status socket (GET /v1/status and /v1/sessions)
 * and prints the answer; socket_path: (nullable): the default when NULL */
gboolean usbip_tool_status (UsbipToolOutput *out, const gchar *socket_path, GError **error);

G_END_DECLS
