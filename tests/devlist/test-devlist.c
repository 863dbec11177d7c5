/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The exporter's device-list cache (UsbipDeviceCache) through real OP_REQ_DEVLIST handshakes
 * on loopback, with the fake kernel: bind, unbind and unplug are in the next DEVLIST; an
 * import and the end of a session (usbip_status changes, which have no uevent) are too, with
 * no rescan; unchanged devices cost no rescan; events of other subsystems cost none. The
 * uevents the kernel would send are fed through a socketpair.
 */
#include "config.h"

#include <string.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake-kernel.h"
#include "usbip-device-cache-private.h"
#include "test-util.h"
#include "usbip-host-backend.h"
#include "usbip-vhci-backend.h"

typedef struct {
  FakeKernel *fk;
  UsbipExportBackend *host;
  UsbipExporter *exporter;
  UsbipDeviceCache *cache;
  UsbipImporter *importer;
  UsbipRemote *remote;
  guint16 port;
  gboolean at_accept; /* DEVLIST sent with the connection: answered while accepting */
  gint events;        /* our end of the uevent socketpair */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipVhciBackend) vhci = NULL;
  guint16 port;
  g_autoptr (GSocket) listener = test_util_listen (&port);
  gint sv[2];

  f->fk = fake_kernel_new ();
  fake_kernel_load_usbip_host (f->fk);
  fake_kernel_add_vhci (f->fk, 1, 4);
  fake_kernel_add_usb_device (f->fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  fake_kernel_add_usb_device (f->fk, "1-2", 0x0781, 0x5567, "480", 0, "usb", FALSE);
  f->host = USBIP_EXPORT_BACKEND (usbip_host_backend_new (fake_kernel_get_sysfs (f->fk)));
  g_assert_true (usbip_export_backend_bind (f->host, "1-1", &error));
  f->exporter = usbip_exporter_new (f->host);
  g_assert_true (usbip_exporter_add_socket (f->exporter, listener, &error));
  usbip_exporter_start (f->exporter);
  f->cache = usbip_exporter_get_device_cache (f->exporter);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  usbip_device_cache_set_uevent_fd (f->cache, sv[0]);
  f->events = sv[1];
  vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (f->fk));
  f->importer = usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);
  f->remote = usbip_remote_new ("127.0.0.1", port);
  f->port = port;
  f->at_accept = GPOINTER_TO_INT (data);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  close (f->events);
  g_clear_object (&f->importer);
  g_clear_object (&f->exporter);
  g_object_unref (f->host);
  usbip_remote_free (f->remote);
  fake_kernel_free (f->fk);
}

/* a uevent as the kernel sends it: "ACTION@DEVPATH" then KEY=VALUE strings */
static void
uevent (Fixture *f, const gchar *action, const gchar *busid, const gchar *subsystem)
{
  g_autoptr (GString) m = g_string_new (NULL);

  g_string_append_printf (m, "%s@/devices/pci0000:00/0000:00:14.0/usb1/%s", action, busid);
  g_string_append_c (m, '\0');
  g_string_append_printf (m, "ACTION=%s", action);
  g_string_append_c (m, '\0');
  g_string_append_printf (m, "DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/%s", busid);
  g_string_append_c (m, '\0');
  g_string_append_printf (m, "SUBSYSTEM=%s", subsystem);
  g_string_append_c (m, '\0');
  g_assert_cmpint (send (f->events, m->str, m->len, 0), ==, (gssize) m->len);
}

/* a DEVLIST sent with the connection, as most clients do: the exporter answers it while
 * accepting (its fast path), from the same cache */
static GPtrArray *
devlist_at_accept (Fixture *f)
{
  GByteArray *encoded = g_byte_array_new ();
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (UsbipDeframer) deframer = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  g_autoptr (GError) error = NULL;
  UsbipMessage msg = { 0 };
  gboolean at_accept = FALSE;
  gsize len, consumed = 0;
  const guint8 *data;
  GPtrArray *devices;

  usbip_encode_op_req_devlist (encoded);
  request = g_byte_array_free_to_bytes (encoded);
  reply = test_util_request_at_accept (f->exporter, f->port, request, &at_accept);
  g_assert_true (at_accept);
  data = g_bytes_get_data (reply, &len);
  g_assert_cmpint (usbip_deframer_pop (deframer, data, len, &consumed, &msg, &error), ==, USBIP_DEFRAME_FRAME);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, len); /* the whole reply, then EOF */
  g_assert_cmpint (msg.type, ==, USBIP_MESSAGE_OP_REP_DEVLIST);
  devices = g_steal_pointer (&msg.devices);
  usbip_message_clear (&msg);
  return devices;
}

/* the bus IDs in a DEVLIST over the wire, "1-1 1-2" */
static gchar *
devlist (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices =
      f->at_accept ? devlist_at_accept (f) : test_util_list_devices (f->importer, f->remote, &error);
  g_autoptr (GString) s = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < devices->len; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", ((UsbipDeviceInfo *) g_ptr_array_index (devices, i))->busid);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

#define assert_devlist(f, expected)                                                                                    \
  G_STMT_START                                                                                                         \
  {                                                                                                                    \
    g_autofree gchar *got_ = devlist (f);                                                                              \
    g_assert_cmpstr (got_, ==, expected);                                                                              \
  }                                                                                                                    \
  G_STMT_END

static void
test_uevent_parse (void)
{
  const gchar usb[] = "bind@/devices/x/1-1\0ACTION=bind\0SUBSYSTEM=usb\0";
  const gchar block[] = "add@/devices/x/block/sda\0ACTION=add\0SUBSYSTEM=block\0";
  const gchar usbmisc[] = "add@/devices/x\0ACTION=add\0SUBSYSTEM=usbmisc\0";
  const gchar garbage[] = "libudev\0\xfe\xed";

  g_assert_true (usbip_device_cache_uevent_is_usb ((const guint8 *) usb, sizeof usb - 1));
  g_assert_false (usbip_device_cache_uevent_is_usb ((const guint8 *) block, sizeof block - 1));
  g_assert_false (usbip_device_cache_uevent_is_usb ((const guint8 *) usbmisc, sizeof usbmisc - 1));
  /* what cannot be read costs a rescan, never a stale list */
  g_assert_true (usbip_device_cache_uevent_is_usb ((const guint8 *) garbage, sizeof garbage - 1));
  g_assert_true (usbip_device_cache_uevent_is_usb ((const guint8 *) "x@y", 3));
}

static void
test_follows_the_kernel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;
  guint rescans;

  g_assert_true (usbip_device_cache_is_caching (f->cache));
  assert_devlist (f, "1-1");
  rescans = usbip_device_cache_get_rescans (f->cache);
  g_assert_cmpuint (rescans, ==, 1);
  for (guint i = 0; i < 5; i++)
    assert_devlist (f, "1-1");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, rescans); /* from the cache */

  /* another subsystem's event: no rescan */
  uevent (f, "add", "block/sda", "block");
  assert_devlist (f, "1-1");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, rescans);

  /* bind: the kernel says so, the next DEVLIST has it */
  g_assert_true (usbip_export_backend_bind (f->host, "1-2", &error));
  uevent (f, "bind", "1-2", "usb");
  assert_devlist (f, "1-1 1-2");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, ++rescans);

  /* an import (usbip_status 2, no uevent): gone from the next DEVLIST, without a rescan */
  port = test_util_attach (f->importer, f->remote, "1-1", &error);
  g_assert_no_error (error);
  assert_devlist (f, "1-2");
  /* the session ends (usbip_status 1 again, no uevent): back */
  fake_kernel_drop_connection (f->fk, port->port, "1-1");
  assert_devlist (f, "1-1 1-2");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, rescans);

  /* unbind, even before its uevent arrives: its state cannot be read, so a rescan */
  g_assert_true (usbip_export_backend_unbind (f->host, "1-2", &error));
  assert_devlist (f, "1-1");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, ++rescans);
  uevent (f, "unbind", "1-2", "usb");
  assert_devlist (f, "1-1");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, ++rescans);

  /* unplug */
  fake_kernel_remove_usb_device (f->fk, "1-1");
  uevent (f, "remove", "1-1", "usb");
  assert_devlist (f, "");
}

/* a bind has no other trace than its uevent: without one the cache would be stale, so the
 * event is what the next DEVLIST depends on (this fails if events are ignored) */
static void
test_bind_needs_the_event (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  assert_devlist (f, "1-1");
  g_assert_true (usbip_export_backend_bind (f->host, "1-2", &error));
  assert_devlist (f, "1-1"); /* no event yet: the cache does not rescan */
  uevent (f, "bind", "1-2", "usb");
  assert_devlist (f, "1-1 1-2");
}

/* a uevent is believed only from the kernel: netlink port id 0; not another process's
 * netlink datagram, nor a short, missing or other family's address */
static void
test_uevent_sender (void)
{
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = 1 };
  struct sockaddr_nl process = { .nl_family = AF_NETLINK, .nl_pid = 4242, .nl_groups = 0 };
  struct sockaddr_un local = { .sun_family = AF_UNIX };

  g_assert_true (usbip_uevent_sender_is_kernel ((struct sockaddr *) &kernel, sizeof kernel));
  g_assert_false (usbip_uevent_sender_is_kernel ((struct sockaddr *) &process, sizeof process));
  g_assert_false (usbip_uevent_sender_is_kernel ((struct sockaddr *) &kernel, sizeof (sa_family_t)));
  g_assert_false (usbip_uevent_sender_is_kernel ((struct sockaddr *) &kernel, 0));
  g_assert_false (usbip_uevent_sender_is_kernel (NULL, sizeof kernel));
  g_assert_false (usbip_uevent_sender_is_kernel ((struct sockaddr *) &local, sizeof local));
}

/* a USB bind "uevent" unicast by a process to the cache's netlink socket is dropped: the
 * cache does not rescan, so the bound device is not in the next DEVLIST (NETLINK_USERSOCK,
 * which any process may use, stands in for the kernel's uevent protocol) */
static void
test_uevent_from_a_process_is_ignored (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_nl any = { .nl_family = AF_NETLINK };
  struct sockaddr_nl to = { 0 };
  socklen_t to_len = sizeof to;
  const gchar msg[] = "bind@/devices/pci0000:00/0000:00:14.0/usb1/1-2\0ACTION=bind\0SUBSYSTEM=usb";
  gint ours = socket (AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_USERSOCK);
  gint theirs = socket (AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_USERSOCK);
  guint rescans;

  g_assert_cmpint (ours, >=, 0);
  g_assert_cmpint (theirs, >=, 0);
  g_assert_cmpint (bind (ours, (struct sockaddr *) &any, sizeof any), ==, 0);
  g_assert_cmpint (bind (theirs, (struct sockaddr *) &any, sizeof any), ==, 0);
  g_assert_cmpint (getsockname (ours, (struct sockaddr *) &to, &to_len), ==, 0);
  usbip_device_cache_set_uevent_fd (f->cache, ours);

  assert_devlist (f, "1-1");
  rescans = usbip_device_cache_get_rescans (f->cache);
  g_assert_true (usbip_export_backend_bind (f->host, "1-2", &error));
  g_assert_no_error (error);
  g_assert_cmpint (sendto (theirs, msg, sizeof msg, 0, (struct sockaddr *) &to, sizeof to), ==, (gssize) sizeof msg);
  assert_devlist (f, "1-1");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, rescans);
  close (theirs);
}

/* no uevent socket (no netlink here): every DEVLIST rescans, so every change is in the next */
static void
test_without_events_rescans (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  usbip_device_cache_set_uevent_fd (f->cache, -1);
  g_assert_false (usbip_device_cache_is_caching (f->cache));
  assert_devlist (f, "1-1");
  g_assert_true (usbip_export_backend_bind (f->host, "1-2", &error));
  assert_devlist (f, "1-1 1-2");
  fake_kernel_remove_usb_device (f->fk, "1-1");
  assert_devlist (f, "1-2");
  g_assert_cmpuint (usbip_device_cache_get_rescans (f->cache), ==, 3);
}

/* what DEVLIST offers, as upstream usbipd (6.1) does: every device bound to usbip-host but
 * those in use (usbip_status 2); one in error (3) is listed, and its import refused with
 * ST_DEV_ERR. The same whether the cache follows uevents or rescans every time */
static void
test_offers_all_but_in_use (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;

  g_assert_true (usbip_export_backend_bind (f->host, "1-2", &error));
  if (usbip_device_cache_is_caching (f->cache)) /* rescanning: no uevent socket to send to */
    uevent (f, "bind", "1-2", "usb");
  assert_devlist (f, "1-1 1-2");
  /* the stub failed to reset the device after a session: usbip_status 3, no uevent */
  fake_kernel_put (f->fk, "/sys/bus/usb/devices/1-1/usbip_status", "3\n");
  assert_devlist (f, "1-1 1-2");
  g_assert_null (test_util_attach (f->importer, f->remote, "1-1", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_DEVICE_ERROR);
  g_clear_error (&error);
  /* in use: left out until its session ends */
  port = test_util_attach (f->importer, f->remote, "1-2", &error);
  g_assert_no_error (error);
  assert_devlist (f, "1-1");
  fake_kernel_drop_connection (f->fk, port->port, "1-2");
  assert_devlist (f, "1-1 1-2");
}

static void
test_offers_all_but_in_use_rescanning (Fixture *f, gconstpointer data)
{
  usbip_device_cache_set_uevent_fd (f->cache, -1);
  g_assert_false (usbip_device_cache_is_caching (f->cache));
  test_offers_all_but_in_use (f, data);
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/devlist/uevent-parse", test_uevent_parse);
  g_test_add_func ("/devlist/uevent-sender", test_uevent_sender);
#define T(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  T ("/devlist/follows-the-kernel", test_follows_the_kernel);
  /* the same changes, each DEVLIST sent with its connection and answered while accepting */
  g_test_add ("/devlist/follows-the-kernel/answered-at-accept", Fixture, GINT_TO_POINTER (TRUE), setup,
              test_follows_the_kernel, teardown);
  g_test_add ("/devlist/without-events-rescans/answered-at-accept", Fixture, GINT_TO_POINTER (TRUE), setup,
              test_without_events_rescans, teardown);
  T ("/devlist/bind-needs-the-event", test_bind_needs_the_event);
  T ("/devlist/without-events-rescans", test_without_events_rescans);
  T ("/devlist/uevent-from-a-process-is-ignored", test_uevent_from_a_process_is_ignored);
  T ("/devlist/offers-all-but-in-use", test_offers_all_but_in_use);
  T ("/devlist/offers-all-but-in-use/without-events", test_offers_all_but_in_use_rescanning);
  return g_test_run ();
}
