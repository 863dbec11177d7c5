/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The export backend of virtual devices: they live in this process, so an import takes
 * the connection itself (usbip_export_backend_export_stream()) instead of a kernel
 * driver taking the socket. No uevent tells when its device list changes: it says so
 * itself, with the signal "devices-changed" (after a reload, an import, the end of a
 * session), and UsbipDeviceCache keeps its list until then.
 */
#include "config.h"

#include <string.h>

#include "usbip-virtual-backend.h"
#include "usbip-virtual-session.h"

struct _UsbipVirtualBackend {
  GObject parent_instance;
  GPtrArray *devices; /* UsbipVirtualDevice* */
  guint next_index;   /* the device number of the next device made (DEVLIST devnum - 1) */
  gboolean loaded;    /* a first set was made: later ones log what they add */
  gboolean check_only;
};

/* on each device: the text of the group it was made from, to tell a changed group */
#define GROUP_TEXT "usbip-virtual-group-text"

enum { SIGNAL_DEVICES_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void usbip_virtual_backend_iface_init (UsbipExportBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UsbipVirtualBackend, usbip_virtual_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (USBIP_TYPE_EXPORT_BACKEND, usbip_virtual_backend_iface_init))

static UsbipVirtualDevice *
find (UsbipVirtualBackend *self, const gchar *busid)
{
  for (guint i = 0; i < self->devices->len; i++)
    if (g_str_equal (usbip_virtual_device_get_busid (g_ptr_array_index (self->devices, i)), busid))
      return g_ptr_array_index (self->devices, i);
  return NULL;
}

static UsbipVirtualDevice *
find_group (UsbipVirtualBackend *self, const gchar *group)
{
  for (guint i = 0; i < self->devices->len; i++)
    if (g_str_equal (usbip_virtual_device_get_name (g_ptr_array_index (self->devices, i)),
                     group + strlen ("virtual-device ")))
      return g_ptr_array_index (self->devices, i);
  return NULL;
}

static GPtrArray *
virtual_list_devices (UsbipExportBackend *backend, GError **error)
{
  UsbipVirtualBackend *self = USBIP_VIRTUAL_BACKEND (backend);
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);

  for (guint i = 0; i < self->devices->len; i++)
    g_ptr_array_add (list, usbip_virtual_device_get_info (g_ptr_array_index (self->devices, i)));
  return list;
}

static UsbipDeviceInfo *
virtual_get_device (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  UsbipVirtualDevice *device = find (USBIP_VIRTUAL_BACKEND (backend), busid);

  if (device == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_FOUND,
                   "no virtual device %s: declare it as a [virtual-device NAME] group (bus ID virtual-NAME)", busid);
      return NULL;
    }
  return usbip_virtual_device_get_info (device);
}

static UsbipDeviceStatus
virtual_get_status (UsbipExportBackend *backend, const gchar *busid, GError **error)
{
  g_autoptr (UsbipDeviceInfo) info = virtual_get_device (backend, busid, error);

  return info != NULL ? info->status : USBIP_DEVICE_STATUS_UNKNOWN;
}

static gboolean
virtual_export_fd (UsbipExportBackend *backend, const gchar *busid, gint sockfd, GError **error)
{
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE,
               "virtual device %s runs in userspace: it takes the connection, not a socket", busid);
  return FALSE;
}

static gboolean
virtual_export_stream (UsbipExportBackend *backend, const gchar *busid, GIOStream *stream, GBytes *reply,
                       gboolean *taken, GError **error)
{
  UsbipVirtualDevice *device = find (USBIP_VIRTUAL_BACKEND (backend), busid);

  *taken = FALSE;
  if (device == NULL)
    return TRUE;
  if (!usbip_virtual_session_start (device, stream, reply, error))
    return FALSE;
  *taken = TRUE;
  return TRUE;
}

static void
usbip_virtual_backend_iface_init (UsbipExportBackendInterface *iface)
{
  iface->list_devices = virtual_list_devices;
  iface->list_local_devices = virtual_list_devices;
  iface->get_device = virtual_get_device;
  iface->get_status = virtual_get_status;
  iface->export_fd = virtual_export_fd;
  iface->export_stream = virtual_export_stream;
}

static void
usbip_virtual_backend_finalize (GObject *object)
{
  g_ptr_array_unref (USBIP_VIRTUAL_BACKEND (object)->devices);
  G_OBJECT_CLASS (usbip_virtual_backend_parent_class)->finalize (object);
}

static gboolean
reload_handler (UsbipVirtualBackend *self, GKeyFile *keyfile, GError **error)
{
  return usbip_virtual_backend_reload (self, keyfile, error);
}

static void
usbip_virtual_backend_class_init (UsbipVirtualBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_virtual_backend_finalize;
  /* The program's way in (it sees an export backend, not this type): it emits "reload"
   * (GKeyFile *keyfile, GError **error) -> gboolean after reloading its configuration,
   * e.g. g_signal_emit_by_name (backend, "reload", keyfile, &error, &ok). */
  g_signal_new_class_handler ("reload", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
                              G_CALLBACK (reload_handler), NULL, NULL, NULL, G_TYPE_BOOLEAN, 2, G_TYPE_POINTER,
                              G_TYPE_POINTER);
  /* The device list (usbip_export_backend_list_devices()) changed: a device added,
   * removed or replaced, or one imported or freed. UsbipDeviceCache finds this signal by
   * name and keeps the list it read until it is emitted. */
  signals[SIGNAL_DEVICES_CHANGED] = g_signal_new ("devices-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
usbip_virtual_backend_init (UsbipVirtualBackend *self)
{
  self->devices = g_ptr_array_new_with_free_func (g_object_unref);
}

UsbipVirtualBackend *
usbip_virtual_backend_new (gboolean check_only)
{
  UsbipVirtualBackend *self = g_object_new (USBIP_TYPE_VIRTUAL_BACKEND, NULL);

  self->check_only = check_only;
  return self;
}

guint
usbip_virtual_backend_get_n_devices (UsbipVirtualBackend *self)
{
  return self->devices->len;
}

UsbipVirtualDevice *
usbip_virtual_backend_get_device (UsbipVirtualBackend *self, guint index)
{
  g_return_val_if_fail (index < self->devices->len, NULL);
  return g_ptr_array_index (self->devices, index);
}

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* a group's keys and values, sorted: the same text, the same device (whatever the order
 * of its lines, its comments or blank lines) */
static gchar *
group_text (GKeyFile *keyfile, const gchar *group)
{
  g_auto (GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GString *text = g_string_new (NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree gchar *value = g_key_file_get_value (keyfile, group, keys[i], NULL);
      g_ptr_array_add (lines, g_strdup_printf ("%s=%s\n", keys[i], value));
    }
  g_ptr_array_sort (lines, compare_lines);
  for (guint i = 0; i < lines->len; i++)
    g_string_append (text, g_ptr_array_index (lines, i));
  return g_string_free (text, FALSE);
}

static gboolean
contains (GPtrArray *devices, UsbipVirtualDevice *device)
{
  return g_ptr_array_find (devices, device, NULL);
}

static void
device_in_use_changed (UsbipVirtualBackend *self, GParamSpec *pspec, UsbipVirtualDevice *device)
{
  if (contains (self->devices, device)) /* a device withdrawn is in no list */
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

/* a device going away: its session (if any) ends cleanly */
static void
withdraw (UsbipVirtualDevice *device, const gchar *why)
{
  UsbipVirtualSession *session = usbip_virtual_device_get_session (device);

  g_message ("virtual device %s %s", usbip_virtual_device_get_busid (device), why);
  if (session != NULL)
    usbip_virtual_session_close (session, why);
}

gboolean
usbip_virtual_backend_reload (UsbipVirtualBackend *self, GKeyFile *keyfile, GError **error)
{
  g_auto (GStrv) groups = keyfile != NULL ? g_key_file_get_groups (keyfile, NULL) : NULL;
  g_autoptr (GPtrArray) next = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) old = NULL;

  /* every device of the new set first: one bad group leaves the old set untouched */
  for (guint i = 0; groups != NULL && groups[i] != NULL; i++)
    {
      g_autofree gchar *text = NULL;
      UsbipVirtualDevice *device;

      if (!g_str_has_prefix (groups[i], "virtual-device "))
        continue;
      text = group_text (keyfile, groups[i]);
      device = find_group (self, groups[i]);
      if (device != NULL && g_strcmp0 (g_object_get_data (G_OBJECT (device), GROUP_TEXT), text) == 0)
        g_object_ref (device);
      else if ((device = usbip_virtual_device_new_from_keyfile (keyfile, groups[i], self->next_index++,
                                                                self->check_only, error))
               == NULL)
        return FALSE;
      else
        {
          g_object_set_data_full (G_OBJECT (device), GROUP_TEXT, g_steal_pointer (&text), g_free);
          g_signal_connect_object (device, "notify::in-use", G_CALLBACK (device_in_use_changed), self,
                                   G_CONNECT_SWAPPED);
        }
      for (guint j = 0; j < next->len; j++)
        if (g_str_equal (usbip_virtual_device_get_busid (g_ptr_array_index (next, j)),
                         usbip_virtual_device_get_busid (device)))
          {
            g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s]: a second device with bus ID %s: rename one",
                         groups[i], usbip_virtual_device_get_busid (device));
            g_object_unref (device);
            return FALSE;
          }
      g_ptr_array_add (next, device);
    }
  old = self->devices;
  self->devices = g_steal_pointer (&next);
  for (guint i = 0; i < old->len; i++)
    {
      UsbipVirtualDevice *device = g_ptr_array_index (old, i);
      if (!contains (self->devices, device))
        withdraw (device, find (self, usbip_virtual_device_get_busid (device)) != NULL
                              ? "replaced: its configuration changed"
                              : "withdrawn: it is no longer configured");
    }
  for (guint i = 0; i < self->devices->len; i++)
    {
      UsbipVirtualDevice *device = g_ptr_array_index (self->devices, i);
      if (!contains (old, device) && self->loaded)
        g_message ("virtual device %s added", usbip_virtual_device_get_busid (device));
    }
  self->loaded = TRUE;
  g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
  return TRUE;
}

void
usbip_virtual_backend_close_sessions (UsbipVirtualBackend *self, const gchar *reason)
{
  for (guint i = 0; i < self->devices->len; i++)
    {
      UsbipVirtualSession *session = usbip_virtual_device_get_session (g_ptr_array_index (self->devices, i));
      if (session != NULL)
        usbip_virtual_session_close (session, reason);
    }
}
