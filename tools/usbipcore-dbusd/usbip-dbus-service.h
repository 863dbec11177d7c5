/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The org.usbipcore.Usbip1 service: the Manager object and one Attachment object per
 * attached vhci port, exported through an object manager on a bus connection. Every
 * privileged call is checked with polkit first. main() only wires it (usbipcore-dbusd.c);
 * tests drive it on a private bus against the fake kernel. */

#include <usbipcore.h>

G_BEGIN_DECLS

#define USBIP_TYPE_DBUS_SERVICE (usbip_dbus_service_get_type ())
G_DECLARE_FINAL_TYPE (UsbipDbusService, usbip_dbus_service, USBIP, DBUS_SERVICE, GObject)

/* The backends (nullable: then @missing says why) serve the calls; @sysfs is where the
 * attached devices' ids are read; @registry (nullable) gives the transports of `unix:` and
 * `vsock:` remotes (without it only TCP remotes are reached). ::idle is emitted when nothing has been attached and no
 * call has been in flight for the idle timeout. */
UsbipDbusService *usbip_dbus_service_new (UsbipSysfs *sysfs, UsbipPluginRegistry *registry, UsbipImportBackend *vhci,
                                          UsbipExportBackend *host, UsbipExportBackend *vudc, const GError *missing);
/* exports the objects on @connection (before the name is requested); starts watching ports */
gboolean usbip_dbus_service_export (UsbipDbusService *self, GDBusConnection *connection, GError **error);
/* 0: never idle */
void usbip_dbus_service_set_idle_timeout (UsbipDbusService *self, guint seconds);
/* how often the vhci ports are polled (the kernel's USB uevents are seen at once) */
void usbip_dbus_service_set_poll_interval (UsbipDbusService *self, guint interval_ms);

G_END_DECLS
