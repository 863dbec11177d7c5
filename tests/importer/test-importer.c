/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UsbipImporter against a scripted peer on loopback: every reply status, replies split into
 * many segments, short replies, a wrong bus ID in the reply, a peer that never answers (the
 * deadline fires), a refused connection, cancellation.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-port-monitor-private.h"
#include "usbip-vhci-backend.h"
#include "usbip-vhci-records.h"

typedef struct {
  GSocket *listener;
  guint16 port;
  GBytes *reply;     /* what the peer answers */
  gsize segment;     /* bytes per send; 0 = all at once */
  guint delay_us;    /* between segments */
  gboolean silent;   /* never answer, hold the connection */
  gchar request[64]; /* what the peer received */
  gsize request_len;
  volatile gint received; /* the request is in */
  volatile gint done;
} Peer;

static gpointer
peer_thread (gpointer data)
{
  Peer *p = data;
  g_autoptr (GSocket) conn = g_socket_accept (p->listener, NULL, NULL);
  gsize len;
  const guint8 *b;

  g_assert_nonnull (conn);
  g_socket_set_timeout (conn, 5);
  g_socket_set_option (conn, IPPROTO_TCP, TCP_NODELAY, 1, NULL); /* really send tiny segments */
  gssize got = g_socket_receive (conn, p->request, sizeof p->request, NULL, NULL);

  p->request_len = got > 0 ? (gsize) got : 0;
  g_atomic_int_set (&p->received, 1);
  if (p->silent)
    {
      gchar c;
      g_socket_receive (conn, &c, 1, NULL, NULL); /* until the importer gives up */
    }
  else if (p->reply != NULL)
    {
      b = g_bytes_get_data (p->reply, &len);
      for (gsize off = 0; off < len;)
        {
          gsize n = p->segment ? MIN (p->segment, len - off) : len - off;
          test_util_send (conn, b + off, n);
          off += n;
          if (p->delay_us)
            g_usleep (p->delay_us);
        }
    }
  g_atomic_int_set (&p->done, 1);
  return NULL;
}

static UsbipDeviceInfo *
sample_device (const gchar *busid)
{
  UsbipDeviceInfo *d = usbip_device_info_new ();

  g_strlcpy (d->path, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1", sizeof d->path);
  g_strlcpy (d->busid, busid, sizeof d->busid);
  d->busnum = 1;
  d->devnum = 4;
  d->speed = USBIP_SPEED_HIGH;
  d->idVendor = 0x0781;
  d->idProduct = 0x5567;
  d->bNumConfigurations = 1;
  return d;
}

typedef struct {
  FakeKernel *fk;
  UsbipImporter *importer;
  Peer peer;
  GThread *thread;
  UsbipRemote *remote;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipVhciBackend) vhci = NULL;
  g_autoptr (UsbipSocketOptions) opts = usbip_socket_options_new ();

  f->fk = fake_kernel_new ();
  fake_kernel_add_vhci (f->fk, 1, 2);
  vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (f->fk));
  f->importer = usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);
  opts->read_timeout_ms = 500;
  usbip_importer_set_socket_options (f->importer, opts);
  f->peer.listener = test_util_listen (&f->peer.port);
  f->remote = usbip_remote_new ("127.0.0.1", f->peer.port);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->thread != NULL)
    g_thread_join (f->thread);
  g_clear_pointer (&f->peer.reply, g_bytes_unref);
  g_object_unref (f->peer.listener);
  g_object_unref (f->importer);
  usbip_remote_free (f->remote);
  fake_kernel_free (f->fk);
}

static void
start_peer (Fixture *f, GByteArray *reply)
{
  if (reply != NULL)
    f->peer.reply = g_byte_array_free_to_bytes (reply);
  f->thread = g_thread_new ("peer", peer_thread, &f->peer);
}

/* the peer answers OP_REQ_IMPORT with ST_OK and @dev */
static void
serve_import (Fixture *f, const UsbipDeviceInfo *dev)
{
  GByteArray *reply = g_byte_array_new ();

  usbip_encode_op_rep_import (reply, USBIP_ST_OK, dev);
  start_peer (f, reply);
}

static UsbipPortInfo *
do_attach (Fixture *f, const gchar *busid, GError **error)
{
  return test_util_attach (f->importer, f->remote, busid, error);
}

static GPtrArray *
do_list (Fixture *f, GError **error)
{
  return test_util_list_devices (f->importer, f->remote, error);
}

static void
test_attach_ok_segmented (Fixture *f, gconstpointer data)
{
  GByteArray *reply = g_byte_array_new ();
  g_autoptr (UsbipDeviceInfo) dev = sample_device ("1-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;
  g_autofree gchar *host = NULL, *service = NULL, *busid = NULL;
  gint sockfd = -1;

  usbip_encode_op_rep_import (reply, USBIP_ST_OK, dev);
  f->peer.segment = 7; /* 320 bytes in 46 segments */
  f->peer.delay_us = 1000;
  start_peer (f, reply);
  port = do_attach (f, "1-1", &error);
  g_assert_no_error (error);
  /* the request on the wire: OP_REQ_IMPORT + 32-byte busid */
  g_assert_cmpuint (f->peer.request_len, ==, 40);
  g_assert_cmpmem (f->peer.request, 4, ((const gchar[]){ 0x01, 0x11, (gchar) 0x80, 0x03 }), 4);
  g_assert_cmpstr (f->peer.request + 8, ==, "1-1");
  g_assert_cmpuint (port->port, ==, 0);
  g_assert_cmphex (port->devid, ==, 0x00010004);
  g_assert_true (fake_kernel_vhci_port_used (f->fk, 0, &sockfd));
  g_assert_cmpint (sockfd, >, 2);
  g_autoptr (UsbipVhciRecords) records = usbip_vhci_records_new (fake_kernel_get_sysfs (f->fk), NULL);
  g_assert_true (usbip_vhci_records_read (records, 0, &host, &service, &busid, NULL));
  g_assert_cmpstr (host, ==, "127.0.0.1");
  g_assert_cmpstr (busid, ==, "1-1");
}

static void
test_attach_statuses (Fixture *f, gconstpointer data)
{
  static const struct {
    guint32 status;
    gint code;
    const gchar *mentions;
  } cases[] = {
    { USBIP_ST_NA, USBIP_ERROR_NOT_AVAILABLE, "handed over" }, { USBIP_ST_DEV_BUSY, USBIP_ERROR_DEVICE_BUSY, "busy" },
    { USBIP_ST_DEV_ERR, USBIP_ERROR_DEVICE_ERROR, "replug" },  { USBIP_ST_NODEV, USBIP_ERROR_NO_DEVICE, "list -r" },
    { USBIP_ST_ERROR, USBIP_ERROR_REMOTE_ERROR, "log" },       { 77, USBIP_ERROR_PROTOCOL, "unknown status" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GByteArray *reply = g_byte_array_new ();
      g_autoptr (GError) error = NULL;

      usbip_encode_op_rep_import (reply, cases[i].status, NULL);
      f->peer.done = 0;
      start_peer (f, reply);
      g_assert_null (do_attach (f, "1-1", &error));
      g_test_message ("status %u: %s", cases[i].status, error->message);
      g_assert_error (error, USBIP_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].mentions));
      g_thread_join (f->thread);
      f->thread = NULL;
      g_clear_pointer (&f->peer.reply, g_bytes_unref);
      g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
    }
}

static void
test_attach_wrong_busid (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipDeviceInfo) dev = sample_device ("2-2");
  g_autoptr (GError) error = NULL;

  serve_import (f, dev);
  g_assert_null (do_attach (f, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "2-2"));
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

static guint
count_attach_writes (Fixture *f)
{
  GPtrArray *writes = fake_kernel_get_writes (f->fk);
  guint n = 0;

  for (guint i = 0; i < writes->len; i++)
    n += strstr (g_ptr_array_index (writes, i), "/attach=") != NULL;
  return n;
}

/* a hostile exporter's speed and devid never reach vhci's attach */
static void
test_attach_bad_reply (Fixture *f, gconstpointer data)
{
  static const struct {
    guint32 speed, busnum, devnum;
    const gchar *mentions;
  } cases[] = {
    { 0xdeadbeef, 1, 4, "speed 3735928559" },
    { USBIP_SPEED_UNKNOWN, 1, 4, "speed 0" },
    { USBIP_SPEED_HIGH, 0xffffffff, 4, "bus 4294967295" },
    { USBIP_SPEED_HIGH, 1, 0xffff, "device 65535" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (UsbipDeviceInfo) dev = sample_device ("1-1");
      g_autoptr (GError) error = NULL;

      dev->speed = (UsbipSpeed) cases[i].speed;
      dev->busnum = cases[i].busnum;
      dev->devnum = cases[i].devnum;
      serve_import (f, dev);
      g_assert_null (do_attach (f, "1-1", &error));
      g_test_message ("%s", error->message);
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, cases[i].mentions));
      g_thread_join (f->thread);
      f->thread = NULL;
      g_clear_pointer (&f->peer.reply, g_bytes_unref);
    }
  g_assert_cmpuint (count_attach_writes (f), ==, 0);
}

/* EINVAL from attach is the kernel refusing the request, not a port taken: no retry on
 * another port, and a code the supervisor treats as permanent */
static void
test_attach_einval_is_final (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipDeviceInfo) dev = sample_device ("1-1");
  g_autoptr (GError) error = NULL;

  serve_import (f, dev);
  fake_kernel_fail_write (f->fk, "/attach", EINVAL);
  g_assert_null (do_attach (f, "1-1", &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "dmesg"));
  g_assert_cmpuint (count_attach_writes (f), ==, 1);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 1, NULL));
}

static void
test_attach_ebusy_takes_next_port (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipDeviceInfo) dev = sample_device ("1-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;

  serve_import (f, dev);
  fake_kernel_fail_write (f->fk, "/attach", EBUSY);
  port = do_attach (f, "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (port->port, ==, 1);
  g_assert_cmpuint (count_attach_writes (f), ==, 2);
}

/* vhci_hcd not loaded: the attach fails before connecting, so the exporter never hands
 * the device over to an importer that would drop it */
static void
test_attach_without_vhci_connects_nowhere (void)
{
  FakeKernel *fk = fake_kernel_new ();
  g_autoptr (UsbipVhciBackend) vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (fk));
  g_autoptr (UsbipImporter) importer = usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);
  g_autoptr (UsbipImporter) bare = usbip_importer_new (NULL, NULL);
  guint16 port = 0;
  g_autoptr (GSocket) listener = test_util_listen (&port);
  g_autoptr (UsbipRemote) remote = usbip_remote_new ("127.0.0.1", port);
  g_autoptr (GError) error = NULL;
  UsbipPortInfo *info = test_util_attach (importer, remote, "1-1", &error);

  g_assert_null (info);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING);
  g_assert_nonnull (strstr (error->message, "modprobe vhci-hcd"));
  g_clear_error (&error);
  /* no backend at all: the same, before connecting */
  g_assert_null (test_util_attach (bare, remote, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE);
  /* a connection would wait in the listener's queue, accepted or not */
  g_assert_cmpuint (g_socket_condition_check (listener, G_IO_IN), ==, 0);
  fake_kernel_free (fk);
}

/* a web server on the port: say it is no USB/IP server and show its first bytes */
static void
test_not_usbip_server (Fixture *f, gconstpointer data)
{
  GByteArray *reply = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  const gchar http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

  g_byte_array_append (reply, (const guint8 *) http, sizeof http - 1);
  start_peer (f, reply);
  g_assert_null (do_list (f, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_VERSION);
  g_assert_nonnull (strstr (error->message, "not a USB/IP server"));
  g_assert_nonnull (strstr (error->message, "\"HTTP/1.1 400 Bad\""));
}

static void
test_attach_short_reply (Fixture *f, gconstpointer data)
{
  GByteArray *reply = g_byte_array_new ();
  g_autoptr (UsbipDeviceInfo) dev = sample_device ("1-1");
  g_autoptr (GError) error = NULL;

  usbip_encode_op_rep_import (reply, USBIP_ST_OK, dev);
  g_byte_array_set_size (reply, 100); /* then the peer closes */
  start_peer (f, reply);
  g_assert_null (do_attach (f, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "closed"));
}

static void
test_silent_peer_deadline (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  /* the peer takes the whole request and never answers: the importer gives up with a
   * timeout (not "closed"), while the peer still holds the connection */
  f->peer.silent = TRUE;
  start_peer (f, NULL);
  g_assert_null (do_attach (f, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_TIMEOUT);
  test_util_run_until (&f->peer.done, 5000); /* the importer closed; the peer saw it */
  g_assert_cmpuint (f->peer.request_len, ==, 8 + 32);
}

static void
test_list_segmented (Fixture *f, gconstpointer data)
{
  GByteArray *reply = g_byte_array_new ();
  g_autoptr (GPtrArray) devs = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (devs, sample_device ("1-1"));
  g_ptr_array_add (devs, sample_device ("1-2"));
  usbip_encode_op_rep_devlist (reply, USBIP_ST_OK, devs);
  f->peer.segment = 1; /* byte by byte */
  start_peer (f, reply);
  got = do_list (f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 2);
  g_assert_cmpstr (((UsbipDeviceInfo *) g_ptr_array_index (got, 1))->busid, ==, "1-2");
  g_assert_cmpuint (f->peer.request_len, ==, 8);
}

static void
test_list_hostile_count (Fixture *f, gconstpointer data)
{
  GByteArray *reply = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  const guint8 huge[] = { 0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };

  g_byte_array_append (reply, huge, sizeof huge);
  start_peer (f, reply);
  g_assert_null (do_list (f, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL);
}

static void
test_connection_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipRemote) closed = NULL;
  guint16 port;
  g_autoptr (GSocket) s = test_util_reserve_port (&port); /* bound, nobody listens */

  closed = usbip_remote_new ("127.0.0.1", port);
  usbip_remote_free (f->remote);
  f->remote = g_steal_pointer (&closed);
  g_assert_null (do_list (f, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "refused"));
}

static void
connect_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* connect the TCP transport to HOST on a loopback listener; the connection */
static GSocketConnection *
tcp_connect (const gchar *host, GError **error)
{
  g_autoptr (GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (UsbipTransport) tcp = usbip_transport_tcp_new ();
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  g_assert_true (g_socket_bind (listener, any, FALSE, NULL) && g_socket_listen (listener, NULL));
  bound = g_socket_get_local_address (listener, NULL);
  remote = usbip_remote_new (host, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  usbip_transport_connect_async (tcp, remote, NULL, NULL, connect_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return usbip_transport_connect_finish (tcp, result, error);
}

/* a numeric host is connected to directly: no resolver (whose set-up stats resolv.conf),
 * no GSocketClient, no thread (docs/performance.md, "Start-up"); a name still resolves */
static void
test_numeric_host_needs_no_resolver (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn = NULL;

  if (g_test_subprocess ())
    {
      conn = tcp_connect ("127.0.0.1", &error);
      g_assert_no_error (error);
      g_assert_true (G_IS_TCP_CONNECTION (conn));
      g_assert_cmpuint (g_type_from_name ("GSocketClient"), ==, 0);
      g_assert_cmpuint (g_type_from_name ("GResolver"), ==, 0);
      g_clear_object (&conn);
      conn = tcp_connect ("localhost", &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_type_from_name ("GSocketClient"), !=, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_cancel_mid_reply (Fixture *f, gconstpointer data)
{
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipSocketOptions) opts = usbip_socket_options_new ();
  TestWait w = { 0 };

  /* the request went out and the importer waits for the reply (no deadline in sight): a
   * cancel then ends it with CANCELLED, closes the connection and leaves no port taken */
  opts->read_timeout_ms = 600000;
  usbip_importer_set_socket_options (f->importer, opts);
  f->peer.silent = TRUE;
  start_peer (f, NULL);
  usbip_importer_attach_async (f->importer, f->remote, "1-1", NULL, cancel, test_util_wait_cb, &w);
  test_util_run_until (&f->peer.received, 5000);
  g_assert_false (g_atomic_int_get (&w.done));
  g_cancellable_cancel (cancel);
  test_util_run_until (&w.done, 5000);
  g_assert_null (usbip_importer_attach_finish (f->importer, w.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (w.result);
  test_util_run_until (&f->peer.done, 5000); /* the peer saw the connection close */
  g_assert_cmpuint (f->peer.request_len, ==, 8 + 32);
  g_assert_false (fake_kernel_vhci_port_used (f->fk, 0, NULL));
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  TestWait w = { 0 };

  /* nobody accepts: the connection sits in the listen backlog */
  usbip_importer_attach_async (f->importer, f->remote, "1-1", NULL, cancel, test_util_wait_cb, &w);
  g_cancellable_cancel (cancel);
  test_util_run_until (&w.done, 5000);
  g_assert_null (usbip_importer_attach_finish (f->importer, w.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (w.result);
}

static void
test_bad_busid_argument (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (do_attach (f, "not a busid!", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
}

/* every signal of UsbipImporter, with its arguments: a good attach emits port-attached and
 * attach-finished without an error, a refused one only attach-finished with the error, and a
 * detach emits port-detached with the port */
typedef struct {
  guint attached, finished, detached;
  guint attached_port;
  guint32 attached_devid;
  gchar *finished_busid;
  gint finished_code; /* -1 = no error */
  guint detached_port;
} Signals;

static void
on_port_attached (UsbipImporter *importer, UsbipPortInfo *port, Signals *s)
{
  s->attached++;
  s->attached_port = port->port;
  s->attached_devid = port->devid;
}

static void
on_attach_finished (UsbipImporter *importer, const gchar *busid, guint64 duration_ms, const GError *error, Signals *s)
{
  s->finished++;
  g_free (s->finished_busid);
  s->finished_busid = g_strdup (busid);
  s->finished_code = error != NULL ? error->code : -1;
}

static void
on_port_detached (UsbipImporter *importer, guint port, Signals *s)
{
  s->detached++;
  s->detached_port = port;
}

static void
test_signals (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipDeviceInfo) dev = sample_device ("1-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;
  GByteArray *refusal = g_byte_array_new ();
  Signals s = { 0 };

  g_signal_connect (f->importer, "port-attached", G_CALLBACK (on_port_attached), &s);
  g_signal_connect (f->importer, "attach-finished", G_CALLBACK (on_attach_finished), &s);
  g_signal_connect (f->importer, "port-detached", G_CALLBACK (on_port_detached), &s);

  serve_import (f, dev);
  port = do_attach (f, "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (s.attached, ==, 1);
  g_assert_cmpuint (s.attached_port, ==, port->port);
  g_assert_cmphex (s.attached_devid, ==, 0x00010004);
  g_assert_cmpuint (s.finished, ==, 1);
  g_assert_cmpstr (s.finished_busid, ==, "1-1");
  g_assert_cmpint (s.finished_code, ==, -1);
  g_assert_cmpuint (s.detached, ==, 0);

  g_assert_true (usbip_importer_detach (f->importer, port->port, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.detached, ==, 1);
  g_assert_cmpuint (s.detached_port, ==, port->port);

  /* a refused import: attach-finished carries the error, no port-attached */
  g_thread_join (f->thread);
  g_clear_pointer (&f->peer.reply, g_bytes_unref);
  f->peer.done = 0;
  usbip_encode_op_rep_import (refusal, USBIP_ST_NODEV, NULL);
  start_peer (f, refusal);
  g_assert_null (do_attach (f, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE);
  g_assert_cmpuint (s.attached, ==, 1);
  g_assert_cmpuint (s.finished, ==, 2);
  g_assert_cmpint (s.finished_code, ==, USBIP_ERROR_NO_DEVICE);
  g_signal_handlers_disconnect_by_data (f->importer, &s);
  g_free (s.finished_busid);
}

/* UsbipPortMonitor's signals: port-added for a new attachment; port-removed with record_kept
 * TRUE when the connection was lost (the record stays), FALSE after a detach */
typedef struct {
  guint added, removed;
  guint added_port, removed_port;
  gboolean record_kept;
} MonitorSignals;

static void
on_monitor_added (UsbipPortMonitor *monitor, UsbipPortInfo *port, MonitorSignals *s)
{
  s->added++;
  s->added_port = port->port;
}

static void
on_monitor_removed (UsbipPortMonitor *monitor, UsbipPortInfo *port, gboolean record_kept, MonitorSignals *s)
{
  s->removed++;
  s->removed_port = port->port;
  s->record_kept = record_kept;
}

static void
attach_again (Fixture *f, const UsbipDeviceInfo *dev, guint *port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPortInfo) info = NULL;

  if (f->thread != NULL)
    g_thread_join (f->thread);
  g_clear_pointer (&f->peer.reply, g_bytes_unref);
  f->peer.done = 0;
  serve_import (f, dev);
  info = do_attach (f, "1-1", &error);
  g_assert_no_error (error);
  *port = info->port;
}

/* a monitor of the fake kernel's vhci ports, not started, its signals counted in s; no poll
 * timer unless a test sets one (none races the test) */
typedef struct {
  Fixture base;
  UsbipVhciBackend *vhci;
  UsbipPortMonitor *monitor;
  UsbipDeviceInfo *dev;
  MonitorSignals s;
} MonitorFixture;

static void
setup_monitor (MonitorFixture *m, gconstpointer data)
{
  setup (&m->base, data);
  m->vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (m->base.fk));
  m->monitor = usbip_port_monitor_new (USBIP_IMPORT_BACKEND (m->vhci));
  m->dev = sample_device ("1-1");
  usbip_port_monitor_set_interval (m->monitor, 0);
  g_signal_connect (m->monitor, "port-added", G_CALLBACK (on_monitor_added), &m->s);
  g_signal_connect (m->monitor, "port-removed", G_CALLBACK (on_monitor_removed), &m->s);
}

static void
teardown_monitor (MonitorFixture *m, gconstpointer data)
{
  usbip_port_monitor_stop (m->monitor);
  g_signal_handlers_disconnect_by_data (m->monitor, &m->s);
  g_object_unref (m->monitor);
  g_object_unref (m->vhci);
  usbip_device_info_free (m->dev);
  teardown (&m->base, data);
}

static void
test_port_monitor_signals (MonitorFixture *m, gconstpointer data)
{
  Fixture *f = &m->base;
  UsbipPortMonitor *monitor = m->monitor;
  const UsbipDeviceInfo *dev = m->dev;
  MonitorSignals *s = &m->s;
  g_autoptr (GError) error = NULL;
  guint port;

  g_assert_true (usbip_port_monitor_start (monitor, &error));
  g_assert_no_error (error);

  attach_again (f, dev, &port);
  usbip_port_monitor_check_now (monitor);
  test_util_wait_for (s->added == 1, 5000);
  g_assert_cmpuint (s->added_port, ==, port);
  g_assert_cmpuint (s->removed, ==, 0);

  /* the link is lost: vhci frees the port, the record stays */
  fake_kernel_drop_connection (f->fk, port, "1-1");
  usbip_port_monitor_check_now (monitor);
  test_util_wait_for (s->removed == 1, 5000);
  g_assert_cmpuint (s->removed_port, ==, port);
  g_assert_true (s->record_kept);

  /* a detach on purpose removes the record */
  attach_again (f, dev, &port);
  usbip_port_monitor_check_now (monitor);
  test_util_wait_for (s->added == 2, 5000);
  g_assert_true (usbip_importer_detach (f->importer, port, &error));
  g_assert_no_error (error);
  usbip_port_monitor_check_now (monitor);
  test_util_wait_for (s->removed == 2, 5000);
  g_assert_cmpuint (s->removed_port, ==, port);
  g_assert_false (s->record_kept);
}

/* one kernel uevent datagram (ACTION@DEVPATH, then KEY=VALUE strings) into @fd */
static void
send_uevent (gint fd, const gchar *action, const gchar *subsystem)
{
  g_autoptr (GByteArray) msg = g_byte_array_new ();
  g_autofree gchar *head = g_strdup_printf ("%s@/devices/platform/vhci_hcd.0/usb1/1-1", action);
  g_autofree gchar *act = g_strdup_printf ("ACTION=%s", action);
  g_autofree gchar *sub = g_strdup_printf ("SUBSYSTEM=%s", subsystem);

  g_byte_array_append (msg, (const guint8 *) head, (guint) strlen (head) + 1);
  g_byte_array_append (msg, (const guint8 *) act, (guint) strlen (act) + 1);
  g_byte_array_append (msg, (const guint8 *) sub, (guint) strlen (sub) + 1);
  g_assert_cmpint (send (fd, msg->data, msg->len, 0), ==, (gssize) msg->len);
}

/* the kernel's USB add/remove uevents trigger a check without a timer or check_now (read from
 * the uevent socket itself: no libgudev); other uevents do not */
static void
test_port_monitor_uevents (MonitorFixture *m, gconstpointer data)
{
  Fixture *f = &m->base;
  UsbipPortMonitor *monitor = m->monitor;
  const UsbipDeviceInfo *dev = m->dev;
  MonitorSignals *s = &m->s;
  g_autoptr (GError) error = NULL;
  gint sv[2];
  guint port;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  usbip_port_monitor_set_uevent_fd (monitor, sv[0]);
  g_assert_true (usbip_port_monitor_start (monitor, &error));
  g_assert_no_error (error);

  attach_again (f, dev, &port);
  /* neither another subsystem's add nor a USB bind calls for a check */
  send_uevent (sv[1], "add", "block");
  send_uevent (sv[1], "bind", "usb");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (s->added, ==, 0);
  send_uevent (sv[1], "add", "usb");
  test_util_wait_for (s->added == 1, 5000);
  g_assert_cmpuint (s->added_port, ==, port);

  fake_kernel_drop_connection (f->fk, port, "1-1");
  send_uevent (sv[1], "remove", "usb");
  test_util_wait_for (s->removed == 1, 5000);
  g_assert_cmpuint (s->removed_port, ==, port);
  g_assert_true (s->record_kept);
  close (sv[1]);
}

/* a uevent socket whose peer closed (poll reports HUP at once, every time) is dropped: the
 * main loop goes idle instead of spinning on it, one check covers what may have been missed,
 * and the poll timer (what the monitor does without a uevent socket) still reports changes */
static void
test_port_monitor_uevent_hangup (MonitorFixture *m, gconstpointer data)
{
  Fixture *f = &m->base;
  UsbipPortMonitor *monitor = m->monitor;
  const UsbipDeviceInfo *dev = m->dev;
  MonitorSignals *s = &m->s;
  g_autoptr (GError) error = NULL;
  gint sv[2];
  guint port, busy = 0;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
  usbip_port_monitor_set_uevent_fd (monitor, sv[0]);
  usbip_port_monitor_set_interval (monitor, 200);
  g_assert_true (usbip_port_monitor_start (monitor, &error));
  g_assert_no_error (error);

  attach_again (f, dev, &port);
  close (sv[1]);
  /* the hang-up's check sees the new port; then nothing is ready until the next tick */
  while (busy < 1000 && g_main_context_iteration (NULL, FALSE))
    busy++;
  g_assert_cmpuint (busy, <, 1000);
  g_assert_cmpuint (s->added, ==, 1);
  g_assert_cmpuint (s->added_port, ==, port);

  fake_kernel_drop_connection (f->fk, port, "1-1");
  test_util_wait_for (s->removed == 1, 5000);
  g_assert_cmpuint (s->removed_port, ==, port);
}

/* a monitor not started, or stopped, does not look at the ports: check_now() reads no
 * sysfs and emits nothing (the stopped monitor's last snapshot would report a change) */
static void
test_port_monitor_stopped_check_now (MonitorFixture *m, gconstpointer data)
{
  Fixture *f = &m->base;
  UsbipPortMonitor *monitor = m->monitor;
  const UsbipDeviceInfo *dev = m->dev;
  MonitorSignals *s = &m->s;
  g_autoptr (GError) error = NULL;
  guint port;

  usbip_port_monitor_set_uevent_fd (monitor, -1); /* only check_now: no uevent triggers a check */

  /* never started: a device attached meanwhile is not reported */
  attach_again (f, dev, &port);
  usbip_port_monitor_check_now (monitor);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (s->added, ==, 0);

  /* started with the device as the baseline, stopped, then the device goes */
  g_assert_true (usbip_port_monitor_start (monitor, &error));
  g_assert_no_error (error);
  usbip_port_monitor_stop (monitor);
  g_assert_true (usbip_importer_detach (f->importer, port, &error));
  g_assert_no_error (error);
  usbip_port_monitor_check_now (monitor);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (s->added, ==, 0);
  g_assert_cmpuint (s->removed, ==, 0);
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
#define T(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
#define TM(name, fn) g_test_add (name, MonitorFixture, NULL, setup_monitor, fn, teardown_monitor)
  T ("/importer/attach-ok-segmented", test_attach_ok_segmented);
  T ("/importer/attach-statuses", test_attach_statuses);
  T ("/importer/attach-wrong-busid", test_attach_wrong_busid);
  T ("/importer/attach-short-reply", test_attach_short_reply);
  T ("/importer/attach-bad-reply", test_attach_bad_reply);
  T ("/importer/attach-einval-is-final", test_attach_einval_is_final);
  T ("/importer/attach-ebusy-takes-next-port", test_attach_ebusy_takes_next_port);
  T ("/importer/not-usbip-server", test_not_usbip_server);
  T ("/importer/silent-peer-deadline", test_silent_peer_deadline);
  T ("/importer/list-segmented", test_list_segmented);
  T ("/importer/list-hostile-count", test_list_hostile_count);
  T ("/importer/connection-refused", test_connection_refused);
  g_test_add_func ("/importer/numeric-host-needs-no-resolver", test_numeric_host_needs_no_resolver);
  g_test_add_func ("/importer/attach-without-vhci-connects-nowhere", test_attach_without_vhci_connects_nowhere);
  T ("/importer/cancel", test_cancel);
  T ("/importer/cancel-mid-reply", test_cancel_mid_reply);
  T ("/importer/bad-busid-argument", test_bad_busid_argument);
  T ("/importer/signals", test_signals);
  TM ("/importer/port-monitor-signals", test_port_monitor_signals);
  TM ("/importer/port-monitor-uevents", test_port_monitor_uevents);
  TM ("/importer/port-monitor-uevent-hangup", test_port_monitor_uevent_hangup);
  TM ("/importer/port-monitor-stopped-check-now", test_port_monitor_stopped_check_now);
  return g_test_run ();
}
