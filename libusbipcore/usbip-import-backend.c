/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-error.h"
#include "usbip-import-backend.h"

/**
 * UsbipImportBackend:
 *
 * The importer side of the kernel: vhci_hcd ports. Implemented by the `vhci` plugin and
 * by test doubles.
 *
 * Since: 1.0
 */
G_DEFINE_INTERFACE (UsbipImportBackend, usbip_import_backend, G_TYPE_OBJECT)

static void
usbip_import_backend_default_init (UsbipImportBackendInterface *iface)
{
}

/**
 * usbip_import_backend_list_ports:
 * @self: a #UsbipImportBackend
 * @error: return location for a #GError, or %NULL
 *
 * Lists every port of every controller, merged with the port records.
 *
 * Returns: (element-type UsbipPortInfo) (transfer container): ports, or %NULL on error
 *
 * Since: 1.0
 */
GPtrArray *
usbip_import_backend_list_ports (UsbipImportBackend *self, GError **error)
{
  g_return_val_if_fail (USBIP_IS_IMPORT_BACKEND (self), NULL);
  return USBIP_IMPORT_BACKEND_GET_IFACE (self)->list_ports (self, error);
}

/**
 * usbip_import_backend_attach:
 * @self: a #UsbipImportBackend
 * @sockfd: a connected stream socket on which OP_REP_IMPORT succeeded
 * @devid: the remote device's busnum << 16 | devnum
 * @speed: the remote device's speed (chooses an `hs` or `ss` port)
 * @remote_host: host for the port record
 * @remote_service: port (service) for the port record
 * @remote_busid: remote busid for the port record
 * @error: return location for a #GError, or %NULL
 *
 * Hands @sockfd to a free vhci port and writes the port record. The caller still owns
 * @sockfd and should close it afterwards (the kernel holds its own reference).
 *
 * Returns: the port number, or -1 with @error set
 *
 * Since: 1.0
 */
gint
usbip_import_backend_attach (UsbipImportBackend *self, gint sockfd, guint32 devid, UsbipSpeed speed,
                             const gchar *remote_host, const gchar *remote_service, const gchar *remote_busid,
                             GError **error)
{
  g_return_val_if_fail (USBIP_IS_IMPORT_BACKEND (self), -1);
  g_return_val_if_fail (sockfd >= 0, -1);
  return USBIP_IMPORT_BACKEND_GET_IFACE (self)->attach (self, sockfd, devid, speed, remote_host, remote_service,
                                                        remote_busid, error);
}

/**
 * usbip_import_backend_detach:
 * @self: a #UsbipImportBackend
 * @port: a port number as listed
 * @error: return location for a #GError, or %NULL
 *
 * Detaches the device on @port and removes the port record.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
usbip_import_backend_detach (UsbipImportBackend *self, guint port, GError **error)
{
  g_return_val_if_fail (USBIP_IS_IMPORT_BACKEND (self), FALSE);
  return USBIP_IMPORT_BACKEND_GET_IFACE (self)->detach (self, port, error);
}

/**
 * usbip_import_backend_find_port:
 * @self: a #UsbipImportBackend
 * @remote_host: the remote host as the port record holds it
 * @remote_service: the remote TCP port, as text
 * @remote_busid: the device's bus ID on the remote
 *
 * Finds the port in use that carries (remote, busid), as the port records tell — ours and
 * upstream `usbip`'s alike.
 *
 * Returns: (transfer full) (nullable): the port, or %NULL if that pair is not attached
 *
 * Since: 1.0
 */
UsbipPortInfo *
usbip_import_backend_find_port (UsbipImportBackend *self, const gchar *remote_host, const gchar *remote_service,
                                const gchar *remote_busid)
{
  UsbipImportBackendInterface *iface;
  g_autoptr (GPtrArray) ports = NULL;

  g_return_val_if_fail (USBIP_IS_IMPORT_BACKEND (self), NULL);
  iface = USBIP_IMPORT_BACKEND_GET_IFACE (self);
  if (iface->find_port != NULL)
    return iface->find_port (self, remote_host, remote_service, remote_busid);
  ports = iface->list_ports (self, NULL);
  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->status == USBIP_PORT_STATUS_USED && g_strcmp0 (p->remote_host, remote_host) == 0
          && g_strcmp0 (p->remote_port, remote_service) == 0 && g_strcmp0 (p->remote_busid, remote_busid) == 0)
        return usbip_port_info_copy (p);
    }
  return NULL;
}
