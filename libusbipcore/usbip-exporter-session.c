/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-exporter-session.h"

G_DEFINE_BOXED_TYPE (UsbipExporterSession, usbip_exporter_session, usbip_exporter_session_copy,
                     usbip_exporter_session_free)

/**
 * usbip_exporter_session_copy:
 * @session: a #UsbipExporterSession
 *
 * Returns: (transfer full): a copy
 *
 * Since: 1.0
 */
UsbipExporterSession *
usbip_exporter_session_copy (const UsbipExporterSession *session)
{
  UsbipExporterSession *c = g_new0 (UsbipExporterSession, 1);

  g_return_val_if_fail (session != NULL, NULL);
  c->peer = g_strdup (session->peer);
  c->op = g_strdup (session->op);
  c->busid = g_strdup (session->busid);
  c->state = g_strdup (session->state);
  c->age_ms = session->age_ms;
  return c;
}

/**
 * usbip_exporter_session_free:
 * @session: (nullable): a #UsbipExporterSession
 *
 * Since: 1.0
 */
void
usbip_exporter_session_free (UsbipExporterSession *session)
{
  if (session == NULL)
    return;
  g_free (session->peer);
  g_free (session->op);
  g_free (session->busid);
  g_free (session->state);
  g_free (session);
}
