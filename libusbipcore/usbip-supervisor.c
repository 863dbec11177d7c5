/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeps one attachment alive: attach, watch the vhci port, and when the port is released
 * while its port record stays (the connection was lost, not detached by anyone), dial again
 * on the reconnect cadence (UsbipBackoff: quick while the outage is young, backing off only
 * for long outages) until it works, the attempts run out, or the error cannot heal by waiting.
 *
 *   IDLE -> CONNECTING -> ATTACHED -> (lost) -> WAITING -> CONNECTING -> ...
 *   CONNECTING -(permanent error / out of attempts)-> GAVE_UP
 *   ATTACHED -(detached on purpose)-> DETACHED
 *
 * An attachment counts as a success only once it has lasted the stable time: an exporter
 * that accepts and drops at once is an outage that goes on (attempt count and backoff keep
 * growing), not a fresh start each time.
 */
#include "config.h"

#include "usbip-enum-types.h"
#include "usbip-error.h"
#include "usbip-port-monitor.h"
#include "usbip-supervisor.h"
#include "usbip-supervisor-private.h"

/* an answer that may heal by itself (see classify()) is retried for at least this many
 * tries in a row and this long; then the supervisor gives up */
#define AMBIGUOUS_TRIES 10
#define AMBIGUOUS_US ((gint64) 180 * G_USEC_PER_SEC)

typedef enum {
  RETRY,         /* heals by waiting: the network, a busy device or port */
  RETRY_BOUNDED, /* may heal (a device being re-bound or replugged, a race) or may not */
  STOP,          /* cannot heal by waiting */
} RetryClass;

/**
 * UsbipSupervisor:
 *
 * Auto-reconnect for one (remote, bus ID) attachment.
 *
 * Since: 1.0
 */
struct _UsbipSupervisor {
  GObject parent_instance;
  UsbipImporter *importer;
  UsbipRemote *remote;
  gchar *busid;
  UsbipBackoff *backoff;
  guint max_attempts; /* 0 = unlimited */
  guint poll_interval_ms;
  guint stable_ms;
  UsbipSupervisorClockFunc clock;
  gpointer clock_data;
  UsbipPortMonitor *monitor;
  UsbipSupervisorState state;
  UsbipPortInfo *port;
  GCancellable *cancellable;
  guint retry_id;
  guint attempts;         /* failed attempts since the last stable attachment */
  gint64 outage_start;    /* clock: when the current outage began */
  gint64 attached_at;     /* clock: when the current attachment was made */
  guint ambiguous;        /* consecutive RETRY_BOUNDED answers */
  gint64 ambiguous_since; /* clock: the first of them */
  gboolean was_attached;
};

enum {
  SIGNAL_ATTACHED,
  SIGNAL_LOST,
  SIGNAL_RECONNECTING,
  SIGNAL_RECONNECTED,
  SIGNAL_DETACHED,
  SIGNAL_GAVE_UP,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_STATE, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (UsbipSupervisor, usbip_supervisor, G_TYPE_OBJECT)

static void
set_state (UsbipSupervisor *self, UsbipSupervisorState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

static void connect_now (UsbipSupervisor *self);

/**
 * usbip_supervisor_state_to_string:
 * @state: a state
 *
 * Returns: a stable lower-case name, e.g. `attached`
 *
 * Since: 1.0
 */
const gchar *
usbip_supervisor_state_to_string (UsbipSupervisorState state)
{
  static const gchar *const names[] = { "idle", "connecting", "attached", "waiting", "detached", "gave-up" };
  return (guint) state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

static gint64
now_us (UsbipSupervisor *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

/* what an attempt's error means for the next one */
static RetryClass
classify (const GError *error)
{
  if (error->domain != USBIP_ERROR)
    return RETRY; /* GIO: resolver, network */
  switch ((UsbipError) error->code)
    {
    case USBIP_ERROR_PERMISSION:
    case USBIP_ERROR_MODULE_MISSING:
    case USBIP_ERROR_INVALID_ARGUMENT: /* includes vhci refusing the attach (EINVAL) */
    case USBIP_ERROR_CONFIG:
    case USBIP_ERROR_PLUGIN:
      return STOP;
    case USBIP_ERROR_NOT_AVAILABLE: /* ST_NA: the hand-over failed, e.g. two clients raced */
    case USBIP_ERROR_NO_DEVICE:     /* ST_NODEV: being re-bound or replugged, or a wrong bus ID */
    case USBIP_ERROR_DEVICE_ERROR:  /* ST_DEV_ERR: until someone re-binds it */
    case USBIP_ERROR_REMOTE_ERROR:  /* ST_ERROR */
    case USBIP_ERROR_PROTOCOL:      /* not a USB/IP server, or a broken reply */
    case USBIP_ERROR_VERSION:
    case USBIP_ERROR_UNKNOWN_OPCODE:
    case USBIP_ERROR_NOT_FOUND:
    case USBIP_ERROR_DENIED:
      return RETRY_BOUNDED;
    case USBIP_ERROR_DEVICE_BUSY: /* ST_DEV_BUSY: another client (or our lost session, until the
                                   * exporter notices) holds it */
    case USBIP_ERROR_BUSY:
    case USBIP_ERROR_NO_FREE_PORT:
    case USBIP_ERROR_TIMEOUT:
    case USBIP_ERROR_CONNECTION:
    case USBIP_ERROR_FAILED:
    default:
      return RETRY;
    }
}

static void
give_up (UsbipSupervisor *self, const GError *error)
{
  set_state (self, USBIP_SUPERVISOR_GAVE_UP);
  usbip_port_monitor_stop (self->monitor);
  g_signal_emit (self, signals[SIGNAL_GAVE_UP], 0, error);
}

static gboolean
on_retry (gpointer data)
{
  UsbipSupervisor *self = data;

  self->retry_id = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (UsbipSupervisor *self, const GError *cause)
{
  gint64 age_us = MAX (now_us (self) - self->outage_start, 0);
  guint delay = usbip_backoff_next_ms_in_outage (self->backoff, (guint64) age_us / 1000);

  set_state (self, USBIP_SUPERVISOR_WAITING);
  g_signal_emit (self, signals[SIGNAL_RECONNECTING], 0, self->attempts + 1, delay, cause);
  self->retry_id = g_timeout_add (delay, on_retry, self);
}

/* an attempt failed (or an attachment did not last): give up or wait for the next one */
static void
failed (UsbipSupervisor *self, GError *error)
{
  RetryClass class = classify (error);
  gint64 now = now_us (self);

  self->attempts++;
  if (class != RETRY_BOUNDED)
    self->ambiguous = 0;
  else if (self->ambiguous++ == 0)
    self->ambiguous_since = now;
  if (class == STOP)
    give_up (self, error);
  else if (class == RETRY_BOUNDED && self->ambiguous >= AMBIGUOUS_TRIES && now - self->ambiguous_since >= AMBIGUOUS_US)
    {
      g_prefix_error (&error, "gave up after %u tries in %u s with the same kind of answer: ", self->ambiguous,
                      (guint) ((now - self->ambiguous_since) / G_USEC_PER_SEC));
      give_up (self, error);
    }
  else if (self->max_attempts > 0 && self->attempts >= self->max_attempts)
    {
      g_prefix_error (&error, "gave up after %u attempts: ", self->attempts);
      give_up (self, error);
    }
  else
    schedule_retry (self, error);
}

static void
attach_done (GObject *source, GAsyncResult *result, gpointer data)
{
  UsbipSupervisor *self = data;
  g_autoptr (GError) error = NULL;
  UsbipPortInfo *port = usbip_importer_attach_finish (USBIP_IMPORTER (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      return;
    }
  if (port != NULL)
    {
      gboolean again = self->was_attached;

      /* attempts and backoff are reset when this attachment proves stable (on_port_removed) */
      g_clear_pointer (&self->port, usbip_port_info_free);
      self->port = port;
      set_state (self, USBIP_SUPERVISOR_ATTACHED);
      self->attached_at = now_us (self);
      self->ambiguous = 0;
      self->was_attached = TRUE;
      usbip_port_monitor_start (self->monitor, NULL);
      g_signal_emit (self, signals[again ? SIGNAL_RECONNECTED : SIGNAL_ATTACHED], 0, port);
      g_object_unref (self);
      return;
    }
  failed (self, error);
  g_object_unref (self);
}

static void
connect_now (UsbipSupervisor *self)
{
  set_state (self, USBIP_SUPERVISOR_CONNECTING);
  usbip_importer_attach_async (self->importer, self->remote, self->busid, NULL, self->cancellable, attach_done,
                               g_object_ref (self));
}

static gboolean
port_is_free (UsbipSupervisor *self, guint port)
{
  g_autoptr (GPtrArray) ports = usbip_import_backend_list_ports (usbip_importer_get_backend (self->importer), NULL);

  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      UsbipPortInfo *p = g_ptr_array_index (ports, i);
      if (p->port == port)
        return p->status == USBIP_PORT_STATUS_NULL;
    }
  return FALSE;
}

static void
on_port_removed (UsbipPortMonitor *monitor, UsbipPortInfo *old, gboolean record_kept, gpointer data)
{
  UsbipSupervisor *self = data;
  gint64 now, lasted_ms;

  if (self->state != USBIP_SUPERVISOR_ATTACHED || self->port == NULL || old->port != self->port->port)
    return;
  usbip_port_monitor_stop (self->monitor);
  if (!record_kept)
    {
      /* a detach on purpose (ours or upstream's): never reconnect */
      set_state (self, USBIP_SUPERVISOR_DETACHED);
      g_signal_emit (self, signals[SIGNAL_DETACHED], 0, self->port);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_LOST], 0, self->port);
  /* the stale record of the lost port goes (a new attach writes its own) — but only while
   * the port is free: someone else may have attached there since */
  if (port_is_free (self, self->port->port))
    usbip_importer_detach (self->importer, self->port->port, NULL);
  now = now_us (self);
  lasted_ms = (now - self->attached_at) / 1000;
  if (lasted_ms >= self->stable_ms)
    {
      /* a new outage: try at once, then quickly */
      self->attempts = 0;
      self->outage_start = now;
      usbip_backoff_reset (self->backoff);
      connect_now (self);
    }
  else
    {
      g_autoptr (GError) error = g_error_new (USBIP_ERROR, USBIP_ERROR_CONNECTION,
                                              "the attachment was lost after %" G_GINT64_FORMAT " ms, before it "
                                              "was stable (%u ms): the exporter drops the connection",
                                              lasted_ms, self->stable_ms);
      failed (self, error);
    }
}

/**
 * usbip_supervisor_start:
 * @self: a supervisor
 * @error: return location for a #GError
 *
 * Attaches (retrying with backoff like any reconnect) and keeps the attachment alive.
 * Progress is told by the signals.
 *
 * Returns: %FALSE if already started
 *
 * Since: 1.0
 */
gboolean
usbip_supervisor_start (UsbipSupervisor *self, GError **error)
{
  g_return_val_if_fail (USBIP_IS_SUPERVISOR (self), FALSE);
  if (self->state != USBIP_SUPERVISOR_IDLE && self->state != USBIP_SUPERVISOR_GAVE_UP
      && self->state != USBIP_SUPERVISOR_DETACHED)
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_BUSY, "the supervisor is already running");
      return FALSE;
    }
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->attempts = 0;
  self->ambiguous = 0;
  self->outage_start = now_us (self);
  usbip_backoff_reset (self->backoff);
  usbip_port_monitor_set_interval (self->monitor, self->poll_interval_ms);
  connect_now (self);
  return TRUE;
}

/**
 * usbip_supervisor_stop:
 * @self: a supervisor
 *
 * Stops supervising (cancels an attempt or a wait). The attachment, if any, stays.
 *
 * Since: 1.0
 */
void
usbip_supervisor_stop (UsbipSupervisor *self)
{
  g_return_if_fail (USBIP_IS_SUPERVISOR (self));
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  usbip_port_monitor_stop (self->monitor);
  set_state (self, USBIP_SUPERVISOR_IDLE);
}

/**
 * usbip_supervisor_check_now:
 * @self: a supervisor
 *
 * Looks at the ports now instead of at the next poll.
 *
 * Since: 1.0
 */
void
usbip_supervisor_check_now (UsbipSupervisor *self)
{
  g_return_if_fail (USBIP_IS_SUPERVISOR (self));
  usbip_port_monitor_check_now (self->monitor);
}

/**
 * usbip_supervisor_get_state:
 * @self: a supervisor
 *
 * Returns: where it stands
 *
 * Since: 1.0
 */
UsbipSupervisorState
usbip_supervisor_get_state (UsbipSupervisor *self)
{
  g_return_val_if_fail (USBIP_IS_SUPERVISOR (self), USBIP_SUPERVISOR_IDLE);
  return self->state;
}

/**
 * usbip_supervisor_get_port:
 * @self: a supervisor
 *
 * Returns: (transfer none) (nullable): the current or last attachment
 *
 * Since: 1.0
 */
const UsbipPortInfo *
usbip_supervisor_get_port (UsbipSupervisor *self)
{
  g_return_val_if_fail (USBIP_IS_SUPERVISOR (self), NULL);
  return self->port;
}

/**
 * usbip_supervisor_set_backoff:
 * @self: a supervisor
 * @backoff: delays between attempts (copied; default usbip_backoff_new_default())
 *
 * Since: 1.0
 */
void
usbip_supervisor_set_backoff (UsbipSupervisor *self, const UsbipBackoff *backoff)
{
  g_return_if_fail (USBIP_IS_SUPERVISOR (self));
  g_return_if_fail (backoff != NULL);
  usbip_backoff_free (self->backoff);
  self->backoff = usbip_backoff_copy (backoff);
}

/**
 * usbip_supervisor_set_max_attempts:
 * @self: a supervisor
 * @max_attempts: failed attempts in a row before giving up; 0 = never give up
 *
 * Since: 1.0
 */
void
usbip_supervisor_set_max_attempts (UsbipSupervisor *self, guint max_attempts)
{
  g_return_if_fail (USBIP_IS_SUPERVISOR (self));
  self->max_attempts = max_attempts;
}

/**
 * usbip_supervisor_set_poll_interval:
 * @self: a supervisor
 * @interval_ms: how often the vhci ports are read (besides the kernel's USB uevents); default 500
 *
 * Since: 1.0
 */
void
usbip_supervisor_set_poll_interval (UsbipSupervisor *self, guint interval_ms)
{
  g_return_if_fail (USBIP_IS_SUPERVISOR (self));
  self->poll_interval_ms = interval_ms;
  usbip_port_monitor_set_interval (self->monitor, interval_ms);
}

/**
 * usbip_supervisor_set_stable_time:
 * @self: a supervisor
 * @stable_ms: an attachment lost sooner than this after it was made does not count as a
 *   success: the attempt count and backoff go on growing (default
 *   %USBIP_SUPERVISOR_DEFAULT_STABLE_MS)
 *
 * Since: 1.0
 */
void
usbip_supervisor_set_stable_time (UsbipSupervisor *self, guint stable_ms)
{
  g_return_if_fail (USBIP_IS_SUPERVISOR (self));
  self->stable_ms = stable_ms;
}

/**
 * usbip_supervisor_set_clock:
 * @self: a supervisor
 * @clock: (nullable) (scope forever): monotonic time in microseconds; %NULL for
 *   g_get_monotonic_time()
 * @user_data: passed to @clock
 *
 * The clock that dates outages and attachments (tests drive it; the delays between attempts
 * still run on the main context).
 *
 * Since: 1.0
 */
void
usbip_supervisor_set_clock (UsbipSupervisor *self, UsbipSupervisorClockFunc clock, gpointer user_data)
{
  g_return_if_fail (USBIP_IS_SUPERVISOR (self));
  self->clock = clock;
  self->clock_data = user_data;
}

static void
usbip_supervisor_dispose (GObject *object)
{
  UsbipSupervisor *self = USBIP_SUPERVISOR (object);

  if (self->monitor != NULL)
    {
      usbip_supervisor_stop (self);
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_clear_object (&self->monitor);
    }
  G_OBJECT_CLASS (usbip_supervisor_parent_class)->dispose (object);
}

static void
usbip_supervisor_finalize (GObject *object)
{
  UsbipSupervisor *self = USBIP_SUPERVISOR (object);

  g_clear_object (&self->importer);
  usbip_remote_free (self->remote);
  g_free (self->busid);
  usbip_backoff_free (self->backoff);
  g_clear_pointer (&self->port, usbip_port_info_free);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (usbip_supervisor_parent_class)->finalize (object);
}

static void
usbip_supervisor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  UsbipSupervisor *self = USBIP_SUPERVISOR (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
usbip_supervisor_class_init (UsbipSupervisorClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = usbip_supervisor_dispose;
  G_OBJECT_CLASS (klass)->finalize = usbip_supervisor_finalize;
  G_OBJECT_CLASS (klass)->get_property = usbip_supervisor_get_property;

  /**
   * UsbipSupervisor:state:
   *
   * Where the supervisor is: idle, connecting, attached, waiting to retry, detached (on
   * purpose, by someone) or gave up. Notified on every change.
   *
   * Since: 1.0
   */
  props[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, USBIP_TYPE_SUPERVISOR_STATE, USBIP_SUPERVISOR_IDLE,
                                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (G_OBJECT_CLASS (klass), N_PROPS, props);

  /**
   * UsbipSupervisor::attached:
   * @self: the supervisor
   * @port: (type UsbipPortInfo): the first attachment
   *
   * Since: 1.0
   */
  signals[SIGNAL_ATTACHED] = g_signal_new ("attached", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, USBIP_TYPE_PORT_INFO);
  /**
   * UsbipSupervisor::lost:
   * @self: the supervisor
   * @port: (type UsbipPortInfo): the attachment whose port the kernel released
   *
   * Since: 1.0
   */
  signals[SIGNAL_LOST] = g_signal_new ("lost", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 1, USBIP_TYPE_PORT_INFO);
  /**
   * UsbipSupervisor::reconnecting:
   * @self: the supervisor
   * @attempt: the number of the attempt about to be made
   * @delay_ms: how long it waits first
   * @cause: (type GError): why the last attempt failed
   *
   * Since: 1.0
   */
  signals[SIGNAL_RECONNECTING] = g_signal_new ("reconnecting", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_ERROR);
  /**
   * UsbipSupervisor::reconnected:
   * @self: the supervisor
   * @port: (type UsbipPortInfo): the attachment, back
   *
   * Since: 1.0
   */
  signals[SIGNAL_RECONNECTED] = g_signal_new ("reconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                              NULL, NULL, G_TYPE_NONE, 1, USBIP_TYPE_PORT_INFO);
  /**
   * UsbipSupervisor::detached:
   * @self: the supervisor
   * @port: (type UsbipPortInfo): the attachment someone detached on purpose
   *
   * Since: 1.0
   */
  signals[SIGNAL_DETACHED] = g_signal_new ("detached", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, USBIP_TYPE_PORT_INFO);
  /**
   * UsbipSupervisor::gave-up:
   * @self: the supervisor
   * @error: (type GError): the last error (permanent, or the attempts ran out)
   *
   * Since: 1.0
   */
  signals[SIGNAL_GAVE_UP] = g_signal_new ("gave-up", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
usbip_supervisor_init (UsbipSupervisor *self)
{
  self->backoff = usbip_backoff_new_default ();
  self->stable_ms = USBIP_SUPERVISOR_DEFAULT_STABLE_MS;
  self->poll_interval_ms = USBIP_PORT_MONITOR_DEFAULT_INTERVAL_MS;
  self->cancellable = g_cancellable_new ();
}

/**
 * usbip_supervisor_new:
 * @importer: an importer with an import backend
 * @remote: the exporting host
 * @busid: the device on @remote
 *
 * Returns: (transfer full): an idle supervisor
 *
 * Since: 1.0
 */
UsbipSupervisor *
usbip_supervisor_new (UsbipImporter *importer, const UsbipRemote *remote, const gchar *busid)
{
  UsbipSupervisor *self;
  UsbipImportBackend *backend;

  g_return_val_if_fail (USBIP_IS_IMPORTER (importer), NULL);
  backend = usbip_importer_get_backend (importer);
  g_return_val_if_fail (backend != NULL, NULL);
  self = g_object_new (USBIP_TYPE_SUPERVISOR, NULL);
  self->importer = g_object_ref (importer);
  self->remote = usbip_remote_copy (remote);
  self->busid = g_strdup (busid);
  self->monitor = usbip_port_monitor_new (backend);
  g_signal_connect (self->monitor, "port-removed", G_CALLBACK (on_port_removed), self);
  return self;
}
