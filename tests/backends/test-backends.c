/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel backends against a fake sysfs tree whose write hook plays the kernel. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "fake-kernel.h"
#include "usbip-host-backend.h"
#include "usbip-sysfs.h"
#include "usbip-vhci-backend.h"
#include "usbip-vhci-records.h"
#include "usbip-vhci-status.h"
#include "usbip-vudc-backend.h"

typedef struct {
  FakeKernel *fk;
  UsbipImportBackend *vhci;
  UsbipExportBackend *host;
  UsbipExportBackend *vudc;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->fk = fake_kernel_new ();
  f->vhci = USBIP_IMPORT_BACKEND (usbip_vhci_backend_new (fake_kernel_get_sysfs (f->fk)));
  f->host = USBIP_EXPORT_BACKEND (usbip_host_backend_new (fake_kernel_get_sysfs (f->fk)));
  f->vudc = USBIP_EXPORT_BACKEND (usbip_vudc_backend_new (fake_kernel_get_sysfs (f->fk)));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_object_unref (f->vhci);
  g_object_unref (f->host);
  g_object_unref (f->vudc);
  fake_kernel_free (f->fk);
}

static gchar *
data_file (const gchar *name)
{
  gchar *text = NULL;
  g_autofree gchar *path = g_test_build_filename (G_TEST_DIST, "data", name, NULL);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* ---- vhci ---- */

static void
test_status_layouts (void)
{
  g_autofree gchar *s61 = data_file ("vhci-status-6.1.txt");
  g_autofree gchar *s49 = data_file ("vhci-status-4.9.txt");
  g_autoptr (GPtrArray) ports = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_port_info_free);
  g_autoptr (GError) error = NULL;
  UsbipPortInfo *p;

  g_assert_true (usbip_vhci_status_parse (s61, 0, ports, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ports->len, ==, 4);
  p = g_ptr_array_index (ports, 0);
  g_assert_cmpuint (p->status, ==, USBIP_PORT_STATUS_USED);
  g_assert_cmpuint (p->speed, ==, USBIP_SPEED_HIGH);
  g_assert_cmphex (p->devid, ==, 0x00110002);
  g_assert_cmpstr (p->local_busid, ==, "3-1");
  p = g_ptr_array_index (ports, 3);
  g_assert_cmpuint (p->hub, ==, USBIP_HUB_SPEED_SUPER);
  g_assert_cmpuint (p->speed, ==, USBIP_SPEED_SUPER);

  g_ptr_array_set_size (ports, 0);
  g_assert_true (usbip_vhci_status_parse (s49, 0, ports, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ports->len, >, 0);
  g_assert_cmpuint (((UsbipPortInfo *) g_ptr_array_index (ports, 0))->hub, ==, USBIP_HUB_SPEED_HIGH);

  g_ptr_array_set_size (ports, 0);
  g_assert_false (usbip_vhci_status_parse ("what is this\n1 2 3\n", 0, ports, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
}

/* a status file the parser cannot read is refused, naming the line it could not parse; the
 * bad line adds no port */
static void
test_status_malformed (void)
{
  static const struct {
    const gchar *text;
    const gchar *message; /* a part of the error message */
  } cases[] = {
    { "", "is empty" },
    { "  \n", "is empty" },
    /* 6.1 layout (hub port sta spd dev sockfd local_busid) */
    { "hub port sta spd dev      sockfd local_busid\nhs  x000 004 002 00010002 3 1-1\n", "line 2" },
    { "hub port sta spd dev      sockfd local_busid\nhs  0000 004\n", "line 2" },
    { "hub port sta spd dev      sockfd local_busid\nhs  0000 004 002 zz 3 1-1\n", "line 2" },
    { "hub port sta spd dev      sockfd local_busid\nhs  0000 004 002 00010002 -1 1-1\n", "line 2" },
    /* 4.x layout (prt sta spd bus dev socket local_busid): bus and dev decimal, at most 16 bits */
    { "prt sta spd bus dev socket           local_busid\n000 004 002 70000 002 ffff8800 1-1\n", "line 2" },
    { "prt sta spd bus dev socket           local_busid\n000 004 002 001 x ffff8800 1-1\n", "line 2" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) ports = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_port_info_free);
      g_autoptr (GError) error = NULL;

      g_assert_false (usbip_vhci_status_parse (cases[i].text, 0, ports, &error));
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
      g_assert_nonnull (g_strstr_len (error->message, -1, cases[i].message));
      g_assert_cmpuint (ports->len, ==, 0);
    }
}

static void
test_vhci_attach_detach (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ports = NULL;
  g_autofree gchar *host = NULL, *service = NULL, *busid = NULL;
  gint port, sockfd = 0;

  fake_kernel_add_vhci (f->fk, 2, 2);
  port = usbip_import_backend_attach (f->vhci, 7, 0x10002, USBIP_SPEED_HIGH, "10.0.0.1", "3240", "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (port, ==, 0);
  g_assert_true (fake_kernel_vhci_port_used (f->fk, 0, &sockfd));
  g_assert_cmpint (sockfd, ==, 7);
  g_autoptr (UsbipVhciRecords) records = usbip_vhci_records_new (fake_kernel_get_sysfs (f->fk), NULL);
  /* the port record in upstream's format */
  g_assert_true (usbip_vhci_records_read (records, 0, &host, &service, &busid, &error));
  g_assert_cmpstr (host, ==, "10.0.0.1");
  g_assert_cmpstr (service, ==, "3240");
  g_assert_cmpstr (busid, ==, "1-1");

  /* a SuperSpeed device goes to an ss port */
  port = usbip_import_backend_attach (f->vhci, 8, 0x10003, USBIP_SPEED_SUPER, "10.0.0.1", "3240", "2-1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (port, ==, 2);

  ports = usbip_import_backend_list_ports (f->vhci, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ports->len, ==, 8);
  g_assert_cmpstr (((UsbipPortInfo *) g_ptr_array_index (ports, 0))->remote_busid, ==, "1-1");

  g_assert_true (usbip_import_backend_detach (f->vhci, 0, &error));
  g_assert_no_error (error);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
  g_assert_false (usbip_vhci_records_read (records, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* detaching a free port is an error that says so */
  g_assert_false (usbip_import_backend_detach (f->vhci, 1, &error));
  g_assert_nonnull (error);
}

static void
test_vhci_busy_race (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint port;

  fake_kernel_add_vhci (f->fk, 1, 3);
  /* the kernel says EBUSY on port 0, as if another attacher took it after our read */
  fake_kernel_fail_write (f->fk, "/attach", EBUSY);
  port = usbip_import_backend_attach (f->vhci, 5, 0x10002, USBIP_SPEED_HIGH, "h", "3240", "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (port, ==, 1);
}

static void
test_vhci_full_speed_class (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint port;

  fake_kernel_add_vhci (f->fk, 1, 2);
  fake_kernel_take_vhci_port (f->fk, 0);
  fake_kernel_take_vhci_port (f->fk, 1);
  /* every hs port used, ss ports free: a high-speed device still has nowhere to go */
  port = usbip_import_backend_attach (f->vhci, 5, 0x10002, USBIP_SPEED_HIGH, "h", "3240", "1-1", &error);
  g_assert_cmpint (port, <, 0);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NO_FREE_PORT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  port = usbip_import_backend_attach (f->vhci, 5, 0x10002, USBIP_SPEED_SUPER, "h", "3240", "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (port, ==, 2);
}

static void
test_vhci_missing_module (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ports = usbip_import_backend_list_ports (f->vhci, &error);

  g_assert_null (ports);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING);
  g_assert_nonnull (strstr (error->message, "modprobe vhci-hcd"));
}

static void
test_vhci_permission (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fake_kernel_add_vhci (f->fk, 1, 2);
  fake_kernel_fail_write (f->fk, "/attach", EACCES);
  g_assert_cmpint (usbip_import_backend_attach (f->vhci, 5, 1, USBIP_SPEED_HIGH, "h", "3240", "1-1", &error), <, 0);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, "root"));
  g_assert_nonnull (strstr (error->message, "attach"));
}

/* ---- host ---- */

static void
test_host_list_bind_unbind (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) local = NULL;
  g_autoptr (GPtrArray) exported = NULL;
  g_autofree gchar *driver = NULL;
  UsbipDeviceInfo *d;

  fake_kernel_load_usbip_host (f->fk);
  fake_kernel_add_usb_device (f->fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  fake_kernel_add_usb_device (f->fk, "1-2", 0x05e3, 0x0610, "480", 9, "usb", FALSE); /* a hub */

  local = usbip_export_backend_list_local_devices (f->host, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (local->len, ==, 1); /* hubs are not listed */
  d = g_ptr_array_index (local, 0);
  g_assert_cmpstr (d->busid, ==, "1-1");
  g_assert_cmphex (d->idVendor, ==, 0x1d6b);
  g_assert_cmphex (d->idProduct, ==, 0x0104);
  g_assert_cmpuint (d->speed, ==, USBIP_SPEED_HIGH);
  g_assert_cmpuint (d->busnum, ==, 1);
  g_assert_cmpuint (d->devnum, ==, 2);
  g_assert_cmpuint (d->bNumInterfaces, ==, 1);
  g_assert_cmphex (d->interfaces[0].bInterfaceClass, ==, 0x08);
  g_assert_cmpstr (d->path, ==, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1");

  exported = usbip_export_backend_list_devices (f->host, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (exported->len, ==, 0);
  g_clear_pointer (&exported, g_ptr_array_unref);

  g_assert_true (usbip_export_backend_bind (f->host, "1-1", &error));
  g_assert_no_error (error);
  driver = fake_kernel_get_driver (f->fk, "1-1");
  g_assert_cmpstr (driver, ==, "usbip-host");
  g_assert_cmpstr (g_ptr_array_index (fake_kernel_get_writes (f->fk), 0), ==, "/sys/bus/usb/drivers/usb/unbind=1-1");
  g_assert_cmpstr (g_ptr_array_index (fake_kernel_get_writes (f->fk), 1), ==,
                   "/sys/bus/usb/drivers/usbip-host/match_busid=add 1-1");
  g_assert_cmpstr (g_ptr_array_index (fake_kernel_get_writes (f->fk), 2), ==,
                   "/sys/bus/usb/drivers/usbip-host/bind=1-1");

  exported = usbip_export_backend_list_devices (f->host, &error);
  g_assert_cmpuint (exported->len, ==, 1);
  g_clear_pointer (&exported, g_ptr_array_unref);

  /* binding twice says it is already bound */
  g_assert_false (usbip_export_backend_bind (f->host, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_BUSY);
  g_clear_error (&error);

  /* exporting: the sockfd write flips usbip_status to used; the device stays in the list,
   * marked used (the exporter's DEVLIST leaves it out, its status page shows it) */
  g_assert_true (usbip_export_backend_export_fd (f->host, "1-1", 9, &error));
  g_assert_no_error (error);
  exported = usbip_export_backend_list_devices (f->host, &error);
  g_assert_cmpuint (exported->len, ==, 1);
  g_assert_cmpint (((UsbipDeviceInfo *) g_ptr_array_index (exported, 0))->status, ==, USBIP_DEVICE_STATUS_USED);
  g_clear_pointer (&exported, g_ptr_array_unref);
  /* and one in error (the stub could not reset it after a session) is listed too */
  fake_kernel_put (f->fk, "/sys/bus/usb/devices/1-1/usbip_status", "3\n");
  exported = usbip_export_backend_list_devices (f->host, &error);
  g_assert_cmpuint (exported->len, ==, 1);
  g_assert_cmpint (((UsbipDeviceInfo *) g_ptr_array_index (exported, 0))->status, ==, USBIP_DEVICE_STATUS_ERROR);

  g_assert_true (usbip_export_backend_unbind (f->host, "1-1", &error));
  g_assert_no_error (error);
  g_free (driver);
  driver = fake_kernel_get_driver (f->fk, "1-1");
  g_assert_cmpstr (driver, ==, "usb");
  g_assert_false (usbip_export_backend_unbind (f->host, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
}

static void
test_host_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fake_kernel_load_usbip_host (f->fk);
  fake_kernel_add_usb_device (f->fk, "1-2", 0x05e3, 0x0610, "480", 9, "hub", FALSE);
  fake_kernel_add_usb_device (f->fk, "3-1", 0x1234, 0x5678, "480", 0, "usb", TRUE);

  g_assert_false (usbip_export_backend_bind (f->host, "1-2", &error));
  g_assert_nonnull (strstr (error->message, "hub"));
  g_clear_error (&error);
  g_assert_false (usbip_export_backend_bind (f->host, "3-1", &error));
  g_assert_nonnull (strstr (error->message, "vhci_hcd"));
  g_clear_error (&error);
  g_assert_false (usbip_export_backend_bind (f->host, "9-9", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (usbip_export_backend_bind (f->host, "../../etc", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (fake_kernel_get_writes (f->fk)->len, ==, 0);
}

static void
test_host_vanished_mid_bind (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *writes;

  fake_kernel_load_usbip_host (f->fk);
  fake_kernel_add_usb_device (f->fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  fake_kernel_fail_write (f->fk, "usbip-host/bind", ENODEV);
  g_assert_false (usbip_export_backend_bind (f->host, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (error->message, "rolled back"));
  /* rollback: match_busid del, and the device handed back to its driver */
  writes = fake_kernel_get_writes (f->fk);
  g_assert_cmpstr (g_ptr_array_index (writes, writes->len - 2), ==,
                   "/sys/bus/usb/drivers/usbip-host/match_busid=del 1-1");
  g_assert_cmpstr (g_ptr_array_index (writes, writes->len - 1), ==, "/sys/bus/usb/drivers/usb/bind=1-1");
}

static void
test_host_missing_module (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fake_kernel_add_usb_device (f->fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  g_assert_null (usbip_export_backend_list_devices (f->host, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING);
  g_assert_nonnull (strstr (error->message, "modprobe usbip-host"));
  g_clear_error (&error);
  g_assert_false (usbip_export_backend_bind (f->host, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING);
}

/* ---- vudc ---- */

static void
test_vudc (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  UsbipDeviceInfo *d;

  g_assert_null (usbip_export_backend_list_devices (f->vudc, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING);
  g_clear_error (&error);

  fake_kernel_add_vudc (f->fk, 0, 0x1d6b, 0x0104);
  devices = usbip_export_backend_list_devices (f->vudc, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  d = g_ptr_array_index (devices, 0);
  g_assert_cmpstr (d->busid, ==, "usbip-vudc.0");
  g_assert_cmphex (d->idVendor, ==, 0x1d6b);
  g_assert_cmphex (d->idProduct, ==, 0x0104);
  g_assert_cmphex (d->bcdDevice, ==, 0x0100);
  g_assert_cmpuint (d->speed, ==, USBIP_SPEED_HIGH);
  g_assert_cmpuint (d->busnum, ==, 0);
  g_assert_true (usbip_export_backend_export_fd (f->vudc, "usbip-vudc.0", 4, &error));
  g_clear_pointer (&devices, g_ptr_array_unref);
  devices = usbip_export_backend_list_devices (f->vudc, &error);
  g_assert_cmpuint (devices->len, ==, 1); /* in use: listed, marked used (DEVLIST leaves it out) */
  g_assert_cmpint (((UsbipDeviceInfo *) g_ptr_array_index (devices, 0))->status, ==, USBIP_DEVICE_STATUS_USED);
  g_assert_false (usbip_export_backend_bind (f->vudc, "usbip-vudc.0", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE);
}

static void
test_vudc_bad_descriptor (void)
{
  UsbipDeviceInfo info = { 0 };
  g_autoptr (GError) error = NULL;
  guint8 short_desc[5] = { 18, 1, 0, 2, 0 };

  g_assert_false (usbip_vudc_decode_device_descriptor (short_desc, sizeof short_desc, &info, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_DEVICE_ERROR);
}

/* usbip_sysfs_read_uint(): short attributes read into a stack buffer, longer ones whole,
 * the same values and errors either way (63 bytes is the buffer's edge) */
static void
test_sysfs_read_uint (void)
{
  g_autofree gchar *root = g_dir_make_tmp ("usbip-sysfs-XXXXXX", NULL);
  g_autoptr (UsbipSysfs) sysfs = usbip_sysfs_new (root);
  g_autofree gchar *dir = g_build_filename (root, "sys", NULL);
  g_autofree gchar *zeros62 = g_strnfill (62, '0');
  g_autofree gchar *zeros63 = g_strnfill (63, '0');
  g_autofree gchar *zeros200 = g_strnfill (200, '0');
  g_autofree gchar *at_edge = g_strconcat (zeros62, "7", NULL);     /* 63 bytes: fits */
  g_autofree gchar *past_edge = g_strconcat (zeros63, "7\n", NULL); /* 65: read whole */
  g_autofree gchar *long_value = g_strconcat (zeros200, "42\n", NULL);
  struct {
    const gchar *content;
    guint base;
    guint64 value;
  } ok[] = { { "1\n", 10, 1 }, { "  3 \n", 10, 3 }, { "0x1f\n", 16, 31 }, { "", 10, 0 },
             { "\n", 10, 0 },  { at_edge, 10, 7 },  { past_edge, 10, 7 }, { long_value, 10, 42 } };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *file = g_build_filename (dir, "attr", NULL);
  guint64 v = 0;

  g_assert_nonnull (root);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_assert_true (g_file_set_contents (file, ok[i].content, -1, NULL));
      v = G_MAXUINT64;
      g_assert_true (usbip_sysfs_read_uint (sysfs, "/sys/attr", ok[i].base, &v, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (v, ==, ok[i].value);
    }
  g_assert_true (g_file_set_contents (file, "abc\n", -1, NULL));
  g_assert_false (usbip_sysfs_read_uint (sysfs, "/sys/attr", 10, &v, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "/sys/attr: unexpected content 'abc'"));
  g_clear_error (&error);
  g_assert_false (usbip_sysfs_read_uint (sysfs, "/sys/missing", 10, &v, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/sys/missing"));
  g_remove (file);
  g_rmdir (dir);
  g_rmdir (root);
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
#define T(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  g_test_add_func ("/sysfs/read-uint", test_sysfs_read_uint);
  g_test_add_func ("/vhci/status-layouts", test_status_layouts);
  g_test_add_func ("/vhci/status-malformed", test_status_malformed);
  T ("/vhci/attach-detach", test_vhci_attach_detach);
  T ("/vhci/busy-race", test_vhci_busy_race);
  T ("/vhci/full-speed-class", test_vhci_full_speed_class);
  T ("/vhci/missing-module", test_vhci_missing_module);
  T ("/vhci/permission", test_vhci_permission);
  T ("/host/list-bind-unbind", test_host_list_bind_unbind);
  T ("/host/refusals", test_host_refusals);
  T ("/host/vanished-mid-bind", test_host_vanished_mid_bind);
  T ("/host/missing-module", test_host_missing_module);
  T ("/vudc/list-export", test_vudc);
  g_test_add_func ("/vudc/bad-descriptor", test_vudc_bad_descriptor);
  return g_test_run ();
}
