/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plugin that forgot its register function. */
#include <usbipcore-plugin.h>

__attribute__ ((visibility ("default"))) const UsbipPluginAbi usbip_plugin_abi = { USBIP_PLUGIN_ABI_MAJOR, 0 };
