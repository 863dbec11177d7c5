/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gmodule.h>

#include "usbip-tool-output.h"

G_BEGIN_DECLS

#define USBIP_TOOL_STATUS_SOCKET "/run/usbipcored/status.sock"

/* `usbip-tool status` lives in a module (USBIP_TOOL_STATUS_MODULE, installed in the
 * package's tool module directory) so that libsoup is loaded only by this verb. Its one
 * symbol, usbip_tool_status(): asks usbipcored's status socket (GET /v1/status and
 * /v1/sessions) and prints the answer; socket_path: (nullable): the default when NULL */
#define USBIP_TOOL_STATUS_MODULE "usbip-tool-status.so"
typedef gboolean (*UsbipToolStatusFunc) (UsbipToolOutput *out, const gchar *socket_path, GError **error);
G_MODULE_EXPORT gboolean usbip_tool_status (UsbipToolOutput *out, const gchar *socket_path, GError **error);

G_END_DECLS
