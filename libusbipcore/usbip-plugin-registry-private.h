/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* not installed, not exported */

#include "usbip-plugin-registry.h"
#include "usbip-plugin.h"

G_BEGIN_DECLS

/* a statically linked plugin (builtin_plugins build, tests) */
void usbip_plugin_registry_add_builtin (UsbipPluginRegistry *self, const gchar *name, UsbipPluginRegisterFunc func);

G_END_DECLS
