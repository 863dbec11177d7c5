/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "usbip-common.h"

G_BEGIN_DECLS

/**
 * USBIP_ERROR:
 *
 * The error domain of libusbipcore. Every message names the cause and, where there is
 * one, the fix.
 *
 * Since: 1.0
 */
#define USBIP_ERROR (usbip_error_quark ())

/**
 * UsbipError:
 * @USBIP_ERROR_FAILED: generic failure (wire status ST_ERROR from a peer maps to
 *   @USBIP_ERROR_REMOTE_ERROR, not to this)
 * @USBIP_ERROR_NOT_AVAILABLE: wire ST_NA: the device is not available (not exported)
 * @USBIP_ERROR_DEVICE_BUSY: wire ST_DEV_BUSY: the device is already imported by someone
 * @USBIP_ERROR_DEVICE_ERROR: wire ST_DEV_ERR: the device is in an error state
 * @USBIP_ERROR_NO_DEVICE: wire ST_NODEV: no device with that busid is exported
 * @USBIP_ERROR_REMOTE_ERROR: wire ST_ERROR: the peer failed for an unspecified reason
 * @USBIP_ERROR_PROTOCOL: malformed or unexpected message
 * @USBIP_ERROR_VERSION: wrong protocol version in a message header
 * @USBIP_ERROR_UNKNOWN_OPCODE: unknown operation or command code
 * @USBIP_ERROR_TIMEOUT: a connect, read or write deadline passed
 * @USBIP_ERROR_DENIED: refused by policy (allow list, caps, rate limit)
 * @USBIP_ERROR_NOT_FOUND: a local object (busid, port, controller, plugin) does not exist
 * @USBIP_ERROR_BUSY: a local resource is busy
 * @USBIP_ERROR_NO_FREE_PORT: every vhci port of the needed speed class is in use
 * @USBIP_ERROR_MODULE_MISSING: a kernel module (vhci-hcd, usbip-host, usbip-vudc) is not loaded
 * @USBIP_ERROR_PERMISSION: insufficient privilege for a sysfs or socket operation
 * @USBIP_ERROR_INVALID_ARGUMENT: a busid, remote, option or config value is malformed
 * @USBIP_ERROR_CONNECTION: the connection was refused, reset or closed early
 * @USBIP_ERROR_PLUGIN: a plugin could not be loaded (ABI mismatch, missing symbol)
 * @USBIP_ERROR_CONFIG: the configuration file is invalid
 *
 * Error codes of the %USBIP_ERROR domain.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_ERROR_FAILED,
  USBIP_ERROR_NOT_AVAILABLE,
  USBIP_ERROR_DEVICE_BUSY,
  USBIP_ERROR_DEVICE_ERROR,
  USBIP_ERROR_NO_DEVICE,
  USBIP_ERROR_REMOTE_ERROR,
  USBIP_ERROR_PROTOCOL,
  USBIP_ERROR_VERSION,
  USBIP_ERROR_UNKNOWN_OPCODE,
  USBIP_ERROR_TIMEOUT,
  USBIP_ERROR_DENIED,
  USBIP_ERROR_NOT_FOUND,
  USBIP_ERROR_BUSY,
  USBIP_ERROR_NO_FREE_PORT,
  USBIP_ERROR_MODULE_MISSING,
  USBIP_ERROR_PERMISSION,
  USBIP_ERROR_INVALID_ARGUMENT,
  USBIP_ERROR_CONNECTION,
  USBIP_ERROR_PLUGIN,
  USBIP_ERROR_CONFIG,
  USBIP_ERROR_LAST /*< skip >*/
} UsbipError;

#ifndef __GI_SCANNER__
/* the name before 1.0; kept for source compatibility */
typedef UsbipError UsbipErrorCode;
#endif

/**
 * UsbipStatus:
 * @USBIP_ST_OK: request completed
 * @USBIP_ST_NA: device not available
 * @USBIP_ST_DEV_BUSY: device busy (already exported/imported)
 * @USBIP_ST_DEV_ERR: device in error state
 * @USBIP_ST_NODEV: device not found
 * @USBIP_ST_ERROR: unexpected response
 *
 * The status codes carried in OP_REP_* headers, as upstream defines them.
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_ST_OK = 0,
  USBIP_ST_NA = 1,
  USBIP_ST_DEV_BUSY = 2,
  USBIP_ST_DEV_ERR = 3,
  USBIP_ST_NODEV = 4,
  USBIP_ST_ERROR = 5,
} UsbipStatus;

USBIP_PUBLIC GQuark usbip_error_quark (void);

USBIP_PUBLIC const gchar *usbip_status_to_string (guint32 status);

USBIP_PUBLIC gboolean usbip_error_set_from_status (GError **error, guint32 status, const gchar *remote,
                                                   const gchar *busid);

USBIP_PUBLIC guint32 usbip_error_to_status (const GError *error);

USBIP_PUBLIC void usbip_error_convert (GError **perror);

USBIP_PUBLIC void usbip_error_set_from_errno (GError **error, gint errsv, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

G_END_DECLS
