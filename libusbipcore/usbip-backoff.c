/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-backoff.h"

/**
 * UsbipBackoff:
 *
 * Backoff with jitter, aware of how old the outage is. While the outage is younger than the
 * fast window (usbip_backoff_set_fast_window()), every delay is drawn uniformly from
 * [floor, initial]; after it, the n-th delay drawn past the window (n from 0) is drawn from
 * [floor, min(max, initial × multiplier^n)]. The floor (usbip_backoff_set_floor_ms()) bounds
 * the attempts per minute whatever the draw. Without a fast window and floor (the
 * defaults of usbip_backoff_new()) this is plain exponential backoff with full jitter.
 * Jitter spreads the reconnects of many importers that lost the same exporter at the same
 * moment. The random source can be seeded for deterministic tests.
 *
 * Since: 1.0
 */
struct _UsbipBackoff {
  guint initial_ms;
  guint max_ms;
  gdouble multiplier;
  guint floor_ms;
  guint fast_window_ms;
  guint attempt;      /* delays drawn since the last reset */
  guint slow_attempt; /* of those, drawn after the fast window */
  GRand *rand;
};

G_DEFINE_BOXED_TYPE (UsbipBackoff, usbip_backoff, usbip_backoff_copy, usbip_backoff_free)

/**
 * usbip_backoff_new:
 * @initial_ms: ceiling of the first delay (0 = retry at once)
 * @max_ms: the ceiling never grows past this
 * @multiplier: growth per attempt (at least 1.0)
 *
 * Returns: (transfer full): a backoff at attempt 0, randomly seeded
 *
 * Since: 1.0
 */
UsbipBackoff *
usbip_backoff_new (guint initial_ms, guint max_ms, gdouble multiplier)
{
  UsbipBackoff *self = g_new0 (UsbipBackoff, 1);

  self->initial_ms = initial_ms;
  self->max_ms = MAX (max_ms, initial_ms);
  self->multiplier = MAX (multiplier, 1.0);
  self->rand = g_rand_new ();
  return self;
}

/**
 * usbip_backoff_copy:
 * @self: a backoff
 *
 * Returns: (transfer full): a copy with the same settings, at attempt 0, newly seeded
 *
 * Since: 1.0
 */
UsbipBackoff *
usbip_backoff_copy (const UsbipBackoff *self)
{
  UsbipBackoff *copy;

  g_return_val_if_fail (self != NULL, NULL);
  copy = usbip_backoff_new (self->initial_ms, self->max_ms, self->multiplier);
  copy->floor_ms = self->floor_ms;
  copy->fast_window_ms = self->fast_window_ms;
  return copy;
}

/**
 * usbip_backoff_new_default:
 *
 * The reconnect cadence of `--auto-reconnect` (docs/reconnect.md): while the outage is
 * younger than %USBIP_BACKOFF_DEFAULT_FAST_WINDOW_MS, a delay between
 * %USBIP_BACKOFF_DEFAULT_FLOOR_MS and %USBIP_BACKOFF_DEFAULT_INITIAL_MS; then growing
 * ×%USBIP_BACKOFF_DEFAULT_MULTIPLIER per attempt up to %USBIP_BACKOFF_DEFAULT_MAX_MS. The
 * floor bounds the attempts to 60000 / %USBIP_BACKOFF_DEFAULT_FLOOR_MS per minute.
 *
 * Returns: (transfer full): a backoff at attempt 0, randomly seeded
 *
 * Since: 1.0
 */
UsbipBackoff *
usbip_backoff_new_default (void)
{
  UsbipBackoff *self = usbip_backoff_new (USBIP_BACKOFF_DEFAULT_INITIAL_MS, USBIP_BACKOFF_DEFAULT_MAX_MS,
                                          USBIP_BACKOFF_DEFAULT_MULTIPLIER);

  usbip_backoff_set_floor_ms (self, USBIP_BACKOFF_DEFAULT_FLOOR_MS);
  usbip_backoff_set_fast_window (self, USBIP_BACKOFF_DEFAULT_FAST_WINDOW_MS);
  return self;
}

/**
 * usbip_backoff_set_floor_ms:
 * @self: a backoff
 * @floor_ms: no delay is shorter than this (capped at the initial ceiling); 0 = none
 *
 * Since: 1.0
 */
void
usbip_backoff_set_floor_ms (UsbipBackoff *self, guint floor_ms)
{
  g_return_if_fail (self != NULL);
  self->floor_ms = floor_ms;
}

/**
 * usbip_backoff_set_fast_window:
 * @self: a backoff
 * @window_ms: while the outage is younger than this, the ceiling stays at the initial one
 *   (no growth); 0 = grow from the first attempt
 *
 * Since: 1.0
 */
void
usbip_backoff_set_fast_window (UsbipBackoff *self, guint window_ms)
{
  g_return_if_fail (self != NULL);
  self->fast_window_ms = window_ms;
}

/**
 * usbip_backoff_free:
 * @self: (nullable): a backoff
 *
 * Since: 1.0
 */
void
usbip_backoff_free (UsbipBackoff *self)
{
  if (self == NULL)
    return;
  g_rand_free (self->rand);
  g_free (self);
}

/**
 * usbip_backoff_set_seed:
 * @self: a backoff
 * @seed: a seed for the jitter, for reproducible sequences
 *
 * Since: 1.0
 */
void
usbip_backoff_set_seed (UsbipBackoff *self, guint32 seed)
{
  g_return_if_fail (self != NULL);
  g_rand_set_seed (self->rand, seed);
}

/**
 * usbip_backoff_get_ceiling_ms:
 * @self: a backoff
 *
 * Returns: the largest delay the next call to usbip_backoff_next_ms() (an outage past the
 *   fast window) can return
 *
 * Since: 1.0
 */
guint
usbip_backoff_get_ceiling_ms (const UsbipBackoff *self)
{
  gdouble c;

  g_return_val_if_fail (self != NULL, 0);
  c = (gdouble) self->initial_ms;
  for (guint i = 0; i < self->slow_attempt && c < (gdouble) self->max_ms; i++)
    c *= self->multiplier;
  return (guint) MIN (c, (gdouble) self->max_ms);
}

/**
 * usbip_backoff_get_attempt:
 * @self: a backoff
 *
 * Returns: how many delays were drawn since the last reset
 *
 * Since: 1.0
 */
guint
usbip_backoff_get_attempt (const UsbipBackoff *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->attempt;
}

/**
 * usbip_backoff_next_ms:
 * @self: a backoff
 *
 * Same as usbip_backoff_next_ms_in_outage() for an outage past the fast window.
 *
 * Returns: the delay before the next attempt, and advances to the next attempt
 *
 * Since: 1.0
 */
guint
usbip_backoff_next_ms (UsbipBackoff *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return usbip_backoff_next_ms_in_outage (self, G_MAXUINT64);
}

/**
 * usbip_backoff_next_ms_in_outage:
 * @self: a backoff
 * @outage_ms: how long the outage has lasted so far
 *
 * Returns: the delay before the next attempt, and advances to the next attempt
 *
 * Since: 1.0
 */
guint
usbip_backoff_next_ms_in_outage (UsbipBackoff *self, guint64 outage_ms)
{
  guint ceiling, hi, lo;

  g_return_val_if_fail (self != NULL, 0);
  if (outage_ms < self->fast_window_ms)
    ceiling = self->initial_ms;
  else
    {
      ceiling = usbip_backoff_get_ceiling_ms (self);
      self->slow_attempt++;
    }
  self->attempt++;
  if (ceiling == 0)
    return 0;
  /* g_rand_int_range draws in gint32: both ends stay below G_MAXINT32 (a floor past the
   * cap is the cap, not a negative bound) */
  hi = MIN (ceiling, (guint) G_MAXINT32 - 1);
  lo = MIN (self->floor_ms, hi);
  return (guint) g_rand_int_range (self->rand, (gint32) lo, (gint32) hi + 1);
}

/**
 * usbip_backoff_reset:
 * @self: a backoff
 *
 * Back to attempt 0 (after a success).
 *
 * Since: 1.0
 */
void
usbip_backoff_reset (UsbipBackoff *self)
{
  g_return_if_fail (self != NULL);
  self->attempt = 0;
  self->slow_attempt = 0;
}
