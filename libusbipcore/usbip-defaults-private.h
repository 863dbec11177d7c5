/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Default values that code without GLib needs too: usbip-tool's libc-only quick attach
 * (tools/usbip-tool/usbip-tool-quick.c) must do what the library does by default. Plain C
 * macros, one place: usbip_socket_options_new() and usbip_config_new() take them from here.
 */

/* UsbipSocketOptions (usbip-socket-options.h says what each does) */
#define USBIP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define USBIP_DEFAULT_READ_TIMEOUT_MS 10000
#define USBIP_DEFAULT_WRITE_TIMEOUT_MS 10000
#define USBIP_DEFAULT_KEEPALIVE_IDLE_S 4
#define USBIP_DEFAULT_KEEPALIVE_INTERVAL_S 3
#define USBIP_DEFAULT_KEEPALIVE_PROBES 5
#define USBIP_DEFAULT_USER_TIMEOUT_MS 16000

/* [plugins] enabled when the configuration does not set it */
#define USBIP_DEFAULT_PLUGINS_ENABLED "vhci;host;vudc;unix;vsock"
