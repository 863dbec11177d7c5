/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Transports other than TCP: the unix and vsock plugins registered through the plugin
 * context, addresses chosen by scheme, socket options and admission per family, peers
 * named per family, port records carrying the scheme. The fake kernel plays vhci and
 * usbip-host; the real kernel is the VM suite's (scenarios 25, 26).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include <usbipcore-plugin.h>
#include "usbip-plugin-registry-private.h"
#include "fake-kernel.h"
#include "test-util.h"
#include "usbip-host-backend.h"
#include "usbip-unix-transport.h"
#include "usbip-vhci-backend.h"
#include "usbip-vsock-transport.h"

gboolean usbip_unix_plugin_register (UsbipPluginContext *ctx, GError **error);
gboolean usbip_vsock_plugin_register (UsbipPluginContext *ctx, GError **error);

typedef struct {
  FakeKernel *fk;
  UsbipExportBackend *host;
  UsbipExporter *exporter;
  UsbipPluginRegistry *registry;
  gchar *dir;
  gchar *path;
  gchar *address;
  UsbipRemote *remote;
  gchar *opened_peer;
  guint refused;
  gchar *refused_rule;
} Fixture;

static void
on_opened (UsbipExporter *e, const gchar *peer, Fixture *f)
{
  g_free (f->opened_peer);
  f->opened_peer = g_strdup (peer);
}

static void
on_refused (UsbipExporter *e, const gchar *peer, const gchar *rule, Fixture *f)
{
  f->refused++;
  g_free (f->refused_rule);
  f->refused_rule = g_strdup (rule);
}

static UsbipPluginRegistry *
make_registry (const gchar *enabled)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  UsbipPluginRegistry *registry;

  if (enabled != NULL)
    g_key_file_set_string (usbip_config_get_keyfile (config), "plugins", "enabled", enabled);
  registry = usbip_plugin_registry_new (config, NULL);
  usbip_plugin_registry_set_plugin_dir (registry, "");
  usbip_plugin_registry_add_builtin (registry, "unix", usbip_unix_plugin_register);
  usbip_plugin_registry_add_builtin (registry, "vsock", usbip_vsock_plugin_register);
  return registry;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  UsbipTransport *unix_transport;

  f->fk = fake_kernel_new ();
  fake_kernel_load_usbip_host (f->fk);
  fake_kernel_add_vhci (f->fk, 1, 4);
  fake_kernel_add_usb_device (f->fk, "1-1", 0x1d6b, 0x0104, "480", 0, "usb", FALSE);
  f->host = USBIP_EXPORT_BACKEND (usbip_host_backend_new (fake_kernel_get_sysfs (f->fk)));
  g_assert_true (usbip_export_backend_bind (f->host, "1-1", &error));
  f->exporter = usbip_exporter_new (f->host);
  g_signal_connect (f->exporter, "session-opened", G_CALLBACK (on_opened), f);
  g_signal_connect (f->exporter, "connection-refused", G_CALLBACK (on_refused), f);
  f->registry = make_registry (NULL);
  f->dir = g_dir_make_tmp ("usbip-transports-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "run", "usbip.sock", NULL);
  f->address = g_strconcat ("unix:", f->path, NULL);
  f->remote = usbip_remote_parse (f->address, 3240, &error);
  g_assert_no_error (error);
  unix_transport = usbip_plugin_registry_get_transport (f->registry, "unix", &error);
  g_assert_no_error (error);
  /* the socket's directory must exist: the listener makes none, it names the one missing */
  g_assert_false (usbip_exporter_listen (f->exporter, unix_transport, f->address, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "no directory"));
  g_assert_nonnull (strstr (error->message, "/run: create it"));
  g_clear_error (&error);
  {
    g_autofree gchar *run = g_path_get_dirname (f->path);
    g_assert_false (g_file_test (run, G_FILE_TEST_EXISTS));
    g_assert_cmpint (g_mkdir (run, 0700), ==, 0);
  }
  g_assert_true (usbip_exporter_listen (f->exporter, unix_transport, f->address, &error));
  g_assert_no_error (error);
  usbip_exporter_start (f->exporter);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree gchar *run = g_path_get_dirname (f->path);

  g_signal_handlers_disconnect_by_data (f->exporter, f);
  g_clear_object (&f->exporter);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (f->host);
  g_object_unref (f->registry);
  usbip_remote_free (f->remote);
  /* the listener removed its socket file when it went */
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  rmdir (run);
  rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
  g_free (f->address);
  g_free (f->opened_peer);
  g_free (f->refused_rule);
  fake_kernel_free (f->fk);
}

static UsbipImporter *
make_importer (Fixture *f)
{
  g_autoptr (UsbipVhciBackend) vhci = usbip_vhci_backend_new (fake_kernel_get_sysfs (f->fk));
  UsbipImporter *importer = usbip_importer_new (USBIP_IMPORT_BACKEND (vhci), NULL);

  usbip_importer_set_plugin_registry (importer, f->registry);
  return importer;
}

/* list and attach over a Unix socket; the port record carries the scheme */
static void
test_unix_attach (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipImporter) importer = make_importer (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (UsbipPortInfo) port = NULL;
  g_autoptr (UsbipPortInfo) again = NULL;
  g_autoptr (GPtrArray) ports = NULL;
  g_autofree gchar *me = g_strdup_printf ("uid=%u pid=%d", (guint) getuid (), (gint) getpid ());
  struct stat st;

  /* the socket file got its mode before anyone could connect */
  g_assert_cmpint (stat (f->path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0660);

  devices = test_util_list_devices (importer, f->remote, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  /* the peer named by its credentials */
  g_assert_cmpstr (f->opened_peer, ==, me);

  port = test_util_attach (importer, f->remote, "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (port->remote_busid, ==, "1-1");
  g_assert_cmpstr (port->remote_host, ==, f->address);
  g_assert_cmpstr (port->remote_port, ==, "0");
  ports = usbip_importer_list_ports (importer, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ports->len, >=, 1);
  for (guint i = 0; i < ports->len; i++)
    {
      const UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->port == port->port)
        {
          g_autoptr (UsbipRemote) back = usbip_remote_from_record (p->remote_host, p->remote_port);
          g_assert_true (usbip_remote_equal (back, f->remote));
        }
    }
  /* the same pair again: found through the port record, no second import */
  again = test_util_attach (importer, f->remote, "1-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->port, ==, port->port);
}

/* allow-uid admits by SO_PEERCRED; another user is refused by that rule */
static void
test_unix_policy (Fixture *f, gconstpointer data)
{
  g_autoptr (UsbipImporter) importer = make_importer (f);
  g_autoptr (UsbipPolicy) others = usbip_policy_new ();
  g_autoptr (UsbipPolicy) mine = usbip_policy_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;

  usbip_policy_add_allow_uid (others, (guint32) getuid () + 1);
  usbip_exporter_set_policy (f->exporter, others);
  devices = test_util_list_devices (importer, f->remote, &error);
  g_assert_null (devices);
  g_assert_cmpuint (f->refused, ==, 1);
  g_assert_cmpstr (f->refused_rule, ==, "allow-uid/allow-gid");
  g_clear_error (&error);

  usbip_policy_add_allow_uid (mine, (guint32) getuid ());
  usbip_exporter_set_policy (f->exporter, mine);
  devices = test_util_list_devices (importer, f->remote, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->refused, ==, 1);
}

/* a stale socket file is replaced; a live one or a non-socket is not */
static void
test_unix_stale (Fixture *f, gconstpointer data)
{
  UsbipTransport *transport = usbip_plugin_registry_get_transport (f->registry, "unix", NULL);
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autofree gchar *stale_path = g_build_filename (f->dir, "stale.sock", NULL);
  g_autofree gchar *stale = g_strconcat ("unix:", stale_path, NULL);
  g_autofree gchar *file_path = g_build_filename (f->dir, "file", NULL);
  g_autofree gchar *file = g_strconcat ("unix:", file_path, NULL);
  g_autoptr (GError) error = NULL;

  /* live: our own fixture's listener */
  g_assert_false (usbip_transport_add_listener (transport, listener, f->address, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "another process listens on it"));
  g_clear_error (&error);
  /* stale: bound, never listened, closed */
  {
    g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
    g_autoptr (GSocketAddress) a = g_unix_socket_address_new (stale_path);
    g_assert_true (g_socket_bind (s, a, FALSE, NULL));
  }
  g_assert_true (g_file_test (stale_path, G_FILE_TEST_EXISTS));
  g_assert_true (usbip_transport_add_listener (transport, listener, stale, &error));
  g_assert_no_error (error);
  /* a regular file is not ours to remove */
  g_assert_true (g_file_set_contents (file_path, "x", 1, NULL));
  g_assert_false (usbip_transport_add_listener (transport, listener, file, &error));
  g_assert_nonnull (strstr (error->message, "is not a socket"));
  g_assert_true (g_file_test (file_path, G_FILE_TEST_EXISTS));
  g_socket_listener_close (listener);
  g_clear_object (&listener);
  unlink (file_path);
}

/* socket options per family: no Nagle or keepalive on AF_UNIX, all of them on TCP */
static void
test_socket_options_per_family (void)
{
  g_autoptr (UsbipSocketOptions) opts = usbip_socket_options_new ();
  g_autoptr (GError) error = NULL;
  gint fds[2];
  gint v = 0;
  socklen_t len = sizeof v;

  opts->sndbuf = 65536;
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  {
    g_autoptr (GSocket) a = g_socket_new_from_fd (fds[0], NULL);
    g_autoptr (GSocket) b = g_socket_new_from_fd (fds[1], NULL);

    g_assert_true (usbip_socket_options_apply (opts, a, &error));
    g_assert_no_error (error);
    g_assert_cmpint (getsockopt (fds[0], SOL_SOCKET, SO_KEEPALIVE, &v, &len), ==, 0);
    g_assert_cmpint (v, ==, 0); /* keepalive is TCP's: not set on a Unix socket */
    g_assert_cmpint (getsockopt (fds[0], SOL_SOCKET, SO_SNDBUF, &v, &len), ==, 0);
    g_assert_cmpint (v, >=, 65536); /* the buffer sizes are */
  }
  {
    guint16 port;
    g_autoptr (GSocket) l = test_util_listen (&port);
    g_autoptr (GSocket) c = test_util_connect (port);

    g_assert_true (usbip_socket_options_apply (opts, c, &error));
    g_assert_cmpint (getsockopt (g_socket_get_fd (c), SOL_SOCKET, SO_KEEPALIVE, &v, &len), ==, 0);
    g_assert_cmpint (v, ==, 1);
    g_assert_cmpint (getsockopt (g_socket_get_fd (c), IPPROTO_TCP, TCP_NODELAY, &v, &len), ==, 0);
    g_assert_cmpint (v, ==, 1);
  }
}

/* admission per family, pure: each family by its own rules; uncovered ones fail closed */
static void
test_policy_families (void)
{
  g_autoptr (UsbipPolicy) open = usbip_policy_new ();
  g_autoptr (UsbipPolicy) p = usbip_policy_new ();
  g_autoptr (UsbipPeer) me = usbip_peer_new ();
  g_autoptr (UsbipPeer) group = usbip_peer_new ();
  g_autoptr (UsbipPeer) vm3 = usbip_peer_new ();
  g_autoptr (UsbipPeer) vm4 = usbip_peer_new ();
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (UsbipPeer) ip = usbip_peer_new_inet (lo, 4000);
  g_autoptr (UsbipPeer) unknown = usbip_peer_new ();
  g_autofree gchar *rule = NULL;
  g_autofree gchar *s = NULL, *k = NULL;

  me->family = group->family = G_SOCKET_FAMILY_UNIX;
  me->uid = 1000, me->gid = 1000, me->pid = 42;
  group->uid = 1001, group->gid = 46, group->pid = 43;
  vm3->family = vm4->family = USBIP_SOCKET_FAMILY_VSOCK;
  vm3->cid = 3, vm3->port = 1025;
  vm4->cid = 4;

  /* no rule: everyone, as upstream */
  g_assert_true (usbip_policy_admit_peer (open, me, 0, 0, 0, NULL));
  g_assert_true (usbip_policy_admit_peer (open, vm3, 0, 0, 0, NULL));
  g_assert_false (usbip_policy_refuses_family (open, G_SOCKET_FAMILY_UNIX));

  usbip_policy_add_allow_uid (p, 1000);
  usbip_policy_add_allow_gid (p, 46);
  usbip_policy_add_allow_cid (p, 3);
  g_assert_true (usbip_policy_admit_peer (p, me, 0, 0, 0, NULL));
  g_assert_true (usbip_policy_admit_peer (p, group, 0, 0, 0, NULL));
  g_assert_true (usbip_policy_admit_peer (p, vm3, 0, 0, 0, NULL));
  g_assert_false (usbip_policy_admit_peer (p, vm4, 0, 0, 0, &rule));
  g_assert_cmpstr (rule, ==, "allow-cid");
  g_clear_pointer (&rule, g_free);
  group->gid = 47;
  g_assert_false (usbip_policy_admit_peer (p, group, 0, 0, 0, &rule));
  g_assert_cmpstr (rule, ==, "allow-uid/allow-gid");
  g_clear_pointer (&rule, g_free);
  /* IP has no rule of its own while others are set: refused, and said up front */
  g_assert_false (usbip_policy_admit_peer (p, ip, 0, 0, 0, &rule));
  g_assert_cmpstr (rule, ==, "allow-cidr (none set for IP peers)");
  g_clear_pointer (&rule, g_free);
  g_assert_true (usbip_policy_refuses_family (p, G_SOCKET_FAMILY_IPV6));
  g_assert_false (usbip_policy_refuses_family (p, USBIP_SOCKET_FAMILY_VSOCK));
  g_assert_false (usbip_policy_admit_peer (p, unknown, 0, 0, 0, NULL));
  /* CIDR rules judge IP only */
  g_assert_true (usbip_policy_add_allow_cidr (p, "127.0.0.0/8", NULL));
  g_assert_true (usbip_policy_admit_peer (p, ip, 0, 0, 0, NULL));
  /* per-peer caps count a user or a CID as one peer */
  usbip_policy_set_max_sessions_per_peer (p, 1);
  g_assert_false (usbip_policy_admit_peer (p, me, 0, 1, 0, &rule));
  g_assert_cmpstr (rule, ==, "max-sessions-per-peer=1");

  s = usbip_peer_to_string (me);
  k = usbip_peer_get_key (me);
  g_assert_cmpstr (s, ==, "uid=1000 pid=42");
  g_assert_cmpstr (k, ==, "uid=1000");
  g_free (s), g_free (k);
  s = usbip_peer_to_string (vm3);
  k = usbip_peer_get_key (vm3);
  g_assert_cmpstr (s, ==, "cid=3 port=1025");
  g_assert_cmpstr (k, ==, "cid=3");
  g_assert_cmpstr (usbip_peer_get_family_name (vm3), ==, "vsock");
}

/* a transport plugin that is not enabled: the scheme is unknown, the error names the plugin */
static void
test_disabled_plugin (void)
{
  g_autoptr (UsbipPluginRegistry) registry = make_registry ("vhci;host");
  g_autoptr (UsbipImporter) importer = usbip_importer_new (NULL, NULL);
  g_autoptr (UsbipRemote) remote = usbip_remote_parse ("unix:/run/nothing.sock", 3240, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;

  g_assert_null (usbip_plugin_registry_get_transport (registry, "vsock", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN);
  g_assert_nonnull (strstr (error->message, "add vsock to `enabled` in the [plugins] group"));
  g_clear_error (&error);
  usbip_importer_set_plugin_registry (importer, registry);
  devices = test_util_list_devices (importer, remote, &error);
  g_assert_null (devices);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN);
  g_assert_nonnull (strstr (error->message, "unix: addresses need the unix transport plugin"));
  g_assert_nonnull (strstr (error->message, "add unix to `enabled`"));
}

/* a socket path the port records can keep, but with characters a terminal must not get raw
 * (a bidirectional override, a backslash): the messages show it escaped, once */
static void
test_unix_path_shown_escaped (void)
{
  g_autoptr (UsbipPluginRegistry) registry = make_registry (NULL);
  g_autoptr (UsbipImporter) importer = usbip_importer_new (NULL, NULL);
  g_autoptr (UsbipRemote) remote = usbip_remote_parse ("unix:/nonexistent-usbip/a\xe2\x80\xae"
                                                       "b\\c",
                                                       3240, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;

  g_assert_nonnull (remote);
  usbip_importer_set_plugin_registry (importer, registry);
  devices = test_util_list_devices (importer, remote, &error);
  g_assert_null (devices);
  g_assert_nonnull (error);
  if (strstr (error->message, "unix:/nonexistent-usbip/a\\u{202E}b\\\\c") == NULL)
    g_error ("the path is not shown escaped: %s", error->message);
  for (const gchar *c = error->message; *c != '\0'; c = g_utf8_next_char (c))
    g_assert_true (g_unichar_isprint (g_utf8_get_char (c)));
}

/* vsock: connecting to CID -1 is refused up front; listening works where the host has
 * vsock sockets (the data path is the VM suite's) */
static void
test_vsock (void)
{
  g_autoptr (UsbipPluginRegistry) registry = make_registry (NULL);
  g_autoptr (UsbipImporter) importer = usbip_importer_new (NULL, NULL);
  g_autoptr (UsbipRemote) any = usbip_remote_parse ("vsock:-1:3240", 3240, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  UsbipTransport *transport = usbip_plugin_registry_get_transport (registry, "vsock", &error);
  gint probe;

  g_assert_no_error (error);
  usbip_importer_set_plugin_registry (importer, registry);
  devices = test_util_list_devices (importer, any, &error);
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "CID -1 (any) is for listening"));
  g_clear_error (&error);

  probe = socket (AF_VSOCK, SOCK_STREAM, 0);
  if (probe < 0)
    {
      g_test_skip ("no AF_VSOCK sockets in this kernel");
      return;
    }
  close (probe);
  g_assert_true (usbip_transport_add_listener (transport, listener, "vsock:-1:0", &error) || error != NULL);
  g_clear_error (&error);
  /* a TCP address is not the vsock transport's */
  g_assert_false (usbip_transport_add_listener (transport, listener, "127.0.0.1:3240", &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_socket_listener_close (listener);
}

/* allow-uid/allow-gid take names too (resolved with the reentrant lookups): root is 0 on
 * every system; a name nobody has is an error that says how to list the names */
static void
test_peer_ids_by_name (void)
{
  guint32 id = 4242;
  g_autoptr (GError) error = NULL;

  g_assert_true (usbip_peer_parse_uid ("root", &id, NULL));
  g_assert_cmpuint (id, ==, 0);
  id = 4242;
  g_assert_true (usbip_peer_parse_gid ("root", &id, NULL));
  g_assert_cmpuint (id, ==, 0);
  g_assert_true (usbip_peer_parse_uid ("1000", &id, NULL));
  g_assert_cmpuint (id, ==, 1000);
  g_assert_false (usbip_peer_parse_uid ("no-such-user-usbipcore", &id, &error));
  g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "getent passwd"));
  g_clear_error (&error);
  g_assert_false (usbip_peer_parse_gid ("no-such-group-usbipcore", &id, &error));
  g_assert_nonnull (strstr (error->message, "getent group"));
}

int
main (int argc, char **argv)
{
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/transports/unix/attach", Fixture, NULL, setup, test_unix_attach, teardown);
  g_test_add ("/transports/unix/policy", Fixture, NULL, setup, test_unix_policy, teardown);
  g_test_add ("/transports/unix/stale-socket", Fixture, NULL, setup, test_unix_stale, teardown);
  g_test_add_func ("/transports/socket-options-per-family", test_socket_options_per_family);
  g_test_add_func ("/transports/peer-ids-by-name", test_peer_ids_by_name);
  g_test_add_func ("/transports/policy-families", test_policy_families);
  g_test_add_func ("/transports/disabled-plugin", test_disabled_plugin);
  g_test_add_func ("/transports/unix-path-shown-escaped", test_unix_path_shown_escaped);
  g_test_add_func ("/transports/vsock", test_vsock);
  return g_test_run ();
}
