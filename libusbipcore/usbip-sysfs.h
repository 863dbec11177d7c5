/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The sysfs seam: every read and write of /sys and of the vhci port-record directory goes
 * through here. Attributes are written with open() + one write() (never a temp file and
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

/**
 * USBIP_VHCI_STATE_DIR:
 *
 * Where upstream `usbip attach` keeps its port records (`port<N>` files).
 */
#define USBIP_VHCI_STATE_DIR "/var/run/vhci_hcd"

#define USBIP_TYPE_SYSFS (usbip_sysfs_get_type ())
USBIP_PUBLIC G_DECLARE_FINAL_TYPE (UsbipSysfs, usbip_sysfs, USBIP, SYSFS, GObject)

/* root: (nullable): prefix for every path; NULL takes $USBIP_SYSFS_ROOT, else "/".
 * state_dir: (nullable): port-record directory; NULL takes $USBIP_VHCI_STATE_DIR, else
 * <root>/var/run/vhci_hcd (so a fake root carries its own records). */
USBIP_PUBLIC UsbipSysfs *usbip_sysfs_new (const gchar *root, const gchar *state_dir);
/* a process-wide instance built with NULL, NULL (transfer none) */
USBIP_PUBLIC UsbipSysfs *usbip_sysfs_get_default (void);
USBIP_PUBLIC const gchar *usbip_sysfs_get_root (UsbipSysfs *self);
USBIP_PUBLIC const gchar *usbip_sysfs_get_state_dir (UsbipSysfs *self);
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
USBIP_PUBLIC gboolean usbip_sysfs_read_uint (UsbipSysfs *self, const gchar *path, guint base, guint64 *out, GError **error);
/* open(O_WRONLY) + one write() of @value */
USBIP_PUBLIC gboolean usbip_sysfs_write (UsbipSysfs *self, const gchar *path, const gchar *value, GError **error);
/* sorted entry names of a directory starting with @prefix (nullable) (element-type utf8) */
USBIP_PUBLIC GPtrArray *usbip_sysfs_list_dir (UsbipSysfs *self, const gchar *path, const gchar *prefix, GError **error);
/* basename of a symlink's target, e.g. the driver of a device; NULL + NOT_FOUND if absent */
USBIP_PUBLIC gchar *usbip_sysfs_read_link_basename (UsbipSysfs *self, const gchar *path, GError **error);

/* Port records: "<host> <service> <busid>\n" in <state_dir>/port<N>, directory mode 0700,
 * exactly as upstream usbip writes them. read returns FALSE + USBIP_ERROR_NOT_FOUND when
 * there is none. */
USBIP_PUBLIC gboolean usbip_sysfs_write_port_record (UsbipSysfs *self, guint port, const gchar *host,
                                                     const gchar *service, const gchar *busid, GError **error);
USBIP_PUBLIC gboolean usbip_sysfs_read_port_record (UsbipSysfs *self, guint port, gchar **host,
                                                    gchar **service, gchar **busid, GError **error);
/* ports that have a record (element-type guint) */
USBIP_PUBLIC GArray *usbip_sysfs_list_port_records (UsbipSysfs *self);
USBIP_PUBLIC gboolean usbip_sysfs_remove_port_record (UsbipSysfs *self, guint port, GError **error);

/**
 * UsbipSysfsWriteHook:
 * @path: the kernel path being written
 * @value: what is written
 * @user_data: data given to usbip_sysfs_set_write_hook()
 *
 * Test seam: called before each write; return 0 to let it happen, or an errno value to
 * fail the write as the kernel would (EBUSY for a port taken concurrently, ENODEV for a
 * device that vanished). The hook may also change the fake tree, playing the kernel.
 *
 * Returns: 0 or an errno value
 */
typedef gint (*UsbipSysfsWriteHook) (const gchar *path, const gchar *value, gpointer user_data);

USBIP_PUBLIC void usbip_sysfs_set_write_hook (UsbipSysfs *self, UsbipSysfsWriteHook hook, gpointer user_data);

G_END_DECLS
