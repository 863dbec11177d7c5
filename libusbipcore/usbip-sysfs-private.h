/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The seam's test hook: not installed, not exported (tests link the internal library). */

#include "usbip-sysfs.h"

G_BEGIN_DECLS

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

void usbip_sysfs_set_write_hook (UsbipSysfs *self, UsbipSysfsWriteHook hook, gpointer user_data);

G_END_DECLS
