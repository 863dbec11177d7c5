/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The importer's kernel side: vhci_hcd. Every attribute lives under vhci_hcd.0: `nports`,
 * `attach`, `detach`, and one status file per controller (`status`, `status.1`, ...).
 * Port numbers are global across controllers, as upstream `usbip port` shows them.
 */
#include "config.h"

#include <errno.h>

#include "usbip-vhci-backend.h"
#include "usbip-vhci-records.h"
#include "usbip-vhci-status.h"

struct _UsbipVhciBackend {
  GObject parent_instance;
  UsbipSysfs *sysfs;
  UsbipVhciRecords *records;
  GMutex lock; /* serialises choose-port + attach within this process */
};

static void usbip_vhci_backend_iface_init (UsbipImportBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipVhciBackend, usbip_vhci_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_IMPORT_BACKEND, usbip_vhci_backend_iface_init))

static gboolean
check_module (UsbipVhciBackend *self, GError **error)
{
  if (usbip_sysfs_exists (self->sysfs, USBIP_VHCI_SYSFS_DIR))
    return TRUE;
  g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_MODULE_MISSING,
                       "vhci_hcd is not loaded: run `modprobe vhci-hcd` (as root)");
  return FALSE;
}

static GPtrArray *
read_ports (UsbipVhciBackend *self, GError **error)
{
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (GPtrArray) ports = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_port_info_free);

  if (!check_module (self, error))
    return NULL;
  files = usbip_sysfs_list_dir (self->sysfs, USBIP_VHCI_SYSFS_DIR, "status", error);
  if (files == NULL)
    return NULL;
  for (guint i = 0; i < files->len; i++)
    {
      const gchar *name = g_ptr_array_index (files, i);
      g_autofree gchar *path = g_build_filename (USBIP_VHCI_SYSFS_DIR, name, NULL);
      g_autofree gchar *text = NULL;
      guint64 controller = 0;

      if (g_strcmp0 (name, "status") != 0)
        {
          if (!g_str_has_prefix (name, "status.")
              || !g_ascii_string_to_unsigned (name + 7, 10, 1, 255, &controller, NULL))
            continue;
        }
      text = usbip_sysfs_read (self->sysfs, path, error);
      if (text == NULL)
        return NULL;
      if (!usbip_vhci_status_parse (text, (guint) controller, ports, error))
        return NULL;
    }
  return g_steal_pointer (&ports);
}

static GPtrArray *
usbip_vhci_backend_list_ports (UsbipImportBackend *backend, GError **error)
{
  UsbipVhciBackend *self = USBIP_VHCI_BACKEND (backend);
  GPtrArray *ports = read_ports (self, error);
  g_autoptr (GArray) records = NULL;

  if (ports == NULL)
    return NULL;
  records = usbip_vhci_records_list (self->records);
  for (guint i = 0; i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      gboolean has_record = FALSE;

      for (guint r = 0; r < records->len && !has_record; r++)
        has_record = g_array_index (records, guint, r) == p->port;
      /* free ports too: a record left on a free port marks a lost connection */
      if (has_record)
        usbip_vhci_records_read (self->records, p->port, &p->remote_host, &p->remote_port, &p->remote_busid, NULL);
    }
  return ports;
}

/* records first (one directory read, usually nothing to match); the status files only
 * when a record names the pair */
static UsbipPortInfo *
usbip_vhci_backend_find_port (UsbipImportBackend *backend, const gchar *remote_host, const gchar *remote_service,
                              const gchar *remote_busid)
{
  UsbipVhciBackend *self = USBIP_VHCI_BACKEND (backend);
  g_autoptr (GArray) records = usbip_vhci_records_list (self->records);
  g_autoptr (GPtrArray) ports = NULL;

  for (guint r = 0; r < records->len; r++)
    {
      guint port = g_array_index (records, guint, r);
      g_autofree gchar *host = NULL, *service = NULL, *busid = NULL;

      if (!usbip_vhci_records_read (self->records, port, &host, &service, &busid, NULL)
          || g_strcmp0 (host, remote_host) != 0 || g_strcmp0 (service, remote_service) != 0
          || g_strcmp0 (busid, remote_busid) != 0)
        continue;
      if (ports == NULL && (ports = usbip_vhci_backend_list_ports (backend, NULL)) == NULL)
        return NULL;
      for (guint i = 0; i < ports->len; i++)
        {
          UsbipPortInfo *p = g_ptr_array_index (ports, i);
          if (p->port == port && p->status == USBIP_PORT_STATUS_USED)
            return usbip_port_info_copy (p);
        }
    }
  return NULL;
}

static gint
find_free_port (GPtrArray *ports, UsbipHubSpeed hub, guint skip_below)
{
  for (guint i = 0; i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->hub == hub && p->status == USBIP_PORT_STATUS_NULL && p->port >= skip_below)
        return (gint) p->port;
    }
  return -1;
}

static void
set_no_free_port (GPtrArray *ports, UsbipHubSpeed hub, GError **error)
{
  guint total = 0, other_free = 0;

  for (guint i = 0; i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->hub == hub)
        total++;
      else if (p->status == USBIP_PORT_STATUS_NULL)
        other_free++;
    }
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_NO_FREE_PORT,
               "all %u %s vhci ports are in use%s: detach a device (`usbip-tool port`, "
               "`usbip-tool detach -p N`)%s",
               total, hub == USBIP_HUB_SPEED_SUPER ? "SuperSpeed (ss)" : "high-speed (hs)",
               other_free > 0 ? (hub == USBIP_HUB_SPEED_SUPER ? " (the free hs ports cannot take a SuperSpeed device)"
                                                              : " (the free ss ports cannot take a USB 2 device)")
                              : "",
               total == 0 ? " or load vhci-hcd with more ports" : "");
}

static gint
usbip_vhci_backend_attach (UsbipImportBackend *backend, gint sockfd, guint32 devid, UsbipSpeed speed,
                           const gchar *remote_host, const gchar *remote_service, const gchar *remote_busid,
                           GError **error)
{
  UsbipVhciBackend *self = USBIP_VHCI_BACKEND (backend);
  UsbipHubSpeed hub = usbip_speed_is_superspeed (speed) ? USBIP_HUB_SPEED_SUPER : USBIP_HUB_SPEED_HIGH;
  G_GNUC_UNUSED g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  guint skip_below = 0;

  for (guint attempt = 0; attempt < USBIP_VHCI_ATTACH_RETRIES; attempt++)
    {
      g_autoptr (GPtrArray) ports = read_ports (self, error);
      g_autoptr (GError) local_error = NULL;
      g_autofree gchar *value = NULL;
      g_autofree gchar *attach = NULL;
      gint port;

      if (ports == NULL)
        return -1;
      port = find_free_port (ports, hub, skip_below);
      if (port < 0 && skip_below > 0)
        port = find_free_port (ports, hub, 0);
      if (port < 0)
        {
          set_no_free_port (ports, hub, error);
          return -1;
        }
      value = g_strdup_printf ("%d %d %u %u", port, sockfd, devid, (guint) speed);
      attach = g_build_filename (USBIP_VHCI_SYSFS_DIR, "attach", NULL);
      if (usbip_sysfs_write (self->sysfs, attach, value, &local_error))
        {
          g_autoptr (GError) record_error = NULL;
          if (!usbip_vhci_records_write (self->records, (guint) port, remote_host, remote_service, remote_busid,
                                         &record_error))
            g_warning ("attached on port %d, but %s: `usbip port` will not show the remote", port,
                       record_error->message);
          g_debug ("attached devid %08x speed %u on port %d", devid, (guint) speed, port);
          return port;
        }
      /* another attacher took the port between our read and our write (the kernel says
       * EBUSY, as upstream expects): try the next; any other error is final */
      if (g_error_matches (local_error, USBIP_ERROR, USBIP_ERROR_BUSY))
        {
          g_debug ("port %d taken concurrently (%s), retrying", port, local_error->message);
          skip_below = (guint) port + 1;
          continue;
        }
      /* EINVAL: the kernel refused the request itself (speed, devid, socket); retrying
       * another port would fail the same way. It stays INVALID_ARGUMENT: permanent. */
      if (g_error_matches (local_error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT))
        g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                     "vhci_hcd refused to attach %s (devid %08x, speed %s) on port %d: %s; the kernel "
                     "log (`dmesg`) says why",
                     remote_busid, devid, usbip_speed_to_nick (speed), port, local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_BUSY,
               "vhci ports kept being taken by other attachers (%d tries): try again", USBIP_VHCI_ATTACH_RETRIES);
  return -1;
}

static gboolean
usbip_vhci_backend_detach (UsbipImportBackend *backend, guint port, GError **error)
{
  UsbipVhciBackend *self = USBIP_VHCI_BACKEND (backend);
  g_autoptr (GPtrArray) ports = read_ports (self, error);
  g_autofree gchar *value = NULL;
  g_autofree gchar *detach = NULL;
  gboolean known = FALSE;

  if (ports == NULL)
    return FALSE;
  for (guint i = 0; i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->port != port)
        continue;
      known = TRUE;
      if (p->status == USBIP_PORT_STATUS_NULL)
        {
          usbip_vhci_records_remove (self->records, port, NULL);
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                       "port %u has no device attached: see `usbip-tool port`", port);
          return FALSE;
        }
    }
  if (!known)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "there is no vhci port %u (ports are 0 to %u): see `usbip-tool port`", port,
                   ports->len > 0 ? ports->len - 1 : 0);
      return FALSE;
    }
  value = g_strdup_printf ("%u", port);
  detach = g_build_filename (USBIP_VHCI_SYSFS_DIR, "detach", NULL);
  if (!usbip_sysfs_write (self->sysfs, detach, value, error))
    return FALSE;
  usbip_vhci_records_remove (self->records, port, NULL);
  return TRUE;
}

static void
usbip_vhci_backend_iface_init (UsbipImportBackendInterface *iface)
{
  iface->list_ports = usbip_vhci_backend_list_ports;
  iface->attach = usbip_vhci_backend_attach;
  iface->detach = usbip_vhci_backend_detach;
  iface->find_port = usbip_vhci_backend_find_port;
}

static void
usbip_vhci_backend_finalize (GObject *object)
{
  UsbipVhciBackend *self = USBIP_VHCI_BACKEND (object);

  g_clear_object (&self->sysfs);
  g_clear_object (&self->records);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (usbip_vhci_backend_parent_class)->finalize (object);
}

static void
usbip_vhci_backend_class_init (UsbipVhciBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_vhci_backend_finalize;
}

static void
usbip_vhci_backend_init (UsbipVhciBackend *self)
{
  g_mutex_init (&self->lock);
}

UsbipVhciBackend *
usbip_vhci_backend_new (UsbipSysfs *sysfs)
{
  UsbipVhciBackend *self = g_object_new (USBIP_TYPE_VHCI_BACKEND, NULL);

  self->sysfs = g_object_ref (sysfs != NULL ? sysfs : usbip_sysfs_get_default ());
  self->records = usbip_vhci_records_new (self->sysfs, NULL);
  return self;
}
