/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <usbipcore.h>

/* Registers every plugin compiled into this build as a builtin (always available: tests
 * use it; tools call it when built with -Dbuiltin_plugins=true). */
void usbip_builtin_plugins_add_all (UsbipPluginRegistry *registry);
