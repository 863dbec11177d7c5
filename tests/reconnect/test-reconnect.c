/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Auto-reconnect: the backoff (deterministic with a seed) and its cadence, and UsbipSupervisor
 * against a real UsbipExporter on loopback with the fake kernel and a fake clock: a lost
 * connection comes back by itself, a detach on purpose does not, a peer that refuses then
 * accepts, status codes classified by what they mean for a retry, an exporter that drops at
 * once (no fast loop), cancellation mid-backoff, giving up, a fresh cadence for each outage,
 * a port gone from vhci's status, deduplication, and no fd or source leaks over 1000 cycles. Counts and order are asserted, never durations.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "fake-kernel.h"
#include "usbip-supervisor-private.h"
#include "test-util.h"
#include "usbip-host-backend.h"
#include "usbip-vhci-backend.h"
#include "usbip-vhci-records.h"

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

/* both ends of [floor, ceiling] are drawn: the ceiling is inclusive, and floor == ceiling
 * gives exactly that delay */
static void
test_backoff_bounds_inclusive (void)
{
  g_autoptr (UsbipBackoff) b = usbip_backoff_new (1, 1, 2.0);
  g_autoptr (UsbipBackoff) fixed = usbip_backoff_new (5, 5, 2.0);
  guint seen[2] = { 0, 0 };

  usbip_backoff_set_seed (b, 3);
  for (guint i = 0; i < 200; i++)
    {
      guint d = usbip_backoff_next_ms (b);
      g_assert_cmpuint (d, <=, 1);
      seen[d]++;
    }
  g_assert_cmpuint (seen[0], >, 0);
  g_assert_cmpuint (seen[1], >, 0);
  usbip_backoff_set_floor_ms (fixed, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (usbip_backoff_next_ms (fixed), ==, 5);
  /* a ceiling past G_MAXINT32 is capped below it: the random range never wraps */
  {
    g_autoptr (UsbipBackoff) huge = usbip_backoff_new (G_MAXUINT, G_MAXUINT, 2.0);
    g_assert_cmpuint (usbip_backoff_next_ms (huge), <, (guint) G_MAXINT32);
    usbip_backoff_set_floor_ms (huge, G_MAXINT32 - 1); /* the cap is the largest delay */
    g_assert_cmpuint (usbip_backoff_next_ms (huge), ==, (guint) G_MAXINT32 - 1);
    usbip_backoff_set_floor_ms (huge, G_MAXUINT); /* a floor past the cap is the cap too */
    g_assert_cmpuint (usbip_backoff_next_ms (huge), ==, (guint) G_MAXINT32 - 1);
  }
}

static void
test_backoff_zero (void)
{
  g_autoptr (UsbipBackoff) b = usbip_backoff_new (0, 0, 2.0);

  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (usbip_backoff_next_ms (b), ==, 0);
  usbip_backoff_free (NULL); /* nullable, as documented */
}

/* the default cadence: quick (floor..initial) while the outage is young, growing after it;
 * never a delay under the floor, so never more than 60000 / floor attempts a minute */
static void
test_backoff_cadence (void)
{
  g_autoptr (UsbipBackoff) b = usbip_backoff_new_default ();
  g_autoptr (UsbipBackoff) copy = NULL;
  const guint ceilings[] = { 1200, 2400, 4800, 9600, 19200, 30000, 30000 };

  usbip_backoff_set_seed (b, 3);
  for (guint i = 0; i < 500; i++)
    {
      guint d = usbip_backoff_next_ms_in_outage (b, (guint64) i * 100); /* up to 50 s */
      g_assert_cmpuint (d, >=, USBIP_BACKOFF_DEFAULT_FLOOR_MS);
      g_assert_cmpuint (d, <=, USBIP_BACKOFF_DEFAULT_INITIAL_MS);
    }
  g_assert_cmpuint (usbip_backoff_get_attempt (b), ==, 500);
  /* past the fast window the ceiling grows from the initial one, whatever came before */
  for (guint i = 0; i < G_N_ELEMENTS (ceilings); i++)
    {
      guint d;

      g_assert_cmpuint (usbip_backoff_get_ceiling_ms (b), ==, ceilings[i]);
      d = usbip_backoff_next_ms_in_outage (b, USBIP_BACKOFF_DEFAULT_FAST_WINDOW_MS + i);
      g_assert_cmpuint (d, >=, USBIP_BACKOFF_DEFAULT_FLOOR_MS);
      g_assert_cmpuint (d, <=, ceilings[i]);
    }
  /* a copy keeps the cadence */
  copy = usbip_backoff_copy (b);
  g_assert_cmpuint (usbip_backoff_get_ceiling_ms (copy), ==, USBIP_BACKOFF_DEFAULT_INITIAL_MS);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (usbip_backoff_next_ms_in_outage (copy, 0), >=, USBIP_BACKOFF_DEFAULT_FLOOR_MS);
  usbip_backoff_reset (b);
  g_assert_cmpuint (usbip_backoff_get_ceiling_ms (b), ==, USBIP_BACKOFF_DEFAULT_INITIAL_MS);
}

/* ---- dead-link detection: the socket options the kernel inherits ---- */

static gint
sockopt (GSocket *socket, gint level, gint name)
{
  gint v = -1;
  socklen_t len = sizeof v;

  g_assert_cmpint (getsockopt (g_socket_get_fd (socket), level, name, &v, &len), ==, 0);
  return v;
}

static void
test_dead_link_defaults (void)
{
  g_autoptr (GError) error = NULL;
  guint16 port;
  g_autoptr (GSocket) listener = test_util_listen (&port);
  g_autoptr (GSocket) client = test_util_connect (port);
  g_autoptr (UsbipSocketOptions) opts = usbip_socket_options_new ();
  gint idle, intvl, user_timeout_ms, detect_s;

  g_assert_true (usbip_socket_options_apply (opts, client, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sockopt (client, SOL_SOCKET, SO_KEEPALIVE), ==, 1);
  g_assert_cmpint (sockopt (client, IPPROTO_TCP, TCP_NODELAY), ==, 1);
  idle = sockopt (client, IPPROTO_TCP, TCP_KEEPIDLE);
  intvl = sockopt (client, IPPROTO_TCP, TCP_KEEPINTVL);
  user_timeout_ms = sockopt (client, IPPROTO_TCP, TCP_USER_TIMEOUT);
  g_assert_cmpint (idle, ==, 4);
  g_assert_cmpint (intvl, ==, 3);
  g_assert_cmpint (sockopt (client, IPPROTO_TCP, TCP_KEEPCNT), ==, 5);
  g_assert_cmpint (user_timeout_ms, ==, 16000);
  /* the kernel ends an idle connection at the first probe at or past the user timeout, a busy
   * one when data has waited that long: both within the 20 s budget (less the vhci poll) */
  detect_s = idle;
  while (detect_s * 1000 < user_timeout_ms)
    detect_s += intvl;
  g_assert_cmpint (detect_s, <=, 19);
  g_assert_cmpint (user_timeout_ms, <=, 19000);
  /* and a false loss needs at least 4 probes in a row lost (1 % loss: 1e-8) */
  g_assert_cmpint ((user_timeout_ms / 1000 - idle) / intvl, >=, 3);

  /* zero leaves the kernel's value */
  opts->user_timeout_ms = 0;
  {
    g_autoptr (GSocket) other = test_util_connect (port);
    g_assert_true (usbip_socket_options_apply (opts, other, &error));
    g_assert_cmpint (sockopt (other, IPPROTO_TCP, TCP_USER_TIMEOUT), ==, 0);
  }
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
  guint n_refused; /* reconnecting signals whose cause is a refused connection */
  GError *last_error;
  GString *events; /* "attached lost reconnecting(1) ..." */
  GArray *delays;  /* delay_ms of each reconnecting */
  gint64 clock_us; /* the supervisor's clock */
  gint64 step_us;  /* the clock moves this much at each reconnecting */
} Fixture;

static gint64
fake_clock (gpointer data)
{
  return ((Fixture *) data)->clock_us;
}

static void
event (Fixture *f, const gchar *name)
{
  g_string_append_printf (f->events, "%s%s", f->events->len ? " " : "", name);
}

static void
start_exporter (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_socket_listen (f->reserved, &error));
  f->exporter = usbip_exporter_new (f->host);
  g_assert_true (usbip_exporter_add_socket (f->exporter, f->reserved, &error));
  usbip_exporter_start (f->exporter);
}

static void
on_attached (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f)
{
  f->n_attached++;
  event (f, "attached");
}
static void
on_lost (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f)
{
  f->n_lost++;
  event (f, "lost");
}
static void
on_reconnected (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f)
{
  f->n_reconnected++;
  event (f, "reconnected");
}
static void
on_detached (UsbipSupervisor *s, UsbipPortInfo *p, Fixture *f)
{
  f->n_detached++;
  event (f, "detached");
}

static void
on_reconnecting (UsbipSupervisor *s, guint attempt, guint delay, GError *cause, Fixture *f)
{
  g_autofree gchar *name = g_strdup_printf ("reconnecting(%u)", attempt);

  f->n_reconnecting++;
  if (g_error_matches (cause, USBIP_ERROR, USBIP_ERROR_CONNECTION))
    f->n_refused++;
  g_clear_error (&f->last_error);
  f->last_error = g_error_copy (cause);
  g_array_append_val (f->delays, delay);
  f->clock_us += f->step_us;
  event (f, name);
}

static void
on_gave_up (UsbipSupervisor *s, GError *error, Fixture *f)
{
  f->n_gave_up++;
  event (f, "gave-up");
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
  f->events = g_string_new (NULL);
  f->delays = g_array_new (FALSE, FALSE, sizeof (guint));
  f->clock_us = 1000 * G_USEC_PER_SEC;
  usbip_supervisor_set_clock (f->sup, fake_clock, f);
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
  g_string_free (f->events, TRUE);
  g_array_unref (f->delays);
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
  g_autoptr (UsbipVhciRecords) records = usbip_vhci_records_new (fake_kernel_get_sysfs (f->fk), NULL);
  /* ... and writes its record there, as upstream usbip does */
  g_assert_true (usbip_vhci_records_write (records, 0, "10.9.9.9", "3240", "5-5", NULL));
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

/* a supervisor stopped (or released, when @data is TRUE) while it waits to retry makes no attempt
 * after that */
static void
end_while_waiting (Fixture *f, gconstpointer data)
{
  gboolean release = GPOINTER_TO_INT (data);
  g_autoptr (UsbipBackoff) backoff = usbip_backoff_new (400, 400, 1.0);
  volatile gint done = 0;

  usbip_backoff_set_seed (backoff, 1);
  usbip_supervisor_set_backoff (f->sup, backoff);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_WAITING);
  if (release)
    g_clear_object (&f->sup);
  else
    usbip_supervisor_stop (f->sup);
  start_exporter (f); /* it would succeed now: it must not try */
  g_timeout_add (600, quit_after, (gpointer) &done);
  test_util_run_until (&done, 5000);
  g_assert_true (release || usbip_supervisor_get_state (f->sup) == USBIP_SUPERVISOR_IDLE);
  g_assert_cmpuint (f->n_reconnecting, ==, 1);
  g_assert_cmpuint (f->n_attached, ==, 0);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

/* a stop while an attach is on its way cancels it: no retry follows, and no attachment */
static void
test_stop_while_connecting (Fixture *f, gconstpointer data)
{
  volatile gint done = 0;

  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_CONNECTING);
  usbip_supervisor_stop (f->sup);
  g_timeout_add (300, quit_after, (gpointer) &done); /* the cancelled attach has ended by then */
  test_util_run_until (&done, 5000);
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_IDLE);
  g_assert_cmpuint (f->n_reconnecting, ==, 0);
  g_assert_cmpuint (f->n_attached, ==, 0);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

static gboolean
count_emission (GSignalInvocationHint *hint, guint n_params, const GValue *params, gpointer data)
{
  (*(guint *) data)++;
  return TRUE;
}

/* a stopped (or released, when @data is TRUE) supervisor stops watching: its port monitor polls no
 * more (a lost port after the stop is not even looked at) */
static void
stop_watching (Fixture *f, gconstpointer data)
{
  gboolean release = GPOINTER_TO_INT (data);
  guint removed_id = g_signal_lookup ("port-removed", USBIP_TYPE_PORT_MONITOR);
  guint removed = 0;
  volatile gint done = 0;
  gulong hook;
  guint port;

  usbip_supervisor_set_poll_interval (f->sup, 10);
  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  port = usbip_supervisor_get_port (f->sup)->port;
  if (release)
    g_clear_object (&f->sup);
  else
    usbip_supervisor_stop (f->sup);
  hook = g_signal_add_emission_hook (removed_id, 0, count_emission, &removed, NULL);
  fake_kernel_drop_connection (f->fk, port, "1-1");
  g_timeout_add (300, quit_after, (gpointer) &done); /* 30 poll intervals */
  test_util_run_until (&done, 5000);
  g_signal_remove_emission_hook (removed_id, hook);
  g_assert_cmpuint (removed, ==, 0);
  g_assert_true (release || usbip_supervisor_get_state (f->sup) == USBIP_SUPERVISOR_IDLE);
  g_assert_cmpuint (f->n_lost, ==, 0);
}

/* a stopped supervisor asked to look at the ports does not look (its monitor is stopped: no
 * sysfs read, no port-removed) and leaves its lost attachment: no loss, no reconnect */
static void
test_stopped_check_now (Fixture *f, gconstpointer data)
{
  guint removed_id = g_signal_lookup ("port-removed", USBIP_TYPE_PORT_MONITOR);
  guint removed = 0;
  gulong hook;
  guint port;

  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  port = usbip_supervisor_get_port (f->sup)->port;
  usbip_supervisor_stop (f->sup);
  fake_kernel_drop_connection (f->fk, port, "1-1");
  hook = g_signal_add_emission_hook (removed_id, 0, count_emission, &removed, NULL);
  usbip_supervisor_check_now (f->sup);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_signal_remove_emission_hook (removed_id, hook);
  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpstr (f->events->str, ==, "attached");
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_IDLE);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, port, NULL));
}

static void
on_notify_state (UsbipSupervisor *s, GParamSpec *pspec, GString *seen)
{
  g_string_append_printf (seen, "%s%s", seen->len ? " " : "",
                          usbip_supervisor_state_to_string (usbip_supervisor_get_state (s)));
}

/* each state's name, and a value past the last state is "unknown" */
static void
test_state_names (void)
{
  const gchar *const names[] = { "idle", "connecting", "attached", "waiting", "detached", "gave-up" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpstr (usbip_supervisor_state_to_string ((UsbipSupervisorState) i), ==, names[i]);
  g_assert_cmpstr (usbip_supervisor_state_to_string (USBIP_SUPERVISOR_GAVE_UP + 1), ==, "unknown");
  g_assert_cmpstr (usbip_supervisor_state_to_string ((UsbipSupervisorState) -1), ==, "unknown");
}

static void
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* the signals' and the property's signatures, as bindings see them, and the chain-up to
 * GObject's finalize (what is attached to a supervisor goes with it) */
static void
test_type_info (Fixture *f, gconstpointer data)
{
  const gchar *const with_port[] = { "attached", "lost", "reconnected", "detached" };
  GSignalQuery q;
  GParamSpec *state = g_object_class_find_property (G_OBJECT_GET_CLASS (f->sup), "state");
  gboolean released = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (with_port); i++)
    {
      g_signal_query (g_signal_lookup (with_port[i], USBIP_TYPE_SUPERVISOR), &q);
      g_assert_cmpuint (q.n_params, ==, 1);
      g_assert_true (q.param_types[0] == USBIP_TYPE_PORT_INFO);
    }
  g_signal_query (g_signal_lookup ("reconnecting", USBIP_TYPE_SUPERVISOR), &q);
  g_assert_cmpuint (q.n_params, ==, 3);
  g_assert_true (q.param_types[2] == G_TYPE_ERROR);
  g_signal_query (g_signal_lookup ("gave-up", USBIP_TYPE_SUPERVISOR), &q);
  g_assert_cmpuint (q.n_params, ==, 1);
  g_assert_true (q.param_types[0] == G_TYPE_ERROR);
  g_assert_nonnull (state);
  g_assert_cmpint (state->flags & (G_PARAM_READABLE | G_PARAM_WRITABLE | G_PARAM_EXPLICIT_NOTIFY), ==,
                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY);

  g_object_set_data_full (G_OBJECT (f->sup), "test-flag", &released, set_flag);
  g_clear_object (&f->sup);
  g_assert_true (released);
}

static void
on_weak_notify (gpointer data, GObject *where_the_object_was)
{
  *(gboolean *) data = TRUE;
}

/* g_object_run_dispose (what bindings call to release an object at once) lets go of what
 * GObject holds for the supervisor: its signal handlers and weak references */
static void
test_run_dispose (Fixture *f, gconstpointer data)
{
  guint attached_id = g_signal_lookup ("attached", USBIP_TYPE_SUPERVISOR);
  gboolean notified = FALSE;

  g_assert_true (g_signal_has_handler_pending (f->sup, attached_id, 0, FALSE));
  g_object_weak_ref (G_OBJECT (f->sup), on_weak_notify, &notified);
  g_object_run_dispose (G_OBJECT (f->sup));
  g_assert_true (notified);
  g_assert_false (g_signal_has_handler_pending (f->sup, attached_id, 0, FALSE));
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_IDLE);
}

/* the state property is notified on each change, and only on a change */
static void
test_state_notified_on_change (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) seen = g_string_new (NULL);

  g_signal_connect (f->sup, "notify::state", G_CALLBACK (on_notify_state), seen);
  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  usbip_supervisor_stop (f->sup);
  usbip_supervisor_stop (f->sup); /* idle already: no change */
  g_assert_cmpstr (seen->str, ==, "connecting attached idle");
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
  usbip_supervisor_set_clock (bad, fake_clock, f);
  g_signal_connect (bad, "gave-up", G_CALLBACK (on_gave_up), f);
  g_signal_connect (bad, "reconnecting", G_CALLBACK (on_reconnecting), f);
  f->n_reconnecting = 0;
  f->step_us = 20 * G_USEC_PER_SEC; /* 10 tries take 3 minutes */
  usbip_supervisor_start (bad, NULL);
  test_util_wait_for (usbip_supervisor_get_state (bad) == USBIP_SUPERVISOR_GAVE_UP, 10000);
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (f->last_error->message, "after 10 tries in 180 s"));
  g_assert_cmpuint (f->n_reconnecting, ==, 9);
}

/* a stable attachment is lost and its device is gone from the exporter: the stale record of
 * the freed port goes at once, and the answers that may heal count from the loss on (10 tries
 * in 3 minutes, as from a start) */
static void
test_lost_for_good (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipVhciRecords) records = usbip_vhci_records_new (fake_kernel_get_sysfs (f->fk), NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *host = NULL, *service = NULL, *busid = NULL;
  guint port;

  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  port = usbip_supervisor_get_port (f->sup)->port;
  f->clock_us += 60 * G_USEC_PER_SEC; /* the attachment has lasted: it was stable */
  f->step_us = 20 * G_USEC_PER_SEC;
  fake_kernel_remove_usb_device (f->fk, "1-1");
  fake_kernel_drop_connection (f->fk, port, "1-1");
  usbip_supervisor_check_now (f->sup);
  run_until_state (f, USBIP_SUPERVISOR_GAVE_UP);
  g_assert_cmpuint (f->n_lost, ==, 1);
  g_assert_nonnull (strstr (f->last_error->message, "after 10 tries in 180 s"));
  g_assert_false (usbip_vhci_records_read (records, port, &host, &service, &busid, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND);
}

/* an import backend that passes every call on to vhci's, except that its port list can be
 * made empty: the ports gone from vhci's status between two reads */
typedef struct {
  GObject parent_instance;
  UsbipImportBackend *inner; /* not owned */
  gboolean hide_ports;
} TestHidingBackend;
typedef GObjectClass TestHidingBackendClass;

GType test_hiding_backend_get_type (void);
static void test_hiding_backend_iface_init (UsbipImportBackendInterface *iface);
G_DEFINE_TYPE_WITH_CODE (TestHidingBackend, test_hiding_backend, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (USBIP_TYPE_IMPORT_BACKEND, test_hiding_backend_iface_init))
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestHidingBackend, g_object_unref)

static GPtrArray *
hiding_list_ports (UsbipImportBackend *backend, GError **error)
{
  TestHidingBackend *self = (TestHidingBackend *) backend;

  if (self->hide_ports)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_port_info_free);
  return usbip_import_backend_list_ports (self->inner, error);
}

static gint
hiding_attach (UsbipImportBackend *backend, gint sockfd, guint32 devid, UsbipSpeed speed, const gchar *remote_host,
               const gchar *remote_service, const gchar *remote_busid, GError **error)
{
  return usbip_import_backend_attach (((TestHidingBackend *) backend)->inner, sockfd, devid, speed, remote_host,
                                      remote_service, remote_busid, error);
}

static gboolean
hiding_detach (UsbipImportBackend *backend, guint port, GError **error)
{
  return usbip_import_backend_detach (((TestHidingBackend *) backend)->inner, port, error);
}

static UsbipPortInfo *
hiding_find_port (UsbipImportBackend *backend, const gchar *remote_host, const gchar *remote_service,
                  const gchar *remote_busid)
{
  return usbip_import_backend_find_port (((TestHidingBackend *) backend)->inner, remote_host, remote_service,
                                         remote_busid);
}

static void
test_hiding_backend_iface_init (UsbipImportBackendInterface *iface)
{
  iface->list_ports = hiding_list_ports;
  iface->attach = hiding_attach;
  iface->detach = hiding_detach;
  iface->find_port = hiding_find_port;
}

static void
test_hiding_backend_class_init (TestHidingBackendClass *klass)
{
}

static void
test_hiding_backend_init (TestHidingBackend *self)
{
}

static void
hide_ports (UsbipSupervisor *s, UsbipPortInfo *p, TestHidingBackend *backend)
{
  backend->hide_ports = TRUE;
}

/* a lost attachment's port that vhci's status no longer lists when the supervisor reads it
 * again is not taken for a free port: its record stays (only a port seen free is cleaned), and
 * the supervisor carries on */
static void
test_lost_port_not_listed (Fixture *f, gconstpointer data)
{
  g_autoptr (TestHidingBackend) backend = g_object_new (test_hiding_backend_get_type (), NULL);
  g_autoptr (UsbipImporter) importer = NULL;
  g_autoptr (UsbipSupervisor) sup = NULL;
  g_autoptr (UsbipVhciRecords) records = usbip_vhci_records_new (fake_kernel_get_sysfs (f->fk), NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *host = NULL, *service = NULL, *busid = NULL;
  guint port;

  backend->inner = usbip_importer_get_backend (f->importer);
  importer = usbip_importer_new (USBIP_IMPORT_BACKEND (backend), NULL);
  sup = usbip_supervisor_new (importer, f->remote, "1-1");
  usbip_supervisor_set_clock (sup, fake_clock, f);
  usbip_supervisor_set_poll_interval (sup, 0);
  g_signal_connect (sup, "lost", G_CALLBACK (on_lost), f);
  g_signal_connect (sup, "lost", G_CALLBACK (hide_ports), backend); /* after the monitor's read */
  g_signal_connect (sup, "reconnected", G_CALLBACK (on_reconnected), f);
  start_exporter (f);
  g_assert_true (usbip_supervisor_start (sup, NULL));
  test_util_wait_for (usbip_supervisor_get_state (sup) == USBIP_SUPERVISOR_ATTACHED, 10000);
  port = usbip_supervisor_get_port (sup)->port;
  f->clock_us += USBIP_SUPERVISOR_DEFAULT_STABLE_MS * 1000;
  fake_kernel_drop_connection (f->fk, port, "1-1");
  usbip_supervisor_check_now (sup);
  test_util_wait_for (f->n_lost == 1, 10000);
  g_assert_true (usbip_vhci_records_read (records, port, &host, &service, &busid, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (busid, ==, "1-1");
  backend->hide_ports = FALSE;
  test_util_wait_for (f->n_reconnected == 1, 10000);
  g_assert_cmpint (usbip_supervisor_get_state (sup), ==, USBIP_SUPERVISOR_ATTACHED);
}

/* an interval set while the supervisor runs applies from the next attachment on: that one's
 * loss is seen by polling, with no check_now */
static void
test_poll_interval_while_running (Fixture *f, gconstpointer data)
{
  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL)); /* polling off (setup) */
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  usbip_supervisor_set_poll_interval (f->sup, 10);
  f->clock_us += USBIP_SUPERVISOR_DEFAULT_STABLE_MS * 1000;
  fake_kernel_drop_connection (f->fk, usbip_supervisor_get_port (f->sup)->port, "1-1");
  usbip_supervisor_check_now (f->sup);
  test_util_wait_for (f->n_reconnected == 1, 10000);
  fake_kernel_drop_connection (f->fk, usbip_supervisor_get_port (f->sup)->port, "1-1");
  test_util_wait_for (f->n_lost == 2, 10000);
}

/* another attachment's port going away is none of ours */
static void
test_other_port_removed (Fixture *f, gconstpointer data)
{
  guint port;

  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, NULL));
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  port = usbip_supervisor_get_port (f->sup)->port;
  fake_kernel_take_vhci_port (f->fk, port + 1);
  usbip_supervisor_check_now (f->sup);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  fake_kernel_drop_connection (f->fk, port + 1, "5-5");
  usbip_supervisor_check_now (f->sup);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpstr (f->events->str, ==, "attached");
  g_assert_cmpint (usbip_supervisor_get_state (f->sup), ==, USBIP_SUPERVISOR_ATTACHED);
  g_assert_true (fake_kernel_vhci_port_used (f->fk, port, NULL));
}

/* a running supervisor refuses a second start; one that gave up starts again */
static void
test_start_again (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  usbip_supervisor_set_max_attempts (f->sup, 1);
  g_assert_true (usbip_supervisor_start (f->sup, NULL)); /* nobody listens yet */
  g_assert_false (usbip_supervisor_start (f->sup, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_BUSY);
  g_clear_error (&error);
  run_until_state (f, USBIP_SUPERVISOR_GAVE_UP);
  start_exporter (f);
  g_assert_true (usbip_supervisor_start (f->sup, &error));
  g_assert_no_error (error);
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  g_assert_false (usbip_supervisor_start (f->sup, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_cmpuint (f->n_attached, ==, 1);
}

/* one attempt allowed: the first failure gives up */
static void
test_one_attempt (Fixture *f, gconstpointer data)
{
  usbip_supervisor_set_max_attempts (f->sup, 1);
  usbip_supervisor_start (f->sup, NULL); /* nobody listens: refused */
  run_until_state (f, USBIP_SUPERVISOR_GAVE_UP);
  g_assert_cmpuint (f->n_reconnecting, ==, 0);
  g_assert_nonnull (strstr (f->last_error->message, "gave up after 1 attempts"));
}

/* the answers that may heal are counted while they come one after another: a refused
 * connection before them does not count, and their 3 minutes start at the first of them */
static void
test_ambiguous_count_restarts (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipSupervisor) bad = usbip_supervisor_new (f->importer, f->remote, "9-9");
  g_autoptr (UsbipBackoff) quick = usbip_backoff_new (0, 0, 2.0);

  usbip_supervisor_set_backoff (bad, quick);
  usbip_supervisor_set_clock (bad, fake_clock, f);
  g_signal_connect (bad, "gave-up", G_CALLBACK (on_gave_up), f);
  g_signal_connect (bad, "reconnecting", G_CALLBACK (on_reconnecting), f);
  f->step_us = 20 * G_USEC_PER_SEC;
  usbip_supervisor_start (bad, NULL); /* nobody listens yet: refused */
  test_util_wait_for (f->n_refused >= 2, 10000);
  start_exporter (f); /* now each answer is "no such device" */
  test_util_wait_for (usbip_supervisor_get_state (bad) == USBIP_SUPERVISOR_GAVE_UP, 10000);
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (f->last_error->message, "after 10 tries in 180 s"));
  g_assert_cmpuint (f->n_reconnecting, ==, f->n_refused + 9);
}

/* an answer that may heal is retried for at least 10 tries AND 3 minutes: many quick tries
 * (a young outage) do not give up */
static void
test_ambiguous_needs_time_too (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipSupervisor) bad = NULL;
  g_autoptr (UsbipBackoff) quick = usbip_backoff_new (0, 0, 2.0);

  start_exporter (f);
  bad = usbip_supervisor_new (f->importer, f->remote, "9-9");
  usbip_supervisor_set_backoff (bad, quick);
  usbip_supervisor_set_clock (bad, fake_clock, f);
  g_signal_connect (bad, "gave-up", G_CALLBACK (on_gave_up), f);
  g_signal_connect (bad, "reconnecting", G_CALLBACK (on_reconnecting), f);
  f->step_us = G_USEC_PER_SEC;
  usbip_supervisor_start (bad, NULL);
  while (f->n_reconnecting < 40 && f->n_gave_up == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->n_gave_up, ==, 0);
  f->step_us = 200 * G_USEC_PER_SEC;
  while (usbip_supervisor_get_state (bad) != USBIP_SUPERVISOR_GAVE_UP)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->n_reconnecting, ==, 41);
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE);
}

/* usbipcored answers ST_NA when the hand-over to usbip-host fails (two clients racing):
 * that is retried, and the message says what happened, not "bind it first" */
static void
test_st_na_is_retried (Fixture *f, gconstpointer data)
{
  start_exporter (f);
  fake_kernel_fail_write (f->fk, "usbip_sockfd", EBUSY);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  g_assert_cmpstr (f->events->str, ==, "reconnecting(2) attached");
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE);
  g_assert_nonnull (strstr (f->last_error->message, "handed over"));
  g_assert_null (strstr (f->last_error->message, "bind it"));
  g_assert_cmpuint (f->n_gave_up, ==, 0);
}

/* ST_DEV_BUSY heals when the other client lets go (or the exporter notices our lost session):
 * retried without a limit, however long it takes */
static void
test_busy_is_retried_without_limit (Fixture *f, gconstpointer data)
{
  start_exporter (f);
  fake_kernel_put (f->fk, "sys/bus/usb/devices/1-1/usbip_status", "2\n");
  f->step_us = 60 * G_USEC_PER_SEC;
  usbip_supervisor_start (f->sup, NULL);
  while (f->n_reconnecting < 15)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_DEVICE_BUSY);
  g_assert_cmpuint (f->n_gave_up, ==, 0);
  fake_kernel_put (f->fk, "sys/bus/usb/devices/1-1/usbip_status", "1\n");
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  g_assert_cmpuint (f->n_attached, ==, 1);
  g_assert_cmpuint (f->n_gave_up, ==, 0);
}

/* vhci refusing the attach (EINVAL: the exporter's reply does not fit) cannot heal */
static void
test_vhci_einval_stops (Fixture *f, gconstpointer data)
{
  start_exporter (f);
  fake_kernel_fail_write (f->fk, "attach", EINVAL);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_GAVE_UP);
  g_assert_cmpstr (f->events->str, ==, "gave-up");
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
}

/* an exporter that accepts and drops at once: every short-lived attachment is a failed attempt
 * (the count and backoff go on), so the loop slows down and --max-attempts ends it; once an
 * attachment has been stable, a loss starts afresh (an immediate attempt, count from 1) */
static void
test_flapping_exporter (Fixture *f, gconstpointer data)
{
  start_exporter (f);
  usbip_supervisor_set_max_attempts (f->sup, 4);
  usbip_supervisor_start (f->sup, NULL);
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  /* a stable attachment, then a loss: straight back */
  f->clock_us += USBIP_SUPERVISOR_DEFAULT_STABLE_MS * 1000;
  fake_kernel_drop_connection (f->fk, usbip_supervisor_get_port (f->sup)->port, "1-1");
  usbip_supervisor_check_now (f->sup);
  while (f->n_reconnected < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (f->events->str, ==, "attached lost reconnected");
  /* now it drops every attachment just before it is stable (4.996 s of 5) */
  g_string_truncate (f->events, 0);
  f->step_us = 1000; /* 1 ms per attempt */
  while (usbip_supervisor_get_state (f->sup) != USBIP_SUPERVISOR_GAVE_UP)
    {
      if (usbip_supervisor_get_state (f->sup) == USBIP_SUPERVISOR_ATTACHED)
        {
          if (f->n_lost > 10)
            g_error ("a fast attach/lose loop: %s", f->events->str);
          f->clock_us += (USBIP_SUPERVISOR_DEFAULT_STABLE_MS - 4) * 1000;
          fake_kernel_drop_connection (f->fk, usbip_supervisor_get_port (f->sup)->port, "1-1");
          usbip_supervisor_check_now (f->sup);
        }
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpstr (f->events->str, ==,
                   "lost reconnecting(2) reconnected lost reconnecting(3) reconnected "
                   "lost reconnecting(4) reconnected lost gave-up");
  g_assert_error (f->last_error, USBIP_ERROR, USBIP_ERROR_CONNECTION);
  g_assert_nonnull (strstr (f->last_error->message, "after 4 attempts"));
  g_assert_nonnull (strstr (f->last_error->message, "before it was stable"));
}

/* the cadence follows the outage's age on the supervisor's clock: the ceiling stays while the
 * outage is young and grows after the fast window (floor = ceiling makes each delay exact):
 * a 60 s fast window of 2 ms tries, then the ceilings 2, 4, 8, ...; the clock moves @step_us at
 * each reconnecting signal */
static void
use_cadence_backoff (Fixture *f, gint64 step_us)
{
  g_autoptr (UsbipBackoff) b = usbip_backoff_new (2, 1000, 2.0);

  usbip_backoff_set_fast_window (b, 60000);
  usbip_backoff_set_floor_ms (b, 1000);
  usbip_supervisor_set_backoff (f->sup, b);
  f->step_us = step_us;
}

/* waits for @n reconnecting signals after the first @from and asserts their delays */
static void
assert_delays (Fixture *f, guint from, const guint *expected, guint n)
{
  while (f->n_reconnecting < from + n)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (f->delays, guint, from + i), ==, expected[i]);
}

/* the delays of the first @n reconnecting signals from a start nobody answers */
static void
assert_cadence (Fixture *f, gint64 step_us, const guint *expected, guint n)
{
  use_cadence_backoff (f, step_us);
  usbip_supervisor_start (f->sup, NULL); /* nobody listens: connection refused */
  assert_delays (f, 0, expected, n);
  usbip_supervisor_stop (f->sup);
}

/* one try each 20 s of the outage: 3 in the fast window, then the ceilings grow */
static const guint CADENCE_20S[] = { 2, 2, 2, 2, 4, 8, 16 };

static void
test_cadence_follows_outage_age (Fixture *f, gconstpointer data)
{
  assert_cadence (f, 20 * G_USEC_PER_SEC, CADENCE_20S, G_N_ELEMENTS (CADENCE_20S));
}

/* the outage's age is counted in whole milliseconds: 59.97 s is still inside the 60 s window */
static void
test_cadence_window_edge (Fixture *f, gconstpointer data)
{
  const guint expected[] = { 2, 2, 2, 2, 2, 4, 8 };

  assert_cadence (f, 19990 * 1000, expected, G_N_ELEMENTS (expected));
}

/* a start after a stop is a new outage: the ceilings grown in the last run start over */
static void
test_cadence_after_restart (Fixture *f, gconstpointer data)
{
  assert_cadence (f, 20 * G_USEC_PER_SEC, CADENCE_20S, G_N_ELEMENTS (CADENCE_20S));
  usbip_supervisor_start (f->sup, NULL);
  assert_delays (f, G_N_ELEMENTS (CADENCE_20S), CADENCE_20S, G_N_ELEMENTS (CADENCE_20S));
  usbip_supervisor_stop (f->sup);
}

/* a loss after a stable attachment is a new outage: the ceilings grown in the last one start
 * over (the device answers busy through both outages) */
static void
test_cadence_second_outage (Fixture *f, gconstpointer data)
{
  const gchar *status = "sys/bus/usb/devices/1-1/usbip_status";
  guint n = G_N_ELEMENTS (CADENCE_20S);

  use_cadence_backoff (f, 20 * G_USEC_PER_SEC);
  start_exporter (f);
  fake_kernel_put (f->fk, status, "2\n");
  usbip_supervisor_start (f->sup, NULL);
  assert_delays (f, 0, CADENCE_20S, n);
  fake_kernel_put (f->fk, status, "1\n");
  run_until_state (f, USBIP_SUPERVISOR_ATTACHED);
  f->clock_us += USBIP_SUPERVISOR_DEFAULT_STABLE_MS * 1000;
  fake_kernel_drop_connection (f->fk, usbip_supervisor_get_port (f->sup)->port, "1-1");
  fake_kernel_put (f->fk, status, "2\n");
  usbip_supervisor_check_now (f->sup);
  assert_delays (f, n, CADENCE_20S, n);
  usbip_supervisor_stop (f->sup);
  g_assert_cmpstr (f->events->str, ==,
                   "reconnecting(2) reconnecting(3) reconnecting(4) reconnecting(5) reconnecting(6) "
                   "reconnecting(7) reconnecting(8) attached lost reconnecting(2) reconnecting(3) "
                   "reconnecting(4) reconnecting(5) reconnecting(6) reconnecting(7) reconnecting(8)");
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
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
#define T(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  g_test_add_func ("/backoff/ceilings-and-jitter", test_backoff_ceilings_and_jitter);
  g_test_add_func ("/backoff/full-jitter-spread", test_backoff_full_jitter_spread);
  g_test_add_func ("/backoff/zero", test_backoff_zero);
  g_test_add_func ("/backoff/bounds-inclusive", test_backoff_bounds_inclusive);
  g_test_add_func ("/backoff/cadence", test_backoff_cadence);
  g_test_add_func ("/socket-options/dead-link-defaults", test_dead_link_defaults);
  T ("/supervisor/lost-connection-comes-back", test_lost_connection_comes_back);
  T ("/supervisor/user-detach-is-final", test_user_detach_is_final);
  T ("/supervisor/lost-port-taken-by-another", test_lost_port_taken_by_another);
  T ("/supervisor/enumeration-is-not-a-loss", test_enumeration_is_not_a_loss);
  T ("/supervisor/refuses-then-accepts", test_refuses_then_accepts);
  g_test_add ("/supervisor/cancel-mid-backoff", Fixture, GINT_TO_POINTER (FALSE), setup, end_while_waiting, teardown);
  T ("/supervisor/stop-while-connecting", test_stop_while_connecting);
  g_test_add ("/supervisor/stop-stops-watching", Fixture, GINT_TO_POINTER (FALSE), setup, stop_watching, teardown);
  g_test_add ("/supervisor/unref-stops-watching", Fixture, GINT_TO_POINTER (TRUE), setup, stop_watching, teardown);
  g_test_add ("/supervisor/unref-while-waiting", Fixture, GINT_TO_POINTER (TRUE), setup, end_while_waiting, teardown);
  g_test_add_func ("/supervisor/state-names", test_state_names);
  T ("/supervisor/state-notified-on-change", test_state_notified_on_change);
  T ("/supervisor/type-info", test_type_info);
  T ("/supervisor/run-dispose", test_run_dispose);
  T ("/supervisor/gives-up", test_gives_up);
  T ("/supervisor/one-attempt", test_one_attempt);
  T ("/supervisor/lost-for-good", test_lost_for_good);
  T ("/supervisor/start-again", test_start_again);
  T ("/supervisor/other-port-removed", test_other_port_removed);
  T ("/supervisor/lost-port-not-listed", test_lost_port_not_listed);
  T ("/supervisor/poll-interval-while-running", test_poll_interval_while_running);
  T ("/supervisor/stopped-check-now", test_stopped_check_now);
  T ("/supervisor/permanent-error", test_permanent_error_gives_up_at_once);
  T ("/supervisor/ambiguous-needs-time-too", test_ambiguous_needs_time_too);
  T ("/supervisor/ambiguous-count-restarts", test_ambiguous_count_restarts);
  T ("/supervisor/st-na-is-retried", test_st_na_is_retried);
  T ("/supervisor/busy-is-retried-without-limit", test_busy_is_retried_without_limit);
  T ("/supervisor/vhci-einval-stops", test_vhci_einval_stops);
  T ("/supervisor/flapping-exporter", test_flapping_exporter);
  T ("/supervisor/cadence-follows-outage-age", test_cadence_follows_outage_age);
  T ("/supervisor/cadence-window-edge", test_cadence_window_edge);
  T ("/supervisor/cadence-after-restart", test_cadence_after_restart);
  T ("/supervisor/cadence-second-outage", test_cadence_second_outage);
  T ("/importer/dedup-concurrent-attach", test_dedup_concurrent_attach);
  T ("/supervisor/no-leaks-1000-cycles", test_no_leaks_over_1000_cycles);
  return g_test_run ();
}
