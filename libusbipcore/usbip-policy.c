/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-error.h"
#include "usbip-policy.h"

/**
 * UsbipPolicy:
 *
 * Who may open a session with the exporter: allowed address prefixes, session caps in
 * total and per peer, and a token bucket on the accept rate. Pure logic: the caller
 * passes the counts and the clock, so every rule is testable without sockets.
 *
 * Since: 0.1
 */
struct _UsbipPolicy {
  GObject parent_instance;
  GPtrArray *allow; /* GInetAddressMask */
  GPtrArray *allow_text;
  guint max_sessions;
  guint max_per_peer;
  gdouble rate;
  gdouble burst;
  gdouble tokens;
  gint64 last_us;
};

G_DEFINE_FINAL_TYPE (UsbipPolicy, usbip_policy, G_TYPE_OBJECT)

static void
usbip_policy_finalize (GObject *object)
{
  UsbipPolicy *self = USBIP_POLICY (object);

  g_ptr_array_unref (self->allow);
  g_ptr_array_unref (self->allow_text);
  G_OBJECT_CLASS (usbip_policy_parent_class)->finalize (object);
}

static void
usbip_policy_class_init (UsbipPolicyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = usbip_policy_finalize;
}

static void
usbip_policy_init (UsbipPolicy *self)
{
  self->allow = g_ptr_array_new_with_free_func (g_object_unref);
  self->allow_text = g_ptr_array_new_with_free_func (g_free);
  self->last_us = -1;
}

/**
 * usbip_policy_new:
 *
 * Returns: (transfer full): a policy that admits everyone
 *
 * Since: 0.1
 */
UsbipPolicy *
usbip_policy_new (void)
{
  return g_object_new (USBIP_TYPE_POLICY, NULL);
}

/**
 * usbip_policy_add_allow_cidr:
 * @self: a policy
 * @cidr: an address prefix such as `192.168.1.0/24`, `fd00::/8` or a single address
 * @error: return location for a #GError
 *
 * Once any prefix is added, only peers inside one of them are admitted. IPv4 peers on a
 * dual-stack socket (`::ffff:a.b.c.d`) match IPv4 prefixes.
 *
 * Returns: %FALSE with %USBIP_ERROR_INVALID_ARGUMENT if @cidr does not parse
 *
 * Since: 0.1
 */
gboolean
usbip_policy_add_allow_cidr (UsbipPolicy *self, const gchar *cidr, GError **error)
{
  GInetAddressMask *mask;
  GError *local_error = NULL;

  g_return_val_if_fail (USBIP_IS_POLICY (self), FALSE);
  g_return_val_if_fail (cidr != NULL, FALSE);
  mask = g_inet_address_mask_new_from_string (cidr, &local_error);
  if (mask == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "invalid address prefix \"%s\": %s (write e.g. 192.168.1.0/24 or fd00::/8)",
                   cidr, local_error->message);
      g_error_free (local_error);
      return FALSE;
    }
  g_ptr_array_add (self->allow, mask);
  g_ptr_array_add (self->allow_text, g_strdup (cidr));
  return TRUE;
}

/**
 * usbip_policy_set_max_sessions:
 * @self: a policy
 * @max: most sessions in handshake at once; 0 = no limit
 *
 * Since: 0.1
 */
void
usbip_policy_set_max_sessions (UsbipPolicy *self, guint max)
{
  g_return_if_fail (USBIP_IS_POLICY (self));
  self->max_sessions = max;
}

/**
 * usbip_policy_set_max_sessions_per_peer:
 * @self: a policy
 * @max: most sessions one peer address may hold at once; 0 = no limit
 *
 * Since: 0.1
 */
void
usbip_policy_set_max_sessions_per_peer (UsbipPolicy *self, guint max)
{
  g_return_if_fail (USBIP_IS_POLICY (self));
  self->max_per_peer = max;
}

/**
 * usbip_policy_set_accept_rate:
 * @self: a policy
 * @per_second: accepted connections per second in the long run; 0 = no limit
 * @burst: how many may arrive at once (at least 1)
 *
 * Since: 0.1
 */
void
usbip_policy_set_accept_rate (UsbipPolicy *self, gdouble per_second, guint burst)
{
  g_return_if_fail (USBIP_IS_POLICY (self));
  self->rate = MAX (per_second, 0.0);
  self->burst = MAX (burst, 1u);
  self->tokens = self->burst;
  self->last_us = -1;
}

static GInetAddress *
unmap_v4 (GInetAddress *addr)
{
  const guint8 *b;
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
    return g_object_ref (addr);
  b = g_inet_address_to_bytes (addr);
  if (memcmp (b, prefix, sizeof prefix) == 0)
    return g_inet_address_new_from_bytes (b + 12, G_SOCKET_FAMILY_IPV4);
  return g_object_ref (addr);
}

/**
 * usbip_policy_admit:
 * @self: a policy
 * @peer: the peer's address
 * @active_sessions: sessions open now, not counting this one
 * @active_sessions_of_peer: sessions of @peer open now, not counting this one
 * @now_us: a monotonic clock in microseconds
 * @rule: (out) (optional) (transfer full): which rule refused, e.g. `allow-cidr`
 *
 * Decides on one new connection. A refusal does not consume a rate token.
 *
 * Returns: %TRUE to admit
 *
 * Since: 0.1
 */
gboolean
usbip_policy_admit (UsbipPolicy *self,
                    GInetAddress *peer,
                    guint active_sessions,
                    guint active_sessions_of_peer,
                    gint64 now_us,
                    gchar **rule)
{
  g_return_val_if_fail (USBIP_IS_POLICY (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (peer), FALSE);

  if (rule != NULL)
    *rule = NULL;
  if (self->allow->len > 0)
    {
      g_autoptr (GInetAddress) addr = unmap_v4 (peer);
      gboolean found = FALSE;

      for (guint i = 0; i < self->allow->len && !found; i++)
        {
          GInetAddressMask *mask = g_ptr_array_index (self->allow, i);
          if (g_inet_address_mask_get_family (mask) == g_inet_address_get_family (addr))
            found = g_inet_address_mask_matches (mask, addr);
        }
      if (!found)
        {
          if (rule != NULL)
            *rule = g_strdup ("allow-cidr");
          return FALSE;
        }
    }
  if (self->max_sessions > 0 && active_sessions >= self->max_sessions)
    {
      if (rule != NULL)
        *rule = g_strdup_printf ("max-sessions=%u", self->max_sessions);
      return FALSE;
    }
  if (self->max_per_peer > 0 && active_sessions_of_peer >= self->max_per_peer)
    {
      if (rule != NULL)
        *rule = g_strdup_printf ("max-sessions-per-peer=%u", self->max_per_peer);
      return FALSE;
    }
  if (self->rate > 0)
    {
      if (self->last_us >= 0 && now_us > self->last_us)
        self->tokens = MIN (self->burst, self->tokens + self->rate * (gdouble) (now_us - self->last_us) / G_USEC_PER_SEC);
      self->last_us = now_us;
      if (self->tokens < 1.0)
        {
          if (rule != NULL)
            *rule = g_strdup_printf ("accept-rate-limit=%g", self->rate);
          return FALSE;
        }
      self->tokens -= 1.0;
    }
  return TRUE;
}
