/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* usbip-tool without root: the verbs that need privileges (attach, detach, port, bind,
 * unbind) go through the usbipcore-dbusd service, as boltctl and timedatectl do, and give
 * the same output and exit codes (the service's errors come back as USBIP_ERROR codes). */

#include <gio/gio.h>
#include <usbipcore.h>

G_BEGIN_DECLS

/* The system bus when this process is not root and org.usbipcore.Usbip1 runs or can be
 * started; NULL otherwise (then the verb works directly, and says so if it lacks rights). */
GDBusConnection *usbip_tool_dbus_get (void);

/* a call on the manager; returns the reply or NULL with the service's error */
GVariant *usbip_tool_dbus_call (GDBusConnection *bus, const gchar *path, const gchar *iface, const gchar *method,
                                GVariant *args, const gchar *reply_type, GError **error);

GPtrArray *usbip_tool_dbus_list_ports (GDBusConnection *bus, GError **error);
/* options: a{sv} of the Attach call (floating); *path: the attachment object */
UsbipPortInfo *usbip_tool_dbus_attach (GDBusConnection *bus, const gchar *remote, const gchar *busid, GVariant *options,
                                       gchar **path, gboolean *already_attached, GError **error);
gboolean usbip_tool_dbus_detach (GDBusConnection *bus, guint port, GError **error);
gboolean usbip_tool_dbus_bind (GDBusConnection *bus, const gchar *busid, gboolean bind, GError **error);

G_END_DECLS
