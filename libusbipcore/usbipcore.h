/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * libusbipcore for applications: import and export USB devices over USB/IP, supervise an
 * attachment, load the backend plugins. Plugin authors include <usbipcore-plugin.h>
 * instead (this API plus the plugin context and the wire codec).
 */

#define USBIPCORE_INSIDE
#include "usbip-common.h"
#include "usbip-error.h"
#include "usbip-text.h"
#include "usbip-speed.h"
#include "usbip-busid.h"
#include "usbip-remote.h"
#include "usbip-device-info.h"
#include "usbip-port-info.h"
#include "usbip-sysfs.h"
#include "usbip-import-backend.h"
#include "usbip-export-backend.h"
#include "usbip-composite-backend.h"
#include "usbip-config.h"
#include "usbip-plugin-registry.h"
#include "usbip-socket-options.h"
#include "usbip-transport.h"
#include "usbip-transport-tcp.h"
#include "usbip-peer.h"
#include "usbip-policy.h"
#include "usbip-importer.h"
#include "usbip-device-cache.h"
#include "usbip-exporter.h"
#include "usbip-exporter-session.h"
#include "usbip-backoff.h"
#include "usbip-port-monitor.h"
#include "usbip-supervisor.h"
#include "usbip-enum-types.h"
#undef USBIPCORE_INSIDE
