/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the D-Bus service (usbipcore-dbusd) and its client (usbip-tool without root) share:
 * the names, the USBIP_ERROR <-> D-Bus error mapping and the a{sv} forms of the records
 * (data/dbus/org.usbipcore.Usbip1.xml describes them). */

#include <usbipcore.h>

G_BEGIN_DECLS

#define USBIP_DBUS_NAME "org.usbipcore.Usbip1"
#define USBIP_DBUS_PATH "/org/usbipcore/Usbip1"
#define USBIP_DBUS_MANAGER_PATH USBIP_DBUS_PATH "/Manager"
#define USBIP_DBUS_ATTACHMENT_PATH USBIP_DBUS_PATH "/attachment"
#define USBIP_DBUS_ERROR_PREFIX "org.usbipcore.Usbip1.Error."

/* maps every USBIP_ERROR code to org.usbipcore.Usbip1.Error.<Code> both ways (idempotent) */
void usbip_tools_dbus_register_errors (void);
/* a GError from a D-Bus reply or signal: the USBIP_ERROR code for our names, with the
 * message as the service wrote it (no remote-error prefix) */
GError *usbip_tools_dbus_error_new (const gchar *name, const gchar *message);
/* takes an error from a failed call: strips the D-Bus name from the message */
GError *usbip_tools_dbus_error_strip (GError *error);

/* Device and Port dictionaries (a{sv}, floating) */
GVariant *usbip_tools_dbus_device_to_variant (const UsbipDeviceInfo *device);
UsbipDeviceInfo *usbip_tools_dbus_device_from_variant (GVariant *dict);
GVariant *usbip_tools_dbus_port_to_variant (const UsbipPortInfo *port);
UsbipPortInfo *usbip_tools_dbus_port_from_variant (GVariant *dict);
/* each aa{sv} element through @from_variant into a new array (freeing with @free_func) */
GPtrArray *usbip_tools_dbus_array_from_variant (GVariant *array, gpointer (*from_variant) (GVariant *),
                                                GDestroyNotify free_func);

/* the connection options of ListRemoteDevices and Attach */
void usbip_tools_dbus_add_socket_options (GVariantBuilder *builder, const UsbipSocketOptions *opts);
/* checks @options (a{sv}): every key must be one of @keys or @more (nullable), each
 * "name:type", e.g. "tcp-port:q"; an unknown key or a wrong type is
 * USBIP_ERROR_INVALID_ARGUMENT naming it */
gboolean usbip_tools_dbus_check_options (GVariant *options, const gchar *const *keys, const gchar *const *more,
                                         GError **error);
/* the socket option keys above, as usbip_tools_dbus_check_options() takes them */
extern const gchar *const usbip_tools_dbus_socket_keys[];
/* @opts updated from the keys of @options that name socket options */
void usbip_tools_dbus_read_socket_options (GVariant *options, UsbipSocketOptions *opts);

G_END_DECLS
