/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib-object.h>
#include "usbip-common.h"

G_BEGIN_DECLS

#define USBIP_TYPE_EXPORTER_SESSION (usbip_exporter_session_get_type ())

/**
 * UsbipExporterSession:
 * @peer: the client, `addr:port`
 * @op: (nullable): `OP_REQ_DEVLIST` or `OP_REQ_IMPORT` once the request is read, else %NULL
 * @busid: (nullable): the device asked for (imports)
 * @state: `reading-request` (waiting for the client) or `answering` (reply being sent)
 * @age_ms: milliseconds since the connection was accepted
 *
 * One handshake in progress, as usbip_exporter_list_sessions() reports it.
 *
 * Since: 1.0
 */
typedef struct {
  gchar *peer;
  gchar *op;
  gchar *busid;
  gchar *state;
  guint64 age_ms;
} UsbipExporterSession;

USBIP_PUBLIC GType usbip_exporter_session_get_type (void) G_GNUC_CONST;
USBIP_PUBLIC UsbipExporterSession *usbip_exporter_session_copy (const UsbipExporterSession *session);
USBIP_PUBLIC void usbip_exporter_session_free (UsbipExporterSession *session);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipExporterSession, usbip_exporter_session_free)

G_END_DECLS
