/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * libusbipcore for plugin authors: the application API (<usbipcore.h>), the plugin
 * context a plugin registers its backends through, and the USB/IP wire codec (messages,
 * URB tracker, streaming deframer) for backends that speak the URB protocol themselves.
 */

#include "usbipcore.h"

#define USBIPCORE_INSIDE
#include "usbip-proto.h"
#include "usbip-urb-tracker.h"
#include "usbip-deframer.h"
#include "usbip-plugin.h"
#undef USBIPCORE_INSIDE
