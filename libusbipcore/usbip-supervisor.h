/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-backoff.h"
#include "usbip-common.h"
#include "usbip-importer.h"

G_BEGIN_DECLS

/**
 * UsbipSupervisorState:
 * @USBIP_SUPERVISOR_IDLE: not started, or stopped
 * @USBIP_SUPERVISOR_CONNECTING: an attach is in progress
 * @USBIP_SUPERVISOR_ATTACHED: the device is attached to a vhci port
 * @USBIP_SUPERVISOR_WAITING: the connection was lost; waiting for the next attempt
 * @USBIP_SUPERVISOR_DETACHED: someone detached the port: the supervisor does not re-attach
 * @USBIP_SUPERVISOR_GAVE_UP: the attempts allowed are used up, or the error is not transient
 *
 * Where a #UsbipSupervisor is in its attach, watch, reconnect cycle (its #UsbipSupervisor:state).
 *
 * Since: 1.0
 */
typedef enum {
  USBIP_SUPERVISOR_IDLE,
  USBIP_SUPERVISOR_CONNECTING,
  USBIP_SUPERVISOR_ATTACHED,
  USBIP_SUPERVISOR_WAITING,
  USBIP_SUPERVISOR_DETACHED,
  USBIP_SUPERVISOR_GAVE_UP,
} UsbipSupervisorState;

/**
 * USBIP_SUPERVISOR_DEFAULT_STABLE_MS:
 *
 * How long an attachment must last to count as a success and reset the backoff, in milliseconds (docs/reconnect.md).
 *
 * Since: 1.0
 */
#define USBIP_SUPERVISOR_DEFAULT_STABLE_MS 5000

#define USBIP_TYPE_SUPERVISOR (usbip_supervisor_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipSupervisor, usbip_supervisor, USBIP, SUPERVISOR, GObject)

USBIP_PUBLIC UsbipSupervisor *usbip_supervisor_new (UsbipImporter *importer, const UsbipRemote *remote,
                                                    const gchar *busid);
USBIP_PUBLIC void usbip_supervisor_set_backoff (UsbipSupervisor *self, const UsbipBackoff *backoff);
USBIP_PUBLIC void usbip_supervisor_set_max_attempts (UsbipSupervisor *self, guint max_attempts);
USBIP_PUBLIC void usbip_supervisor_set_stable_time (UsbipSupervisor *self, guint stable_ms);
USBIP_PUBLIC void usbip_supervisor_set_poll_interval (UsbipSupervisor *self, guint interval_ms);
USBIP_PUBLIC gboolean usbip_supervisor_start (UsbipSupervisor *self, GError **error);
USBIP_PUBLIC void usbip_supervisor_stop (UsbipSupervisor *self);
USBIP_PUBLIC void usbip_supervisor_check_now (UsbipSupervisor *self);
USBIP_PUBLIC UsbipSupervisorState usbip_supervisor_get_state (UsbipSupervisor *self);
USBIP_PUBLIC const UsbipPortInfo *usbip_supervisor_get_port (UsbipSupervisor *self);
USBIP_PUBLIC const gchar *usbip_supervisor_state_to_string (UsbipSupervisorState state);

G_END_DECLS
