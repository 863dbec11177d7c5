/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-dbus-attachment.h"
#include "usbip-tools-dbus.h"
#include "usbip-tools-usb-ids.h"

struct _UsbipDbusAttachment {
  GObject parent_instance;
  gchar *path;
  Usbip1ObjectSkeleton *object;
  Usbip1Attachment *iface;
  UsbipSysfs *sysfs;
  gint port;          /* -1: waiting */
  gchar *local_busid; /* whose ids the properties show ("" none yet) */
  gchar *remote_host; /* NULL: unknown */
  gchar *remote_port;
  gchar *busid;
  UsbipSupervisor *supervisor;
};

enum { SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (UsbipDbusAttachment, usbip_dbus_attachment, G_TYPE_OBJECT)

const gchar *
usbip_dbus_attachment_get_path (UsbipDbusAttachment *self)
{
  return self->path;
}

Usbip1ObjectSkeleton *
usbip_dbus_attachment_get_object (UsbipDbusAttachment *self)
{
  return self->object;
}

Usbip1Attachment *
usbip_dbus_attachment_get_iface (UsbipDbusAttachment *self)
{
  return self->iface;
}

gint
usbip_dbus_attachment_get_port (UsbipDbusAttachment *self)
{
  return self->port;
}

gboolean
usbip_dbus_attachment_matches (UsbipDbusAttachment *self, const gchar *host, const gchar *port, const gchar *busid)
{
  return self->remote_host != NULL && host != NULL && g_str_equal (self->remote_host, host)
         && g_strcmp0 (self->remote_port, port) == 0 && g_strcmp0 (self->busid, busid) == 0;
}

gboolean
usbip_dbus_attachment_get_remote (UsbipDbusAttachment *self, UsbipRemote **remote, const gchar **busid)
{
  if (self->remote_host == NULL || self->busid == NULL
      || (*remote = usbip_remote_from_record (self->remote_host, self->remote_port)) == NULL)
    return FALSE;
  *busid = self->busid;
  return TRUE;
}

/* @host and @port as a vhci port record has them (usbip_remote_to_record()) */
static void
set_remote (UsbipDbusAttachment *self, const gchar *host, const gchar *port, const gchar *busid)
{
  g_autofree gchar *remote = NULL;
  g_autoptr (UsbipRemote) parsed = NULL;

  if (host == NULL)
    return;
  g_free (self->remote_host);
  g_free (self->remote_port);
  g_free (self->busid);
  self->remote_host = g_strdup (host);
  self->remote_port = g_strdup (port);
  self->busid = g_strdup (busid);
  /* as usbip-tool's -r takes it back: a v6 literal in brackets, unix:/path, vsock:CID:PORT */
  parsed = usbip_remote_from_record (host, port);
  remote =
      parsed != NULL ? usbip_remote_to_string (parsed) : g_strdup_printf ("%s:%s", host, port != NULL ? port : "3240");
  usbip1_attachment_set_remote (self->iface, remote);
  usbip1_attachment_set_remote_host (self->iface, host);
  usbip1_attachment_set_remote_port (self->iface, port != NULL ? port : "");
  usbip1_attachment_set_busid (self->iface, busid != NULL ? busid : "");
}

/* the enumerated device's ids and their names from usb.ids */
static void
read_ids (UsbipDbusAttachment *self, const gchar *local_busid)
{
  g_autofree gchar *vid_path = g_strdup_printf ("/sys/bus/usb/devices/%s/idVendor", local_busid);
  g_autofree gchar *pid_path = g_strdup_printf ("/sys/bus/usb/devices/%s/idProduct", local_busid);
  guint64 vid = 0, pid = 0;
  guint ids[2];
  g_autofree gchar *vendor = NULL, *product = NULL;

  if (local_busid[0] == '\0' || !usbip_sysfs_read_uint (self->sysfs, vid_path, 16, &vid, NULL)
      || !usbip_sysfs_read_uint (self->sysfs, pid_path, 16, &pid, NULL))
    return; /* not enumerated yet: the next refresh tries again */
  g_free (self->local_busid);
  self->local_busid = g_strdup (local_busid);
  ids[0] = (guint) vid;
  ids[1] = (guint) pid;
  vendor = usbip_tools_usb_ids_lookup ("", 4, ids, 0);
  product = usbip_tools_usb_ids_lookup ("", 4, ids, 1);
  usbip1_attachment_set_vendor_id (self->iface, (guint16) vid);
  usbip1_attachment_set_product_id (self->iface, (guint16) pid);
  usbip1_attachment_set_vendor_name (self->iface, vendor != NULL ? vendor : "");
  usbip1_attachment_set_product_name (self->iface, product != NULL ? product : "");
}

gboolean
usbip_dbus_attachment_needs_refresh (UsbipDbusAttachment *self)
{
  return self->port >= 0 && self->local_busid[0] == '\0';
}

void
usbip_dbus_attachment_set_port (UsbipDbusAttachment *self, const UsbipPortInfo *p)
{
  self->port = (gint) p->port;
  set_remote (self, p->remote_host, p->remote_port, p->remote_busid);
  usbip1_attachment_set_port (self->iface, self->port);
  usbip1_attachment_set_local_busid (self->iface, p->local_busid);
  if (p->status == USBIP_PORT_STATUS_USED)
    usbip1_attachment_set_speed (self->iface, usbip_speed_to_nick (p->speed));
  if (g_strcmp0 (self->local_busid, p->local_busid) != 0)
    read_ids (self, p->local_busid);
  if (self->supervisor == NULL)
    usbip1_attachment_set_state (self->iface, "attached");
}

/* ---- supervision ---- */

static void
set_error (UsbipDbusAttachment *self, const GError *error)
{
  g_autofree gchar *name = g_dbus_error_encode_gerror (error);

  usbip1_attachment_set_last_error (self->iface, error->message);
  usbip1_attachment_set_last_error_name (self->iface, name);
}

/* properties go out before the signal that explains them */
static void
flush (UsbipDbusAttachment *self)
{
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self->iface));
}

static void
on_attached (UsbipSupervisor *sup, UsbipPortInfo *p, UsbipDbusAttachment *self)
{
  usbip_dbus_attachment_set_port (self, p);
  usbip1_attachment_set_state (self->iface, "attached");
  usbip1_attachment_set_reconnect_attempts (self->iface, 0);
  flush (self);
  usbip1_attachment_emit_attached (self->iface);
}

static void
on_reconnected (UsbipSupervisor *sup, UsbipPortInfo *p, UsbipDbusAttachment *self)
{
  usbip_dbus_attachment_set_port (self, p);
  usbip1_attachment_set_state (self->iface, "attached");
  usbip1_attachment_set_reconnect_attempts (self->iface, 0);
  flush (self);
  usbip1_attachment_emit_reconnected (self->iface);
}

static void
on_lost (UsbipSupervisor *sup, UsbipPortInfo *p, UsbipDbusAttachment *self)
{
  self->port = -1;
  usbip1_attachment_set_port (self->iface, -1);
  usbip1_attachment_set_state (self->iface, "connecting");
  flush (self);
  usbip1_attachment_emit_lost (self->iface);
}

static void
on_reconnecting (UsbipSupervisor *sup, guint attempt, guint delay_ms, GError *cause, UsbipDbusAttachment *self)
{
  g_autofree gchar *name = g_dbus_error_encode_gerror (cause);

  usbip1_attachment_set_state (self->iface, "waiting");
  usbip1_attachment_set_reconnect_attempts (self->iface, attempt > 0 ? attempt - 1 : 0);
  set_error (self, cause);
  flush (self);
  usbip1_attachment_emit_reconnecting (self->iface, attempt, delay_ms, name, cause->message);
}

static void
on_detached (UsbipSupervisor *sup, UsbipPortInfo *p, UsbipDbusAttachment *self)
{
  usbip1_attachment_emit_detached (self->iface);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

static void
on_gave_up (UsbipSupervisor *sup, GError *error, UsbipDbusAttachment *self)
{
  g_autofree gchar *name = g_dbus_error_encode_gerror (error);

  usbip1_attachment_set_state (self->iface, "gave-up");
  set_error (self, error);
  flush (self);
  usbip1_attachment_emit_gave_up (self->iface, name, error->message);
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

void
usbip_dbus_attachment_supervise (UsbipDbusAttachment *self, UsbipImporter *importer, const UsbipRemote *remote,
                                 const gchar *busid, guint max_attempts)
{
  g_autofree gchar *host = NULL;
  g_autofree gchar *port = NULL;

  usbip_dbus_attachment_unsupervise (self);
  usbip_remote_to_record (remote, &host, &port);
  set_remote (self, host, port, busid);
  self->supervisor = usbip_supervisor_new (importer, remote, busid);
  usbip_supervisor_set_max_attempts (self->supervisor, max_attempts);
  g_signal_connect (self->supervisor, "attached", G_CALLBACK (on_attached), self);
  g_signal_connect (self->supervisor, "reconnected", G_CALLBACK (on_reconnected), self);
  g_signal_connect (self->supervisor, "lost", G_CALLBACK (on_lost), self);
  g_signal_connect (self->supervisor, "reconnecting", G_CALLBACK (on_reconnecting), self);
  g_signal_connect (self->supervisor, "detached", G_CALLBACK (on_detached), self);
  g_signal_connect (self->supervisor, "gave-up", G_CALLBACK (on_gave_up), self);
  usbip1_attachment_set_supervised (self->iface, TRUE);
  usbip1_attachment_set_max_attempts (self->iface, max_attempts);
  usbip1_attachment_set_reconnect_attempts (self->iface, 0);
  if (self->port < 0)
    usbip1_attachment_set_state (self->iface, "connecting");
  usbip_supervisor_start (self->supervisor, NULL);
}

void
usbip_dbus_attachment_unsupervise (UsbipDbusAttachment *self)
{
  if (self->supervisor == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->supervisor, self);
  usbip_supervisor_stop (self->supervisor);
  g_clear_object (&self->supervisor);
  usbip1_attachment_set_supervised (self->iface, FALSE);
  usbip1_attachment_set_max_attempts (self->iface, 0);
  if (self->port >= 0)
    usbip1_attachment_set_state (self->iface, "attached");
}

gboolean
usbip_dbus_attachment_is_supervised (UsbipDbusAttachment *self)
{
  return self->supervisor != NULL;
}

static void
usbip_dbus_attachment_dispose (GObject *object)
{
  UsbipDbusAttachment *self = USBIP_DBUS_ATTACHMENT (object);

  usbip_dbus_attachment_unsupervise (self);
  g_clear_object (&self->iface);
  g_clear_object (&self->object);
  g_clear_object (&self->sysfs);
  G_OBJECT_CLASS (usbip_dbus_attachment_parent_class)->dispose (object);
}

static void
usbip_dbus_attachment_finalize (GObject *object)
{
  UsbipDbusAttachment *self = USBIP_DBUS_ATTACHMENT (object);

  g_free (self->path);
  g_free (self->local_busid);
  g_free (self->remote_host);
  g_free (self->remote_port);
  g_free (self->busid);
  G_OBJECT_CLASS (usbip_dbus_attachment_parent_class)->finalize (object);
}

static void
usbip_dbus_attachment_class_init (UsbipDbusAttachmentClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usbip_dbus_attachment_dispose;
  G_OBJECT_CLASS (klass)->finalize = usbip_dbus_attachment_finalize;
  signals[SIGNAL_FINISHED] =
      g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
usbip_dbus_attachment_init (UsbipDbusAttachment *self)
{
  self->port = -1;
  self->local_busid = g_strdup ("");
}

UsbipDbusAttachment *
usbip_dbus_attachment_new (guint id, UsbipSysfs *sysfs)
{
  UsbipDbusAttachment *self = g_object_new (USBIP_TYPE_DBUS_ATTACHMENT, NULL);

  self->path = g_strdup_printf (USBIP_DBUS_ATTACHMENT_PATH "/%u", id);
  self->sysfs = g_object_ref (sysfs);
  self->object = usbip1_object_skeleton_new (self->path);
  self->iface = usbip1_attachment_skeleton_new ();
  usbip1_attachment_set_port (self->iface, -1);
  usbip1_attachment_set_state (self->iface, "connecting");
  usbip1_attachment_set_speed (self->iface, "unknown");
  usbip1_object_skeleton_set_attachment (self->object, self->iface);
  return self;
}
