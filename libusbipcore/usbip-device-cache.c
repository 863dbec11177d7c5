/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The exporter's device list without a sysfs rescan per OP_REQ_DEVLIST. The expensive part
 * (walking every USB device and reading its descriptors) is done again only when the kernel
 * says a USB device was added, removed, bound or unbound (a uevent of subsystem "usb", read
 * from the kernel's uevent netlink socket, which works with or without udevd). The export
 * state (`usbip_status`: free, in use, error) changes without a uevent when an import happens
 * or a session ends, so it is re-read on every request: one small read per bound device.
 * A device that vanished makes that read fail, which also forces a rescan. Where the uevent
 * socket cannot be opened, or the backend cannot read one device's state, every request
 * rescans (the behaviour without a cache).
 *
 * A backend with no kernel behind it (the virtual devices) has no uevents: its devices and
 * their states change only when it says so, with its signal "devices-changed", and its list
 * is kept until then. A UsbipCompositeBackend is cached backend by backend, each its own way.
 */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "usbip-device-cache.h"
#include "usbip-device-cache-private.h"
#include "usbip-composite-backend-private.h"
#include "usbip-error.h"

/* how one backend's devices are kept */
typedef enum {
  PART_RESCAN,    /* read on every request */
  PART_STATUS,    /* bound devices kept until a USB uevent, their state re-read per request */
  PART_ANNOUNCED, /* the backend's list kept until its signal "devices-changed" */
} PartKind;

typedef struct {
  UsbipExportBackend *backend;
  PartKind kind;
  GPtrArray *devices; /* UsbipDeviceInfo: STATUS every bound device, ANNOUNCED the list; NULL: read again */
  gulong changed_id;
} Part;

/**
 * UsbipDeviceCache:
 *
 * OP_REQ_DEVLIST answers from a cache, invalidated by the kernel's USB uevents (and, for a
 * backend with the signal "devices-changed", by that signal).
 *
 * Since: 1.0
 */
struct _UsbipDeviceCache {
  GObject parent_instance;
  UsbipExportBackend *backend;
  gint uevent_fd; /* -1: no events, STATUS parts rescan every time */
  GArray *parts;  /* Part, one per backend (of a composite: per backend in it) */
  guint rescans;
};

G_DEFINE_FINAL_TYPE (UsbipDeviceCache, usbip_device_cache, G_TYPE_OBJECT)

/**
 * usbip_device_cache_uevent_is_usb:
 * @msg: (array length=len): one uevent datagram (`ACTION@DEVPATH` then `KEY=VALUE` strings,
 *   each NUL-terminated)
 * @len: its length
 *
 * Returns: %TRUE if it is about the `usb` subsystem, or cannot be parsed (safe: a rescan)
 *
 * Since: 1.0
 */
gboolean
usbip_device_cache_uevent_is_usb (const guint8 *msg, gsize len)
{
  gsize i = 0;

  if (msg == NULL || len == 0 || memchr (msg, '@', MIN (len, 64)) == NULL)
    return TRUE;
  while (i < len)
    {
      const gchar *s = (const gchar *) msg + i;
      gsize n = strnlen (s, len - i);

      if (n >= 10 && strncmp (s, "SUBSYSTEM=", 10) == 0)
        return n == 13 && strncmp (s + 10, "usb", 3) == 0;
      i += n + 1;
    }
  return TRUE;
}

/* usbip_uevent_sender_is_kernel: TRUE if a datagram from @addr (@len bytes, as recvmsg()
 * filled them) came from the kernel: netlink port id 0. Any process may unicast to our port
 * id a datagram that looks like a uevent; libudev drops those too. */
gboolean
usbip_uevent_sender_is_kernel (const struct sockaddr *addr, socklen_t len)
{
  const struct sockaddr_nl *nl = (const struct sockaddr_nl *) addr;

  return addr != NULL && len >= (socklen_t) sizeof *nl && nl->nl_family == AF_NETLINK && nl->nl_pid == 0;
}

/* usbip_uevent_drain: reads every uevent pending on @fd; TRUE if @relevant holds for any of
 * them, or some were lost (ENOBUFS) or the socket failed: the safe answer is a re-read.
 * On a netlink socket, datagrams from other senders than the kernel are dropped. */
gboolean
usbip_uevent_drain (gint fd, gboolean (*relevant) (const guint8 *msg, gsize len))
{
  guint8 buf[8192];
  gboolean any = FALSE;
  gint domain = -1;
  socklen_t domain_len = sizeof domain;

  for (;;)
    {
      struct sockaddr_storage from = { 0 };
      struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
      struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
      ssize_t n = recvmsg (fd, &mh, MSG_DONTWAIT);

      /* the sockets opened here are netlink; a test's socket pair (the private seams) has no
       * sender to check. Asked only once a datagram came: the usual empty drain, once per
       * OP_REQ_DEVLIST, costs one recvmsg() */
      if (n > 0 && domain == -1 && getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &domain, &domain_len) != 0)
        domain = AF_NETLINK;
      if (n > 0 && domain == AF_NETLINK
          && !usbip_uevent_sender_is_kernel ((const struct sockaddr *) &from, mh.msg_namelen))
        g_debug ("uevent of %zd bytes from netlink port id %u, not the kernel: ignored", n,
                 ((const struct sockaddr_nl *) &from)->nl_pid);
      else if (n > 0)
        any |= relevant (buf, (gsize) n);
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return any;
      else
        return TRUE; /* ENOBUFS: events were lost; anything else: be safe */
    }
}

/* a non-blocking socket on the kernel's own uevent multicast group (no udevd needed), or -1 */
gint
usbip_uevent_socket_open (void)
{
  struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 /* the kernel's own */ };
  gint fd = socket (AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);

  if (fd < 0)
    return -1;
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
part_is_caching (UsbipDeviceCache *self, const Part *part)
{
  return part->kind == PART_ANNOUNCED || (part->kind == PART_STATUS && self->uevent_fd >= 0);
}

static gboolean
rescan (UsbipDeviceCache *self, Part *part, GError **error)
{
  g_autoptr (GPtrArray) all = usbip_export_backend_list_local_devices (part->backend, error);

  self->rescans++;
  g_clear_pointer (&part->devices, g_ptr_array_unref);
  if (all == NULL)
    return FALSE;
  part->devices = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);
  for (guint i = 0; i < all->len; i++)
    {
      UsbipDeviceInfo *info = g_ptr_array_index (all, i);
      if (info->status != USBIP_DEVICE_STATUS_UNKNOWN) /* bound to the export driver */
        g_ptr_array_add (part->devices, usbip_device_info_copy (info));
    }
  return TRUE;
}

/* what OP_REP_DEVLIST offers, as upstream usbipd does (Debian 12's, Linux 6.1; VM scenario
 * 33): every device bound to the export driver but those in use by an importer (another
 * client could only be refused); one in error is listed, and its import refused with
 * ST_DEV_ERR. A device whose state cannot be read is left out. */
static gboolean
offered (const UsbipDeviceInfo *info)
{
  return info->status == USBIP_DEVICE_STATUS_AVAILABLE || info->status == USBIP_DEVICE_STATUS_ERROR;
}

/* a STATUS part: its bound devices, with their state read now */
static GPtrArray *
list_by_status (UsbipDeviceCache *self, Part *part, GError **error)
{
  /* at most twice: a device that vanishes or is unbound before its uevent reaches us fails
   * its state read, and the second pass rescans (a device that fails again is left out) */
  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);
      gboolean stale = FALSE;

      if (part->devices == NULL && !rescan (self, part, error))
        return NULL;
      for (guint i = 0; i < part->devices->len; i++)
        {
          UsbipDeviceInfo *info = g_ptr_array_index (part->devices, i);
          UsbipDeviceStatus st = usbip_export_backend_get_status (part->backend, info->busid, NULL);

          stale |= st == USBIP_DEVICE_STATUS_UNKNOWN;
          info->status = st;
          g_ptr_array_add (out, usbip_device_info_copy (info));
        }
      if (!stale || pass == 1)
        return g_steal_pointer (&out);
      g_clear_pointer (&part->devices, g_ptr_array_unref);
    }
  g_assert_not_reached ();
}

/* an ANNOUNCED part: the backend's list as it was when last read */
static GPtrArray *
list_announced (UsbipDeviceCache *self, Part *part, GError **error)
{
  GPtrArray *out;

  if (part->devices == NULL)
    {
      self->rescans++;
      part->devices = usbip_export_backend_list_devices (part->backend, error);
      if (part->devices == NULL)
        return NULL;
    }
  out = g_ptr_array_new_full (part->devices->len, (GDestroyNotify) usbip_device_info_free);
  for (guint i = 0; i < part->devices->len; i++)
    g_ptr_array_add (out, usbip_device_info_copy (g_ptr_array_index (part->devices, i)));
  return out;
}

static GPtrArray *
list_part (UsbipDeviceCache *self, Part *part, GError **error)
{
  if (!part_is_caching (self, part))
    {
      self->rescans++;
      return usbip_export_backend_list_devices (part->backend, error);
    }
  if (part->kind == PART_ANNOUNCED)
    return list_announced (self, part, error);
  return list_by_status (self, part, error);
}

/**
 * usbip_device_cache_is_caching:
 * @self: a cache
 *
 * Returns: %TRUE if requests are answered from the cache; %FALSE if each rescans a backend
 *   (no uevent socket, or a backend that can neither read one device's state nor tell when
 *   its devices change)
 *
 * Since: 1.0
 */
gboolean
usbip_device_cache_is_caching (UsbipDeviceCache *self)
{
  g_return_val_if_fail (USBIP_IS_DEVICE_CACHE (self), FALSE);
  for (guint i = 0; i < self->parts->len; i++)
    if (!part_is_caching (self, &g_array_index (self->parts, Part, i)))
      return FALSE;
  return TRUE;
}

/**
 * usbip_device_cache_list:
 * @self: a cache
 * @error: return location for a #GError
 *
 * The devices to offer in OP_REP_DEVLIST: bound and not in use by an importer (free, or in
 * error: upstream usbipd lists those too), with their state read now (the devices of a
 * backend that announces its changes: as it lists them). Of a composite backend, a backend
 * that cannot list does not empty the list of the others.
 *
 * Returns: (element-type UsbipDeviceInfo) (transfer container): the devices, or %NULL
 *
 * Since: 1.0
 */
GPtrArray *
usbip_device_cache_list (UsbipDeviceCache *self, GError **error)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);
  g_autoptr (GError) first_error = NULL;
  guint n_ok = 0;

  g_return_val_if_fail (USBIP_IS_DEVICE_CACHE (self), NULL);
  if (self->uevent_fd >= 0 && usbip_uevent_drain (self->uevent_fd, usbip_device_cache_uevent_is_usb))
    for (guint i = 0; i < self->parts->len; i++)
      if (g_array_index (self->parts, Part, i).kind == PART_STATUS)
        g_clear_pointer (&g_array_index (self->parts, Part, i).devices, g_ptr_array_unref);
  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = &g_array_index (self->parts, Part, i);
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GPtrArray) some = list_part (self, part, &local_error);

      if (some == NULL)
        {
          g_debug ("%s: %s", G_OBJECT_TYPE_NAME (part->backend),
                   local_error != NULL ? local_error->message : "cannot list its devices");
          if (first_error == NULL)
            first_error = g_steal_pointer (&local_error);
          continue;
        }
      n_ok++;
      /* the offered ones move over, in their order: no copy per device per request */
      for (guint j = 0; j < some->len;)
        if (offered (g_ptr_array_index (some, j)))
          g_ptr_array_add (all, g_ptr_array_steal_index (some, j));
        else
          j++;
    }
  if (n_ok == 0 && first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return NULL;
    }
  return g_steal_pointer (&all);
}

/**
 * usbip_device_cache_invalidate:
 * @self: a cache
 *
 * The next request rescans.
 *
 * Since: 1.0
 */
void
usbip_device_cache_invalidate (UsbipDeviceCache *self)
{
  g_return_if_fail (USBIP_IS_DEVICE_CACHE (self));
  for (guint i = 0; i < self->parts->len; i++)
    g_clear_pointer (&g_array_index (self->parts, Part, i).devices, g_ptr_array_unref);
}

/**
 * usbip_device_cache_get_rescans:
 * @self: a cache
 *
 * Returns: how many times the backend's device list was read
 *
 * Since: 1.0
 */
guint
usbip_device_cache_get_rescans (UsbipDeviceCache *self)
{
  g_return_val_if_fail (USBIP_IS_DEVICE_CACHE (self), 0);
  return self->rescans;
}

/**
 * usbip_device_cache_set_uevent_fd:
 * @self: a cache
 * @fd: (transfer full): a datagram socket that delivers uevents, or -1 for none (every
 *   request rescans)
 *
 * Replaces the kernel's uevent socket (tests feed their own events through a socketpair).
 *
 * Since: 1.0
 */
void
usbip_device_cache_set_uevent_fd (UsbipDeviceCache *self, gint fd)
{
  g_return_if_fail (USBIP_IS_DEVICE_CACHE (self));
  if (self->uevent_fd >= 0)
    close (self->uevent_fd);
  self->uevent_fd = fd;
  usbip_device_cache_invalidate (self);
}

static void
usbip_device_cache_finalize (GObject *object)
{
  UsbipDeviceCache *self = USBIP_DEVICE_CACHE (object);

  if (self->uevent_fd >= 0)
    close (self->uevent_fd);
  g_array_unref (self->parts);
  g_clear_object (&self->backend);
  G_OBJECT_CLASS (usbip_device_cache_parent_class)->finalize (object);
}

static void
usbip_device_cache_class_init (UsbipDeviceCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_device_cache_finalize;
}

static void
clear_part (Part *part)
{
  if (part->changed_id != 0)
    g_signal_handler_disconnect (part->backend, part->changed_id);
  g_clear_pointer (&part->devices, g_ptr_array_unref);
  g_clear_object (&part->backend);
}

static void
usbip_device_cache_init (UsbipDeviceCache *self)
{
  self->uevent_fd = -1;
  self->parts = g_array_new (FALSE, TRUE, sizeof (Part));
  g_array_set_clear_func (self->parts, (GDestroyNotify) clear_part);
}

static void
backend_devices_changed (UsbipExportBackend *backend, gpointer data)
{
  UsbipDeviceCache *self = data;

  for (guint i = 0; i < self->parts->len; i++)
    if (g_array_index (self->parts, Part, i).backend == backend)
      g_clear_pointer (&g_array_index (self->parts, Part, i).devices, g_ptr_array_unref);
}

static void
add_part (UsbipDeviceCache *self, UsbipExportBackend *backend)
{
  Part part = { .backend = g_object_ref (backend), .kind = PART_RESCAN };

  /* a backend that tells its changes is taken at its word first: its list is the answer */
  if (g_signal_lookup ("devices-changed", G_OBJECT_TYPE (backend)) != 0)
    {
      part.kind = PART_ANNOUNCED;
      part.changed_id = g_signal_connect (backend, "devices-changed", G_CALLBACK (backend_devices_changed), self);
    }
  else if (usbip_export_backend_has_status (backend))
    part.kind = PART_STATUS;
  g_array_append_val (self->parts, part);
}

/* one part per backend; the backends of a composite each their own (one level: a
 * composite in a composite is read on every request) */
static void
add_parts (UsbipDeviceCache *self, UsbipExportBackend *backend)
{
  GPtrArray *inner;

  if (!USBIP_IS_COMPOSITE_BACKEND (backend))
    {
      add_part (self, backend);
      return;
    }
  inner = usbip_composite_backend_get_backends (USBIP_COMPOSITE_BACKEND (backend));
  for (guint i = 0; i < inner->len; i++)
    add_part (self, g_ptr_array_index (inner, i));
}

/**
 * usbip_device_cache_new:
 * @backend: the export backend to list
 *
 * Opens the kernel's uevent socket; without it (no permission, no netlink) every request
 * rescans the backends that have no other way to tell their changes. The backends of a
 * composite backend are those it has now.
 *
 * Returns: (transfer full): a cache, empty (the first request scans)
 *
 * Since: 1.0
 */
UsbipDeviceCache *
usbip_device_cache_new (UsbipExportBackend *backend)
{
  UsbipDeviceCache *self;

  g_return_val_if_fail (USBIP_IS_EXPORT_BACKEND (backend), NULL);
  self = g_object_new (USBIP_TYPE_DEVICE_CACHE, NULL);
  self->backend = g_object_ref (backend);
  add_parts (self, backend);
  self->uevent_fd = usbip_uevent_socket_open ();
  return self;
}
