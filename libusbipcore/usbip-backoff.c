/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-backoff.h"

/**
 * UsbipBackoff:
 *
 * Exponential backoff with full jitter: the n-th delay (n from 0) is drawn uniformly from
 * [0, min(max, initial × multiplier^n)]. Full jitter spreads the reconnects of many
 * importers that lost the same exporter at the same moment. The random source can be
 * seeded for deterministic tests.
 *
 * Since: 0.1
 */
struct _UsbipBackoff {
  guint initial_ms;
  guint max_ms;
  gdouble multiplier;
  guint attempt;
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
 * Since: 0.1
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
 * Since: 0.1
 */
UsbipBackoff *
usbip_backoff_copy (const UsbipBackoff *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return usbip_backoff_new (self->initial_ms, self->max_ms, self->multiplier);
}

/**
 * usbip_backoff_free:
 * @self: (nullable): a backoff
 *
 * Since: 0.1
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
 * Since: 0.1
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
 * Returns: the largest delay the next call to usbip_backoff_next_ms() can return
 *
 * Since: 0.1
 */
guint
usbip_backoff_get_ceiling_ms (const UsbipBackoff *self)
{
  gdouble c;

  g_return_val_if_fail (self != NULL, 0);
  c = (gdouble) self->initial_ms;
  for (guint i = 0; i < self->attempt && c < (gdouble) self->max_ms; i++)
    c *= self->multiplier;
  return (guint) MIN (c, (gdouble) self->max_ms);
}

/**
 * usbip_backoff_get_attempt:
 * @self: a backoff
 *
 * Returns: how many delays were drawn since the last reset
 *
 * Since: 0.1
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
 * Returns: the delay before the next attempt, and advances to the next attempt
 *
 * Since: 0.1
 */
guint
usbip_backoff_next_ms (UsbipBackoff *self)
{
  guint ceiling;

  g_return_val_if_fail (self != NULL, 0);
  ceiling = usbip_backoff_get_ceiling_ms (self);
  self->attempt++;
  if (ceiling == 0)
    return 0;
  return (guint) g_rand_int_range (self->rand, 0, (gint32) MIN (ceiling, (guint) G_MAXINT32 - 1) + 1);
}

/**
 * usbip_backoff_reset:
 * @self: a backoff
 *
 * Back to attempt 0 (after a success).
 *
 * Since: 0.1
 */
void
usbip_backoff_reset (UsbipBackoff *self)
{
  g_return_if_fail (self != NULL);
  self->attempt = 0;
}
