/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The sysfs seam: every read and write of /sys goes through here. Attributes are written with open() + one write() (never a temp file and
 * rename, which sysfs refuses). errno is mapped to USBIP_ERROR with the file named:
 *   ENOENT -> USBIP_ERROR_NOT_FOUND, EACCES/EPERM -> USBIP_ERROR_PERMISSION ("... needs
 *   root or CAP_SYS_ADMIN"), EBUSY -> USBIP_ERROR_BUSY, EINVAL -> USBIP_ERROR_INVALID_ARGUMENT,
 *   ENODEV/ENXIO -> USBIP_ERROR_NO_DEVICE, anything else -> USBIP_ERROR_FAILED.
 * Backends add the module-specific advice ("vhci_hcd is not loaded: run `modprobe vhci-hcd`").
 *
 * Paths are given as the kernel names them ("/sys/devices/platform/vhci_hcd.0/status");
 * the seam prefixes its root, so tests point it at a fake tree.
 */

#include <glib-object.h>
#include "usbip-common.h"

G_BEGIN_DECLS

#define USBIP_TYPE_SYSFS (usbip_sysfs_get_type ())
USBIP_PUBLIC
G_DECLARE_FINAL_TYPE (UsbipSysfs, usbip_sysfs, USBIP, SYSFS, GObject)

/* root: (nullable): prefix for every path; NULL takes $USBIP_SYSFS_ROOT, else "/" */
USBIP_PUBLIC UsbipSysfs *usbip_sysfs_new (const gchar *root);
/* a process-wide instance built with NULL (transfer none) */
USBIP_PUBLIC UsbipSysfs *usbip_sysfs_get_default (void);
USBIP_PUBLIC const gchar *usbip_sysfs_get_root (UsbipSysfs *self);
/* the real filesystem path for a kernel path (transfer full) */
USBIP_PUBLIC gchar *usbip_sysfs_resolve (UsbipSysfs *self, const gchar *path);

USBIP_PUBLIC gboolean usbip_sysfs_exists (UsbipSysfs *self, const gchar *path);
/* whole attribute; trailing newline stripped */
USBIP_PUBLIC gchar *usbip_sysfs_read (UsbipSysfs *self, const gchar *path, GError **error);
/* a binary attribute whole */
USBIP_PUBLIC GBytes *usbip_sysfs_read_bytes (UsbipSysfs *self, const gchar *path, GError **error);
/* kernel path with symlinks resolved; NULL if absent (transfer full) */
USBIP_PUBLIC gchar *usbip_sysfs_canonicalize (UsbipSysfs *self, const gchar *path);
/* an integer attribute in @base (10 or 16) */
USBIP_PUBLIC gboolean usbip_sysfs_read_uint (UsbipSysfs *self, const gchar *path, guint base, guint64 *out,
                                             GError **error);
/* open(O_WRONLY) + one write() of @value */
USBIP_PUBLIC gboolean usbip_sysfs_write (UsbipSysfs *self, const gchar *path, const gchar *value, GError **error);
/* sorted entry names of a directory starting with @prefix (nullable) (element-type utf8) */
USBIP_PUBLIC GPtrArray *usbip_sysfs_list_dir (UsbipSysfs *self, const gchar *path, const gchar *prefix, GError **error);
/* basename of a symlink's target, e.g. the driver of a device; NULL + NOT_FOUND if absent */
USBIP_PUBLIC gchar *usbip_sysfs_read_link_basename (UsbipSysfs *self, const gchar *path, GError **error);

G_END_DECLS
