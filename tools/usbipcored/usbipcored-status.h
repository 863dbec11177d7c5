/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's status socket: HTTP+JSON on a Unix socket (docs/ops.md): GET /v1/status,
 * /v1/sessions, /v1/devices, /healthz, /readyz. */

#include <usbipcore.h>

G_BEGIN_DECLS

/* the daemon's own runtime directory: made for a socket file in it (as systemd's
 * RuntimeDirectory=usbipcored would), the only directory usbipcored makes */
#define USBIPCORED_RUNTIME_DIR "/run/usbipcored"
#define USBIPCORED_DEFAULT_STATUS_SOCKET USBIPCORED_RUNTIME_DIR "/status.sock"

typedef struct _UsbipcoredStatus UsbipcoredStatus;

/* what /v1/status reports besides the exporter's own state */
typedef struct {
  const gchar *listeners; /* "addr:port, ..." */
  const gchar *const *allow_cidr;
  const gchar *const *allow_uid; /* as configured: names or numbers */
  const gchar *const *allow_gid;
  const gchar *const *allow_cid;
  guint max_sessions;
  guint max_sessions_per_peer;
  gdouble accept_rate;
} UsbipcoredStatusInfo;

UsbipcoredStatus *usbipcored_status_new (UsbipExporter *exporter, UsbipExportBackend *backend,
                                         UsbipPluginRegistry *registry);
void usbipcored_status_set_info (UsbipcoredStatus *self, const UsbipcoredStatusInfo *info);
/* binds @path (mode 0660; its directory is created 0755 if missing; a stale socket left by
 * a dead daemon is replaced, a live one is an error) */
gboolean usbipcored_status_listen (UsbipcoredStatus *self, const gchar *path, GError **error);
/* a listening Unix socket passed by systemd (FileDescriptorName=status) */
gboolean usbipcored_status_add_socket (UsbipcoredStatus *self, GSocket *socket, GError **error);
void usbipcored_status_free (UsbipcoredStatus *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipcoredStatus, usbipcored_status_free)

G_END_DECLS
