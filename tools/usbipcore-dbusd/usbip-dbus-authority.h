/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* polkit checks of D-Bus callers: the subject is the caller's unique bus name (never its
 * PID, which can be reused between the call and the check). */

#include <gio/gio.h>

G_BEGIN_DECLS

#define USBIP_DBUS_ACTION_ATTACH "org.usbipcore.Usbip1.attach"
#define USBIP_DBUS_ACTION_BIND "org.usbipcore.Usbip1.bind"

#define USBIP_TYPE_DBUS_AUTHORITY (usbip_dbus_authority_get_type ())
G_DECLARE_FINAL_TYPE (UsbipDbusAuthority, usbip_dbus_authority, USBIP, DBUS_AUTHORITY, GObject)

UsbipDbusAuthority *usbip_dbus_authority_new (void);
/* Asks polkit whether the sender of @invocation may do @action_id; @details (key, value
 * pairs ending in NULL) are shown to rules as action.lookup(key). The message flag
 * ALLOW_INTERACTIVE_AUTHORIZATION lets polkit ask for a password. */
void usbip_dbus_authority_check_async (UsbipDbusAuthority *self, GDBusMethodInvocation *invocation,
                                       const gchar *action_id, const gchar *const *details,
                                       GAsyncReadyCallback callback, gpointer user_data);
/* FALSE with USBIP_ERROR_PERMISSION naming the action and what to do */
gboolean usbip_dbus_authority_check_finish (UsbipDbusAuthority *self, GAsyncResult *result, GError **error);

G_END_DECLS
