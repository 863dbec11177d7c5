/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-error.h"
#include "usbip-policy-private.h"

/**
 * UsbipPolicy:
 *
 * Who may open a session with the exporter: admission rules per socket family (address
 * prefixes for IP, user and group ids for Unix sockets, context ids for vsock), session
 * caps in total and per peer, and a token bucket on the accept rate for each peer. A peer
 * is an IPv4 address or an IPv6 /64 (one host usually holds a whole /64, see
 * usbip_policy_peer_key()), a user id, or a vsock context id (usbip_peer_get_key()).
 * Pure logic: the caller passes the peer, the counts and the clock, so every rule is
 * testable without sockets.
 *
 * Since: 1.0
 */
struct _UsbipPolicy {
  GObject parent_instance;
  GPtrArray *allow;  /* GInetAddressMask */
  GArray *allow_uid; /* guint32 */
  GArray *allow_gid;
  GArray *allow_cid;
  guint max_sessions;
  guint max_per_peer;
  gdouble rate;
  gdouble burst;
  GHashTable *buckets; /* peer key -> Bucket */
};

/* one peer's token bucket */
typedef struct {
  gdouble tokens;
  gint64 last_us;
} Bucket;

/* buckets kept at most; beyond, full (idle) ones are dropped, then newcomers share one */
#define MAX_BUCKETS 65536

G_DEFINE_FINAL_TYPE (UsbipPolicy, usbip_policy, G_TYPE_OBJECT)

static void
usbip_policy_finalize (GObject *object)
{
  UsbipPolicy *self = USBIP_POLICY (object);

  g_ptr_array_unref (self->allow);
  g_array_unref (self->allow_uid);
  g_array_unref (self->allow_gid);
  g_array_unref (self->allow_cid);
  g_hash_table_unref (self->buckets);
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
  self->allow_uid = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->allow_gid = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->allow_cid = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * usbip_policy_new:
 *
 * Returns: (transfer full): a policy that admits everyone
 *
 * Since: 1.0
 */
UsbipPolicy *
usbip_policy_new (void)
{
  return g_object_new (USBIP_TYPE_POLICY, NULL);
}

/* GLib warns through the log (a GObject property out of range) for a length beyond the
 * family's bits before it returns its error: check it first, and say what fits */
static gboolean
check_prefix_length (const gchar *cidr, GError **error)
{
  const gchar *slash = strchr (cidr, '/');
  guint64 length;
  guint bits = strchr (cidr, ':') != NULL ? 128 : 32;

  if (slash == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (slash + 1, 10, 0, bits, &length, NULL))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "invalid address prefix \"%s\": the length after '/' must be 0..%u for an %s address "
                   "(write e.g. 192.168.1.0/24 or fd00::/8)",
                   cidr, bits, bits == 128 ? "IPv6" : "IPv4");
      return FALSE;
    }
  return TRUE;
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
 * Since: 1.0
 */
gboolean
usbip_policy_add_allow_cidr (UsbipPolicy *self, const gchar *cidr, GError **error)
{
  GInetAddressMask *mask;
  GError *local_error = NULL;

  g_return_val_if_fail (USBIP_IS_POLICY (self), FALSE);
  g_return_val_if_fail (cidr != NULL, FALSE);
  if (!check_prefix_length (cidr, error))
    return FALSE;
  mask = g_inet_address_mask_new_from_string (cidr, &local_error);
  if (mask == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "invalid address prefix \"%s\": %s (write e.g. 192.168.1.0/24 or fd00::/8)", cidr,
                   local_error->message);
      g_error_free (local_error);
      return FALSE;
    }
  g_ptr_array_add (self->allow, mask);
  return TRUE;
}

/**
 * usbip_policy_add_allow_uid:
 * @self: a policy
 * @uid: a user id
 *
 * Admits Unix-socket peers running as @uid (their `SO_PEERCRED` credentials). Once any
 * user or group is added, other Unix peers are refused.
 *
 * Since: 1.0
 */
void
usbip_policy_add_allow_uid (UsbipPolicy *self, guint32 uid)
{
  g_return_if_fail (USBIP_IS_POLICY (self));
  g_array_append_val (self->allow_uid, uid);
}

/**
 * usbip_policy_add_allow_gid:
 * @self: a policy
 * @gid: a group id
 *
 * Admits Unix-socket peers whose primary group (`SO_PEERCRED`) is @gid.
 *
 * Since: 1.0
 */
void
usbip_policy_add_allow_gid (UsbipPolicy *self, guint32 gid)
{
  g_return_if_fail (USBIP_IS_POLICY (self));
  g_array_append_val (self->allow_gid, gid);
}

/**
 * usbip_policy_add_allow_cid:
 * @self: a policy
 * @cid: a vsock context id (2 is the host, 1 the local machine)
 *
 * Admits vsock peers from @cid. Once any is added, other vsock peers are refused.
 *
 * Since: 1.0
 */
void
usbip_policy_add_allow_cid (UsbipPolicy *self, guint32 cid)
{
  g_return_if_fail (USBIP_IS_POLICY (self));
  g_array_append_val (self->allow_cid, cid);
}

static GInetAddress *unmap_v4 (GInetAddress *addr);

static gboolean
has_rules (UsbipPolicy *self)
{
  return self->allow->len > 0 || self->allow_uid->len > 0 || self->allow_gid->len > 0 || self->allow_cid->len > 0;
}

static gboolean
id_listed (GArray *list, gint64 id)
{
  for (guint i = 0; id >= 0 && i < list->len; i++)
    if (g_array_index (list, guint32, i) == id)
      return TRUE;
  return FALSE;
}

/* the rule that refuses @peer, or NULL. Each family is judged by its own rules; while any
 * rule is set, a family without rules of its own is refused (fail closed) */
static gchar *
refusing_rule (UsbipPolicy *self, const UsbipPeer *peer)
{
  if (!has_rules (self))
    return NULL;
  switch ((gint) peer->family)
    {
    case G_SOCKET_FAMILY_IPV4:
    case G_SOCKET_FAMILY_IPV6:
      {
        g_autoptr (GInetAddress) addr = unmap_v4 (peer->address);

        for (guint i = 0; i < self->allow->len; i++)
          {
            GInetAddressMask *mask = g_ptr_array_index (self->allow, i);
            if (g_inet_address_mask_get_family (mask) == g_inet_address_get_family (addr)
                && g_inet_address_mask_matches (mask, addr))
              return NULL;
          }
        return g_strdup (self->allow->len > 0 ? "allow-cidr" : "allow-cidr (none set for IP peers)");
      }
    case G_SOCKET_FAMILY_UNIX:
      if (id_listed (self->allow_uid, peer->uid) || id_listed (self->allow_gid, peer->gid))
        return NULL;
      return g_strdup (self->allow_uid->len + self->allow_gid->len > 0
                           ? "allow-uid/allow-gid"
                           : "allow-uid/allow-gid (none set for Unix peers)");
    case USBIP_SOCKET_FAMILY_VSOCK:
      if (id_listed (self->allow_cid, peer->cid))
        return NULL;
      return g_strdup (self->allow_cid->len > 0 ? "allow-cid" : "allow-cid (none set for vsock peers)");
    default:
      /* an unknown peer matches no rule: fail closed */
      return g_strdup ("allow-cidr (peer address unknown)");
    }
}

/* usbip-policy-private.h */
gboolean
usbip_policy_judges_address (UsbipPolicy *self)
{
  g_return_val_if_fail (USBIP_IS_POLICY (self), TRUE);
  return has_rules (self) || self->rate > 0;
}

/**
 * usbip_policy_refuses_family:
 * @self: a policy
 * @family: a socket family (%USBIP_SOCKET_FAMILY_VSOCK for vsock)
 *
 * Returns: %TRUE when admission rules are set but none for @family, so that every peer
 *   of @family is refused: a listener of that family serves nobody
 *
 * Since: 1.0
 */
gboolean
usbip_policy_refuses_family (UsbipPolicy *self, GSocketFamily family)
{
  g_return_val_if_fail (USBIP_IS_POLICY (self), FALSE);
  if (!has_rules (self))
    return FALSE;
  switch ((gint) family)
    {
    case G_SOCKET_FAMILY_IPV4:
    case G_SOCKET_FAMILY_IPV6:
      return self->allow->len == 0;
    case G_SOCKET_FAMILY_UNIX:
      return self->allow_uid->len + self->allow_gid->len == 0;
    case USBIP_SOCKET_FAMILY_VSOCK:
      return self->allow_cid->len == 0;
    default:
      return TRUE;
    }
}

/**
 * usbip_policy_set_max_sessions:
 * @self: a policy
 * @max: most sessions in handshake at once; 0 = no limit
 *
 * Since: 1.0
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
 * Since: 1.0
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
 * @per_second: connections each peer may open per second in the long run; 0 = no limit
 * @burst: how many one peer may open at once (at least 1)
 *
 * Each peer (see usbip_policy_peer_key()) has its own token bucket, so a peer that
 * floods is refused without taking the share of any other.
 *
 * Since: 1.0
 */
void
usbip_policy_set_accept_rate (UsbipPolicy *self, gdouble per_second, guint burst)
{
  g_return_if_fail (USBIP_IS_POLICY (self));
  self->rate = MAX (per_second, 0.0);
  self->burst = MAX (burst, 1u);
  g_hash_table_remove_all (self->buckets);
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
 * usbip_policy_peer_key:
 * @peer: (nullable): a peer's address; %NULL when unknown
 *
 * What counts as one peer for the per-peer session cap and the accept rate: an IPv4
 * address (also when it arrives on a dual-stack socket as `::ffff:a.b.c.d`), the /64 of
 * an IPv6 address (a host can pick any address of its /64), or `unknown`.
 *
 * Returns: (transfer full): e.g. `192.0.2.7`, `2001:db8:1:2::/64`
 *
 * Since: 1.0
 */
gchar *
usbip_policy_peer_key (GInetAddress *peer)
{
  g_autoptr (GInetAddress) addr = NULL;
  g_autoptr (GInetAddress) net = NULL;
  g_autofree gchar *text = NULL;
  guint8 bytes[16] = { 0 };

  if (peer == NULL)
    return g_strdup ("unknown");
  g_return_val_if_fail (G_IS_INET_ADDRESS (peer), NULL);
  addr = unmap_v4 (peer);
  if (g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
    return g_inet_address_to_string (addr);
  memcpy (bytes, g_inet_address_to_bytes (addr), 8);
  net = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
  text = g_inet_address_to_string (net);
  return g_strconcat (text, "/64", NULL);
}

static gboolean
take_token (UsbipPolicy *self, const UsbipPeer *peer, gint64 now_us)
{
  g_autofree gchar *key = usbip_peer_get_key (peer);
  Bucket *b = g_hash_table_lookup (self->buckets, key);

  if (b == NULL)
    {
      if (g_hash_table_size (self->buckets) >= MAX_BUCKETS)
        {
          GHashTableIter it;
          Bucket *old;

          /* a bucket refilled to the burst is the same as no bucket */
          g_hash_table_iter_init (&it, self->buckets);
          while (g_hash_table_iter_next (&it, NULL, (gpointer *) &old))
            if (old->tokens + self->rate * (gdouble) (now_us - old->last_us) / G_USEC_PER_SEC >= self->burst)
              g_hash_table_iter_remove (&it);
          if (g_hash_table_size (self->buckets) >= MAX_BUCKETS)
            {
              g_free (key);
              key = g_strdup ("overflow");
            }
        }
      b = g_hash_table_lookup (self->buckets, key);
    }
  if (b == NULL)
    {
      b = g_new0 (Bucket, 1);
      b->tokens = self->burst;
      b->last_us = now_us;
      g_hash_table_insert (self->buckets, g_steal_pointer (&key), b);
    }
  if (now_us > b->last_us)
    b->tokens = MIN (self->burst, b->tokens + self->rate * (gdouble) (now_us - b->last_us) / G_USEC_PER_SEC);
  b->last_us = MAX (b->last_us, now_us);
  if (b->tokens < 1.0)
    return FALSE;
  b->tokens -= 1.0;
  return TRUE;
}

/**
 * usbip_policy_admit:
 * @self: a policy
 * @peer: (nullable): the peer's IP address; %NULL when it is unknown
 * @active_sessions: sessions open now, not counting this one
 * @active_sessions_of_peer: sessions of the peer (counted by usbip_policy_peer_key()) open
 *   now, not counting this one
 * @now_us: a monotonic clock in microseconds
 * @rule: (out) (optional) (transfer full): which rule refused, e.g. `allow-cidr`
 *
 * usbip_policy_admit_peer() for an IP peer (or an unknown one).
 *
 * Returns: %TRUE to admit
 *
 * Since: 1.0
 */
gboolean
usbip_policy_admit (UsbipPolicy *self, GInetAddress *peer, guint active_sessions, guint active_sessions_of_peer,
                    gint64 now_us, gchar **rule)
{
  g_autoptr (UsbipPeer) p = NULL;

  g_return_val_if_fail (peer == NULL || G_IS_INET_ADDRESS (peer), FALSE);
  p = peer != NULL ? usbip_peer_new_inet (peer, 0) : usbip_peer_new ();
  return usbip_policy_admit_peer (self, p, active_sessions, active_sessions_of_peer, now_us, rule);
}

/**
 * usbip_policy_admit_peer:
 * @self: a policy
 * @peer: the peer
 * @active_sessions: sessions open now, not counting this one
 * @active_sessions_of_peer: sessions of the peer (counted by usbip_peer_get_key()) open
 *   now, not counting this one
 * @now_us: a monotonic clock in microseconds
 * @rule: (out) (optional) (transfer full): which rule refused, e.g. `allow-cidr`,
 *   `allow-uid/allow-gid`, `allow-cid`, `max-sessions=N`
 *
 * Decides on one new connection. With no admission rule set, every peer is admitted (as
 * upstream usbipd does). Each family is judged by its own rules: `allow-cidr` for IP,
 * `allow-uid`/`allow-gid` for Unix sockets, `allow-cid` for vsock; while any rule is set,
 * a peer whose family has no rule of its own, or an unknown peer, is refused. A refusal
 * does not consume a rate token.
 *
 * Returns: %TRUE to admit
 *
 * Since: 1.0
 */
gboolean
usbip_policy_admit_peer (UsbipPolicy *self, const UsbipPeer *peer, guint active_sessions, guint active_sessions_of_peer,
                         gint64 now_us, gchar **rule)
{
  g_autofree gchar *refused = NULL;

  g_return_val_if_fail (USBIP_IS_POLICY (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  if (rule != NULL)
    *rule = NULL;
  refused = refusing_rule (self, peer);
  if (refused != NULL)
    {
      if (rule != NULL)
        *rule = g_steal_pointer (&refused);
      return FALSE;
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
  if (self->rate > 0 && !take_token (self, peer, now_us))
    {
      if (rule != NULL)
        *rule = g_strdup_printf ("accept-rate-limit=%g", self->rate);
      return FALSE;
    }
  return TRUE;
}
