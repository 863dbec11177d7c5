/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB/IP over AF_VSOCK stream sockets: `vsock:CID:PORT`. Between a hypervisor host (CID 2)
 * and its VMs, or within one machine (CID 1, vsock_loopback), with no network at all. The
 * kernel takes any connected SOCK_STREAM socket, so vhci_hcd and usbip-host carry the
 * session over it as over TCP.
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "usbip-vsock-transport.h"

struct _UsbipVsockTransport {
  GObject parent_instance;
};

static void usbip_vsock_transport_iface_init (UsbipTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipVsockTransport, usbip_vsock_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_TRANSPORT, usbip_vsock_transport_iface_init))

static GSocketAddress *
socket_address (const UsbipRemote *remote)
{
  struct sockaddr_vm svm = { 0 };
  guint64 cid = VMADDR_CID_ANY;

  svm.svm_family = AF_VSOCK;
  if (g_strcmp0 (remote->host, USBIP_REMOTE_VSOCK_CID_ANY) != 0)
    g_ascii_string_to_unsigned (remote->host, 10, 0, G_MAXUINT32, &cid, NULL); /* checked by the parser */
  svm.svm_cid = (unsigned int) cid;
  svm.svm_port = remote->port;
  return g_socket_address_new_from_native (&svm, sizeof svm);
}

static void
vsock_connect_async (UsbipTransport *transport, const UsbipRemote *remote, const UsbipSocketOptions *options,
                     GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GSocketAddress) addr = NULL;

  if (g_strcmp0 (remote->host, USBIP_REMOTE_VSOCK_CID_ANY) == 0)
    {
      g_task_report_new_error (transport, callback, user_data, vsock_connect_async, USBIP_ERROR,
                               USBIP_ERROR_INVALID_ARGUMENT,
                               "vsock:-1:%u: CID -1 (any) is for listening; connect to a CID: 2 for the host, "
                               "1 for this machine, or a VM's CID",
                               remote->port);
      return;
    }
  addr = socket_address (remote);
  usbip_transport_connect_address_async (transport, remote, G_SOCKET_CONNECTABLE (addr), options, cancellable, callback,
                                         user_data);
}

static GSocketConnection *
vsock_connect_finish (UsbipTransport *transport, GAsyncResult *result, GError **error)
{
  /* both the helper's task and a reported error are GTasks of this transport */
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GSocket *
vsock_create_listener (UsbipTransport *transport, const gchar *address, GError **error)
{
  g_autoptr (UsbipRemote) remote = usbip_remote_parse (address, USBIP_DEFAULT_TCP_PORT, error);
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree gchar *not_local = NULL;
  gint fd;

  if (remote == NULL)
    return NULL;
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_VSOCK) != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "%s is not a vsock: address (write vsock:CID:PORT, e.g. vsock:-1:3240)", address);
      return NULL;
    }
  /* by hand: GSocket's family property knows no AF_VSOCK, so g_socket_new() refuses it */
  fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING,
                   "cannot listen on %s: %s (the kernel has no vsock sockets: modprobe vsock, and a transport: "
                   "vhost_vsock on a host, vmw_vsock_virtio_transport in a guest, vsock_loopback for CID 1)",
                   address, g_strerror (errno));
      return NULL;
    }
  sock = g_socket_new_from_fd (fd, &local_error);
  if (sock == NULL)
    {
      close (fd);
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_FAILED, "cannot listen on %s: %s", address, local_error->message);
      return NULL;
    }
  addr = socket_address (remote);
  not_local = g_strdup_printf ("CID %s is not this machine's (listen on vsock:-1:%u for any of its CIDs)", remote->host,
                               remote->port);
  if (!usbip_transport_bind (sock, addr, address, not_local, error) || !usbip_transport_listen (sock, address, error))
    return NULL;
  return g_steal_pointer (&sock);
}

static void
usbip_vsock_transport_iface_init (UsbipTransportInterface *iface)
{
  iface->connect_async = vsock_connect_async;
  iface->connect_finish = vsock_connect_finish;
  iface->create_listener = vsock_create_listener;
}

static void
usbip_vsock_transport_class_init (UsbipVsockTransportClass *klass)
{
}

static void
usbip_vsock_transport_init (UsbipVsockTransport *self)
{
}

UsbipVsockTransport *
usbip_vsock_transport_new (void)
{
  return g_object_new (USBIP_TYPE_VSOCK_TRANSPORT, NULL);
}
