/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UsbipExporter on loopback with the host backend on a fake kernel: the happy paths
 * with UsbipImporter as the client, every policy rule, drain, concurrency, and the
 * catalogue of hostile handshakes (each with its named outcome, and a good client served
 * after each).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>

#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-host-backend.h"
#include "usbip-peer-private.h"
#include "usbip-vhci-backend.h"
#include "usbip-vudc-backend.h"

/* ---- log records, captured while a test asks for them ---- */

typedef struct {
  GLogLevelFlags level;
  gchar *message;
  gchar *busid;  /* USBIP_BUSID, or NULL */
  gchar *fields; /* every field value, one per line, for checks that cover them all */
} LogRecord;

static GPtrArray *captured; /* LogRecord, or NULL when not capturing */

static void
log_record_free (LogRecord *r)
{
  g_free (r->message);
  g_free (r->busid);
  g_free (r->fields);
  g_free (r);
}

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
  if (captured != NULL)
    {
      LogRecord *r = g_new0 (LogRecord, 1);
      GString *all = g_string_new (NULL);

      r->level = level;
      for (gsize i = 0; i < n; i++)
        {
          g_autofree gchar *v =
              fields[i].length < 0 ? g_strdup (fields[i].value) : g_strndup (fields[i].value, (gsize) fields[i].length);
          if (g_str_equal (fields[i].key, "MESSAGE"))
            r->message = g_strdup (v);
          else if (g_str_equal (fields[i].key, "USBIP_BUSID"))
            r->busid = g_strdup (v);
          g_string_append_printf (all, "%s\n", v);
        }
      r->fields = g_string_free (all, FALSE);
      g_ptr_array_add (captured, r);
      /* a captured warning is what the test expects: shown, not fatal */
      return g_log_writer_standard_streams (level, fields, n, data);
    }
  if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n, data);
}

static void
capture_start (void)
{
  g_clear_pointer (&captured, g_ptr_array_unref);
  captured = g_ptr_array_new_with_free_func ((GDestroyNotify) log_record_free);
}

static void
capture_stop (void)
{
  g_clear_pointer (&captured, g_ptr_array_unref);
}

/* records whose message contains @needle */
static guint
captured_count (const gchar *needle)
{
  guint n = 0;

  for (guint i = 0; captured != NULL && i < captured->len; i++)
    {
      LogRecord *r = g_ptr_array_index (captured, i);
      n += r->message != NULL && strstr (r->message, needle) != NULL;
    }
  return n;
}

typedef struct {
  FakeKernel *fk;
  UsbipExportBackend *host;
  UsbipExporter *exporter;
  guint16 port;
  UsbipRemote *remote;
  guint refused;
  gchar *refused_rule;
  guint import_refused;
  guint opened;
  gchar *opened_peer;
  guint closed;
  gchar *closed_peer;
  guint closed_status;
  gchar *closed_op;
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
on_session_opened (UsbipExporter *e, const gchar *peer, Fixture *f)
{
  f->opened++;
  g_free (f->opened_peer);
  f->opened_peer = g_strdup (peer);
}

static void
on_session_closed (UsbipExporter *e, const gchar *peer, const gchar *op, guint status, guint64 duration_ms, Fixture *f)
{
  f->closed++;
  g_free (f->closed_peer);
  f->closed_peer = g_strdup (peer);
  f->closed_status = status;
  g_free (f->closed_op);
  f->closed_op = g_strdup (op);
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
  /* 1 s, more under memcheck: 200 clients at once must all be served within it */
  usbip_exporter_set_handshake_timeout (f->exporter, test_util_scale_ms (1000));
  listener = test_util_listen (&f->port);
  g_assert_true (usbip_exporter_add_socket (f->exporter, listener, &error));
  g_signal_connect (f->exporter, "connection-refused", G_CALLBACK (on_conn_refused), f);
  g_signal_connect (f->exporter, "import-refused", G_CALLBACK (on_import_refused), f);
  g_signal_connect (f->exporter, "session-opened", G_CALLBACK (on_session_opened), f);
  g_signal_connect (f->exporter, "session-closed", G_CALLBACK (on_session_closed), f);
  usbip_exporter_start (f->exporter);
  f->remote = usbip_remote_new ("127.0.0.1", f->port);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  /* sessions still open hold the exporter: they must not call into the next test's fixture */
  g_signal_handlers_disconnect_by_data (f->exporter, f);
  g_clear_object (&f->exporter);
  g_object_unref (f->host);
  usbip_remote_free (f->remote);
  g_free (f->refused_rule);
  g_free (f->closed_op);
  g_free (f->opened_peer);
  g_free (f->closed_peer);
  fake_kernel_free (f->fk);
  capture_stop ();
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
  guint delay_us; /* between bytes; 0 = all at once */
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

/* each side's tunables are on the socket it hands to the kernel, read back with getsockopt
 * (the kernel doubles the buffer sizes it is given) */
static void
assert_handed (FakeKernel *fk, FakeHandedTo to, const UsbipSocketOptions *o)
{
  const FakeHandedSocket *h = fake_kernel_get_handed_socket (fk, to);

  g_assert_true (h->taken);
  g_assert_cmpint (h->nodelay != 0, ==, o->nodelay);
  g_assert_cmpint (h->keepalive != 0, ==, o->keepalive);
  g_assert_cmpint (h->keepalive_idle, ==, o->keepalive_idle_s);
  g_assert_cmpint (h->keepalive_interval, ==, o->keepalive_interval_s);
  g_assert_cmpint (h->keepalive_probes, ==, o->keepalive_probes);
  g_assert_cmpint (h->user_timeout, ==, o->user_timeout_ms);
  g_assert_cmpint (h->sndbuf, ==, 2 * o->sndbuf);
  g_assert_cmpint (h->rcvbuf, ==, 2 * o->rcvbuf);
}

static void
test_socket_options_handed (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipImporter) importer = make_importer (f);
  g_autoptr (UsbipSocketOptions) exp = usbip_socket_options_new ();
  g_autoptr (UsbipSocketOptions) imp = usbip_socket_options_new ();
  g_autoptr (UsbipPortInfo) port = NULL;
  g_autoptr (GError) error = NULL;

  /* none of them the defaults, and the two sides different */
  *exp = (UsbipSocketOptions){ .connect_timeout_ms = 10000,
                               .read_timeout_ms = 10000,
                               .write_timeout_ms = 10000,
                               .nodelay = FALSE,
                               .keepalive = TRUE,
                               .keepalive_idle_s = 7,
                               .keepalive_interval_s = 2,
                               .keepalive_probes = 9,
                               .user_timeout_ms = 20000,
                               .sndbuf = 65536,
                               .rcvbuf = 49152 };
  *imp = (UsbipSocketOptions){ .connect_timeout_ms = 10000,
                               .read_timeout_ms = 10000,
                               .write_timeout_ms = 10000,
                               .nodelay = TRUE,
                               .keepalive = TRUE,
                               .keepalive_idle_s = 11,
                               .keepalive_interval_s = 5,
                               .keepalive_probes = 3,
                               .user_timeout_ms = 9000,
                               .sndbuf = 40960,
                               .rcvbuf = 81920 };
  usbip_exporter_set_socket_options (f->exporter, exp);
  usbip_importer_set_socket_options (importer, imp);
  port = test_util_attach (importer, f->remote, "1-1", &error);
  g_assert_no_error (error);
  assert_handed (f->fk, FAKE_HANDED_HOST, exp);
  assert_handed (f->fk, FAKE_HANDED_VHCI, imp);
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

  /* held until they leave: with the fixture's 1 s deadline the first ones could expire
   * before a loaded machine has accepted the 300th */
  usbip_exporter_set_handshake_timeout (f->exporter, 0);
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

static void
test_request_in_time_server_late (Fixture *f, gconstpointer data)
{
  g_autoptr (GSocket) s = NULL;
  g_autoptr (GBytes) request = devlist_request ();
  g_autoptr (GBytes) reply = NULL;
  gsize len;
  const guint8 *b = g_bytes_get_data (request, &len);

  usbip_exporter_set_handshake_timeout (f->exporter, 100);
  s = test_util_connect (f->port);
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) == 1, 10000);
  /* the request arrives well within the deadline, but the server is busy (its main loop
   * does not run) until the deadline has passed too; both wake it in the same iteration.
   * This is what 200 clients under qemu-user did to test_concurrency: a request that
   * came in time must be answered, not dropped as a handshake timeout */
  test_util_send (s, b, len);
  g_usleep (300 * 1000); /* the busy server: not a wait for anything */
  test_util_wait_for (usbip_exporter_get_n_sessions (f->exporter) == 0, 10000);
  reply = test_util_read_all (s, 1 << 20);
  g_assert_cmpuint (g_bytes_get_size (reply), ==, 8 + 4 + 2 * (312 + 4));
  g_assert_cmpuint (f->closed_status, ==, USBIP_ST_OK);
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
  /* under a time scale (memcheck: threads run one at a time, each handshake up to a second
   * on a loaded host) a tenth as many clients at once: memcheck
   * checks the concurrent path's memory, the plain run its capacity */
  guint n = G_N_ELEMENTS (threads) / MIN (test_util_scale_ms (1), 10);

  for (guint i = 0; i < n; i++)
    {
      fl->raw[i].port = f->port;
      fl->raw[i].send = devlist_request ();
      threads[i] = g_thread_new ("flood", raw_thread, &fl->raw[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      test_util_run_until (&fl->raw[i].done, 30000);
      g_thread_join (threads[i]);
      /* every one answered in full: header + count + 2 devices with 1 interface each */
      g_assert_cmpuint (g_bytes_get_size (fl->raw[i].reply), ==,
                        8 + 4 + 2 * (312 + 4)); /* two devices, one interface each */
      g_bytes_unref (fl->raw[i].send);
      g_bytes_unref (fl->raw[i].reply);
    }
  g_test_message ("%u concurrent DEVLIST handshakes in %.1f ms", n, (g_get_monotonic_time () - start) / 1000.0);
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
  slow.send = devlist_request ();                        /* 8 bytes over ~240 ms */
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

/* the token buckets are bounded: with 65536 peers' buckets held, a new peer shares one
 * "overflow" bucket; once the old buckets have refilled to the burst they are dropped and a
 * new peer gets its own again. The clock starts far from 0: a bucket's age is a difference */
static void
test_policy_bucket_overflow (void)
{
  g_autoptr (UsbipPolicy) p = usbip_policy_new ();
  g_autoptr (GInetAddress) late1 = g_inet_address_new_from_string ("10.255.0.1");
  g_autoptr (GInetAddress) late2 = g_inet_address_new_from_string ("10.255.0.2");
  g_autofree gchar *rule = NULL;
  const gint64 t0 = 1000 * G_USEC_PER_SEC;

  usbip_policy_set_accept_rate (p, 1.0, 1);
  for (guint i = 0; i < 65536; i++)
    {
      guint8 b[4] = { 10, 0, (guint8) (i >> 8), (guint8) i };
      g_autoptr (GInetAddress) peer = g_inet_address_new_from_bytes (b, G_SOCKET_FAMILY_IPV4);
      g_assert_true (usbip_policy_admit (p, peer, 0, 0, t0, NULL));
    }
  /* 1 µs later none has refilled: both late peers share the overflow bucket */
  g_assert_true (usbip_policy_admit (p, late1, 0, 0, t0 + 1, NULL));
  g_assert_false (usbip_policy_admit (p, late2, 0, 0, t0 + 1, &rule));
  g_assert_cmpstr (rule, ==, "accept-rate-limit=1");
  /* 1 s later (rate 1, burst 1) the 65536 buckets hold exactly the burst again: dropped,
   * and each late peer has a bucket of its own (the overflow one is 1 µs short of full) */
  g_assert_true (usbip_policy_admit (p, late2, 0, 0, t0 + G_USEC_PER_SEC, NULL));
  g_assert_false (usbip_policy_admit (p, late2, 0, 0, t0 + G_USEC_PER_SEC, NULL));
  g_assert_true (usbip_policy_admit (p, late1, 0, 0, t0 + G_USEC_PER_SEC, NULL));
}

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
  usbip_policy_set_max_sessions (p, 1); /* the smallest cap: one session */
  g_assert_false (usbip_policy_admit (p, v4, 1, 0, 0, &rule));
  g_assert_cmpstr (rule, ==, "max-sessions=1");
  g_clear_pointer (&rule, g_free);
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 0, NULL));

  /* token bucket with an injected clock: 2 per second, burst 2 */
  usbip_policy_set_accept_rate (p, 2.0, 2);
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 1000000, NULL));
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 1000000, NULL));
  g_assert_false (usbip_policy_admit (p, v4, 0, 0, 1000000, NULL));
  g_assert_false (usbip_policy_admit (p, v4, 0, 0, 1400000, NULL)); /* 0.8 token */
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 1500000, NULL));  /* 1.0 token */
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 9000000, NULL));
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 9000000, NULL)); /* capped at the burst */
  g_assert_false (usbip_policy_admit (p, v4, 0, 0, 9000000, NULL));
}

/* a peer of @family with the given credentials (-1: unknown) */
static UsbipPeer *
family_peer (GSocketFamily family, gint64 uid, gint64 gid, gint64 cid)
{
  UsbipPeer *p = usbip_peer_new ();

  p->family = family;
  p->uid = uid;
  p->gid = gid;
  p->cid = cid;
  return p;
}

/* asserts the decision on @peer and the rule named when refused */
static void
assert_admits (UsbipPolicy *p, const UsbipPeer *peer, guint of_peer, gint64 now_us, const gchar *refusing)
{
  g_autofree gchar *rule = NULL;
  gboolean admitted = usbip_policy_admit_peer (p, peer, 0, of_peer, now_us, &rule);

  g_assert_cmpint (admitted, ==, refusing == NULL);
  g_assert_cmpstr (rule, ==, refusing);
}

/* each family judged by its own rules, a family without rules refused while any is set */
static void
test_policy_families (void)
{
  g_autoptr (UsbipPolicy) p = usbip_policy_new ();
  g_autoptr (GInetAddress) v4 = g_inet_address_new_from_string ("192.0.2.1");
  g_autoptr (UsbipPeer) ip = usbip_peer_new_inet (v4, 5000);
  g_autoptr (UsbipPeer) root = family_peer (G_SOCKET_FAMILY_UNIX, 0, 0, -1);
  g_autoptr (UsbipPeer) user = family_peer (G_SOCKET_FAMILY_UNIX, 1000, 100, -1);
  g_autoptr (UsbipPeer) nobody = family_peer (G_SOCKET_FAMILY_UNIX, -1, -1, -1);
  g_autoptr (UsbipPeer) guest3 = family_peer (USBIP_SOCKET_FAMILY_VSOCK, -1, -1, 3);
  g_autoptr (UsbipPeer) guest4 = family_peer (USBIP_SOCKET_FAMILY_VSOCK, -1, -1, 4);
  g_autoptr (UsbipPeer) unknown = usbip_peer_new ();
  const GSocketFamily families[] = { G_SOCKET_FAMILY_IPV4, G_SOCKET_FAMILY_IPV6, G_SOCKET_FAMILY_UNIX,
                                     USBIP_SOCKET_FAMILY_VSOCK, G_SOCKET_FAMILY_INVALID };

  /* no rule at all: every peer, and no family is refused as a whole */
  assert_admits (p, unknown, 0, 0, NULL);
  assert_admits (p, guest4, 0, 0, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    g_assert_false (usbip_policy_refuses_family (p, families[i]));

  /* a uid rule (root's uid 0 is a uid like any other) */
  usbip_policy_add_allow_uid (p, 0);
  assert_admits (p, root, 0, 0, NULL);
  assert_admits (p, user, 0, 0, "allow-uid/allow-gid");
  assert_admits (p, nobody, 0, 0, "allow-uid/allow-gid"); /* unknown credentials match nothing */
  assert_admits (p, ip, 0, 0, "allow-cidr (none set for IP peers)");
  assert_admits (p, guest3, 0, 0, "allow-cid (none set for vsock peers)");
  assert_admits (p, unknown, 0, 0, "allow-cidr (peer address unknown)");
  g_assert_false (usbip_policy_refuses_family (p, G_SOCKET_FAMILY_UNIX));
  g_assert_true (usbip_policy_refuses_family (p, G_SOCKET_FAMILY_IPV4));
  g_assert_true (usbip_policy_refuses_family (p, G_SOCKET_FAMILY_IPV6));
  g_assert_true (usbip_policy_refuses_family (p, USBIP_SOCKET_FAMILY_VSOCK));
  g_assert_true (usbip_policy_refuses_family (p, G_SOCKET_FAMILY_INVALID));

  /* a gid rule alone admits by group */
  {
    g_autoptr (UsbipPolicy) g = usbip_policy_new ();

    usbip_policy_add_allow_gid (g, 100);
    assert_admits (g, user, 0, 0, NULL);
    assert_admits (g, root, 0, 0, "allow-uid/allow-gid");
    g_assert_false (usbip_policy_refuses_family (g, G_SOCKET_FAMILY_UNIX));
    g_assert_true (usbip_policy_refuses_family (g, G_SOCKET_FAMILY_IPV4));
    usbip_policy_add_allow_uid (g, 0); /* as many uid rules as gid rules: still rules */
    assert_admits (g, root, 0, 0, NULL);
    g_assert_false (usbip_policy_refuses_family (g, G_SOCKET_FAMILY_UNIX));
  }

  /* a cid rule alone: vsock by context id; Unix peers have none of their own */
  {
    g_autoptr (UsbipPolicy) c = usbip_policy_new ();

    usbip_policy_add_allow_cid (c, 3);
    assert_admits (c, guest3, 0, 0, NULL);
    assert_admits (c, guest4, 0, 0, "allow-cid");
    assert_admits (c, root, 0, 0, "allow-uid/allow-gid (none set for Unix peers)");
    g_assert_false (usbip_policy_refuses_family (c, USBIP_SOCKET_FAMILY_VSOCK));
    g_assert_true (usbip_policy_refuses_family (c, G_SOCKET_FAMILY_UNIX));
    g_assert_true (usbip_policy_refuses_family (c, G_SOCKET_FAMILY_IPV6));
  }

  /* an IP rule: that family admits, the others refuse */
  {
    g_autoptr (UsbipPolicy) i = usbip_policy_new ();

    g_assert_true (usbip_policy_add_allow_cidr (i, "192.0.2.0/24", NULL));
    assert_admits (i, ip, 0, 0, NULL);
    g_assert_false (usbip_policy_refuses_family (i, G_SOCKET_FAMILY_IPV4));
    g_assert_false (usbip_policy_refuses_family (i, G_SOCKET_FAMILY_IPV6));
    g_assert_true (usbip_policy_refuses_family (i, G_SOCKET_FAMILY_UNIX));
  }

  /* the per-peer cap counts the peer's own sessions */
  usbip_policy_set_max_sessions_per_peer (p, 2);
  assert_admits (p, root, 1, 0, NULL);
  assert_admits (p, root, 2, 0, "max-sessions-per-peer=2");
}

/* a prefix length is checked against the family's bits, and the error says what fits */
static void
test_policy_prefix_lengths (void)
{
  g_autoptr (UsbipPolicy) p = usbip_policy_new ();
  const gchar *fit[] = { "0.0.0.0/0", "10.0.0.0/19", "192.0.2.1/32", "::/0", "2001:db8::1/128", "192.0.2.1" };
  const struct {
    const gchar *cidr, *says;
  } misfit[] = {
    { "192.0.2.0/33", "must be 0..32 for an IPv4 address" },
    { "fd00::/129", "must be 0..128 for an IPv6 address" },
    { "10.0.0.0/-1", "must be 0..32 for an IPv4 address" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fit); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (usbip_policy_add_allow_cidr (p, fit[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (misfit); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (usbip_policy_add_allow_cidr (p, misfit[i].cidr, &error));
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, misfit[i].says));
    }
}

/* the accept rate: a burst of 0 is 1, each peer (a uid, a context id) has its own bucket,
 * and setting the rate again starts every bucket full */
static void
test_policy_rate_per_peer (void)
{
  g_autoptr (UsbipPolicy) p = usbip_policy_new ();
  g_autoptr (UsbipPeer) root = family_peer (G_SOCKET_FAMILY_UNIX, 0, 0, -1);
  g_autoptr (UsbipPeer) user = family_peer (G_SOCKET_FAMILY_UNIX, 1000, 100, -1);
  g_autoptr (UsbipPeer) guest3 = family_peer (USBIP_SOCKET_FAMILY_VSOCK, -1, -1, 3);

  usbip_policy_set_accept_rate (p, 1.0, 0);
  assert_admits (p, root, 0, 1000000, NULL);
  assert_admits (p, root, 0, 1000000, "accept-rate-limit=1");
  assert_admits (p, user, 0, 1000000, NULL); /* another uid, another bucket */
  assert_admits (p, guest3, 0, 1000000, NULL);
  assert_admits (p, guest3, 0, 1000000, "accept-rate-limit=1");
  usbip_policy_set_accept_rate (p, 1.0, 1); /* new settings: the buckets start full */
  assert_admits (p, root, 0, 1000000, NULL);
}

static void
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* the API's promises at its edges: an unknown peer's key, an address that does not parse
 * (named, with an example, and no rule added), the rule out-parameter cleared on
 * admission, and whatever is attached to a policy released with it */
static void
test_policy_contract (void)
{
  g_autoptr (UsbipPolicy) p = usbip_policy_new ();
  g_autoptr (GInetAddress) v4 = g_inet_address_new_from_string ("192.0.2.1");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *unknown = usbip_policy_peer_key (NULL);
  gchar *rule = (gchar *) "stale";
  gboolean released = FALSE;

  g_assert_cmpstr (unknown, ==, "unknown");
  g_assert_false (usbip_policy_add_allow_cidr (p, "not-an-address", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "\"not-an-address\""));
  g_assert_nonnull (strstr (error->message, "write e.g. 192.168.1.0/24"));
  g_assert_false (usbip_policy_refuses_family (p, G_SOCKET_FAMILY_UNIX)); /* still no rule */
  g_assert_true (usbip_policy_admit (p, v4, 0, 0, 0, &rule));
  g_assert_null (rule);

  g_object_set_data_full (G_OBJECT (p), "test-flag", &released, set_flag);
  g_clear_object (&p);
  g_assert_true (released);
}

/* ---- issue 10: the daemon under attack ---- */

/* iterate the default main context for an observation window; tests assert what was
 * counted in it, never how long anything took */
static gboolean
window_over (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static guint
iterate_for (guint ms)
{
  gboolean over = FALSE;
  guint id = g_timeout_add (ms, window_over, &over);
  guint wakeups = 0;

  while (!over)
    {
      g_main_context_iteration (NULL, TRUE);
      wakeups++;
    }
  (void) id;
  return wakeups;
}

static guint
count_open_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* item 1: at the descriptor limit the exporter pauses accepting instead of spinning, logs
 * once, and serves again once descriptors are free */
static void
test_fd_exhaustion (Fixture *f, gconstpointer data)
{
  struct rlimit saved, low;
  g_autoptr (GPtrArray) idle = g_ptr_array_new_with_free_func (g_object_unref);
  guint before, wakeups;

  usbip_exporter_set_handshake_timeout (f->exporter, 0); /* idle clients keep their descriptor */
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  low = saved;
  low.rlim_cur = count_open_fds () + 40;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &low), ==, 0);
  capture_start ();
  /* 30 client sockets, then the exporter accepts until the 40 descriptors are used up */
  for (guint i = 0; i < 30; i++)
    g_ptr_array_add (idle, test_util_connect (f->port));
  test_util_wait_for (captured_count ("cannot accept connections") > 0, 10000);
  g_assert_cmpuint (captured_count ("cannot accept connections"), ==, 1);
  g_assert_nonnull (strstr (((LogRecord *) g_ptr_array_index (captured, captured->len - 1))->message, "open files"));
  g_assert_cmpuint (usbip_exporter_get_n_sessions (f->exporter), <, 30);

  /* a one-second window at the limit: no retry storm, no flood of log lines */
  before = captured->len;
  wakeups = iterate_for (1000);
  g_test_message ("at the fd limit: %u main-loop wakeups and %u log lines in the window", wakeups,
                  captured->len - before);
  g_assert_cmpuint (captured->len - before, ==, 0);
  g_assert_cmpuint (wakeups, <, 100);

  /* the idle clients leave: the queued connections are taken and a good client is served */
  g_ptr_array_set_size (idle, 0);
  assert_serves_good_client (f);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  capture_stop ();
}

/* item 2: a busid with `/..` never reaches a path; the reply does not tell whether the
 * target exists */
static void
test_vudc_path_traversal (void)
{
  FakeKernel *fk = fake_kernel_new ();
  g_autoptr (UsbipExportBackend) vudc = NULL;
  g_autoptr (UsbipExporter) exporter = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *outside = g_build_filename (fake_kernel_get_root (fk), "x", NULL);
  g_autofree gchar *outside_desc = g_build_filename (outside, "dev_desc", NULL);
  g_autofree gchar *outside_sockfd = g_build_filename (outside, "usbip_sockfd", NULL);
  g_autofree gchar *sockfd_text = NULL;
  const guint8 desc[18] = { 18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x34, 0x12, 0x78, 0x56, 0x00, 0x01, 1, 2, 3, 1 };
  const gchar *busids[] = { "usbip-vudc.0/../../../../x", "usbip-vudc.0/../../../../y" };
  guint n_writes;
  guint16 port;
  gint watch_fd, wd;
  guint8 events[4096];

  fake_kernel_add_vudc (fk, 0, 0x1d6b, 0x0104);
  /* a look-alike gadget outside the sysfs tree (<root>/x, next to <root>/sys) */
  fake_kernel_put (fk, "/x/usbip_status", "1\n");
  fake_kernel_put (fk, "/x/usbip_sockfd", "");
  g_assert_true (g_file_set_contents (outside_desc, (const gchar *) desc, sizeof desc, NULL));
  vudc = USBIP_EXPORT_BACKEND (usbip_vudc_backend_new (fake_kernel_get_sysfs (fk)));
  exporter = usbip_exporter_new (vudc);
  listener = test_util_listen (&port);
  g_assert_true (usbip_exporter_add_socket (exporter, listener, &error));
  usbip_exporter_start (exporter);
  n_writes = fake_kernel_get_writes (fk)->len;
  watch_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  g_assert_cmpint (watch_fd, >=, 0);
  wd = inotify_add_watch (watch_fd, outside, IN_OPEN | IN_ACCESS | IN_MODIFY);
  g_assert_cmpint (wd, >=, 0);

  for (guint i = 0; i < G_N_ELEMENTS (busids); i++)
    {
      Raw r = { .port = port };
      UsbipOpHeader hdr;

      g_test_message ("busid %s", busids[i]);
      r.send = import_request (busids[i]);
      raw_run (&r);
      /* the same answer whether <root>/x exists (i = 0) or not (i = 1) */
      g_assert_cmpuint (g_bytes_get_size (r.reply), ==, 8);
      g_assert_true (usbip_decode_op_header (g_bytes_get_data (r.reply, NULL), 8, &hdr, NULL));
      g_assert_cmpuint (hdr.status, ==, USBIP_ST_NODEV);
      g_bytes_unref (r.send);
      g_bytes_unref (r.reply);
    }
  /* nothing outside the tree was opened or written */
  g_assert_cmpint (read (watch_fd, events, sizeof events), ==, -1);
  g_assert_cmpint (errno, ==, EAGAIN);
  g_assert_cmpuint (fake_kernel_get_writes (fk)->len, ==, n_writes);
  g_assert_true (g_file_get_contents (outside_sockfd, &sockfd_text, NULL, NULL));
  g_assert_cmpstr (sockfd_text, ==, "");
  close (watch_fd);

  /* every entry point refuses it with one error (no "GError set over the top") */
  g_assert_null (usbip_export_backend_get_device (vudc, busids[0], &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (usbip_export_backend_export_fd (vudc, busids[0], 0, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (usbip_export_backend_export_fd (vudc, "1-1", 0, &error)); /* valid, not vudc: one error */
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND);
  g_clear_object (&exporter);
  fake_kernel_free (fk);
}

static GSocket *
connect_from (const gchar *source, guint16 port)
{
  g_autoptr (GError) error = NULL;
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) src = g_inet_address_new_from_string (source);
  g_autoptr (GSocketAddress) local = g_inet_socket_address_new (src, 0);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, port);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (s, local, FALSE, &error));
  g_assert_true (g_socket_connect (s, addr, NULL, &error));
  return s;
}

/* the accept loop's peer text and key (read from the socket address into buffers, no
 * GObject) are exactly what usbip_peer_to_string() and usbip_peer_get_key() say */
static void
check_peer_info (gint fd, const gchar *text, const gchar *key, gboolean is_ip)
{
  g_auto (UsbipPeerInfo) bare = { 0 };
  g_auto (UsbipPeerInfo) full = { 0 };
  g_autoptr (UsbipPeer) peer = usbip_peer_new_from_fd (fd);
  g_autofree gchar *peer_text = usbip_peer_to_string (peer);
  g_autofree gchar *peer_key = usbip_peer_get_key (peer);

  usbip_peer_info_read (&bare, fd, FALSE);
  usbip_peer_info_read (&full, fd, TRUE);
  g_assert_cmpstr (bare.text, ==, text);
  g_assert_cmpstr (bare.key, ==, key);
  g_assert_cmpstr (full.text, ==, text);
  g_assert_cmpstr (full.key, ==, key);
  g_assert_cmpstr (peer_text, ==, text);
  g_assert_cmpstr (peer_key, ==, key);
  g_assert_null (bare.peer.address);
  g_assert_true ((full.peer.address != NULL) == is_ip);
  g_assert_cmpint (bare.peer.family, ==, peer->family);
  g_assert_cmpuint (bare.peer.port, ==, peer->port);
  g_assert_cmpint (bare.peer.uid, ==, peer->uid);
  g_assert_cmpint (bare.peer.cid, ==, peer->cid);
}

/* the server end of a TCP connection from @from to a listener on @listen_on */
static void
check_tcp_peer_info (GSocketFamily family, const gchar *listen_on, const gchar *from, const gchar *text_host,
                     const gchar *key)
{
  g_autoptr (GSocket) listener = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) any = g_inet_address_new_from_string (listen_on);
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new (any, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GSocket) client = NULL;
  g_autoptr (GSocket) server = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autofree gchar *text = NULL;
  GSocketFamily from_family = strchr (from, ':') != NULL ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
  g_autoptr (GInetAddress) from_addr = g_inet_address_new_from_string (from);
  g_autoptr (GSocketAddress) to = NULL;

  g_assert_nonnull (listener);
  if (family == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (listener, IPPROTO_IPV6, IPV6_V6ONLY, 0, NULL);
  if (!g_socket_bind (listener, bind_addr, TRUE, NULL))
    {
      g_test_message ("no %s here: not checked", listen_on);
      return;
    }
  g_assert_true (g_socket_listen (listener, NULL));
  bound = g_socket_get_local_address (listener, NULL);
  to = g_inet_socket_address_new (from_addr, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  client = g_socket_new (from_family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_connect (client, to, NULL, NULL));
  server = g_socket_accept (listener, NULL, NULL);
  g_assert_nonnull (server);
  local = g_socket_get_local_address (client, NULL);
  text = g_strdup_printf (strchr (text_host, ':') != NULL ? "[%s]:%u" : "%s:%u", text_host,
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  check_peer_info (g_socket_get_fd (server), text, key, TRUE);
}

static void
test_peer_info (void)
{
  gint pair[2], pipe_fds[2];
  g_autofree gchar *unix_text = g_strdup_printf ("uid=%u pid=%d", (guint) getuid (), (gint) getpid ());
  g_autofree gchar *unix_key = g_strdup_printf ("uid=%u", (guint) getuid ());

  check_tcp_peer_info (G_SOCKET_FAMILY_IPV4, "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1");
  /* IPv4 on a dual-stack socket: shown mapped, counted as the IPv4 address */
  check_tcp_peer_info (G_SOCKET_FAMILY_IPV6, "::", "127.0.0.1", "::ffff:127.0.0.1", "127.0.0.1");
  check_tcp_peer_info (G_SOCKET_FAMILY_IPV6, "::1", "::1", "::1", "::/64");
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
  check_peer_info (pair[0], unix_text, unix_key, FALSE);
  close (pair[0]), close (pair[1]);
  /* not a socket: getpeername() fails, the peer is unknown (refused whenever a rule is set) */
  g_assert_true (g_unix_open_pipe (pipe_fds, FD_CLOEXEC, NULL));
  check_peer_info (pipe_fds[0], "unknown", "unknown", FALSE);
  close (pipe_fds[0]), close (pipe_fds[1]);
}

/* item 3: each peer has its own accept-rate bucket; IPv6 peers are counted by /64 */
static void
test_rate_per_peer (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  g_autoptr (UsbipPolicy) logic = usbip_policy_new ();
  g_autoptr (GInetAddress) a1 = g_inet_address_new_from_string ("2001:db8:1:2::1");
  g_autoptr (GInetAddress) a2 = g_inet_address_new_from_string ("2001:db8:1:2:ffff::9");
  g_autoptr (GInetAddress) b = g_inet_address_new_from_string ("2001:db8:1:3::1");
  g_autoptr (GInetAddress) mapped = g_inet_address_new_from_string ("::ffff:192.0.2.7");
  g_autofree gchar *k1 = usbip_policy_peer_key (a1);
  g_autofree gchar *k2 = usbip_policy_peer_key (a2);
  g_autofree gchar *k3 = usbip_policy_peer_key (mapped);
  Raw good = { .port = f->port };

  /* the /64 is one peer: its addresses share one bucket, the next /64 has its own */
  g_assert_cmpstr (k1, ==, "2001:db8:1:2::/64");
  g_assert_cmpstr (k2, ==, k1);
  g_assert_cmpstr (k3, ==, "192.0.2.7");
  usbip_policy_set_accept_rate (logic, 1.0, 1);
  g_assert_true (usbip_policy_admit (logic, a1, 0, 0, 1000000, NULL));
  g_assert_false (usbip_policy_admit (logic, a2, 0, 0, 1000000, NULL));
  g_assert_true (usbip_policy_admit (logic, b, 0, 0, 1000000, NULL));

  /* 127.0.0.2 floods (connect, close) 10 times against 0.01/s with a burst of 2 */
  usbip_policy_set_accept_rate (policy, 0.01, 2);
  usbip_exporter_set_policy (f->exporter, policy);
  for (guint i = 0; i < 10; i++)
    {
      GSocket *s = connect_from ("127.0.0.2", f->port);
      g_object_unref (s);
      test_util_wait_for (f->closed + f->refused >= i + 1, 10000);
    }
  g_assert_cmpuint (f->refused, ==, 8);
  g_assert_cmpstr (f->refused_rule, ==, "accept-rate-limit=0.01");
  /* another address is still admitted and answered */
  good.send = devlist_request ();
  raw_run (&good);
  g_assert_cmpuint (g_bytes_get_size (good.reply), >, 0);
  g_assert_cmpuint (f->refused, ==, 8);
  g_bytes_unref (good.send);
  g_bytes_unref (good.reply);
}

/* item 4: hostile busids reach the log escaped: no forged line, no terminal escape, valid
 * UTF-8 (the JSON log writes these fields as they are) */
static void
test_log_injection (Fixture *f, gconstpointer data)
{
  const gchar *busids[] = {
    "1-1\nusbipcored: notice: forged",
    "\033[2J\033]0;owned\007",
    "\xff\xfe\xc3\x28",
    "1-1\r\\x0a",
  };

  capture_start ();
  for (guint i = 0; i < G_N_ELEMENTS (busids); i++)
    {
      Raw r = { .port = f->port };

      r.send = import_request (busids[i]);
      raw_run (&r);
      g_assert_cmpuint (g_bytes_get_size (r.reply), ==, 8); /* refused, ST_NODEV */
      g_bytes_unref (r.send);
      g_bytes_unref (r.reply);
    }
  g_assert_cmpuint (captured->len, >=, G_N_ELEMENTS (busids));
  for (guint i = 0; i < captured->len; i++)
    {
      LogRecord *r = g_ptr_array_index (captured, i);

      g_assert_true (g_utf8_validate (r->fields, -1, NULL));
      for (const gchar *p = r->fields; *p != '\0'; p++)
        g_assert_true (*p == '\n' || (*p >= 0x20 && *p != 0x7f)); /* '\n' separates the fields here */
    }
  g_assert_cmpuint (captured_count ("1-1\\nusbipcored: notice: forged"), >=, 1);
  g_assert_cmpuint (captured_count ("\\x1b[2J\\x1b]0;owned\\x07"), >=, 1);
  g_assert_cmpuint (captured_count ("\\xff\\xfe\\xc3("), >=, 1);
  g_assert_cmpuint (captured_count ("1-1\\r\\\\x0a"), >=, 1); /* a literal backslash is doubled */
  capture_stop ();
}

/* item 5: a peer without a known address is refused when any address rule is set */
static void
test_unknown_peer_fail_closed (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("usbip-unix-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "sock", NULL);
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
  g_autoptr (GSocket) unix_listener = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_autoptr (GSocket) client = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_autoptr (GSocket) reset = NULL;
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GBytes) req = devlist_request ();

  g_assert_true (usbip_policy_add_allow_cidr (policy, "127.0.0.0/8", NULL));
  usbip_exporter_set_policy (f->exporter, policy);

  /* a Unix-socket peer: allow-cidr does not cover its family, and with a rule set the
   * uncovered family is refused */
  g_assert_true (g_socket_bind (unix_listener, addr, TRUE, &error));
  g_assert_true (g_socket_listen (unix_listener, &error));
  g_assert_true (usbip_exporter_add_socket (f->exporter, unix_listener, &error));
  g_assert_true (g_socket_connect (client, addr, NULL, &error));
  test_util_send (client, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
  test_util_wait_for (f->refused >= 1, 10000);
  g_assert_cmpstr (f->refused_rule, ==, "allow-uid/allow-gid (none set for Unix peers)");
  g_socket_set_timeout (client, 5);
  reply = test_util_read_all (client, 4096);
  g_assert_cmpuint (g_bytes_get_size (reply), ==, 0); /* closed without a reply */

  /* getpeername() fails: the client reset the connection before it was accepted */
  reset = test_util_connect (f->port);
  {
    struct linger lg = { 1, 0 };
    g_assert_cmpint (setsockopt (g_socket_get_fd (reset), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
  }
  g_clear_object (&reset); /* RST */
  test_util_wait_for (f->refused >= 2, 10000);
  g_assert_cmpstr (f->refused_rule, ==, "allow-cidr (peer address unknown)");
  g_assert_cmpuint (f->closed, ==, 0); /* no session was opened for either */
  g_assert_cmpuint (f->opened, ==, 0);
  assert_serves_good_client (f);
  unlink (path);
  rmdir (dir);
}

/* item 6: session-closed carries the status that was sent; session-opened came first, for
 * the same peer */
static void
test_session_closed_status (Fixture *f, gconstpointer data)
{
  Raw r = { .port = f->port };

  r.send = import_request ("7-7");
  raw_run (&r);
  g_assert_cmpuint (g_bytes_get_size (r.reply), ==, 8);
  test_util_wait_for (f->closed >= 1, 10000);
  g_assert_cmpstr (f->closed_op, ==, "OP_REQ_IMPORT");
  g_assert_cmpuint (f->closed_status, ==, USBIP_ST_NODEV);
  g_assert_cmpuint (f->opened, ==, 1);
  g_assert_true (g_str_has_prefix (f->opened_peer, "127.0.0.1"));
  g_assert_cmpstr (f->opened_peer, ==, f->closed_peer);
  g_bytes_unref (r.send);
  g_bytes_unref (r.reply);
}

typedef struct {
  guint calls;
  gchar *peer;
  gchar *op;
  guint status;
  guint64 duration_ms;
} ClosedArgs;

static void
record_session_closed (ClosedArgs *a, const gchar *peer, const gchar *op, guint status, guint64 duration_ms,
                       UsbipExporter *e)
{
  g_assert_true (USBIP_IS_EXPORTER (e));
  a->calls++;
  g_free (a->peer);
  a->peer = g_strdup (peer);
  g_free (a->op);
  a->op = g_strdup (op);
  a->status = status;
  a->duration_ms = duration_ms;
}

/* session-closed's own marshallers give every argument, on the one-handler (va_list) path
 * and on the GValue path that two handlers take, with swapped data too */
static void
test_session_closed_arguments (Fixture *f, gconstpointer data)
{
  ClosedArgs a = { 0 };
  Raw slow = { .port = f->port, .delay_us = 40000 }; /* 8 bytes: 280 ms at least */
  Raw fast = { .port = f->port };
  gint64 start = g_get_monotonic_time ();
  gulong id;

  fast.send = import_request ("7-7");
  raw_run (&fast);
  test_util_wait_for (f->closed >= 1, 10000);
  g_assert_cmpstr (f->closed_op, ==, "OP_REQ_IMPORT");
  g_assert_cmpuint (f->closed_status, ==, USBIP_ST_NODEV);
  g_assert_cmpstr (f->closed_peer, ==, f->opened_peer);

  id = g_signal_connect_swapped (f->exporter, "session-closed", G_CALLBACK (record_session_closed), &a);
  slow.send = devlist_request ();
  start = g_get_monotonic_time ();
  raw_run (&slow);
  test_util_wait_for (f->closed >= 2, 10000);
  g_assert_cmpuint (a.calls, ==, 1);
  g_assert_cmpstr (a.peer, ==, f->closed_peer);
  g_assert_true (g_str_has_prefix (a.peer, "127.0.0.1:"));
  g_assert_cmpstr (a.op, ==, "OP_REQ_DEVLIST");
  g_assert_cmpstr (f->closed_op, ==, "OP_REQ_DEVLIST");
  g_assert_cmpuint (a.status, ==, 0);
  g_assert_cmpuint (f->closed_status, ==, 0);
  g_assert_cmpuint (a.duration_ms, >=, 280);
  g_assert_cmpuint (a.duration_ms, <=, (guint64) (g_get_monotonic_time () - start) / 1000);
  g_signal_handler_disconnect (f->exporter, id);
  g_free (a.peer);
  g_free (a.op);
  g_bytes_unref (fast.send);
  g_bytes_unref (fast.reply);
  g_bytes_unref (slow.send);
  g_bytes_unref (slow.reply);
}

/* item 7: what the daemon logs about a client is said in the daemon's terms */
static void
test_daemon_wording (Fixture *f, gconstpointer data)
{
  Raw idle = { .port = f->port }; /* sends nothing */
  g_autoptr (GSocket) truncated = NULL;
  g_autofree gchar *no_request =
      g_strdup_printf ("client sent no request within --handshake-timeout %u ms", test_util_scale_ms (1000));

  capture_start ();
  raw_run (&idle);
  g_assert_cmpuint (captured_count (no_request), ==, 1);
  /* 3 bytes of a header, then the client closes its side */
  truncated = test_util_connect (f->port);
  test_util_send (truncated, truncated_header, sizeof truncated_header);
  g_assert_true (g_socket_shutdown (truncated, FALSE, TRUE, NULL));
  test_util_wait_for (f->closed >= 2, 10000);
  g_assert_cmpuint (captured_count ("client closed the connection after 3 bytes, before a whole request"), ==, 1);
  /* none of the client-side advice of the I/O layer */
  g_assert_cmpuint (captured_count ("raise the timeout"), ==, 0);
  g_assert_cmpuint (captured_count ("--allow-cidr"), ==, 0);
  g_assert_cmpuint (captured_count ("may refuse this client"), ==, 0);
  g_bytes_unref (idle.reply);
  capture_stop ();
}

/* item 8: the handshake read stops at the end of the request; what follows is left on the
 * socket for the kernel */
typedef struct {
  FakeKernel *fk;
  gchar seen[64];
  gssize n_seen;
} Handoff;

static void
on_exported (UsbipExporter *e, const gchar *busid, const gchar *peer, Handoff *h)
{
  GPtrArray *writes = fake_kernel_get_writes (h->fk);
  const gchar *last = g_ptr_array_index (writes, writes->len - 1);
  const gchar *eq = strrchr (last, '=');
  gint fd;

  /* the fd the exporter handed to the (fake) kernel, still open: look at what is queued */
  g_assert_true (eq - last > 13 && strncmp (eq - 13, "/usbip_sockfd", 13) == 0);
  fd = atoi (eq + 1);
  h->n_seen = recv (fd, h->seen, sizeof h->seen, MSG_PEEK | MSG_DONTWAIT);
}

static void
test_trailing_bytes_for_kernel (Fixture *f, gconstpointer data)
{
  Raw r = { .port = f->port };
  Handoff h = { .fk = f->fk };
  static const gchar urb[] = "URB-BYTES-FOR-THE-KERNEL";
  GByteArray *a = g_byte_array_new ();

  usbip_encode_op_req_import (a, "1-1");
  g_byte_array_append (a, (const guint8 *) urb, sizeof urb - 1);
  r.send = g_byte_array_free_to_bytes (a); /* one write: the request and what follows */
  g_signal_connect (f->exporter, "device-exported", G_CALLBACK (on_exported), &h);
  raw_run (&r);
  g_assert_cmpuint (g_bytes_get_size (r.reply), ==, 8 + 312);
  g_assert_cmpint (h.n_seen, ==, sizeof urb - 1);
  g_assert_cmpmem (h.seen, (gsize) h.n_seen, urb, sizeof urb - 1);
  g_bytes_unref (r.send);
  g_bytes_unref (r.reply);
}

/* ---- requests sent with the connection: answered while accepting (the fast path) ---- */

/* a DEVLIST already there when the connection is accepted is answered at once, counted
 * and logged as one through the asynchronous path would be */
static void
test_at_accept_devlist (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) request = devlist_request ();
  g_autoptr (GBytes) reply = NULL;
  gboolean at_accept = FALSE;

  capture_start ();
  reply = test_util_request_at_accept (f->exporter, f->port, request, &at_accept);
  g_assert_true (at_accept);
  g_assert_cmpuint (g_bytes_get_size (reply), ==, 8 + 4 + 2 * (312 + 4)); /* two devices, one interface each */
  g_assert_cmpuint (f->closed, ==, 1);
  g_assert_cmpstr (f->closed_op, ==, "OP_REQ_DEVLIST");
  g_assert_cmpuint (f->closed_status, ==, 0);
  g_assert_cmpuint (captured_count ("OP_REQ_DEVLIST: 2 devices"), ==, 1);
  g_assert_cmpuint (usbip_exporter_get_n_sessions (f->exporter), ==, 0);
}

/* Connections that queued while the main loop was busy are all taken in one round: the
 * exporter accepts on its own listening socket until the queue is empty, and answers each
 * DEVLIST that came with its connection there and then (GIO's accept took one per round) */
static void
test_accept_burst (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) request = devlist_request ();
  GSocket *clients[8];
  gsize len;
  gconstpointer req = g_bytes_get_data (request, &len);

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      clients[i] = test_util_connect (f->port); /* connected: in the listening socket's queue */
      test_util_send (clients[i], req, len);
    }
  g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->opened, ==, G_N_ELEMENTS (clients));
  g_assert_cmpuint (f->closed, ==, G_N_ELEMENTS (clients));
  g_assert_cmpstr (f->closed_op, ==, "OP_REQ_DEVLIST");
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      g_autoptr (GBytes) reply = test_util_read_all (clients[i], 1 << 20);

      g_assert_cmpuint (g_bytes_get_size (reply), ==, 8 + 4 + 2 * (312 + 4));
      g_object_unref (clients[i]);
    }
  g_assert_cmpuint (usbip_exporter_get_n_sessions (f->exporter), ==, 0);
}

/* a transport that only implements add_listener (no create_listener) is still served:
 * GIO's listener accepts for it */
typedef struct {
  GObject parent_instance;
  guint16 port;
} TestAddOnlyTransport;
typedef GObjectClass TestAddOnlyTransportClass;

GType test_add_only_transport_get_type (void);
static void test_add_only_transport_iface_init (UsbipTransportInterface *iface);
G_DEFINE_TYPE_WITH_CODE (TestAddOnlyTransport, test_add_only_transport, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (USBIP_TYPE_TRANSPORT, test_add_only_transport_iface_init))

static gboolean
add_only_add_listener (UsbipTransport *transport, GSocketListener *listener, const gchar *address, GError **error)
{
  TestAddOnlyTransport *self = (TestAddOnlyTransport *) transport;
  g_autoptr (GSocket) socket = test_util_listen (&self->port);

  return g_socket_listener_add_socket (listener, socket, NULL, error);
}

static void
test_add_only_transport_iface_init (UsbipTransportInterface *iface)
{
  iface->add_listener = add_only_add_listener;
}

static void
test_add_only_transport_class_init (TestAddOnlyTransportClass *klass)
{
}

static void
test_add_only_transport_init (TestAddOnlyTransport *self)
{
}

static void
test_listen_add_only_transport (Fixture *f, gconstpointer data)
{
  TestAddOnlyTransport *transport = g_object_new (test_add_only_transport_get_type (), NULL);
  g_autoptr (UsbipExporter) exporter = usbip_exporter_new (f->host);
  g_autoptr (GBytes) request = devlist_request ();
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  gboolean at_accept = FALSE;

  g_assert_true (usbip_exporter_listen (exporter, USBIP_TRANSPORT (transport), "test:0", &error));
  g_assert_no_error (error);
  usbip_exporter_start (exporter);
  reply = test_util_request_at_accept (exporter, transport->port, request, &at_accept);
  g_assert_true (at_accept);
  g_assert_cmpuint (g_bytes_get_size (reply), ==, 8 + 4 + 2 * (312 + 4));
  g_object_unref (transport);
}

/* with debug output off, a debug event is not even made (formatting the ones of a DEVLIST
 * handshake was 40 % of its instructions); with it on, it is written as before */
static void
test_debug_events_off (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) request = devlist_request ();
  gboolean at_accept = FALSE;

  g_unsetenv ("G_MESSAGES_DEBUG");
  capture_start ();
  g_log_set_debug_enabled (FALSE);
  g_bytes_unref (test_util_request_at_accept (f->exporter, f->port, request, &at_accept));
  g_log_set_debug_enabled (TRUE);
  g_assert_true (at_accept);
  g_assert_cmpuint (captured_count ("OP_REQ_DEVLIST: 2 devices"), ==, 0);
  g_bytes_unref (test_util_request_at_accept (f->exporter, f->port, request, &at_accept));
  g_assert_cmpuint (captured_count ("OP_REQ_DEVLIST: 2 devices"), ==, 1);
  capture_stop ();
}

/* the admission policy still decides first: a refused client gets no reply, even with its
 * request already there */
static void
test_at_accept_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipPolicy) policy = usbip_policy_new ();
  g_autoptr (GBytes) request = devlist_request ();
  g_autoptr (GBytes) reply = NULL;
  gboolean at_accept = TRUE;

  g_assert_true (usbip_policy_add_allow_cidr (policy, "10.0.0.0/8", NULL));
  usbip_exporter_set_policy (f->exporter, policy);
  reply = test_util_request_at_accept (f->exporter, f->port, request, &at_accept);
  g_assert_cmpuint (g_bytes_get_size (reply), ==, 0);
  g_assert_false (at_accept); /* no session was opened, so none ended */
  g_assert_cmpuint (f->refused, ==, 1);
  g_assert_cmpstr (f->refused_rule, ==, "allow-cidr");
  g_assert_cmpuint (f->closed, ==, 0);
}

/* an import request sent with the URB traffic behind it: the header is taken at accept, the
 * bus ID read after it, and not one byte more (those belong to the kernel) */
static void
test_at_accept_import_leaves_trailing_bytes (Fixture *f, gconstpointer data)
{
  Handoff h = { .fk = f->fk };
  static const gchar urb[] = "URB-BYTES-FOR-THE-KERNEL";
  GByteArray *a = g_byte_array_new ();
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) reply = NULL;
  gboolean at_accept = FALSE;

  usbip_encode_op_req_import (a, "1-1");
  g_byte_array_append (a, (const guint8 *) urb, sizeof urb - 1);
  request = g_byte_array_free_to_bytes (a);
  g_signal_connect (f->exporter, "device-exported", G_CALLBACK (on_exported), &h);
  reply = test_util_request_at_accept (f->exporter, f->port, request, &at_accept);
  g_assert_cmpuint (g_bytes_get_size (reply), ==, 8 + 312);
  g_assert_cmpint (h.n_seen, ==, sizeof urb - 1);
  g_assert_cmpmem (h.seen, (gsize) h.n_seen, urb, sizeof urb - 1);
  g_assert_cmpstr (f->closed_op, ==, "OP_REQ_IMPORT");
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_log_set_debug_enabled (TRUE); /* the captured events include debug ones */
#define T(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  g_test_add_func ("/policy/logic", test_policy_logic);
  g_test_add_func ("/policy/bucket-overflow", test_policy_bucket_overflow);
  g_test_add_func ("/policy/families", test_policy_families);
  g_test_add_func ("/policy/prefix-lengths", test_policy_prefix_lengths);
  g_test_add_func ("/policy/rate-per-peer", test_policy_rate_per_peer);
  g_test_add_func ("/policy/contract", test_policy_contract);
  g_test_add_func ("/policy/peer-info", test_peer_info);
  g_test_add_func ("/exporter/listen-backlog", test_listen_backlog);
  T ("/exporter/list-and-attach", test_list_and_attach);
  T ("/exporter/socket-options-handed", test_socket_options_handed);
  T ("/exporter/at-accept/devlist", test_at_accept_devlist);
  T ("/exporter/at-accept/refused", test_at_accept_refused);
  T ("/exporter/accept-burst", test_accept_burst);
  T ("/exporter/debug-events-off", test_debug_events_off);
  T ("/exporter/listen-add-only-transport", test_listen_add_only_transport);
  T ("/exporter/at-accept/import-leaves-trailing-bytes", test_at_accept_import_leaves_trailing_bytes);
  T ("/exporter/attach-unknown-busid", test_attach_unknown_busid);
  T ("/exporter/attach-no-free-port", test_attach_no_free_port);
  T ("/exporter/import-reply-bytes", test_import_reply_bytes);
  T ("/exporter/request-in-time-server-late", test_request_in_time_server_late);
  T ("/exporter/concurrency-200", test_concurrency);
  T ("/exporter/policy-allow-cidr", test_policy_allow_cidr);
  T ("/exporter/policy-per-peer", test_policy_per_peer);
  T ("/exporter/policy-rate", test_policy_rate);
  T ("/exporter/drain", test_drain);
  T ("/hostile/catalogue", test_hostile);
  T ("/hostile/handshake-deadline", test_handshake_deadline);
  T ("/hostile/idle-flood", test_idle_flood);
  T ("/hostile/byte-at-a-time", test_byte_at_a_time);
  T ("/hostile/fd-exhaustion", test_fd_exhaustion);
  g_test_add_func ("/hostile/vudc-path-traversal", test_vudc_path_traversal);
  T ("/hostile/rate-per-peer", test_rate_per_peer);
  T ("/hostile/log-injection", test_log_injection);
  T ("/hostile/unknown-peer-fail-closed", test_unknown_peer_fail_closed);
  T ("/hostile/session-closed-status", test_session_closed_status);
  T ("/hostile/session-closed-arguments", test_session_closed_arguments);
  T ("/hostile/daemon-wording", test_daemon_wording);
  T ("/hostile/trailing-bytes-for-kernel", test_trailing_bytes_for_kernel);
  return g_test_run ();
}
