/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Auto-reconnect: the backoff (deterministic with a seed), and UsbipSupervisor against a
 * real UsbipExporter on loopback with the fake kernel: a lost connection comes back by
 * itself, a detach on purpose does not, a peer that refuses then accepts, cancellation
 * mid-backoff, giving up, deduplication, and no fd or source leaks over 1000 cycles.
 */
#include "config.h"

#include <string.h>

#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-host-backend.h"
#include "usbip-vhci-backend.h"

/* ---- backoff ---- */

static void
test_backoff_ceilings_and_jitter (void)
{
  g_autoptr (UsbipBackoff) b = usbip_backoff_new (100, 1000, 2.0);
  g_autoptr (UsbipBackoff) b2 = usbip_backoff_new (100, 1000, 2.0);
  const guint ceilings[] = { 100, 200, 400, 800, 1000, 1000, 1000 };
  guint first[7];

  usbip_backoff_set_seed (b, 42);
  usbip_backoff_set_seed (b2, 42);
  for (guint i = 0; i < G_N_ELEMENTS (ceilings); i++)
    {
      g_assert_cmpuint (usbip_backoff_get_attempt (b), ==, i);
      g_assert_cmpuint (usbip_backoff_get_ceiling_ms (b), ==, ceilings[i]);
      first[i] = usbip_backoff_next_ms (b);
      g_assert_cmpuint (first[i], <=, ceilings[i]);
      g_assert_cmpuint (usbip_backoff_next_ms (b2), ==, first[i]); /* same seed, same sequence */
    }
  usbip_backoff_reset (b);
  g_assert_cmpuint (usbip_backoff_get_attempt (b), ==, 0);
  g_assert_cmpuint (usbip_backoff_get_ceiling_ms (b), ==, 100);
}

static void
test_backoff_full_jitter_spread (void)
{
  g_autoptr (UsbipBackoff) b = usbip_backoff_new (1000, 1000, 2.0);
  guint64 sum = 0;
  guint lo = G_MAXUINT, hi = 0;

  usbip_backoff_set_seed (b, 7);
  for (guint i = 0; i < 10000; i++)
    {
      guint d = usbip_backoff_next_ms (b);
      sum += d;
      lo = MIN (lo, d);
      hi = MAX (hi, d);
    }
  /* uniform on [0, 1000]: mean near 500, both ends reached */
  g_assert_cmpfloat ((gdouble) sum / 10000, >, 480);
  g_assert_cmpfloat ((gdouble) sum / 10000, <, 520);
  g_assert_cmpuint (lo, <, 10);
  g_assert_cmpuint (hi, >, 990);
}

static void
test_backoff_zero (void)
{
  g_autoptr (UsbipBackoff) b = usbip_backoff_new (0, 0, 2.0);

  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (usbip_backoff_next_ms (b), ==, 0);
}

/* ---- supervisor ---- */

typedef struct {
  FakeKernel *fk;
  UsbipExportBackend *host;
  UsbipExporter *exporter;
  UsbipImporter *importer;
  UsbipSupervisor *sup;
  guint16 port;
  GSocket *reserved; /* bound to port, not listening until start_exporter */
  UsbipRemote *remote;
  guint n_attached, n_lost, n_reconnecting, n_reconnected, n_detached, n_gave_up;
  GError *last_error;
} Fixture;

static void
start_exporter (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_socket_listen (f->reserved, &error));
  f->exporter = usbip_exporter_new (f->host);
  g_assert_true (usbip_exporter_add_socket (f->exporter, f->reserved, &error));
  usbip_exporter_start (f->exporter);
}

static void on_attached (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f) { f->n_attached++; }
static void on_lost (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f) { f->n_lost++; }
static void on_reconnected (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f) { f->n_reconnected++; }
static void on_detached (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f) { f->n_detached++; }

static void
on_reconnecting (UsbipSupervisor *s, guint attempt, guint delay, GError *cause, Fixture *f)
{
  f->n_reconnecting++;
  g_clear_error (&f->last_error);
  f->last_error = g_error_copy (cause);
}

static void
on_gave_up (UsbipSupervisor *s, GError *error, Fixture *f)
{
  f->n_gave_up++;
  g_clear_error (&f->last_error);
  f->last_error = g_error_copy (error);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipVhciBackend) vhci = NULL;
  g_autoptr (UsbipBackoff) backoff = usbip_backoff_new (0, 0, 2.0);

  f->fk = fake_kernel_new ();
  fake_kernel_load_usbip_host (f->fk);
  fake_kernel_add_vhci (f->fk, 1, 4);
  fake_kernel_add_usb_device (f->fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  f->host = USBIP_EXPORT_BACKEND (usbip_host_backend_new (fake_kernel_get_sysfs (f->fk)));
  g_assert_true (usbip_export_backend_bind (f->host, "1-1", &error));
  f->reserved = test_util_reserve_port (&f->port); /* refuses connections until start_exporter */
  vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (f->fk));
  f->importer = usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);
  f->remote = usbip_remote_new ("127.0.0.1", f->port);
  f->sup = usbip_supervisor_new (f->importer, f->remote, "1-1");
  usbip_supervisor_set_poll_interval (f->sup, 0); /* the tests call check_now */
  usbip_supervisor_set_backoff (f->sup, backoff);
  g_signal_connect (f->sup, "attached", G_CALLBACK (on_attached), f);
  g_signal_connect (f->sup, "lost", G_CALLBACK (on_lost), f);
  g_signal_connect (f->sup, "reconnecting", G_CALLBACK (on_reconnecting), f);
  g_signal_connect (f->sup, "reconnected", G_CALLBACK (on_reconnected), f);
  g_signal_connect (f->sup, "detached", G_CALLBACK (on_detached), f);
  g_signal_connect (f->sup, "gave-up", G_CALLBACK (on_gave_up), f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->sup);
  g_clear_object (&f->importer);
  g_clear_object (&f->exporter);
  g_clear_object (&f->reserved);
  g_object_unref (f->host);
  usbip_remote_free (f->remote);
  g_clear_error (&f->last_error);
  fake_kernel_free (f->fk);
}

static void
run_until_state (Fixture *f, UsbipSupervisorState state)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (usbip_supervisor_get_state (f->sup) != state)
    {
      if (g_get_monotonic_time () > end)
        g_error ("supervisor stuck in %s, waiting for %s",
                 usbip_supervisor_state_to_string (usbip_supervisor_get_state (f->sup)),
                 usbip_supervisor_state_to_string (state));
      g_main_context_iteration (NULL, FALSE);
      g_usleep (100);
    }
}

static void
test_lost_connection_comes_back (Fixture *f, gconstpointer data)
{
  gint64 t0;

  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  g_assert_cmpuint (f->n_attached, ==, 1);
  g_assert_true (fake_kernel_vhci_port_used (f->fk, 0, NULL));

  /* the link drops: the kernel frees the port, the record stays */
  t0 = g_get_monotonic_time ();
  fake_kernel_drop_connection (f->fk, 0, "1-1");
  usbip_supervisor_check_now (f->sup);
  test_util_wait_for (f->n_reconnected > 0, 10000);
  g_test_message ("reconnected %.1f ms after the loss was seen", (g_get_monotonic_time () - t0) / 1000.0);
  g_assert_cmpuint (f->n_lost, ==, 1);
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_ATTACHED);
  g_assert_true (fake_kernel_vhci_port_used (f->fk, usbip_supervisor_get_port (f->sup)->port, NULL));
}

static void
test_lost_port_taken_by_another (Fixture *f, gconstpointer data)
{
  gint sockfd = 0;

  start_exporter (f);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  g_assert_cmpuint (usbip_supervisor_get_port (f->sup)->port, ==, 0);
  /* the link drops and, before we look, another attacher takes port 0 */
  fake_kernel_drop_connection (f->fk, 0, "1-1");
  fake_kernel_take_vhci_port (f->fk, 0);
  /* ... and writes its record there, as upstream usbip does */
  g_assert_true (usbip_sysfs_write_port_record (fake_kernel_get_sysfs (f->fk), 0, "10.9.9.9", "3240", "5-5", NULL));
  usbip_supervisor_check_now (f->sup);
  test_util_wait_for (f->n_reconnected > 0, 10000);
  /* the other attachment is untouched; ours came back elsewhere */
  g_assert_true (fake_kernel_vhci_port_used (f->fk, 0, &sockfd));
  g_assert_cmpint (sockfd, ==, 99);
  g_assert_cmpuint (usbip_supervisor_get_port (f->sup)->port, !=, 0);
}

static void
test_user_detach_is_final (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  start_exporter (f);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  g_assert_true (usbip_importer_detach (f->importer, usbip_supervisor_get_port (f->sup)->port, &error));
  usbip_supervisor_check_now (f->sup);
  run_until_state (f, USBIP_SUPERVISOR_DETACHED);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (f->n_detached, ==, 1);
  g_assert_cmpuint (f->n_lost, ==, 0);
  g_assert_cmpuint (f->n_reconnecting, ==, 0);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

/* the real vhci_hcd lists a fresh attachment as not assigned (status 5, devid, sockfd 0, local
 * busid 0-0) until the device has enumerated: that is the same attachment, not a loss (the
 * supervisor detached every attachment ~0.5 s after making it; found by tests/vm 21) */
static void
test_enumeration_is_not_a_loss (Fixture *f, gconstpointer data)
{
  guint port;

  fake_kernel_vhci_enumerate_later (f->fk, TRUE);
  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  port = usbip_supervisor_get_port (f->sup)->port;
  usbip_supervisor_check_now (f->sup);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  fake_kernel_vhci_enumerate (f->fk, port);
  usbip_supervisor_check_now (f->sup);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (f->n_lost, ==, 0);
  g_assert_cmpuint (f->n_reconnected, ==, 0);
  g_assert_cmpuint (f->n_attached, ==, 1);
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_ATTACHED);
  g_assert_true (fake_kernel_vhci_port_used (f->fk, port, NULL));
}

static void
test_refuses_then_accepts (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipBackoff) backoff = usbip_backoff_new (20, 40, 2.0);

  usbip_supervisor_set_backoff (f->sup, backoff);
  usbip_supervisor_start (f->sup, NULL); /* nobody listens yet */
  test_util_wait_for (f->n_reconnecting >= 3, 10000);
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_CONNECTION);
  start_exporter (f);
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  g_assert_cmpuint (f->n_attached, ==, 1);
  g_assert_cmpuint (f->n_gave_up, ==, 0);
}

static gboolean
quit_after (gpointer data)
{
  g_atomic_int_set ((volatile gint *) data, 1);
  return G_SOURCE_REMOVE;
}

static void
test_cancel_mid_backoff (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipBackoff) backoff = usbip_backoff_new (400, 400, 1.0);
  volatile gint done = 0;

  usbip_backoff_set_seed (backoff, 1);
  usbip_supervisor_set_backoff (f->sup, backoff);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_WAITING);
  usbip_supervisor_stop (f->sup);
  start_exporter (f); /* it would succeed now: it must not try */
  g_timeout_add (600, quit_after, (gpointer) &done);
  test_util_run_until (&done, 5000);
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_IDLE);
  g_assert_cmpuint (f->n_reconnecting, ==, 1);
  g_assert_cmpuint (f->n_attached, ==, 0);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

static void
test_gives_up (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipSupervisor) bad = NULL;

  usbip_supervisor_set_max_attempts (f->sup, 3);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_GAVE_UP);
  g_assert_cmpuint (f->n_reconnecting, ==, 2);
  g_assert_cmpuint (f->n_gave_up, ==, 1);
  g_assert_nonnull (strstr (f->last_error->message, "3 attempts"));

  /* an unknown bus ID gives up after a few tries even without a limit */
  start_exporter (f);
  bad = usbip_supervisor_new (f->importer, f->remote, "9-9");
  {
    g_autoptr (UsbipBackoff) quick = usbip_backoff_new (0, 0, 2.0);
    usbip_supervisor_set_backoff (bad, quick);
  }
  g_signal_connect (bad, "gave-up", G_CALLBACK (on_gave_up), f);
  usbip_supervisor_start (bad, NULL);
  test_util_wait_for (usbip_supervisor_get_state (bad) == USBIP_SUPERVISOR_GAVE_UP, 10000);
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (f->last_error->message, "after 10 tries"));
}

static void
test_permanent_error_gives_up_at_once (Fixture *f, gconstpointer data)
{
  FakeKernel *bare = fake_kernel_new (); /* no vhci_hcd */
  g_autoptr (UsbipVhciBackend) vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (bare));
  g_autoptr (UsbipImporter) importer = usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);
  g_autoptr (UsbipSupervisor) sup = usbip_supervisor_new (importer, f->remote, "1-1");

  start_exporter (f);
  g_signal_connect (sup, "gave-up", G_CALLBACK (on_gave_up), f);
  g_signal_connect (sup, "reconnecting", G_CALLBACK (on_reconnecting), f);
  usbip_supervisor_start (sup, NULL);
  test_util_wait_for (usbip_supervisor_get_state (sup) == USBIP_SUPERVISOR_GAVE_UP, 10000);
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING);
  g_assert_cmpuint (f->n_reconnecting, ==, 0);
  g_clear_object (&sup);
  fake_kernel_free (bare);
}

typedef struct {
  volatile gint done;
  UsbipPortInfo *port;
} Waiter;

static void
attach_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Waiter *w = data;
  g_autoptr (GError) error = NULL;

  w->port = usbip_importer_attach_finish (USBIP_IMPORTER (source), result, &error);
  g_assert_no_error (error);
  g_atomic_int_set (&w->done, 1);
}

static void
on_exported (UsbipExporter *e, const gchar *busid, const gchar *peer, guint *count)
{
  (*count)++;
}

static void
test_dedup_concurrent_attach (Fixture *f, gconstpointer data)
{
  Waiter w[3] = { { 0 } };
  guint exported = 0;

  start_exporter (f);
  g_signal_connect (f->exporter, "device-exported", G_CALLBACK (on_exported), &exported);
  for (guint i = 0; i < 3; i++)
    usbip_importer_attach_async (f->importer, f->remote, "1-1", NULL, NULL, attach_cb, &w[i]);
  for (guint i = 0; i < 3; i++)
    test_util_run_until (&w[i].done, 5000);
  g_assert_cmpuint (exported, ==, 1); /* one import on the wire */
  g_assert_cmpuint (w[0].port->port, ==, w[1].port->port);
  g_assert_cmpuint (w[0].port->port, ==, w[2].port->port);
  for (guint i = 0; i < 3; i++)
    usbip_port_info_free (w[i].port);
}

static guint
count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  return n;
}

/* live sources on the default context: ids are handed out in order, so probe them all */
static guint
count_sources (void)
{
  guint top = g_idle_add (quit_after, NULL);
  guint n = 0;

  g_source_remove (top);
  for (guint id = 1; id < top; id++)
    if (g_main_context_find_source_by_id (NULL, id) != NULL)
      n++;
  return n;
}

static void
test_no_leaks_over_1000_cycles (Fixture *f, gconstpointer data)
{
  guint fds_before, sources_before;

  start_exporter (f);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  fds_before = count_fds ();
  sources_before = count_sources ();
  for (guint cycle = 0; cycle < 1000; cycle++)
    {
      guint before = f->n_reconnected;

      fake_kernel_drop_connection (f->fk, usbip_supervisor_get_port (f->sup)->port, "1-1");
      usbip_supervisor_check_now (f->sup);
      test_util_wait_for (f->n_reconnected > before, 10000);
    }
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_test_message ("fds %u -> %u, sources %u -> %u", fds_before, count_fds (), sources_before, count_sources ());
  g_assert_cmpuint (f->n_reconnected, ==, 1000);
  g_assert_cmpuint (count_fds (), <=, fds_before);
  g_assert_cmpuint (count_sources (), <=, sources_before);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define T(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  g_test_add_func ("/backoff/ceilings-and-jitter", test_backoff_ceilings_and_jitter);
  g_test_add_func ("/backoff/full-jitter-spread", test_backoff_full_jitter_spread);
  g_test_add_func ("/backoff/zero", test_backoff_zero);
  T ("/supervisor/lost-connection-comes-back", test_lost_connection_comes_back);
  T ("/supervisor/user-detach-is-final", test_user_detach_is_final);
  T ("/supervisor/lost-port-taken-by-another", test_lost_port_taken_by_another);
  T ("/supervisor/enumeration-is-not-a-loss", test_enumeration_is_not_a_loss);
  T ("/supervisor/refuses-then-accepts", test_refuses_then_accepts);
  T ("/supervisor/cancel-mid-backoff", test_cancel_mid_backoff);
  T ("/supervisor/gives-up", test_gives_up);
  T ("/supervisor/permanent-error", test_permanent_error_gives_up_at_once);
  T ("/importer/dedup-concurrent-attach", test_dedup_concurrent_attach);
  T ("/supervisor/no-leaks-1000-cycles", test_no_leaks_over_1000_cycles);
  return g_test_run ();
}
