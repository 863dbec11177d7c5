/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include "usbip-backoff.h"
#include "usbip-common.h"
#include "usbip-importer.h"

G_BEGIN_DECLS

typedef enum {
  USBIP_SUPERVISOR_IDLE,
  USBIP_SUPERVISOR_CONNECTING,
  USBIP_SUPERVISOR_ATTACHED,
  USBIP_SUPERVISOR_WAITING,
  USBIP_SUPERVISOR_DETACHED,
  USBIP_SUPERVISOR_GAVE_UP,
} UsbipSupervisorState;

/* an attachment that lasts this long counts as a success (docs/reconnect.md) */
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
