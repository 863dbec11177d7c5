/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Exporter timings that functional tests must not assert (tests/exporter checks only the
 * ordering and outcomes): how long a good client's DEVLIST takes with 0 and with 300 idle
 * connections held, when an idle connection is closed (the handshake deadline, set to
 * 1000 ms here), and how long 64 simultaneous connects into a listener that never accepts
 * take (the listen backlog). Against the fake kernel, on the default main context.
 *
 *   bench-exporter [RUNS]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-host-backend.h"
#include "usbip-vhci-backend.h"

static gdouble
devlist_ms (FakeKernel *fk, const UsbipRemote *remote)
{
  g_autoptr (UsbipVhciBackend) vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (fk));
  g_autoptr (UsbipImporter) importer = usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GPtrArray) devices = test_util_list_devices (importer, remote, &error);

  g_assert_no_error (error);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static gpointer
burst_connect (gpointer data)
{
  guint16 *port = data;
  g_autoptr (GSocket) s = test_util_connect (*port);
  return NULL;
}

int
main (int argc, char **argv)
{
  guint runs = argc > 1 ? (guint) atoi (argv[1]) : 5;
  FakeKernel *fk = fake_kernel_new ();
  g_autoptr (UsbipExportBackend) host = NULL;
  g_autoptr (UsbipExporter) exporter = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (GError) error = NULL;
  guint16 port;

  fake_kernel_load_usbip_host (fk);
  fake_kernel_add_vhci (fk, 1, 4);
  fake_kernel_add_usb_device (fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  host = USBIP_EXPORT_BACKEND (usbip_host_backend_new (fake_kernel_get_sysfs (fk)));
  g_assert_true (usbip_export_backend_bind (host, "1-1", &error));
  exporter = usbip_exporter_new (host);
  usbip_exporter_set_handshake_timeout (exporter, 1000);
  listener = test_util_listen (&port);
  g_assert_true (usbip_exporter_add_socket (exporter, listener, &error));
  usbip_exporter_start (exporter);
  remote = usbip_remote_new ("127.0.0.1", port);

  for (guint r = 0; r < runs; r++)
    {
      g_autoptr (GPtrArray) idle = g_ptr_array_new_with_free_func (g_object_unref);
      gdouble alone = devlist_ms (fk, remote), held;
      gint64 start;

      for (guint i = 0; i < 300; i++)
        g_ptr_array_add (idle, test_util_connect (port));
      test_util_wait_for (usbip_exporter_get_n_sessions (exporter) >= 300, 10000);
      held = devlist_ms (fk, remote);
      start = g_get_monotonic_time ();
      test_util_wait_for (usbip_exporter_get_n_sessions (exporter) == 0, 10000);
      printf ("run %u: devlist %.2f ms alone, %.2f ms with 300 idle held; idle closed %.0f ms after the good "
              "client (deadline 1000 ms from connect)\n",
              r + 1, alone, held, (g_get_monotonic_time () - start) / 1000.0);
    }

  for (guint r = 0; r < runs; r++)
    {
      g_autoptr (UsbipTransport) tcp = usbip_transport_tcp_new ();
      g_autoptr (GSocketListener) l = g_socket_listener_new ();
      guint16 bport;
      g_autoptr (GSocket) reserved = test_util_reserve_port (&bport);
      g_autofree gchar *address = g_strdup_printf ("127.0.0.1:%u", bport);
      GThread *threads[64];
      gint64 start;

      g_assert_true (usbip_transport_add_listener (tcp, l, address, &error));
      start = g_get_monotonic_time ();
      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        threads[i] = g_thread_new ("burst", burst_connect, &bport);
      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        g_thread_join (threads[i]);
      printf ("run %u: 64 simultaneous connects queued in %.2f ms (nobody accepts)\n", r + 1,
              (g_get_monotonic_time () - start) / 1000.0);
    }
  g_clear_object (&exporter);
  fake_kernel_free (fk);
  return 0;
}
