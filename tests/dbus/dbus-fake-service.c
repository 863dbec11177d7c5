/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The D-Bus service (UsbipDbusService, as usbipcore-dbusd runs it) on the fake kernel, with an
 * exporter of the same fake kernel on 127.0.0.1 as the remote, for test-dbus.py. Owns
 * org.usbipcore.Usbip1 on the bus DBUS_SYSTEM_BUS_ADDRESS names. Prints "exporter-port N",
 * "root DIR STATE_DIR" (the fake sysfs tree and port records, readable by other processes) and "ready", then plays the kernel on commands read from stdin, answering "ok" to each:
 *   drop PORT BUSID              the connection of vhci PORT is lost (record kept)
 *   take PORT HOST RPORT BUSID   another tool (upstream usbip) attached on PORT
 *   release PORT                 another tool detached PORT (port and record gone)
 *   free BUSID                   the exporter noticed its session of BUSID ended
 *   fail SUFFIX ERRNO            the next write to a path ending in SUFFIX fails
 *   idle SECONDS                 the idle timeout; the program exits 0 when idle
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>

#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-dbus-service.h"
#include "usbip-plugin-registry-private.h"
#include "usbip-host-backend.h"
#include "usbip-tools-dbus.h"
#include "usbip-vhci-backend.h"
#include "usbip-vhci-records.h"
#include "usbip-vudc-backend.h"

gboolean usbip_unix_plugin_register (UsbipPluginContext *ctx, GError **error);

typedef struct {
  FakeKernel *fk;
  UsbipVhciRecords *records;
  UsbipDbusService *service;
  GDataInputStream *in;
  GMainLoop *loop;
} Fake;

static void read_next (Fake *f);

static void
command (Fake *f, gchar **w)
{
  guint n = g_strv_length (w);

  if (n == 3 && g_str_equal (w[0], "drop"))
    fake_kernel_drop_connection (f->fk, (guint) atoi (w[1]), w[2]);
  else if (n == 5 && g_str_equal (w[0], "take"))
    {
      fake_kernel_take_vhci_port (f->fk, (guint) atoi (w[1]));
      usbip_vhci_records_write (f->records, (guint) atoi (w[1]), w[2], w[3], w[4], NULL);
    }
  else if (n == 2 && g_str_equal (w[0], "release"))
    {
      g_autofree gchar *port = g_strdup_printf ("%s\n", w[1]);
      usbip_sysfs_write (fake_kernel_get_sysfs (f->fk), "/sys/devices/platform/vhci_hcd.0/detach", port, NULL);
      usbip_vhci_records_remove (f->records, (guint) atoi (w[1]), NULL);
    }
  else if (n == 2 && g_str_equal (w[0], "free"))
    {
      g_autofree gchar *path = g_strdup_printf ("sys/bus/usb/devices/%s/usbip_status", w[1]);
      fake_kernel_put (f->fk, path, "1\n");
    }
  else if (n == 3 && g_str_equal (w[0], "fail"))
    fake_kernel_fail_write (f->fk, w[1], atoi (w[2]));
  else if (n == 2 && g_str_equal (w[0], "idle"))
    usbip_dbus_service_set_idle_timeout (f->service, (guint) atoi (w[1]));
  else
    {
      printf ("bad command\n");
      return;
    }
  printf ("ok\n");
}

static void
got_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Fake *f = data;
  g_autofree gchar *line = g_data_input_stream_read_line_finish (f->in, result, NULL, NULL);
  g_auto (GStrv) words = NULL;

  if (line == NULL)
    {
      g_main_loop_quit (f->loop); /* stdin closed: the test is over */
      return;
    }
  words = g_strsplit (g_strstrip (line), " ", -1);
  command (f, words);
  fflush (stdout);
  read_next (f);
}

static void
read_next (Fake *f)
{
  g_data_input_stream_read_line_async (f->in, G_PRIORITY_DEFAULT, NULL, got_line, f);
}

static void
on_idle (UsbipDbusService *service, Fake *f)
{
  g_main_loop_quit (f->loop);
}

static void
on_name_lost (GDBusConnection *connection, const gchar *name, gpointer data)
{
  g_printerr ("dbus-fake-service: lost %s\n", name);
  exit (1);
}

static void
on_name_acquired (GDBusConnection *connection, const gchar *name, gpointer data)
{
  printf ("ready\n");
  fflush (stdout);
}

/* stdout carries the protocol with the test: every log line goes to stderr */
static GLogWriterOutput
log_to_stderr (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  g_autofree gchar *line = NULL;

  if (g_log_writer_default_would_drop (level, NULL))
    return G_LOG_WRITER_HANDLED;
  line = g_log_writer_format_fields (level, fields, n_fields, FALSE);
  fprintf (stderr, "%s\n", line);
  return G_LOG_WRITER_HANDLED;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (UsbipExportBackend) host = NULL;
  g_autoptr (UsbipImportBackend) vhci = NULL;
  g_autoptr (UsbipExportBackend) vudc = NULL;
  g_autoptr (UsbipExporter) exporter = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (UsbipPluginRegistry) registry = NULL;
  g_autofree gchar *dir = NULL;
  g_autofree gchar *unix_address = NULL;
  UsbipTransport *unix_transport;
  g_autoptr (GInputStream) stdin_stream = g_unix_input_stream_new (0, FALSE);
  Fake f = { 0 };
  guint16 port;

  g_log_set_writer_func (log_to_stderr, NULL, NULL);
  f.fk = fake_kernel_new ();
  fake_kernel_load_usbip_host (f.fk);
  fake_kernel_add_vhci (f.fk, 1, 2);
  /* 1-1 exported; 2-1 a local device to bind; 3-1 how an attached device enumerates here */
  fake_kernel_add_usb_device (f.fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  fake_kernel_add_usb_device (f.fk, "2-1", 0x0781, 0x5567, "480", 0, "usb-storage", FALSE);
  fake_kernel_add_usb_device (f.fk, "3-1", 0x1d6b, 0x0104, "480", 0, "usb", TRUE);
  fake_kernel_add_vudc (f.fk, 0, 0x1d6b, 0x0104);
  f.records = usbip_vhci_records_new (fake_kernel_get_sysfs (f.fk), NULL);
  host = USBIP_EXPORT_BACKEND (usbip_host_backend_new (fake_kernel_get_sysfs (f.fk)));
  vhci = USBIP_IMPORT_BACKEND (usbip_vhci_backend_new (fake_kernel_get_sysfs (f.fk)));
  vudc = USBIP_EXPORT_BACKEND (usbip_vudc_backend_new (fake_kernel_get_sysfs (f.fk)));
  if (!usbip_export_backend_bind (host, "1-1", &error))
    g_error ("bind: %s", error->message);
  listener = test_util_listen (&port);
  exporter = usbip_exporter_new (host);
  if (!usbip_exporter_add_socket (exporter, listener, &error))
    g_error ("exporter: %s", error->message);
  /* the service's transports, as usbipcore-dbusd loads them (here the unix plugin built in) */
  registry = usbip_plugin_registry_new (config, NULL);
  usbip_plugin_registry_set_plugin_dir (registry, "");
  usbip_plugin_registry_add_builtin (registry, "unix", usbip_unix_plugin_register);
  unix_transport = usbip_plugin_registry_get_transport (registry, "unix", &error);
  dir = g_dir_make_tmp ("usbip-dbus-unix-XXXXXX", NULL);
  unix_address = g_strconcat ("unix:", dir, "/usbip.sock", NULL);
  if (unix_transport == NULL || !usbip_exporter_listen (exporter, unix_transport, unix_address, &error))
    g_error ("unix exporter: %s", error->message);
  usbip_exporter_start (exporter);
  printf ("exporter-port %u\nexporter-unix %s\nroot %s %s\n", port, unix_address + strlen ("unix:"),
          fake_kernel_get_root (f.fk), usbip_vhci_records_get_dir (f.records));
  fflush (stdout);

  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    g_error ("bus: %s", error->message);
  f.service = usbip_dbus_service_new (fake_kernel_get_sysfs (f.fk), registry, vhci, host, vudc, NULL);
  usbip_dbus_service_set_poll_interval (f.service, 20);
  if (!usbip_dbus_service_export (f.service, bus, &error))
    g_error ("export: %s", error->message);
  f.loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (f.service, "idle", G_CALLBACK (on_idle), &f);
  g_bus_own_name_on_connection (bus, USBIP_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, on_name_acquired,
                                on_name_lost, NULL, NULL);
  f.in = g_data_input_stream_new (stdin_stream);
  read_next (&f);
  g_main_loop_run (f.loop);
  g_object_unref (f.in);
  g_object_unref (f.service);
  g_object_unref (f.records);
  g_clear_object (&exporter); /* removes its socket */
  g_rmdir (dir);
  g_main_loop_unref (f.loop);
  fake_kernel_free (f.fk);
  return 0;
}
