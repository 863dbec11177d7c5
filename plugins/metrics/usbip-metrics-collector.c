/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Turns the signals of exporters, importers and supervisors into Prometheus metrics.
 * Counters count signal emissions exactly; gauges are read from the objects when scraped.
 * Families appear for the kinds of object watched (a daemon shows no importer metrics).
 */
#include "config.h"

#include "usbip-metrics-collector.h"
#include "usbip-metrics-process.h"
#include "usbip-metrics-text.h"

struct _UsbipMetricsCollector {
  GObject parent_instance;
  GPtrArray *exporters;
  GPtrArray *importers;
  GPtrArray *supervisors;
  UsbipMetricsCounter handshakes;
  UsbipMetricsCounter refused;
  UsbipMetricsCounter exported;
  UsbipMetricsHistogram handshake_duration;
  UsbipMetricsCounter attaches;
  UsbipMetricsHistogram attach_duration;
  UsbipMetricsCounter reconnects;
};

G_DEFINE_FINAL_TYPE (UsbipMetricsCollector, usbip_metrics_collector, G_TYPE_OBJECT)

static const gchar *const op_status[] = { "op", "status", NULL };
static const gchar *const rule_label[] = { "rule", NULL };
static const gchar *const no_labels[] = { NULL };
static const gchar *const status_label[] = { "status", NULL };
static const gchar *const cause_label[] = { "cause", NULL };
static const gdouble handshake_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const gdouble attach_bounds[] = { 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30 };

const gchar *
usbip_metrics_error_label (const GError *error)
{
  static const gchar *const names[] = {
    [USBIP_ERROR_FAILED] = "failed",
    [USBIP_ERROR_NOT_AVAILABLE] = "not-available",
    [USBIP_ERROR_DEVICE_BUSY] = "device-busy",
    [USBIP_ERROR_DEVICE_ERROR] = "device-error",
    [USBIP_ERROR_NO_DEVICE] = "no-device",
    [USBIP_ERROR_REMOTE_ERROR] = "remote-error",
    [USBIP_ERROR_PROTOCOL] = "protocol",
    [USBIP_ERROR_VERSION] = "version",
    [USBIP_ERROR_UNKNOWN_OPCODE] = "unknown-opcode",
    [USBIP_ERROR_TIMEOUT] = "timeout",
    [USBIP_ERROR_DENIED] = "denied",
    [USBIP_ERROR_NOT_FOUND] = "not-found",
    [USBIP_ERROR_BUSY] = "busy",
    [USBIP_ERROR_NO_FREE_PORT] = "no-free-port",
    [USBIP_ERROR_MODULE_MISSING] = "module-missing",
    [USBIP_ERROR_PERMISSION] = "permission",
    [USBIP_ERROR_INVALID_ARGUMENT] = "invalid-argument",
    [USBIP_ERROR_CONNECTION] = "connection",
    [USBIP_ERROR_PLUGIN] = "plugin",
    [USBIP_ERROR_CONFIG] = "config",
  };

  if (error == NULL)
    return "ok";
  if (error->domain == USBIP_ERROR && error->code >= 0 && error->code < (gint) G_N_ELEMENTS (names)
      && names[error->code] != NULL)
    return names[error->code];
  return "failed";
}

/* ---- exporter ---- */

static void
on_session_closed (UsbipExporter *exporter, const gchar *peer, const gchar *op, guint status, guint64 duration_ms,
                   UsbipMetricsCollector *self)
{
  const gchar *values[] = { "unknown", op != NULL ? op : "invalid" };

  /* op: what the client asked; status: the status sent, or why it was closed unanswered */
  if (g_strcmp0 (op, "OP_REQ_DEVLIST") == 0 || g_strcmp0 (op, "OP_REQ_IMPORT") == 0)
    {
      values[0] = g_strcmp0 (op, "OP_REQ_DEVLIST") == 0 ? "devlist" : "import";
      values[1] = usbip_status_to_string (status);
    }
  usbip_metrics_counter_inc (&self->handshakes, values);
  usbip_metrics_histogram_observe (&self->handshake_duration, (gdouble) duration_ms / 1000.0);
}

static void
on_connection_refused (UsbipExporter *exporter, const gchar *peer, const gchar *rule, UsbipMetricsCollector *self)
{
  const gchar *values[] = { rule };
  usbip_metrics_counter_inc (&self->refused, values);
}

static void
on_device_exported (UsbipExporter *exporter, const gchar *busid, const gchar *peer, UsbipMetricsCollector *self)
{
  usbip_metrics_counter_inc (&self->exported, no_labels);
}

/* ---- importer and supervisor ---- */

static void
on_attach_finished (UsbipImporter *importer, const gchar *busid, guint64 duration_ms, const GError *error,
                    UsbipMetricsCollector *self)
{
  const gchar *values[] = { usbip_metrics_error_label (error) };

  usbip_metrics_counter_inc (&self->attaches, values);
  usbip_metrics_histogram_observe (&self->attach_duration, (gdouble) duration_ms / 1000.0);
}

static void
on_lost (UsbipSupervisor *sup, UsbipPortInfo *port, UsbipMetricsCollector *self)
{
  const gchar *values[] = { "connection-lost" };
  usbip_metrics_counter_inc (&self->reconnects, values);
}

static void
on_reconnecting (UsbipSupervisor *sup, guint attempt, guint delay_ms, const GError *cause, UsbipMetricsCollector *self)
{
  const gchar *values[] = { usbip_metrics_error_label (cause) };
  usbip_metrics_counter_inc (&self->reconnects, values);
}

void
usbip_metrics_collector_watch (UsbipMetricsCollector *self, GObject *object)
{
  g_return_if_fail (USBIP_IS_METRICS_COLLECTOR (self));
  if (USBIP_IS_EXPORTER (object))
    {
      g_ptr_array_add (self->exporters, g_object_ref (object));
      g_signal_connect_object (object, "session-closed", G_CALLBACK (on_session_closed), self, 0);
      g_signal_connect_object (object, "connection-refused", G_CALLBACK (on_connection_refused), self, 0);
      g_signal_connect_object (object, "device-exported", G_CALLBACK (on_device_exported), self, 0);
    }
  else if (USBIP_IS_IMPORTER (object))
    {
      g_ptr_array_add (self->importers, g_object_ref (object));
      g_signal_connect_object (object, "attach-finished", G_CALLBACK (on_attach_finished), self, 0);
    }
  else if (USBIP_IS_SUPERVISOR (object))
    {
      g_ptr_array_add (self->supervisors, g_object_ref (object));
      g_signal_connect_object (object, "lost", G_CALLBACK (on_lost), self, 0);
      g_signal_connect_object (object, "reconnecting", G_CALLBACK (on_reconnecting), self, 0);
    }
}

static void
write_gauge (GString *out, const gchar *name, const gchar *help, gdouble value)
{
  usbip_metrics_text_family (out, name, "gauge", help);
  usbip_metrics_text_sample (out, name, NULL, value);
}

static void
write_exporter (UsbipMetricsCollector *self, GString *out)
{
  guint sessions = 0;
  gboolean draining = FALSE;

  for (guint i = 0; i < self->exporters->len; i++)
    {
      UsbipExporter *e = g_ptr_array_index (self->exporters, i);
      sessions += usbip_exporter_get_n_sessions (e);
      draining |= usbip_exporter_get_draining (e);
    }
  write_gauge (out, "usbip_exporter_sessions", "Handshakes in progress.", sessions);
  usbip_metrics_counter_write (&self->handshakes, out);
  usbip_metrics_histogram_write (&self->handshake_duration, out);
  usbip_metrics_counter_write (&self->refused, out);
  /* a counter without labels shows 0 before the first export */
  usbip_metrics_text_family (out, "usbip_exporter_devices_exported_total", "counter", self->exported.help);
  usbip_metrics_text_sample (out, "usbip_exporter_devices_exported_total", NULL,
                             (gdouble) usbip_metrics_counter_get (&self->exported, no_labels));
  write_gauge (out, "usbip_exporter_draining", "1 while the exporter drains (no new connections), else 0.",
               draining ? 1 : 0);
}

static void
write_importer (UsbipMetricsCollector *self, GString *out)
{
  guint used = 0;

  if (self->importers->len > 0)
    {
      /* one importer per program; its backend sees every vhci port of the host */
      g_autoptr (GPtrArray) ports = usbip_importer_list_ports (g_ptr_array_index (self->importers, 0), NULL);
      for (guint i = 0; ports != NULL && i < ports->len; i++)
        used += ((UsbipPortInfo *) g_ptr_array_index (ports, i))->status != USBIP_PORT_STATUS_NULL;
    }
  usbip_metrics_counter_write (&self->attaches, out);
  usbip_metrics_histogram_write (&self->attach_duration, out);
  write_gauge (out, "usbip_importer_ports_attached", "vhci ports in use on this host (by anyone).", used);
}

static void
write_supervisor (UsbipMetricsCollector *self, GString *out)
{
  usbip_metrics_counter_write (&self->reconnects, out);
  usbip_metrics_text_family (out, "usbip_supervisor_state", "gauge",
                             "Supervised attachments in each state (1 per supervisor, in its current state).");
  for (gint st = USBIP_SUPERVISOR_IDLE; st <= USBIP_SUPERVISOR_GAVE_UP; st++)
    {
      const gchar *labels[] = { "state", usbip_supervisor_state_to_string (st), NULL };
      guint n = 0;

      for (guint i = 0; i < self->supervisors->len; i++)
        n += usbip_supervisor_get_state (g_ptr_array_index (self->supervisors, i)) == (UsbipSupervisorState) st;
      usbip_metrics_text_sample (out, "usbip_supervisor_state", labels, n);
    }
}

gchar *
usbip_metrics_collector_render (UsbipMetricsCollector *self)
{
  GString *out = g_string_new (NULL);
  const gchar *build[] = { "version", PACKAGE_VERSION, NULL };

  usbip_metrics_text_family (out, "usbip_build_info", "gauge", "usbipcore version (always 1).");
  usbip_metrics_text_sample (out, "usbip_build_info", build, 1);
  if (self->exporters->len > 0)
    write_exporter (self, out);
  if (self->importers->len > 0)
    write_importer (self, out);
  if (self->supervisors->len > 0)
    write_supervisor (self, out);
  usbip_metrics_process_write (out);
  return g_string_free (out, FALSE);
}

static void
usbip_metrics_collector_finalize (GObject *object)
{
  UsbipMetricsCollector *self = USBIP_METRICS_COLLECTOR (object);

  g_ptr_array_unref (self->exporters);
  g_ptr_array_unref (self->importers);
  g_ptr_array_unref (self->supervisors);
  usbip_metrics_counter_clear (&self->handshakes);
  usbip_metrics_counter_clear (&self->refused);
  usbip_metrics_counter_clear (&self->exported);
  usbip_metrics_counter_clear (&self->attaches);
  usbip_metrics_counter_clear (&self->reconnects);
  G_OBJECT_CLASS (usbip_metrics_collector_parent_class)->finalize (object);
}

static void
usbip_metrics_collector_class_init (UsbipMetricsCollectorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_metrics_collector_finalize;
}

static void
usbip_metrics_collector_init (UsbipMetricsCollector *self)
{
  self->exporters = g_ptr_array_new_with_free_func (g_object_unref);
  self->importers = g_ptr_array_new_with_free_func (g_object_unref);
  self->supervisors = g_ptr_array_new_with_free_func (g_object_unref);
  usbip_metrics_counter_init (&self->handshakes, "usbip_exporter_handshakes_total",
                              "Handshakes ended, by request (devlist, import, unknown) and the status sent "
                              "(ST_OK, ST_NODEV, ...) or why the connection closed unanswered (invalid, timeout).",
                              op_status);
  usbip_metrics_histogram_init (&self->handshake_duration, "usbip_exporter_handshake_duration_seconds",
                                "Accept to the end of the handshake.", handshake_bounds,
                                G_N_ELEMENTS (handshake_bounds));
  usbip_metrics_counter_init (&self->refused, "usbip_exporter_connections_refused_total",
                              "Connections closed by the admission policy, by the rule that refused them.", rule_label);
  usbip_metrics_counter_init (&self->exported, "usbip_exporter_devices_exported_total",
                              "Devices handed to the kernel after an OP_REQ_IMPORT.", no_labels);
  usbip_metrics_counter_init (&self->attaches, "usbip_importer_attach_total",
                              "Attach attempts ended, by outcome (ok or the error's name).", status_label);
  usbip_metrics_histogram_init (&self->attach_duration, "usbip_importer_attach_duration_seconds",
                                "Connect to the vhci handoff (or to the failure).", attach_bounds,
                                G_N_ELEMENTS (attach_bounds));
  usbip_metrics_counter_init (&self->reconnects, "usbip_supervisor_reconnects_total",
                              "Reconnect attempts, by cause: connection-lost, or the error of the attempt before.",
                              cause_label);
}

UsbipMetricsCollector *
usbip_metrics_collector_new (void)
{
  return g_object_new (USBIP_TYPE_METRICS_COLLECTOR, NULL);
}
