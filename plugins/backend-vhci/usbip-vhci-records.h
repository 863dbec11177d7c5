/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * vhci port records: upstream `usbip attach` writes "<host> <service> <busid>\n" to
 * /var/run/vhci_hcd/port<N> (directory mode 0700), `usbip port` reads it and
 * `usbip detach` deletes it. We read and write the same files so both tools agree.
 */

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

/* where upstream keeps the records; tests point $USBIP_VHCI_STATE_DIR elsewhere */
#define USBIP_VHCI_STATE_DIR "/var/run/vhci_hcd"

#define USBIP_TYPE_VHCI_RECORDS (usbip_vhci_records_get_type ())
G_DECLARE_FINAL_TYPE (UsbipVhciRecords, usbip_vhci_records, USBIP, VHCI_RECORDS, GObject)

/* sysfs: (nullable): its root prefixes USBIP_VHCI_STATE_DIR (the default seam when NULL);
 * dir: (nullable): the record directory itself; NULL takes $USBIP_VHCI_STATE_DIR, else
 * <root>/var/run/vhci_hcd, so a fake root carries its own records */
UsbipVhciRecords *usbip_vhci_records_new (UsbipSysfs *sysfs, const gchar *dir);
const gchar *usbip_vhci_records_get_dir (UsbipVhciRecords *self);
/* ports that have a record, ascending (element-type guint) */
GArray *usbip_vhci_records_list (UsbipVhciRecords *self);
gboolean usbip_vhci_records_write (UsbipVhciRecords *self, guint port, const gchar *host, const gchar *service,
                                   const gchar *busid, GError **error);
/* FALSE + USBIP_ERROR_NOT_FOUND when there is none */
gboolean usbip_vhci_records_read (UsbipVhciRecords *self, guint port, gchar **host, gchar **service, gchar **busid,
                                  GError **error);
/* a missing record is not an error */
gboolean usbip_vhci_records_remove (UsbipVhciRecords *self, guint port, GError **error);

G_END_DECLS
