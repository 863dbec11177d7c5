/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One org.usbipcore.Usbip1.Attachment object: a vhci port in use, or a supervised
 * attachment waiting to reconnect. Keeps its D-Bus properties true and, when supervised,
 * turns the UsbipSupervisor's signals into the interface's signals. */

#include <usbipcore.h>

#include "usbip-dbus-generated.h"

G_BEGIN_DECLS

#define USBIP_TYPE_DBUS_ATTACHMENT (usbip_dbus_attachment_get_type ())
G_DECLARE_FINAL_TYPE (UsbipDbusAttachment, usbip_dbus_attachment, USBIP, DBUS_ATTACHMENT, GObject)

/* ::finished — the attachment is over (detached on purpose, or supervision gave up): the
 * owner unexports it */
UsbipDbusAttachment *usbip_dbus_attachment_new (guint id, UsbipSysfs *sysfs);
const gchar *usbip_dbus_attachment_get_path (UsbipDbusAttachment *self);
Usbip1ObjectSkeleton *usbip_dbus_attachment_get_object (UsbipDbusAttachment *self);
Usbip1Attachment *usbip_dbus_attachment_get_iface (UsbipDbusAttachment *self);

/* the vhci port now carrying it (remote fields it lacks keep their known values) */
void usbip_dbus_attachment_set_port (UsbipDbusAttachment *self, const UsbipPortInfo *port);
/* the port, -1 while waiting to reconnect */
gint usbip_dbus_attachment_get_port (UsbipDbusAttachment *self);
/* TRUE if it imports @busid from @host port @port (all known) */
gboolean usbip_dbus_attachment_matches (UsbipDbusAttachment *self, const gchar *host, const gchar *port,
                                        const gchar *busid);
/* the remote as its port record names it; FALSE when unknown */
gboolean usbip_dbus_attachment_get_remote (UsbipDbusAttachment *self, UsbipRemote **remote, const gchar **busid);
/* the local device appeared or changed: re-read ids and names */
gboolean usbip_dbus_attachment_needs_refresh (UsbipDbusAttachment *self);

/* supervision (docs/reconnect.md) with @importer; re-attaches as needed */
void usbip_dbus_attachment_supervise (UsbipDbusAttachment *self, UsbipImporter *importer, const UsbipRemote *remote,
                                      const gchar *busid, guint max_attempts);
/* stops supervising; the device stays attached */
void usbip_dbus_attachment_unsupervise (UsbipDbusAttachment *self);
gboolean usbip_dbus_attachment_is_supervised (UsbipDbusAttachment *self);

G_END_DECLS
