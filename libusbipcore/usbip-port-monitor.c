/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Watches the vhci ports: polls the import backend's port list (cheap: a few sysfs reads)
 * and checks at once when the kernel reports a USB device added or removed (its uevent
 * netlink group, read directly: no udevd needed, and no libgudev/libudev in the library's
 * closure, which every usbip-tool verb and usbipcored used to load for this alone), so a
 * lost attachment is seen within milliseconds, and within the poll interval without events.
 * Only the kernel's datagrams count (another process could unicast look-alikes to the socket);
 * a uevent socket that hangs up or fails is dropped, and the poll carries on alone.
 */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "usbip-device-cache-private.h"
#include "usbip-port-monitor-private.h"
#include "usbip-port-monitor.h"

/**
 * UsbipPortMonitor:
 *
 * Emits ::port-added and ::port-removed as vhci ports are taken and released, by anyone
 * (this process, upstream `usbip`, the kernel after a lost connection).
 *
 * Since: 1.0
 */
struct _UsbipPortMonitor {
  GObject parent_instance;
  UsbipImportBackend *backend;
  guint interval_ms;
  guint timer_id;
  guint idle_id;
  gint uevent_fd;    /* the kernel's uevents, opened at the first start; -1: none */
  guint uevent_id;   /* its watch while started */
  gboolean fd_given; /* set by usbip_port_monitor_set_uevent_fd(): not opened at start */
  gboolean running;  /* between usbip_port_monitor_start() and _stop() */
  GHashTable *used;  /* port number -> UsbipPortInfo of the last check */
};

enum { SIGNAL_PORT_ADDED, SIGNAL_PORT_REMOVED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (UsbipPortMonitor, usbip_port_monitor, G_TYPE_OBJECT)

/* vhci_hcd lists a fresh attachment as VDEV_ST_NOTASSIGNED, with devid, sockfd and local busid
 * zeroed, until the device has enumerated and the port is USED: a not-assigned snapshot matches
 * whatever the port holds next, or every attachment would look lost once it enumerates */
static gboolean
same_attachment (const UsbipPortInfo *a, const UsbipPortInfo *b)
{
  if (a->status == USBIP_PORT_STATUS_NOT_ASSIGNED || b->status == USBIP_PORT_STATUS_NOT_ASSIGNED)
    return TRUE;
  return a->devid == b->devid && a->sockfd == b->sockfd && g_strcmp0 (a->local_busid, b->local_busid) == 0;
}

static void
check (UsbipPortMonitor *self)
{
  g_autoptr (GPtrArray) ports = usbip_import_backend_list_ports (self->backend, NULL);
  g_autoptr (GHashTable) now =
      g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) usbip_port_info_free);
  GHashTableIter iter;
  gpointer key, value;

  if (ports == NULL)
    return; /* module gone: nothing to compare; the next check tells */
  for (guint i = 0; i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->status != USBIP_PORT_STATUS_NULL)
        g_hash_table_insert (now, GUINT_TO_POINTER (p->port), usbip_port_info_copy (p));
    }
  /* released (or reused by another attachment) */
  g_hash_table_iter_init (&iter, self->used);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      UsbipPortInfo *cur = g_hash_table_lookup (now, key);
      UsbipPortInfo *old = value;
      gboolean record_kept = FALSE;

      if (cur != NULL && same_attachment (cur, old))
        continue;
      /* a port record left behind means nobody detached on purpose: the link was lost */
      for (guint i = 0; i < ports->len; i++)
        {
          UsbipPortInfo *p = g_ptr_array_index (ports, i);
          if (p->port == old->port && p->remote_busid != NULL)
            record_kept = TRUE;
        }
      g_signal_emit (self, signals[SIGNAL_PORT_REMOVED], 0, old, record_kept);
    }
  g_hash_table_iter_init (&iter, now);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      UsbipPortInfo *old = g_hash_table_lookup (self->used, key);
      if (old == NULL || !same_attachment (old, value))
        g_signal_emit (self, signals[SIGNAL_PORT_ADDED], 0, value);
    }
  g_hash_table_unref (self->used);
  self->used = g_steal_pointer (&now);
}

static gboolean
on_timer (gpointer data)
{
  check (USBIP_PORT_MONITOR (data));
  return G_SOURCE_CONTINUE;
}

static gboolean
on_idle (gpointer data)
{
  UsbipPortMonitor *self = data;

  self->idle_id = 0;
  check (self);
  return G_SOURCE_REMOVE;
}

/**
 * usbip_port_monitor_check_now:
 * @self: a monitor
 *
 * Compares the ports with the last check from an idle callback, soon. A monitor that is
 * not started (or stopped) does nothing: it has no baseline to compare with.
 *
 * Since: 1.0
 */
void
usbip_port_monitor_check_now (UsbipPortMonitor *self)
{
  g_return_if_fail (USBIP_IS_PORT_MONITOR (self));
  if (self->running && self->idle_id == 0)
    self->idle_id = g_idle_add (on_idle, self);
}

/* a USB device added or removed (the datagram starts `ACTION@DEVPATH`); one that cannot be
 * parsed counts too (a check too many is harmless) */
static gboolean
uevent_is_usb_add_or_remove (const guint8 *msg, gsize len)
{
  gboolean add = len > 4 && memcmp (msg, "add@", 4) == 0;
  gboolean remove = len > 7 && memcmp (msg, "remove@", 7) == 0;

  if (!add && !remove && memchr (msg, '@', MIN (len, 64)) != NULL)
    return FALSE; /* bind, change, ... */
  return usbip_device_cache_uevent_is_usb (msg, len);
}

static gboolean
on_uevent (gint fd, GIOCondition condition, gpointer data)
{
  UsbipPortMonitor *self = data;
  gboolean relevant = usbip_uevent_drain (fd, uevent_is_usb_add_or_remove);

  if ((condition & (G_IO_ERR | G_IO_HUP)) == 0)
    {
      if (relevant)
        usbip_port_monitor_check_now (self);
      return G_SOURCE_CONTINUE;
    }
  /* closed or failed: poll() would report it on every main loop iteration. Dropped, the
   * monitor is as without a uevent socket: the poll timer, and one check now for what the
   * events would have told */
  g_message ("port monitor: the uevent socket %s: %s", (condition & G_IO_HUP) != 0 ? "closed" : "failed",
             self->interval_ms > 0 ? "polling the ports instead" : "no further uevents (polling is off)");
  self->uevent_id = 0;
  close (self->uevent_fd);
  self->uevent_fd = -1;
  usbip_port_monitor_check_now (self);
  return G_SOURCE_REMOVE;
}

/**
 * usbip_port_monitor_start:
 * @self: a monitor
 * @error: return location for a #GError
 *
 * Takes the current ports as the baseline (no signals for them) and starts watching.
 *
 * Returns: %FALSE if the ports cannot be read (e.g. vhci-hcd is not loaded)
 *
 * Since: 1.0
 */
gboolean
usbip_port_monitor_start (UsbipPortMonitor *self, GError **error)
{
  g_autoptr (GPtrArray) ports = NULL;

  g_return_val_if_fail (USBIP_IS_PORT_MONITOR (self), FALSE);
  ports = usbip_import_backend_list_ports (self->backend, error);
  if (ports == NULL)
    return FALSE;
  g_hash_table_remove_all (self->used);
  for (guint i = 0; i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->status != USBIP_PORT_STATUS_NULL)
        g_hash_table_insert (self->used, GUINT_TO_POINTER (p->port), usbip_port_info_copy (p));
    }
  self->running = TRUE;
  if (self->timer_id == 0 && self->interval_ms > 0)
    self->timer_id = g_timeout_add (self->interval_ms, on_timer, self);
  if (self->uevent_fd < 0 && !self->fd_given)
    self->uevent_fd = usbip_uevent_socket_open ();
  if (self->uevent_fd >= 0 && self->uevent_id == 0)
    {
      usbip_uevent_drain (self->uevent_fd, uevent_is_usb_add_or_remove); /* from before this snapshot */
      self->uevent_id = g_unix_fd_add (self->uevent_fd, G_IO_IN, on_uevent, self);
    }
  return TRUE;
}

/**
 * usbip_port_monitor_stop:
 * @self: a monitor
 *
 * Stops watching: no timer, no uevents, and usbip_port_monitor_check_now() does
 * nothing until the monitor is started again.
 *
 * Since: 1.0
 */
void
usbip_port_monitor_stop (UsbipPortMonitor *self)
{
  g_return_if_fail (USBIP_IS_PORT_MONITOR (self));
  self->running = FALSE;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->uevent_id, g_source_remove);
}

/* usbip_port_monitor_set_uevent_fd: the monitor reads its uevents from @fd (owned; -1: none)
 * instead of the kernel's netlink group; tests feed it from a socket pair. Before the start. */
void
usbip_port_monitor_set_uevent_fd (UsbipPortMonitor *self, gint fd)
{
  g_return_if_fail (USBIP_IS_PORT_MONITOR (self));
  g_return_if_fail (self->uevent_id == 0);
  if (self->uevent_fd >= 0)
    close (self->uevent_fd);
  self->uevent_fd = fd;
  self->fd_given = TRUE;
}

/**
 * usbip_port_monitor_set_interval:
 * @self: a monitor
 * @interval_ms: poll interval; 0 = only the kernel's uevents and usbip_port_monitor_check_now()
 *
 * Takes effect at the next start.
 *
 * Since: 1.0
 */
void
usbip_port_monitor_set_interval (UsbipPortMonitor *self, guint interval_ms)
{
  g_return_if_fail (USBIP_IS_PORT_MONITOR (self));
  self->interval_ms = interval_ms;
}

static void
usbip_port_monitor_dispose (GObject *object)
{
  usbip_port_monitor_stop (USBIP_PORT_MONITOR (object));
  G_OBJECT_CLASS (usbip_port_monitor_parent_class)->dispose (object);
}

static void
usbip_port_monitor_finalize (GObject *object)
{
  UsbipPortMonitor *self = USBIP_PORT_MONITOR (object);

  g_clear_object (&self->backend);
  g_hash_table_unref (self->used);
  if (self->uevent_fd >= 0)
    close (self->uevent_fd);
  G_OBJECT_CLASS (usbip_port_monitor_parent_class)->finalize (object);
}

static void
usbip_port_monitor_class_init (UsbipPortMonitorClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usbip_port_monitor_dispose;
  G_OBJECT_CLASS (klass)->finalize = usbip_port_monitor_finalize;

  /**
   * UsbipPortMonitor::port-added:
   * @self: the monitor
   * @port: (type UsbipPortInfo): the port now in use
   *
   * Since: 1.0
   */
  signals[SIGNAL_PORT_ADDED] = g_signal_new ("port-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                             NULL, G_TYPE_NONE, 1, USBIP_TYPE_PORT_INFO);
  /**
   * UsbipPortMonitor::port-removed:
   * @self: the monitor
   * @port: (type UsbipPortInfo): the port as it was while in use
   * @record_kept: %TRUE if its port record is still there: nobody detached it on purpose
   *   (the connection was lost); %FALSE after a `detach` (ours or upstream's)
   *
   * Since: 1.0
   */
  signals[SIGNAL_PORT_REMOVED] = g_signal_new ("port-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 2, USBIP_TYPE_PORT_INFO, G_TYPE_BOOLEAN);
}

static void
usbip_port_monitor_init (UsbipPortMonitor *self)
{
  self->interval_ms = USBIP_PORT_MONITOR_DEFAULT_INTERVAL_MS;
  self->uevent_fd = -1;
  self->used = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) usbip_port_info_free);
}

/**
 * usbip_port_monitor_new:
 * @backend: the import backend whose ports to watch
 *
 * Returns: (transfer full): a stopped monitor
 *
 * Since: 1.0
 */
UsbipPortMonitor *
usbip_port_monitor_new (UsbipImportBackend *backend)
{
  UsbipPortMonitor *self;

  g_return_val_if_fail (USBIP_IS_IMPORT_BACKEND (backend), NULL);
  self = g_object_new (USBIP_TYPE_PORT_MONITOR, NULL);
  self->backend = g_object_ref (backend);
  return self;
}
