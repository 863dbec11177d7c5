/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-dbus-attachment.h"
#include "usbip-dbus-authority.h"
#include "usbip-dbus-generated.h"
#include "usbip-dbus-service.h"
#include "usbip-tools-dbus.h"

struct _UsbipDbusService {
  GObject parent_instance;
  UsbipSysfs *sysfs;
  UsbipImportBackend *vhci;
  UsbipExportBackend *host;
  UsbipExportBackend *vudc;
  GError *missing;
  UsbipPluginRegistry *registry; /* nullable: the transports of unix: and vsock: remotes */
  UsbipImporter *importer;       /* attach, detach and ports (NULL without vhci) */
  UsbipPortMonitor *monitor;
  UsbipDbusAuthority *authority;
  GDBusObjectManagerServer *server;
  Usbip1Manager *manager;
  GPtrArray *attachments; /* UsbipDbusAttachment */
  guint next_id;
  guint in_flight;
  guint idle_timeout_s;
  guint idle_id;
  guint poll_ms;
  guint refresh_id;
};

enum { SIGNAL_IDLE, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (UsbipDbusService, usbip_dbus_service, G_TYPE_OBJECT)

/* an importer on @vhci (nullable: list only) that reaches remotes of every loaded transport */
static UsbipImporter *
importer_new (UsbipDbusService *self, UsbipImportBackend *vhci)
{
  UsbipImporter *importer = usbip_importer_new (vhci, NULL);

  if (self->registry != NULL)
    usbip_importer_set_plugin_registry (importer, self->registry);
  return importer;
}

/* ---- lifetime: idle when no call is in flight and nothing is supervised ---- */

static gboolean
on_idle_timeout (gpointer data)
{
  UsbipDbusService *self = data;

  self->idle_id = 0;
  g_debug ("idle for %u s: nothing supervised, no calls", self->idle_timeout_s);
  g_signal_emit (self, signals[SIGNAL_IDLE], 0);
  return G_SOURCE_REMOVE;
}

static void
update_idle (UsbipDbusService *self)
{
  gboolean idle = self->in_flight == 0;

  for (guint i = 0; idle && i < self->attachments->len; i++)
    idle = !usbip_dbus_attachment_is_supervised (g_ptr_array_index (self->attachments, i));
  if (!idle || self->idle_timeout_s == 0)
    g_clear_handle_id (&self->idle_id, g_source_remove);
  else if (self->idle_id == 0)
    self->idle_id = g_timeout_add_seconds (self->idle_timeout_s, on_idle_timeout, self);
}

/* ---- attachment objects ---- */

static UsbipDbusAttachment *
find_port (UsbipDbusService *self, gint port)
{
  for (guint i = 0; i < self->attachments->len; i++)
    {
      UsbipDbusAttachment *a = g_ptr_array_index (self->attachments, i);
      if (usbip_dbus_attachment_get_port (a) == port)
        return a;
    }
  return NULL;
}

/* a supervised attachment of that remote device that has no port now */
static UsbipDbusAttachment *
find_waiting (UsbipDbusService *self, const gchar *host, const gchar *port, const gchar *busid)
{
  for (guint i = 0; i < self->attachments->len; i++)
    {
      UsbipDbusAttachment *a = g_ptr_array_index (self->attachments, i);
      if (usbip_dbus_attachment_get_port (a) < 0 && usbip_dbus_attachment_matches (a, host, port, busid))
        return a;
    }
  return NULL;
}

static UsbipDbusAttachment *
find_remote (UsbipDbusService *self, const gchar *host, const gchar *port, const gchar *busid)
{
  for (guint i = 0; i < self->attachments->len; i++)
    {
      UsbipDbusAttachment *a = g_ptr_array_index (self->attachments, i);
      if (usbip_dbus_attachment_matches (a, host, port, busid))
        return a;
    }
  return NULL;
}

static void remove_attachment (UsbipDbusService *self, UsbipDbusAttachment *a);
static void connect_attachment_methods (UsbipDbusService *self, UsbipDbusAttachment *a);

static void
on_finished (UsbipDbusAttachment *a, UsbipDbusService *self)
{
  remove_attachment (self, a);
}

static UsbipDbusAttachment *
add_attachment (UsbipDbusService *self)
{
  UsbipDbusAttachment *a = usbip_dbus_attachment_new (self->next_id++, self->sysfs);

  g_ptr_array_add (self->attachments, a);
  g_signal_connect (a, "finished", G_CALLBACK (on_finished), self);
  connect_attachment_methods (self, a);
  g_dbus_object_manager_server_export (self->server, G_DBUS_OBJECT_SKELETON (usbip_dbus_attachment_get_object (a)));
  return a;
}

static void
remove_attachment (UsbipDbusService *self, UsbipDbusAttachment *a)
{
  g_signal_handlers_disconnect_by_data (a, self);
  g_signal_handlers_disconnect_by_data (usbip_dbus_attachment_get_iface (a), self);
  usbip_dbus_attachment_unsupervise (a);
  g_dbus_object_manager_server_unexport (self->server, usbip_dbus_attachment_get_path (a));
  g_ptr_array_remove (self->attachments, a);
  update_idle (self);
}

static gboolean on_refresh (gpointer data);

/* the object of vhci port @p: the one on that port, a supervised one waiting for it, or new */
static UsbipDbusAttachment *
show_port (UsbipDbusService *self, const UsbipPortInfo *p)
{
  UsbipDbusAttachment *a = find_port (self, (gint) p->port);

  if (a == NULL)
    a = find_waiting (self, p->remote_host, p->remote_port, p->remote_busid);
  if (a == NULL)
    a = add_attachment (self);
  usbip_dbus_attachment_set_port (a, p);
  /* a fresh attachment enumerates a moment later: its ids and names follow */
  if (usbip_dbus_attachment_needs_refresh (a) && self->refresh_id == 0)
    self->refresh_id = g_timeout_add (self->poll_ms, on_refresh, self);
  return a;
}

static gboolean
on_refresh (gpointer data)
{
  UsbipDbusService *self = data;
  g_autoptr (GPtrArray) ports = usbip_importer_list_ports (self->importer, NULL);
  gboolean again = FALSE;

  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      UsbipDbusAttachment *a = find_port (self, (gint) p->port);
      if (a != NULL && p->status != USBIP_PORT_STATUS_NULL && usbip_dbus_attachment_needs_refresh (a))
        usbip_dbus_attachment_set_port (a, p);
    }
  for (guint i = 0; i < self->attachments->len; i++)
    again |= usbip_dbus_attachment_needs_refresh (g_ptr_array_index (self->attachments, i));
  if (!again)
    self->refresh_id = 0;
  return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
on_port_added (UsbipPortMonitor *m, UsbipPortInfo *p, UsbipDbusService *self)
{
  show_port (self, p);
}

static void
on_port_removed (UsbipPortMonitor *m, UsbipPortInfo *p, gboolean record_kept, UsbipDbusService *self)
{
  UsbipDbusAttachment *a = find_port (self, (gint) p->port);

  /* a supervised one is its supervisor's to follow (lost, reconnected or detached) */
  if (a != NULL && !usbip_dbus_attachment_is_supervised (a))
    remove_attachment (self, a);
}

/* ---- calls ---- */

typedef struct _Call Call;
typedef void (*CallFunc) (Call *call);

struct _Call {
  UsbipDbusService *self;
  GDBusMethodInvocation *invocation;
  CallFunc run;
  UsbipRemote *remote;
  gchar *busid;
  GVariant *options;
  UsbipSocketOptions *socket;
  UsbipDbusAttachment *attachment;
  guint port;
  gboolean enabled;
  UsbipImporter *lister;
};

static Call *
call_new (UsbipDbusService *self, GDBusMethodInvocation *invocation, GVariant *options)
{
  Call *c = g_new0 (Call, 1);

  c->self = g_object_ref (self);
  c->invocation = invocation;
  c->options = options != NULL ? g_variant_ref (options) : NULL;
  self->in_flight++;
  update_idle (self);
  return c;
}

static void
call_free (Call *c)
{
  c->self->in_flight--;
  update_idle (c->self);
  g_clear_pointer (&c->remote, usbip_remote_free);
  g_free (c->busid);
  g_clear_pointer (&c->options, g_variant_unref);
  g_clear_pointer (&c->socket, usbip_socket_options_free);
  g_clear_object (&c->attachment);
  g_clear_object (&c->lister);
  g_object_unref (c->self);
  g_free (c);
}

/* ends the call with @error (taken) */
static void
call_fail (Call *c, GError *error)
{
  g_dbus_method_invocation_take_error (c->invocation, error);
  call_free (c);
}

static void
call_return (Call *c, GVariant *value)
{
  g_dbus_method_invocation_return_value (c->invocation, value);
  call_free (c);
}

static gboolean
need_vhci (Call *c)
{
  if (c->self->importer != NULL)
    return TRUE;
  call_fail (c, g_error_copy (c->self->missing));
  return FALSE;
}

static void
authorized (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *c = data;
  GError *error = NULL;

  if (!usbip_dbus_authority_check_finish (USBIP_DBUS_AUTHORITY (source), result, &error))
    call_fail (c, error);
  else
    c->run (c);
}

/* runs @run once polkit allows @action; details for rules: remote, busid, port */
static void
authorize (Call *c, const gchar *action, CallFunc run)
{
  g_autofree gchar *remote = c->remote != NULL ? usbip_remote_to_string (c->remote) : NULL;
  g_autofree gchar *port = g_strdup_printf ("%u", c->port);
  const gchar *details[7];
  guint n = 0;

  if (remote != NULL)
    {
      details[n++] = "remote";
      details[n++] = remote;
    }
  if (c->busid != NULL)
    {
      details[n++] = "busid";
      details[n++] = c->busid;
    }
  if (g_str_equal (action, USBIP_DBUS_ACTION_ATTACH) && c->remote == NULL)
    {
      details[n++] = "port";
      details[n++] = port;
    }
  details[n] = NULL;
  c->run = run;
  usbip_dbus_authority_check_async (c->self->authority, c->invocation, action, details, authorized, c);
}

/* the remote and the socket options of @options, which may also hold @more keys */
static gboolean
read_remote_options (Call *c, const gchar *remote, const gchar *const *more)
{
  GError *error = NULL;
  guint16 tcp_port = USBIP_DEFAULT_TCP_PORT;

  if (!usbip_tools_dbus_check_options (c->options, usbip_tools_dbus_socket_keys, more, &error))
    {
      call_fail (c, error);
      return FALSE;
    }
  g_variant_lookup (c->options, "tcp-port", "q", &tcp_port);
  if (tcp_port == 0)
    {
      call_fail (
          c, g_error_new_literal (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "option \"tcp-port\" must be 1 to 65535"));
      return FALSE;
    }
  c->remote = usbip_remote_parse (remote, tcp_port, &error);
  if (c->remote == NULL)
    {
      call_fail (c, error);
      return FALSE;
    }
  c->socket = usbip_socket_options_new ();
  usbip_tools_dbus_read_socket_options (c->options, c->socket);
  return TRUE;
}

static GVariant *
devices_to_variant (GPtrArray *devices)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < devices->len; i++)
    g_variant_builder_add_value (&b, usbip_tools_dbus_device_to_variant (g_ptr_array_index (devices, i)));
  return g_variant_builder_end (&b);
}

/* ListRemoteDevices */

static void
listed_remote (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *c = data;
  GError *error = NULL;
  g_autoptr (GPtrArray) devices = usbip_importer_list_devices_finish (USBIP_IMPORTER (source), result, &error);

  if (devices == NULL)
    call_fail (c, error);
  else
    call_return (c, g_variant_new_tuple ((GVariant *[]){ devices_to_variant (devices) }, 1));
}

static void
list_remote (Call *c)
{
  c->lister = importer_new (c->self, NULL);
  usbip_importer_set_socket_options (c->lister, c->socket);
  usbip_importer_list_devices_async (c->lister, c->remote, NULL, listed_remote, c);
}

static gboolean
handle_list_remote_devices (Usbip1Manager *m, GDBusMethodInvocation *inv, const gchar *remote, GVariant *options,
                            UsbipDbusService *self)
{
  Call *c = call_new (self, inv, options);

  if (!read_remote_options (c, remote, NULL))
    return TRUE;
  /* the service connects as root: a Unix socket's mode and the exporter's allow-uid, which
   * keep the caller out, would let it in; so listing one is polkit's decision, as attaching
   * from it is (a TCP or vsock peer sees the same client whoever connects) */
  if (g_strcmp0 (c->remote->scheme, USBIP_REMOTE_SCHEME_UNIX) == 0)
    authorize (c, USBIP_DBUS_ACTION_ATTACH, list_remote);
  else
    list_remote (c);
  return TRUE;
}

/* ListLocalDevices */

static gboolean
handle_list_local_devices (Usbip1Manager *m, GDBusMethodInvocation *inv, GVariant *options, UsbipDbusService *self)
{
  static const gchar *const keys[] = { "backend:s", NULL };
  Call *c = call_new (self, inv, options);
  const gchar *name = "host";
  UsbipExportBackend *backend;
  GError *error = NULL;
  g_autoptr (GPtrArray) devices = NULL;

  if (!usbip_tools_dbus_check_options (options, keys, NULL, &error))
    return call_fail (c, error), TRUE;
  g_variant_lookup (options, "backend", "&s", &name);
  if (!g_str_equal (name, "host") && !g_str_equal (name, "vudc"))
    {
      g_autofree gchar *shown = usbip_text_escape (name, -1); /* the caller's */
      call_fail (c, g_error_new (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                                 "option \"backend\" is \"host\" or \"vudc\", not \"%s\"", shown));
      return TRUE;
    }
  backend = g_str_equal (name, "vudc") ? self->vudc : self->host;
  if (backend == NULL)
    return call_fail (c, g_error_copy (self->missing)), TRUE;
  devices = g_str_equal (name, "vudc") ? usbip_export_backend_list_devices (backend, &error)
                                       : usbip_export_backend_list_local_devices (backend, &error);
  if (devices == NULL)
    return call_fail (c, error), TRUE;
  call_return (c, g_variant_new_tuple ((GVariant *[]){ devices_to_variant (devices) }, 1));
  return TRUE;
}

/* ListPorts */

static gboolean
handle_list_ports (Usbip1Manager *m, GDBusMethodInvocation *inv, UsbipDbusService *self)
{
  Call *c = call_new (self, inv, NULL);
  GError *error = NULL;
  g_autoptr (GPtrArray) ports = NULL;
  GVariantBuilder b;

  if (!need_vhci (c))
    return TRUE;
  ports = usbip_importer_list_ports (self->importer, &error);
  if (ports == NULL)
    return call_fail (c, error), TRUE;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->status != USBIP_PORT_STATUS_NULL)
        g_variant_builder_add_value (&b, usbip_tools_dbus_port_to_variant (p));
    }
  call_return (c, g_variant_new ("(aa{sv})", &b));
  return TRUE;
}

/* Attach */

static GVariant *
attach_reply (UsbipDbusAttachment *a, const UsbipPortInfo *p, gboolean already)
{
  GVariant *port = p != NULL ? usbip_tools_dbus_port_to_variant (p) : g_variant_new ("a{sv}", NULL);

  return g_variant_new ("(o@a{sv}b)", usbip_dbus_attachment_get_path (a), port, already);
}

static void
attached (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *c = data;
  GError *error = NULL;
  gboolean already = FALSE;
  g_autoptr (UsbipPortInfo) p = usbip_importer_attach_finish_full (USBIP_IMPORTER (source), result, &already, &error);

  if (p == NULL)
    call_fail (c, error);
  else
    call_return (c, attach_reply (show_port (c->self, p), p, already));
}

static void
attach_authorized (Call *c)
{
  UsbipDbusService *self = c->self;
  gboolean supervise = FALSE;
  guint max_attempts = 0;
  g_autofree gchar *host = NULL;
  g_autofree gchar *port = NULL;
  UsbipDbusAttachment *a;
  g_autoptr (UsbipImporter) importer = NULL;

  g_variant_lookup (c->options, "auto-reconnect", "b", &supervise);
  g_variant_lookup (c->options, "max-attempts", "u", &max_attempts);
  if (!supervise)
    {
      usbip_importer_attach_async (self->importer, c->remote, c->busid, c->socket, NULL, attached, c);
      return;
    }
  /* supervised: the supervisor attaches (or finds it attached) and reports by signals */
  usbip_remote_to_record (c->remote, &host, &port);
  a = find_remote (self, host, port, c->busid);
  if (a == NULL)
    a = add_attachment (self);
  importer = importer_new (self, self->vhci);
  usbip_importer_set_socket_options (importer, c->socket);
  usbip_dbus_attachment_supervise (a, importer, c->remote, c->busid, max_attempts);
  update_idle (self);
  call_return (c, attach_reply (a, NULL, FALSE));
}

static gboolean
handle_attach (Usbip1Manager *m, GDBusMethodInvocation *inv, const gchar *remote, const gchar *busid, GVariant *options,
               UsbipDbusService *self)
{
  static const gchar *const keys[] = { "auto-reconnect:b", "max-attempts:u", NULL };
  Call *c = call_new (self, inv, options);

  if (!need_vhci (c) || !read_remote_options (c, remote, keys))
    return TRUE;
  c->busid = g_strdup (busid);
  authorize (c, USBIP_DBUS_ACTION_ATTACH, attach_authorized);
  return TRUE;
}

/* DetachPort and Attachment.Detach */

static void
detach_authorized (Call *c)
{
  UsbipDbusService *self = c->self;
  UsbipDbusAttachment *a = c->attachment != NULL ? c->attachment : find_port (self, (gint) c->port);
  GError *error = NULL;

  /* a supervised attachment waiting for its next attempt has no port to release */
  if (a != NULL && usbip_dbus_attachment_get_port (a) < 0)
    {
      usbip1_attachment_emit_detached (usbip_dbus_attachment_get_iface (a));
      remove_attachment (self, a);
      call_return (c, NULL);
      return;
    }
  if (a != NULL)
    c->port = (guint) usbip_dbus_attachment_get_port (a);
  if (!usbip_importer_detach (self->importer, c->port, &error))
    {
      call_fail (c, error);
      return;
    }
  if (a != NULL && usbip_dbus_attachment_is_supervised (a))
    usbip1_attachment_emit_detached (usbip_dbus_attachment_get_iface (a));
  if (a != NULL)
    remove_attachment (self, a);
  call_return (c, NULL);
}

static gboolean
handle_detach_port (Usbip1Manager *m, GDBusMethodInvocation *inv, guint port, UsbipDbusService *self)
{
  Call *c = call_new (self, inv, NULL);

  if (!need_vhci (c))
    return TRUE;
  c->port = port;
  authorize (c, USBIP_DBUS_ACTION_ATTACH, detach_authorized);
  return TRUE;
}

static UsbipDbusAttachment *
attachment_of (UsbipDbusService *self, Usbip1Attachment *iface)
{
  for (guint i = 0; i < self->attachments->len; i++)
    {
      UsbipDbusAttachment *a = g_ptr_array_index (self->attachments, i);
      if (usbip_dbus_attachment_get_iface (a) == iface)
        return a;
    }
  return NULL;
}

/* a call on an Attachment object: the details polkit rules see come from it */
static Call *
attachment_call (UsbipDbusService *self, GDBusMethodInvocation *inv, Usbip1Attachment *iface, GVariant *options)
{
  Call *c = call_new (self, inv, options);
  UsbipDbusAttachment *a = attachment_of (self, iface);
  const gchar *busid;

  c->attachment = g_object_ref (a);
  c->port = (guint) MAX (usbip_dbus_attachment_get_port (a), 0);
  if (usbip_dbus_attachment_get_remote (a, &c->remote, &busid))
    c->busid = g_strdup (busid);
  return c;
}

static gboolean
handle_detach (Usbip1Attachment *iface, GDBusMethodInvocation *inv, UsbipDbusService *self)
{
  authorize (attachment_call (self, inv, iface, NULL), USBIP_DBUS_ACTION_ATTACH, detach_authorized);
  return TRUE;
}

/* Attachment.SetAutoReconnect */

static void
set_auto_reconnect_authorized (Call *c)
{
  guint max_attempts = 0;

  if (!c->enabled)
    usbip_dbus_attachment_unsupervise (c->attachment);
  else if (c->remote == NULL)
    {
      call_fail (c, g_error_new (USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                                 "port %u has no port record naming its remote, so it cannot be re-attached: detach "
                                 "it and attach it again with auto-reconnect",
                                 c->port));
      return;
    }
  else
    {
      g_autoptr (UsbipImporter) importer = importer_new (c->self, c->self->vhci);

      g_variant_lookup (c->options, "max-attempts", "u", &max_attempts);
      usbip_dbus_attachment_supervise (c->attachment, importer, c->remote, c->busid, max_attempts);
    }
  update_idle (c->self);
  call_return (c, NULL);
}

static gboolean
handle_set_auto_reconnect (Usbip1Attachment *iface, GDBusMethodInvocation *inv, gboolean enabled, GVariant *options,
                           UsbipDbusService *self)
{
  static const gchar *const keys[] = { "max-attempts:u", NULL };
  Call *c = attachment_call (self, inv, iface, options);
  GError *error = NULL;

  if (!usbip_tools_dbus_check_options (options, keys, NULL, &error))
    return call_fail (c, error), TRUE;
  c->enabled = enabled;
  authorize (c, USBIP_DBUS_ACTION_ATTACH, set_auto_reconnect_authorized);
  return TRUE;
}

static void
connect_attachment_methods (UsbipDbusService *self, UsbipDbusAttachment *a)
{
  Usbip1Attachment *iface = usbip_dbus_attachment_get_iface (a);

  g_signal_connect (iface, "handle-detach", G_CALLBACK (handle_detach), self);
  g_signal_connect (iface, "handle-set-auto-reconnect", G_CALLBACK (handle_set_auto_reconnect), self);
}

/* Bind and Unbind */

static void
bind_authorized (Call *c)
{
  GError *error = NULL;
  gboolean ok = c->enabled ? usbip_export_backend_bind (c->self->host, c->busid, &error)
                           : usbip_export_backend_unbind (c->self->host, c->busid, &error);

  if (ok)
    call_return (c, NULL);
  else
    call_fail (c, error);
}

static gboolean
handle_bind (UsbipDbusService *self, GDBusMethodInvocation *inv, const gchar *busid, gboolean bind)
{
  Call *c = call_new (self, inv, NULL);

  if (self->host == NULL)
    return call_fail (c, g_error_copy (self->missing)), TRUE;
  c->busid = g_strdup (busid);
  c->enabled = bind;
  authorize (c, USBIP_DBUS_ACTION_BIND, bind_authorized);
  return TRUE;
}

static gboolean
handle_bind_method (Usbip1Manager *m, GDBusMethodInvocation *inv, const gchar *busid, UsbipDbusService *self)
{
  return handle_bind (self, inv, busid, TRUE);
}

static gboolean
handle_unbind_method (Usbip1Manager *m, GDBusMethodInvocation *inv, const gchar *busid, UsbipDbusService *self)
{
  return handle_bind (self, inv, busid, FALSE);
}

/* ---- setup ---- */

gboolean
usbip_dbus_service_export (UsbipDbusService *self, GDBusConnection *connection, GError **error)
{
  g_autoptr (Usbip1ObjectSkeleton) object = usbip1_object_skeleton_new (USBIP_DBUS_MANAGER_PATH);
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (USBIP_IS_DBUS_SERVICE (self), FALSE);
  usbip1_object_skeleton_set_manager (object, self->manager);
  g_dbus_object_manager_server_export (self->server, G_DBUS_OBJECT_SKELETON (object));
  /* the ports in use now, then every change */
  if (self->importer != NULL)
    {
      g_autoptr (GPtrArray) ports = usbip_importer_list_ports (self->importer, NULL);

      self->monitor = usbip_port_monitor_new (self->vhci);
      usbip_port_monitor_set_interval (self->monitor, self->poll_ms);
      g_signal_connect (self->monitor, "port-added", G_CALLBACK (on_port_added), self);
      g_signal_connect (self->monitor, "port-removed", G_CALLBACK (on_port_removed), self);
      /* without vhci_hcd there is nothing to watch; calls that need it say what to load */
      if (!usbip_port_monitor_start (self->monitor, &local))
        g_debug ("not watching the vhci ports: %s", local->message);
      for (guint i = 0; ports != NULL && i < ports->len; i++)
        {
          UsbipPortInfo *p = g_ptr_array_index (ports, i);
          if (p->status != USBIP_PORT_STATUS_NULL)
            show_port (self, p);
        }
    }
  g_dbus_object_manager_server_set_connection (self->server, connection);
  update_idle (self);
  return TRUE;
}

void
usbip_dbus_service_set_idle_timeout (UsbipDbusService *self, guint seconds)
{
  g_return_if_fail (USBIP_IS_DBUS_SERVICE (self));
  self->idle_timeout_s = seconds;
  g_clear_handle_id (&self->idle_id, g_source_remove);
  update_idle (self);
}

void
usbip_dbus_service_set_poll_interval (UsbipDbusService *self, guint interval_ms)
{
  g_return_if_fail (USBIP_IS_DBUS_SERVICE (self));
  self->poll_ms = interval_ms;
  if (self->monitor != NULL)
    usbip_port_monitor_set_interval (self->monitor, interval_ms);
}

static void
usbip_dbus_service_dispose (GObject *object)
{
  UsbipDbusService *self = USBIP_DBUS_SERVICE (object);

  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      usbip_port_monitor_stop (self->monitor);
    }
  while (self->attachments->len > 0)
    remove_attachment (self, g_ptr_array_index (self->attachments, 0));
  g_clear_object (&self->monitor);
  g_clear_object (&self->importer);
  g_clear_object (&self->registry);
  g_clear_object (&self->server);
  g_clear_object (&self->manager);
  g_clear_object (&self->authority);
  g_clear_object (&self->vhci);
  g_clear_object (&self->host);
  g_clear_object (&self->vudc);
  g_clear_object (&self->sysfs);
  G_OBJECT_CLASS (usbip_dbus_service_parent_class)->dispose (object);
}

static void
usbip_dbus_service_finalize (GObject *object)
{
  UsbipDbusService *self = USBIP_DBUS_SERVICE (object);

  g_ptr_array_unref (self->attachments);
  g_clear_error (&self->missing);
  G_OBJECT_CLASS (usbip_dbus_service_parent_class)->finalize (object);
}

static void
usbip_dbus_service_class_init (UsbipDbusServiceClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usbip_dbus_service_dispose;
  G_OBJECT_CLASS (klass)->finalize = usbip_dbus_service_finalize;
  signals[SIGNAL_IDLE] =
      g_signal_new ("idle", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
usbip_dbus_service_init (UsbipDbusService *self)
{
  self->attachments = g_ptr_array_new_with_free_func (g_object_unref);
  self->next_id = 1;
  self->poll_ms = USBIP_PORT_MONITOR_DEFAULT_INTERVAL_MS;
}

UsbipDbusService *
usbip_dbus_service_new (UsbipSysfs *sysfs, UsbipPluginRegistry *registry, UsbipImportBackend *vhci,
                        UsbipExportBackend *host, UsbipExportBackend *vudc, const GError *missing)
{
  UsbipDbusService *self = g_object_new (USBIP_TYPE_DBUS_SERVICE, NULL);

  usbip_tools_dbus_register_errors ();
  self->sysfs = g_object_ref (sysfs);
  self->vhci = vhci != NULL ? g_object_ref (vhci) : NULL;
  self->host = host != NULL ? g_object_ref (host) : NULL;
  self->vudc = vudc != NULL ? g_object_ref (vudc) : NULL;
  self->registry = registry != NULL ? g_object_ref (registry) : NULL;
  self->missing = missing != NULL ? g_error_copy (missing)
                                  : g_error_new_literal (USBIP_ERROR, USBIP_ERROR_PLUGIN,
                                                         "the backend plugin this needs is not loaded");
  if (vhci != NULL)
    self->importer = importer_new (self, vhci);
  self->authority = usbip_dbus_authority_new ();
  self->server = g_dbus_object_manager_server_new (USBIP_DBUS_PATH);
  self->manager = usbip1_manager_skeleton_new ();
  usbip1_manager_set_version (self->manager, PACKAGE_VERSION);
  g_signal_connect (self->manager, "handle-list-remote-devices", G_CALLBACK (handle_list_remote_devices), self);
  g_signal_connect (self->manager, "handle-list-local-devices", G_CALLBACK (handle_list_local_devices), self);
  g_signal_connect (self->manager, "handle-list-ports", G_CALLBACK (handle_list_ports), self);
  g_signal_connect (self->manager, "handle-attach", G_CALLBACK (handle_attach), self);
  g_signal_connect (self->manager, "handle-detach-port", G_CALLBACK (handle_detach_port), self);
  g_signal_connect (self->manager, "handle-bind", G_CALLBACK (handle_bind_method), self);
  g_signal_connect (self->manager, "handle-unbind", G_CALLBACK (handle_unbind_method), self);
  return self;
}
