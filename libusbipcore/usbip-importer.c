/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client half. list: connect -> OP_REQ_DEVLIST -> OP_REP_DEVLIST. attach: connect ->
 * OP_REQ_IMPORT -> OP_REP_IMPORT (status and bus ID checked) -> hand the socket to the
 * import backend (vhci), which picks a port of the right speed class and writes the port
 * record. Each step has its own deadline from the socket options.
 */
#include "config.h"

#include <string.h>

#include "usbip-error.h"
#include "usbip-importer.h"
#include "usbip-io.h"
#include "usbip-proto.h"
#include "usbip-text.h"
#include "usbip-transport-tcp.h"

/**
 * UsbipImporter:
 *
 * Lists a remote's devices and attaches them to the local virtual host controller.
 *
 * Since: 1.0
 */
struct _UsbipImporter {
  GObject parent_instance;
  UsbipImportBackend *backend;   /* nullable: listing needs none */
  UsbipTransport *transport;     /* TCP remotes */
  UsbipPluginRegistry *registry; /* nullable: the transports of other schemes */
  UsbipSocketOptions *options;
  GHashTable *pending; /* "host:port/busid" -> GPtrArray of GTask waiting for that attach */
};

enum { SIGNAL_PORT_ATTACHED, SIGNAL_PORT_DETACHED, SIGNAL_ATTACH_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_SOCKET_OPTIONS, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (UsbipImporter, usbip_importer, G_TYPE_OBJECT)

typedef struct {
  UsbipRemote *remote;
  gchar *peer;
  gchar *busid; /* NULL for a device list */
  UsbipSocketOptions *options;
  GSocketConnection *conn;
  UsbipDeframer *deframer;
  GByteArray *buffer;
  gint64 start_us;
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  usbip_remote_free (op->remote);
  g_free (op->peer);
  g_free (op->busid);
  usbip_socket_options_free (op->options);
  if (op->conn != NULL)
    {
      g_io_stream_close (G_IO_STREAM (op->conn), NULL, NULL);
      g_object_unref (op->conn);
    }
  usbip_deframer_free (op->deframer);
  g_byte_array_unref (op->buffer);
  g_free (op);
}

static void
return_error (GTask *task, GError *error)
{
  usbip_error_convert (&error);
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* A peer that is no USB/IP server (a web server, ssh, ...) fails the version check on its
 * first bytes: say that, and show them. */
static gboolean
explain_not_usbip (Op *op, GError **error)
{
  g_autofree gchar *start = NULL;

  /* a 1.x header is USB/IP of another version: the codec's message says that */
  if (!g_error_matches (*error, USBIP_ERROR, USBIP_ERROR_VERSION) || op->buffer->len == 0
      || op->buffer->data[0] == 0x01)
    return FALSE;
  start = usbip_text_escape ((const gchar *) op->buffer->data, MIN (op->buffer->len, 16));
  g_clear_error (error);
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_VERSION,
               "%s is not a USB/IP server: its reply starts \"%s\"; check the host and the port "
               "(--tcp-port, default 3240)",
               op->peer, start);
  return TRUE;
}

/* The kernel trusts what goes into vhci's `attach`: check the exporter's reply first. */
static gboolean
check_import_reply (Op *op, const UsbipDeviceInfo *d, GError **error)
{
  g_autofree gchar *busid = NULL;

  if (d == NULL || strncmp (d->busid, op->busid, USBIP_BUSID_SIZE) != 0)
    {
      busid = d != NULL ? usbip_text_escape (d->busid, -1) : g_strdup ("(none)");
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s answered the import of %s with device %s: refusing a device we did not ask for", op->peer,
                   op->busid, busid);
      return FALSE;
    }
  if (d->speed < USBIP_SPEED_LOW || d->speed > USBIP_SPEED_SUPER_PLUS)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s sent speed %u for %s, which is no USB speed (1 to 6): refusing to attach; "
                   "the exporter is broken or hostile",
                   op->peer, (guint) d->speed, op->busid);
      return FALSE;
    }
  /* devid = busnum << 16 | devnum; USB addresses are 0..127 (0: a usbip-vudc gadget) */
  if (d->busnum > 0xffff || d->devnum > 127)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s sent bus %u device %u for %s, which is no USB address (bus 0 to 65535, "
                   "device 0 to 127): refusing to attach; the exporter is broken or hostile",
                   op->peer, d->busnum, d->devnum, op->busid);
      return FALSE;
    }
  return TRUE;
}

static void
reply_read (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  UsbipImporter *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  UsbipMessage msg = { 0 };
  UsbipMessageType expected = op->busid != NULL ? USBIP_MESSAGE_OP_REP_IMPORT : USBIP_MESSAGE_OP_REP_DEVLIST;
  g_autofree gchar *service = NULL;
  g_autofree gchar *record_host = NULL;
  UsbipPortInfo *port_info;
  gint port;

  if (!usbip_io_read_frame_finish (G_INPUT_STREAM (source), result, &msg, &error))
    {
      if (!explain_not_usbip (op, &error))
        g_prefix_error (&error, "%s: ", op->peer);
      return_error (task, error);
      return;
    }
  if (msg.type != expected)
    {
      g_set_error (&error, USBIP_ERROR, USBIP_ERROR_PROTOCOL, "%s answered %s to %s: not a USB/IP server?", op->peer,
                   usbip_message_type_to_string (msg.type), op->busid != NULL ? "OP_REQ_IMPORT" : "OP_REQ_DEVLIST");
      usbip_message_clear (&msg);
      return_error (task, error);
      return;
    }
  if (msg.op.status != USBIP_ST_OK)
    {
      usbip_error_set_from_status (&error, msg.op.status, op->peer, op->busid);
      usbip_message_clear (&msg);
      return_error (task, error);
      return;
    }
  if (op->busid == NULL)
    {
      GPtrArray *devices = msg.devices != NULL
                               ? g_ptr_array_ref (msg.devices)
                               : g_ptr_array_new_with_free_func ((GDestroyNotify) usbip_device_info_free);
      usbip_message_clear (&msg);
      g_task_return_pointer (task, devices, (GDestroyNotify) g_ptr_array_unref);
      g_object_unref (task);
      return;
    }

  /* import: the reply must be about the device we asked for */
  if (!check_import_reply (op, msg.device, &error))
    {
      usbip_message_clear (&msg);
      return_error (task, error);
      return;
    }
  if (self->backend == NULL)
    {
      g_set_error_literal (&error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE,
                           "no import backend: is the vhci plugin enabled in the configuration?");
      usbip_message_clear (&msg);
      return_error (task, error);
      return;
    }
  usbip_remote_to_record (op->remote, &record_host, &service);
  port = usbip_import_backend_attach (self->backend, g_socket_get_fd (g_socket_connection_get_socket (op->conn)),
                                      usbip_device_info_get_devid (msg.device), msg.device->speed, record_host, service,
                                      op->busid, &error);
  if (port < 0)
    {
      usbip_message_clear (&msg);
      return_error (task, error);
      return;
    }
  port_info = usbip_port_info_new ();
  port_info->port = (guint) port;
  port_info->status = USBIP_PORT_STATUS_USED;
  port_info->speed = msg.device->speed;
  port_info->hub = usbip_speed_is_superspeed (msg.device->speed) ? USBIP_HUB_SPEED_SUPER : USBIP_HUB_SPEED_HIGH;
  port_info->devid = usbip_device_info_get_devid (msg.device);
  port_info->sockfd = -1;
  port_info->remote_host = g_steal_pointer (&record_host);
  port_info->remote_port = g_steal_pointer (&service);
  port_info->remote_busid = g_strdup (op->busid);
  usbip_message_clear (&msg);
  /* the kernel holds its own reference to the socket; op_free closes ours */
  g_signal_emit (self, signals[SIGNAL_PORT_ATTACHED], 0, port_info);
  g_task_return_pointer (task, port_info, (GDestroyNotify) usbip_port_info_free);
  g_object_unref (task);
}

static void
request_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!usbip_io_write_finish (G_OUTPUT_STREAM (source), result, &error))
    {
      /* a server that closes at once (a policy refusal) meets the request's write as often
       * as the reply's read: the same hint for both */
      if (g_error_matches (error, USBIP_ERROR, USBIP_ERROR_CONNECTION))
        {
          GError *hinted = g_error_new (USBIP_ERROR, USBIP_ERROR_CONNECTION,
                                        "%s: it may refuse this client by policy (e.g. usbipcored --allow-cidr); "
                                        "see the peer's log for why",
                                        error->message);

          g_error_free (error);
          error = hinted;
        }
      g_prefix_error (&error, "%s: ", op->peer);
      return_error (task, error);
      return;
    }
  usbip_io_read_frame_async (g_io_stream_get_input_stream (G_IO_STREAM (op->conn)), op->deframer, op->buffer, 0,
                             op->options->read_timeout_ms, g_task_get_cancellable (task), reply_read, task);
}

static void
connected (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GBytes) bytes = NULL;

  op->conn = usbip_transport_connect_finish (USBIP_TRANSPORT (source), result, &error);
  if (op->conn == NULL)
    {
      return_error (task, error);
      return;
    }
  if (op->busid != NULL)
    usbip_encode_op_req_import (request, op->busid);
  else
    usbip_encode_op_req_devlist (request);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&request));
  usbip_io_write_async (g_io_stream_get_output_stream (G_IO_STREAM (op->conn)), bytes, op->options->write_timeout_ms,
                        g_task_get_cancellable (task), request_sent, task);
}

/* TCP: the importer's own transport; other schemes: the plugin's */
static UsbipTransport *
transport_for (UsbipImporter *self, const UsbipRemote *remote, GError **error)
{
  if (g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_TCP) == 0)
    return self->transport;
  if (self->registry != NULL)
    return usbip_plugin_registry_get_transport (self->registry, remote->scheme, error);
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_PLUGIN,
               "%s: addresses need the %s transport plugin, and this importer has no plugin registry "
               "(usbip_importer_set_plugin_registry())",
               remote->scheme, remote->scheme);
  return NULL;
}

static void
start_op (UsbipImporter *self, const UsbipRemote *remote, const gchar *busid, const UsbipSocketOptions *options,
          GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);
  UsbipTransport *transport;
  GError *error = NULL;

  g_task_set_source_tag (task, tag);
  op->remote = usbip_remote_copy (remote);
  {
    g_autofree gchar *peer = usbip_remote_to_string (remote);
    op->peer = usbip_text_escape (peer, -1); /* for messages, as the transport's */
  }
  op->busid = g_strdup (busid);
  op->options = usbip_socket_options_copy (options != NULL ? options : self->options);
  op->deframer = usbip_deframer_new (USBIP_STREAM_OP_REPLY, NULL);
  op->buffer = g_byte_array_new ();
  op->start_us = g_get_monotonic_time ();
  g_task_set_task_data (task, op, op_free);
  transport = transport_for (self, remote, &error);
  if (transport == NULL)
    {
      return_error (task, error);
      return;
    }
  usbip_transport_connect_async (transport, remote, op->options, cancellable, connected, task);
}

/**
 * usbip_importer_list_devices_async:
 * @self: an importer
 * @remote: the exporting host
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Asks @remote for its exportable devices (OP_REQ_DEVLIST).
 *
 * Since: 1.0
 */
void
usbip_importer_list_devices_async (UsbipImporter *self, const UsbipRemote *remote, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (USBIP_IS_IMPORTER (self));
  g_return_if_fail (remote != NULL);
  start_op (self, remote, NULL, NULL, cancellable, callback, user_data, usbip_importer_list_devices_async);
}

/**
 * usbip_importer_list_devices_finish:
 * @self: an importer
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type UsbipDeviceInfo): the devices, or %NULL
 *
 * Since: 1.0
 */
GPtrArray *
usbip_importer_list_devices_finish (UsbipImporter *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gchar *
attach_key (const UsbipRemote *remote, const gchar *busid)
{
  g_autofree gchar *peer = usbip_remote_to_string (remote);
  return g_strdup_printf ("%s/%s", peer, busid);
}

static void
attach_shared_done (GObject *source, GAsyncResult *result, gpointer data)
{
  UsbipImporter *self = USBIP_IMPORTER (source);
  g_autofree gchar *key = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipPortInfo) port = g_task_propagate_pointer (G_TASK (result), &error);
  g_autoptr (GPtrArray) waiters = NULL;
  g_autofree gchar *stolen_key = NULL;
  const Op *op = g_task_get_task_data (G_TASK (result));

  g_signal_emit (self, signals[SIGNAL_ATTACH_FINISHED], 0, op->busid,
                 (guint64) (g_get_monotonic_time () - op->start_us) / 1000, error);
  g_hash_table_steal_extended (self->pending, key, (gpointer *) &stolen_key, (gpointer *) &waiters);
  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);
      if (port != NULL)
        g_task_return_pointer (task, usbip_port_info_copy (port), (GDestroyNotify) usbip_port_info_free);
      else
        g_task_return_error (task, g_error_copy (error));
    }
}

/* the port already carrying (remote, busid), from the port records */
static UsbipPortInfo *
find_attached (UsbipImporter *self, const UsbipRemote *remote, const gchar *busid)
{
  g_autofree gchar *host = NULL;
  g_autofree gchar *service = NULL;

  if (self->backend == NULL)
    return NULL;
  usbip_remote_to_record (remote, &host, &service);
  return usbip_import_backend_find_port (self->backend, host, service, busid);
}

static gboolean need_backend (UsbipImporter *self, GError **error);

/* the backend can take a device (vhci_hcd loaded): asked before connecting, since an
 * exporter that answered OP_REQ_IMPORT has handed its device over and an attach that then
 * fails drops it */
static gboolean
can_attach (UsbipImporter *self, GError **error)
{
  g_autoptr (GPtrArray) ports = NULL;

  if (!need_backend (self, error))
    return FALSE;
  ports = usbip_import_backend_list_ports (self->backend, error);
  return ports != NULL;
}

/**
 * usbip_importer_attach_async:
 * @self: an importer
 * @remote: the exporting host
 * @busid: the device's bus ID on @remote
 * @options: (nullable): socket options for this attach; %NULL takes the importer's
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Imports @busid from @remote and attaches it to a free vhci port of its speed class.
 * Requests for a pair already attached (by anyone, as the port records tell) return that
 * port; concurrent requests for the same pair share one operation and one port (cancelling
 * the first request cancels the shared operation).
 *
 * Since: 1.0
 */
void
usbip_importer_attach_async (UsbipImporter *self, const UsbipRemote *remote, const gchar *busid,
                             const UsbipSocketOptions *options, GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  GError *error = NULL;
  GTask *task;
  GPtrArray *waiters;
  g_autofree gchar *key = NULL;
  UsbipPortInfo *existing;

  g_return_if_fail (USBIP_IS_IMPORTER (self));
  g_return_if_fail (remote != NULL);
  g_return_if_fail (busid != NULL);
  if (!usbip_busid_validate (busid, &error))
    {
      g_task_report_error (self, callback, user_data, usbip_importer_attach_async, error);
      return;
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, usbip_importer_attach_async);
  key = attach_key (remote, busid);
  waiters = g_hash_table_lookup (self->pending, key);
  if (waiters != NULL)
    {
      g_ptr_array_add (waiters, task);
      return;
    }
  existing = find_attached (self, remote, busid);
  if (existing != NULL)
    {
      g_task_set_task_data (task, GINT_TO_POINTER (TRUE), NULL); /* see attach_finish_full */
      g_task_return_pointer (task, existing, (GDestroyNotify) usbip_port_info_free);
      g_object_unref (task);
      return;
    }
  if (!can_attach (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (waiters, task);
  g_hash_table_insert (self->pending, g_strdup (key), waiters);
  start_op (self, remote, busid, options, cancellable, attach_shared_done, g_steal_pointer (&key),
            usbip_importer_attach_async);
}

/**
 * usbip_importer_attach_finish:
 * @self: an importer
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the port the device is attached to, or %NULL
 *
 * Since: 1.0
 */
UsbipPortInfo *
usbip_importer_attach_finish (UsbipImporter *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * usbip_importer_attach_finish_full:
 * @self: an importer
 * @result: the result passed to the callback
 * @already_attached: (out) (optional): %TRUE when the pair was attached before this request
 *   (by this process or another, upstream `usbip` included) and the existing port is returned
 * @error: return location for a #GError
 *
 * Like usbip_importer_attach_finish(), and tells whether the port is an existing one.
 *
 * Returns: (transfer full): the port the device is attached to, or %NULL
 *
 * Since: 1.0
 */
UsbipPortInfo *
usbip_importer_attach_finish_full (UsbipImporter *self, GAsyncResult *result, gboolean *already_attached,
                                   GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  if (already_attached != NULL)
    *already_attached = g_task_get_task_data (G_TASK (result)) != NULL;
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
need_backend (UsbipImporter *self, GError **error)
{
  if (self->backend != NULL)
    return TRUE;
  g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE,
                       "no import backend: is the vhci plugin enabled in the configuration?");
  return FALSE;
}

/**
 * usbip_importer_detach:
 * @self: an importer
 * @port: a vhci port number, as usbip_importer_list_ports() shows it
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the port was released
 *
 * Since: 1.0
 */
gboolean
usbip_importer_detach (UsbipImporter *self, guint port, GError **error)
{
  g_return_val_if_fail (USBIP_IS_IMPORTER (self), FALSE);
  if (!need_backend (self, error) || !usbip_import_backend_detach (self->backend, port, error))
    return FALSE;
  g_signal_emit (self, signals[SIGNAL_PORT_DETACHED], 0, port);
  return TRUE;
}

/**
 * usbip_importer_list_ports:
 * @self: an importer
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type UsbipPortInfo): every vhci port in use,
 *   with its remote where a port record names it
 *
 * Since: 1.0
 */
GPtrArray *
usbip_importer_list_ports (UsbipImporter *self, GError **error)
{
  g_return_val_if_fail (USBIP_IS_IMPORTER (self), NULL);
  if (!need_backend (self, error))
    return NULL;
  return usbip_import_backend_list_ports (self->backend, error);
}

/**
 * usbip_importer_get_backend:
 * @self: an importer
 *
 * Returns: (transfer none) (nullable): the import backend
 *
 * Since: 1.0
 */
UsbipImportBackend *
usbip_importer_get_backend (UsbipImporter *self)
{
  g_return_val_if_fail (USBIP_IS_IMPORTER (self), NULL);
  return self->backend;
}

static void
usbip_importer_finalize (GObject *object)
{
  UsbipImporter *self = USBIP_IMPORTER (object);

  g_hash_table_unref (self->pending);
  g_clear_object (&self->backend);
  g_clear_object (&self->transport);
  g_clear_object (&self->registry);
  usbip_socket_options_free (self->options);
  G_OBJECT_CLASS (usbip_importer_parent_class)->finalize (object);
}

static void
usbip_importer_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  UsbipImporter *self = USBIP_IMPORTER (object);

  switch (prop_id)
    {
    case PROP_SOCKET_OPTIONS:
      g_value_set_boxed (value, self->options);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
usbip_importer_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  UsbipImporter *self = USBIP_IMPORTER (object);

  switch (prop_id)
    {
    case PROP_SOCKET_OPTIONS:
      if (g_value_get_boxed (value) != NULL)
        usbip_importer_set_socket_options (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
usbip_importer_class_init (UsbipImporterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_importer_finalize;
  G_OBJECT_CLASS (klass)->get_property = usbip_importer_get_property;
  G_OBJECT_CLASS (klass)->set_property = usbip_importer_set_property;

  /**
   * UsbipImporter:socket-options:
   *
   * TCP options (keepalive, user timeout, no-delay) set on every connection before its
   * socket is handed to the kernel. Setting it copies the options.
   *
   * Since: 1.0
   */
  props[PROP_SOCKET_OPTIONS] =
      g_param_spec_boxed ("socket-options", NULL, NULL, USBIP_TYPE_SOCKET_OPTIONS,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (G_OBJECT_CLASS (klass), N_PROPS, props);

  /**
   * UsbipImporter::port-attached:
   * @self: the importer
   * @port: (type UsbipPortInfo): the new attachment
   *
   * Since: 1.0
   */
  signals[SIGNAL_PORT_ATTACHED] = g_signal_new ("port-attached", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                                NULL, NULL, G_TYPE_NONE, 1, USBIP_TYPE_PORT_INFO);
  /**
   * UsbipImporter::port-detached:
   * @self: the importer
   * @port: the released port number
   *
   * Since: 1.0
   */
  signals[SIGNAL_PORT_DETACHED] = g_signal_new ("port-detached", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                                NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /**
   * UsbipImporter::attach-finished:
   * @self: the importer
   * @busid: the device asked for
   * @duration_ms: connect to handoff (or to the failure)
   * @error: (type GError) (nullable): why it failed, %NULL on success
   *
   * An attach attempt ended (one per connection made; concurrent requests for the same
   * device share one).
   *
   * Since: 1.0
   */
  signals[SIGNAL_ATTACH_FINISHED] =
      g_signal_new ("attach-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                    3, G_TYPE_STRING, G_TYPE_UINT64, G_TYPE_ERROR);
}

static void
usbip_importer_init (UsbipImporter *self)
{
  self->options = usbip_socket_options_new ();
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * usbip_importer_new:
 * @backend: (nullable): the import backend (vhci); %NULL allows listing only
 * @transport: (nullable): how to reach TCP peers; %NULL for the built-in TCP transport
 *   (the other schemes: usbip_importer_set_plugin_registry())
 *
 * Returns: (transfer full): a new importer
 *
 * Since: 1.0
 */
UsbipImporter *
usbip_importer_new (UsbipImportBackend *backend, UsbipTransport *transport)
{
  UsbipImporter *self = NULL;

  g_return_val_if_fail (backend == NULL || USBIP_IS_IMPORT_BACKEND (backend), NULL);
  g_return_val_if_fail (transport == NULL || USBIP_IS_TRANSPORT (transport), NULL);
  self = g_object_new (USBIP_TYPE_IMPORTER, NULL);
  if (backend != NULL)
    self->backend = g_object_ref (backend);
  self->transport = transport != NULL ? g_object_ref (transport) : usbip_transport_tcp_new ();
  return self;
}

/**
 * usbip_importer_set_plugin_registry:
 * @self: an importer
 * @registry: where the transports for `unix:` and `vsock:` remotes come from (the plugins
 *   of those names, loaded when first needed)
 *
 * Since: 1.0
 */
void
usbip_importer_set_plugin_registry (UsbipImporter *self, UsbipPluginRegistry *registry)
{
  g_return_if_fail (USBIP_IS_IMPORTER (self));
  g_return_if_fail (USBIP_IS_PLUGIN_REGISTRY (registry));
  g_set_object (&self->registry, registry);
}

/**
 * usbip_importer_set_socket_options:
 * @self: an importer
 * @options: defaults for every connection of this importer
 *
 * Since: 1.0
 */
void
usbip_importer_set_socket_options (UsbipImporter *self, const UsbipSocketOptions *options)
{
  g_return_if_fail (USBIP_IS_IMPORTER (self));
  g_return_if_fail (options != NULL);
  usbip_socket_options_free (self->options);
  self->options = usbip_socket_options_copy (options);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SOCKET_OPTIONS]);
}

/**
 * usbip_importer_get_socket_options:
 * @self: an importer
 *
 * Returns: (transfer none): the importer's socket options
 *
 * Since: 1.0
 */
const UsbipSocketOptions *
usbip_importer_get_socket_options (UsbipImporter *self)
{
  g_return_val_if_fail (USBIP_IS_IMPORTER (self), NULL);
  return self->options;
}
