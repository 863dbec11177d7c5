/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UsbipExporter on loopback with the host backend on a fake kernel: the happy paths
 * with UsbipImporter as the client, every policy rule, drain, concurrency, and the
 * catalogue of hostile handshakes (each with its named outcome, and a good client served
 * after each).
 */
#include "config.h"

#include <string.h>

#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-host-backend.h"
#include "usbip-vhci-backend.h"

typedef struct {
  FakeKernel *fk;
  UsbipExportBackend *host;
  UsbipExporter *exporter;
  guint16 port;
  UsbipRemote *remote;
  guint refused;
  gchar *refused_rule;
  guint import_refused;
} Fixture;

static void
on_conn_refused (UsbipExporter *e, const gchar *peer, const gchar *rule, Fixture *f)
{
  f->refused++;
  g_free (f->refused_rule);
  f->refused_rule = g_strdup (rule);
}

static void
on_import_refused (UsbipExporter *e, const gchar *peer, const gchar *busid, guint status, const gchar *reason,
                   Fixture *f)
{
  f->import_refused++;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GError) error = NULL;

  f->fk = fake_kernel_new ();
  fake_kernel_load_usbip_host (f->fk);
  fake_kernel_add_vhci (f->fk, 1, 4);
  fake_kernel_add_usb_device (f->fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  fake_kernel_add_usb_device (f->fk, "1-2", 0x0781, 0x5567, "5000", 0, "usb-storage", FALSE);
  f->host = USBIP_EXPORT_BACKEND (usbip_host_backend_new (fake_kernel_get_sysfs (f->fk)));
  g_assert_true (usbip_export_backend_bind (f->host, "1-1", &error));
  g_assert_true (usbip_export_backend_bind (f->host, "1-2", &error));
  f->exporter = usbip_exporter_new (f->host);
  usbip_exporter_set_handshake_timeout (f->exporter, 1000);
  listener = test_util_listen (&f->port);
  g_assert_true (usbip_exporter_add_socket (f->exporter, listener, &error));
  g_signal_connect (f->exporter, "connection-refused", G_CALLBACK (on_conn_refused), f);
  g_signal_connect (f->exporter, "import-refused", G_CALLBACK (on_import_refused), f);
  usbip_exporter_start (f->exporter);
  f->remote = usbip_remote_new ("127.0.0.1", f->port);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->exporter);
  g_object_unref (f->host);
  usbip_remote_free (f->remote);
  g_free (f->refused_rule);
  fake_kernel_free (f->fk);
}

/* ---- the importer as client ---- */

static UsbipImporter *
make_importer (Fixture *f)
{
  g_autoptr (UsbipVhciBackend) vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (f->fk));
  return usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);
}

typedef struct _Raw Raw;
struct _Raw {
  guint16 port;
  GBytes *send;
  guint delay_us;   /* between bytes; 0 = all at once */
  GBytes *reply;
  volatile gint done;
};
static void raw_run (Raw *r);
static GBytes *import_request (const gchar *busid);

static void
assert_serves_good_client (Fixture *f)
{
  g_autoptr (UsbipImporter) importer = make_importer (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = test_util_list_devices (importer, f->remote, &error);

  g_assert_no_error (error);
  g_assert_nonnull (devices);
}

static void
test_list_and_attach (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipImporter) importer = make_importer (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;
  g_autoptr (UsbipPortInfo) port2 = NULL;
  g_autoptr (GPtrArray) ports = NULL;
  UsbipDeviceInfo *d;

  devices = test_util_list_devices (importer, f->remote, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 2);
  d = g_ptr_array_index (devices, 0);
  g_assert_cmpstr (d->busid, ==, "1-1");
  g_assert_cmphex (d->idVendor, ==, 0x1d6b);
  g_assert_cmphex (d->idProduct, ==, 0x0104);
  g_assert_cmpuint (d->bNumInterfaces, ==, 1);
  g_assert_cmphex (d->interfaces[0].bInterfaceClass, ==, 0x08);

  port = test_util_attach (importer, f->remote, "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port->port, ==, 0);
  g_assert_true (fake_kernel_vhci_port_used (f->fk, 0, NULL));
  g_assert_cmpstr (port->remote_busid, ==, "1-1");

  /* a SuperSpeed device lands on an ss port */
  port2 = test_util_attach (importer, f->remote, "1-2", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port2->port, ==, 4);

  /* both are in use now: hidden from the list, and a second import is refused as busy */
  g_clear_pointer (&devices, g_ptr_array_unref);
  devices = test_util_list_devices (importer, f->remote, &error);
  g_assert_cmpuint (devices->len, ==, 0);
  /* attaching an attached pair again gives the same port, without asking the exporter */
  {
    g_autoptr (UsbipPortInfo) again = test_util_attach (importer, f->remote, "1-1", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (again->port, ==, port->port);
    g_assert_cmpuint (f->import_refused, ==, 0);
  }
  /* another client asking for it is refused as busy (ST_DEV_BUSY, 8-byte reply) */
  {
    Raw r = { .port = f->port };
    UsbipOpHeader hdr;

    r.send = import_request ("1-1");
    raw_run (&r);
    g_assert_cmpuint (g_bytes_get_size (r.reply), ==, 8);
    g_assert_true (usbip_decode_op_header (g_bytes_get_data (r.reply, NULL), 8, &hdr, NULL));
    g_assert_cmpuint (hdr.status, ==, USBIP_ST_DEV_BUSY);
    g_assert_cmpuint (f->import_refused, ==, 1);
    g_bytes_unref (r.send);
    g_bytes_unref (r.reply);
  }

  ports = usbip_importer_list_ports (importer, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((UsbipPortInfo *) g_ptr_array_index (ports, 0))->remote_host, ==, "127.0.0.1");
  g_assert_true (usbip_importer_detach (importer, 0, &error));
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

static void
test_attach_unknown_busid (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipImporter) importer = make_importer (f);
  g_autoptr (GError) error = NULL;

  g_assert_null (test_util_attach (importer, f->remote, "7-7", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (error->message, "ST_NODEV"));
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

static void
test_attach_no_free_port (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipImporter) importer = make_importer (f);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 4; i++)
    fake_kernel_take_vhci_port (f->fk, i);
  g_assert_null (test_util_attach (importer, f->remote, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NO_FREE_PORT);
}

/* ---- raw clients (threads), for hostile input ---- */


static gpointer
raw_thread (gpointer data)
{
  Raw *r = data;
  g_autoptr (GSocket) s = test_util_connect (r->port);

  if (r->send != NULL)
    {
      gsize len;
      const guint8 *b = g_bytes_get_data (r->send, &len);
      if (r->delay_us == 0)
        test_util_send (s, b, len);
      else
        for (gsize i = 0; i < len; i++)
          {
            test_util_send (s, b + i, 1);
            g_usleep (r->delay_us);
          }
    }
  r->reply = test_util_read_all (s, 1 << 20);
  g_atomic_int_set (&r->done, 1);
  return NULL;
}

static void
raw_run (Raw *r)
{
  GThread *t = g_thread_new ("raw", raw_thread, r);
  test_util_run_until (&r->done, 15000);
  g_thread_join (t);
}

static GBytes *
bytes_of (const guint8 *b, gsize len)
{
  return g_bytes_new (b, len);
}

static GBytes *
import_request (const gchar *busid)
{
  GByteArray *a = g_byte_array_new ();
  usbip_encode_op_req_import (a, busid);
  return g_byte_array_free_to_bytes (a);
}

static GBytes *
devlist_request (void)
{
  GByteArray *a = g_byte_array_new ();
  usbip_encode_op_req_devlist (a);
  return g_byte_array_free_to_bytes (a);
}

typedef struct {
  const gchar *name;
  const guint8 *bytes;
  gsize len;
  guint delay_us;
  gsize expect_reply_len; /* 0 = closed without a reply */
} Hostile;

static const guint8 truncated_header[] = { 0x01, 0x11, 0x80 };
static const guint8 wrong_version[] = { 0x01, 0x06, 0x80, 0x05, 0, 0, 0, 0 };
static const guint8 unknown_opcode[] = { 0x01, 0x11, 0x80, 0x77, 0, 0, 0, 0 };
static const guint8 reply_opcode[] = { 0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0 };
static const guint8 http_get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static void
test_hostile (Fixture *f, gconstpointer data)
{
  guint8 garbage_busid[40] = { 0x01, 0x11, 0x80, 0x03, 0, 0, 0, 0 };
  const Hostile cases[] = {
    { "truncated header then close", truncated_header, sizeof truncated_header, 0, 0 },
    { "wrong version: closed like upstream", wrong_version, sizeof wrong_version, 0, 0 },
    { "unknown opcode: closed like upstream", unknown_opcode, sizeof unknown_opcode, 0, 0 },
    { "a reply code as a request", reply_opcode, sizeof reply_opcode, 0, 0 },
    { "HTTP request", http_get, sizeof http_get - 1, 0, 0 },
    { "busid without NUL: rejected by the codec, closed", garbage_busid, sizeof garbage_busid, 0, 0 },
  };

  memset (garbage_busid + 8, 'A', 32);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Raw r = { .port = f->port, .delay_us = cases[i].delay_us };

      g_test_message ("case: %s", cases[i].name);
      if (cases[i].bytes != NULL)
        r.send = bytes_of (cases[i].bytes, cases[i].len);
      raw_run (&r);
      g_assert_cmpuint (g_bytes_get_size (r.reply), ==, cases[i].expect_reply_len);
      g_clear_pointer (&r.send, g_bytes_unref);
      g_clear_pointer (&r.reply, g_bytes_unref);
      assert_serves_good_client (f);
    }
  g_assert_cmpuint (usbip_exporter_get_n_sessions (f->exporter), ==, 0);
}

/* nothing has arrived on @s yet and it is still open */
static void
assert_open_and_silent (GSocket *s)
{
  g_autoptr (GError) error = NULL;
  gchar c;

  g_socket_set_blocking (s, FALSE);
  g_assert_cmpint (g_socket_receive (s, &c, 1, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_socket_set_blocking (s, TRUE);
}

static void
test_handshake_deadline (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) idle = test_util_connect (f->port);
  g_autoptr (GBytes) reply = NULL;

  /* a client that connects and says nothing is held, not dropped, while a good client is
   * served; then the handshake deadline closes it without a reply */
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) == 1, 10000);
  assert_serves_good_client (f);
  assert_open_and_silent (idle);
  g_assert_cmpuint (usbip_exporter_get_n_sessions (f->exporter), ==, 1);
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) == 0, 10000);
  reply = test_util_read_all (idle, 1 << 20);
  g_assert_cmpuint (g_bytes_get_size (reply), ==, 0);
}

static void
test_idle_flood (Fixture *f, gconstpointer data)
{
  GPtrArray *idle = g_ptr_array_new_with_free_func (g_object_unref);

  /* 300 clients connect and say nothing: a good client is served while all 300 are held
   * (how fast: bench/bench-exporter) */
  for (guint i = 0; i < 300; i++)
    g_ptr_array_add (idle, test_util_connect (f->port));
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) >= 300, 10000);
  assert_serves_good_client (f);
  g_assert_cmpuint (usbip_exporter_get_n_sessions (f->exporter), ==, 300);
  for (guint i = 0; i < idle->len; i++)
    assert_open_and_silent (g_ptr_array_index (idle, i));
  g_ptr_array_unref (idle);
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) == 0, 10000);
}

static void
test_byte_at_a_time (Fixture *f, gconstpointer data)
{
  Raw r = { .port = f->port, .delay_us = 20000 };
  UsbipOpHeader hdr;

  r.send = devlist_request ();
  raw_run (&r);
  g_assert_cmpuint (g_bytes_get_size (r.reply), >=, 12);
  g_assert_true (usbip_decode_op_header (g_bytes_get_data (r.reply, NULL), 8, &hdr, NULL));
  g_assert_cmphex (hdr.code, ==, USBIP_OP_REP_DEVLIST);
  g_bytes_unref (r.send);
  g_bytes_unref (r.reply);
}

static void
test_import_reply_bytes (Fixture *f, gconstpointer data)
{
  Raw r = { .port = f->port };
  const guint8 *b;
  gsize len;

  /* an import whose busid names a device: OK + the 312-byte record, no interfaces */
  r.send = import_request ("1-1");
  raw_run (&r);
  b = g_bytes_get_data (r.reply, &len);
  g_assert_cmpuint (len, ==, 8 + 312);
  g_assert_cmpmem (b, 8, ((const guint8[]){ 0x01, 0x11, 0x00, 0x03, 0, 0, 0, 0 }), 8);
  g_assert_cmpstr ((const gchar *) b + 8 + 256, ==, "1-1");
  g_bytes_unref (r.send);
  g_bytes_unref (r.reply);
}

typedef struct {
  Raw raw[200];
} Flood;

static void
test_concurrency (Fixture *f, gconstpointer data)
{
  g_autofree Flood *fl = g_new0 (Flood, 1);
  GThread *threads[200];
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      fl->raw[i].port = f->port;
      fl->raw[i].send = devlist_request ();
      threads[i] = g_thread_new ("flood", raw_thread, &fl->raw[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      test_util_run_until (&fl->raw[i].done, 30000);
      g_thread_join (threads[i]);
      /* every one answered in full: header + count + 2 devices with 1 interface each */
      g_assert_cmpuint (g_bytes_get_size (fl->raw[i].reply), ==, 8 + 4 + 2 * (312 + 4));
      g_bytes_unref (fl->raw[i].send);
      g_bytes_unref (fl->raw[i].reply);
    }
  g_test_message ("200 concurrent DEVLIST handshakes in %.1f ms", (g_get_monotonic_time () - start) / 1000.0);
}

typedef struct {
  guint16 port;
  volatile gint connected;
} Burst;

static gpointer
burst_connect (gpointer data)
{
  Burst *b = data;
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, b->port);

  g_socket_set_timeout (s, 2);
  if (g_socket_connect (s, addr, NULL, NULL))
    g_atomic_int_inc (&b->connected);
  return NULL;
}

static void
test_listen_backlog (void)
{
  g_autoptr (UsbipTransport) tcp = usbip_transport_tcp_new ();
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *address = NULL;
  GThread *threads[64];
  Burst b = { 0 };
  /* a kernel-chosen port held by us: the listener binds it too (both SO_REUSEADDR, ours
   * never listens), so nobody else can take it in between */
  g_autoptr (GSocket) reserved = test_util_reserve_port (&b.port);

  address = g_strdup_printf ("127.0.0.1:%u", b.port);
  g_assert_true (usbip_transport_add_listener (tcp, listener, address, &error));
  /* nobody accepts: 64 clients at once must all be queued by the kernel (with a backlog of
   * 10 the rest of the SYNs are dropped and, as nothing drains the queue, their connects
   * time out after 2 s) */
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("burst", burst_connect, &b);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (g_atomic_int_get (&b.connected), ==, 64);
}

/* ---- policy through the exporter ---- */

static void
test_policy_allow_cidr (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  Raw r = { .port = f->port };

  g_assert_true (usbip_policy_add_allow_cidr (policy, "10.0.0.0/8", NULL));
  usbip_exporter_set_policy (f->exporter, policy);
  r.send = devlist_request ();
  raw_run (&r);
  g_assert_cmpuint (g_bytes_get_size (r.reply), ==, 0); /* closed without a reply */
  g_assert_cmpuint (f->refused, ==, 1);
  g_assert_cmpstr (f->refused_rule, ==, "allow-cidr");
  g_bytes_unref (r.reply);

  /* 127.0.0.0/8 admits it again */
  g_assert_true (usbip_policy_add_allow_cidr (policy, "127.0.0.0/8", NULL));
  r.done = 0;
  raw_run (&r);
  g_assert_cmpuint (g_bytes_get_size (r.reply), >, 0);
  g_bytes_unref (r.send);
  g_bytes_unref (r.reply);
}

static void
test_policy_per_peer (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  g_autoptr (GSocket) idle = NULL;
  Raw r = { .port = f->port };

  usbip_policy_set_max_sessions_per_peer (policy, 1);
  usbip_exporter_set_policy (f->exporter, policy);
  idle = test_util_connect (f->port);
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) >= 1, 10000);
  r.send = devlist_request ();
  raw_run (&r);
  g_assert_cmpuint (g_bytes_get_size (r.reply), ==, 0);
  g_assert_cmpstr (f->refused_rule, ==, "max-sessions-per-peer=1");
  g_bytes_unref (r.send);
  g_bytes_unref (r.reply);
}

static void
test_policy_rate (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  guint answered = 0;

  usbip_policy_set_accept_rate (policy, 0.01, 2);
  usbip_exporter_set_policy (f->exporter, policy);
  for (guint i = 0; i < 4; i++)
    {
      Raw r = { .port = f->port };
      r.send = devlist_request ();
      raw_run (&r);
      answered += g_bytes_get_size (r.reply) > 0;
      g_bytes_unref (r.send);
      g_bytes_unref (r.reply);
    }
  g_assert_cmpuint (answered, ==, 2);
  g_assert_cmpstr (f->refused_rule, ==, "accept-rate-limit=0.01");
}

/* ---- drain ---- */

static void
shutdown_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  guint *aborted = data;
  g_assert_true (usbip_exporter_shutdown_finish (USBIP_EXPORTER (source), result, &aborted[0], NULL));
  aborted[1] = 1;
}

static void
test_drain (Fixture *f, gconstpointer data)
{
  Raw slow = { .port = f->port, .delay_us = 30000 };
  g_autoptr (GSocket) idle = NULL;
  GThread *t;
  guint state[2] = { 0, 0 };
  g_autoptr (GSocket) late = NULL;
  g_autoptr (GError) error = NULL;

  usbip_exporter_set_handshake_timeout (f->exporter, 0); /* only the drain ends the idle one */
  slow.send = devlist_request (); /* 8 bytes over ~240 ms */
  t = g_thread_new ("slow", raw_thread, &slow);
  idle = test_util_connect (f->port);
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) >= 2, 10000);
  usbip_exporter_shutdown_async (f->exporter, 1500, NULL, shutdown_cb, state);
  test_util_run_until (&slow.done, 5000);
  g_thread_join (t);
  /* the handshake in flight finished during the drain */
  g_assert_cmpuint (g_bytes_get_size (slow.reply), >, 0);
  test_util_run_until ((volatile gint *) &state[1], 5000);
  g_assert_cmpuint (state[0], ==, 1); /* the idle one was cut at the timeout */
  /* the listener is closed: new connections are refused by the kernel */
  late = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  {
    g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, f->port);
    g_assert_false (g_socket_connect (late, addr, NULL, &error));
  }
  g_bytes_unref (slow.send);
  g_bytes_unref (slow.reply);
}

/* ---- policy logic ---- */

static void
test_policy_logic (void)
{
  g_autoptr (UsbipPolicy) p = usbip_policy_new ();
  g_autoptr (GInetAddress) v4 = g_inet_address_new_from_string ("192.168.1.7");
  g_autoptr (GInetAddress) mapped = g_inet_address_new_from_string ("::ffff:192.168.1.7");
  g_autoptr (GInetAddress) other = g_inet_address_new_from_string ("192.168.2.7");
  g_autoptr (GInetAddress) v6 = g_inet_address_new_from_string ("fd00::1");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *rule = NULL;

  g_assert_true (usbip_policy_admit (p, other, 0, 0, 0, NULL)); /* no rules: everyone */
  g_assert_false (usbip_policy_add_allow_cidr (p, "192.168.1.0/33", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_assert_true (usbip_policy_add_allow_cidr (p, "192.168.1.0/24", NULL));
  g_assert_true (usbip_policy_add_allow_cidr (p, "fd00::/8", NULL));
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 0, NULL));
  g_assert_true (usbip_policy_admit (p, mapped, 0, 0, 0, NULL)); /* dual-stack socket */
  g_assert_true (usbip_policy_admit (p, v6, 0, 0, 0, NULL));
  g_assert_false (usbip_policy_admit (p, other, 0, 0, 0, &rule));
  g_assert_cmpstr (rule, ==, "allow-cidr");
  g_clear_pointer (&rule, g_free);

  usbip_policy_set_max_sessions (p, 10);
  g_assert_false (usbip_policy_admit (p, v4, 10, 0, 0, &rule));
  g_assert_cmpstr (rule, ==, "max-sessions=10");
  g_clear_pointer (&rule, g_free);

  /* token bucket with an injected clock: 2 per second, burst 2 */
  usbip_policy_set_accept_rate (p, 2.0, 2);
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 1000000, NULL));
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 1000000, NULL));
  g_assert_false (usbip_policy_admit (p, v4, 0, 0, 1000000, NULL));
  g_assert_false (usbip_policy_admit (p, v4, 0, 0, 1400000, NULL)); /* 0.8 token */
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 1500000, NULL));  /* 1.0 token */
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 9000000, NULL));
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 9000000, NULL));  /* capped at the burst */
  g_assert_false (usbip_policy_admit (p, v4, 0, 0, 9000000, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define T(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  g_test_add_func ("/policy/logic", test_policy_logic);
  g_test_add_func ("/exporter/listen-backlog", test_listen_backlog);
  T ("/exporter/list-and-attach", test_list_and_attach);
  T ("/exporter/attach-unknown-busid", test_attach_unknown_busid);
  T ("/exporter/attach-no-free-port", test_attach_no_free_port);
  T ("/exporter/import-reply-bytes", test_import_reply_bytes);
  T ("/exporter/concurrency-200", test_concurrency);
  T ("/exporter/policy-allow-cidr", test_policy_allow_cidr);
  T ("/exporter/policy-per-peer", test_policy_per_peer);
  T ("/exporter/policy-rate", test_policy_rate);
  T ("/exporter/drain", test_drain);
  T ("/hostile/catalogue", test_hostile);
  T ("/hostile/handshake-deadline", test_handshake_deadline);
  T ("/hostile/idle-flood", test_idle_flood);
  T ("/hostile/byte-at-a-time", test_byte_at_a_time);
  return g_test_run ();
}
