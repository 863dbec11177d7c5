/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TCP reassembly for captures: per connection and direction, bytes are delivered in
 * sequence order exactly once. Segments ahead of the expected sequence number wait in a
 * balanced sequence (GSequence) sorted by their 64-bit stream offset, so n out-of-order
 * segments cost O(n log n); bytes already delivered (retransmissions, overlaps) are
 * trimmed away. Sequence numbers are compared modulo 2^32 (signed 32-bit differences) and
 * turned into 64-bit stream offsets on arrival, which gives the waiting segments a total
 * order however long the stream.
 *
 * Memory: what waits is charged its bytes plus a fixed cost per entry (holes included), and
 * a direction that would hold more than the cap is declared broken (a GAP event).
 */
#include "config.h"

#include <string.h>

#include "usbip-tcp-reassembler.h"

/* bytes a direction may hold out of order before it is declared broken */
#define PENDING_CAP ((gsize) 64 * 1024 * 1024)
/* what one waiting entry costs besides its bytes: the entry, its GBytes and tree node */
#define PENDING_ENTRY_COST 128u

typedef struct {
  gint64 offset;  /* stream offset of the first byte (0 = the first byte of the direction) */
  guint64 serial; /* arrival order, to keep equal offsets in arrival order */
  guint32 seq;
  GBytes *data; /* NULL: a hole of hole_len bytes the capture did not keep */
  gsize hole_len;
} Pending;

typedef struct {
  gboolean started;
  gboolean syn_seen;
  gboolean fin_pending;
  gboolean closed;
  gboolean broken;
  guint32 next;
  gint64 next_offset; /* stream offset of next */
  guint32 fin_seq;
  GSequence *pending; /* of Pending, sorted by (offset, serial); NULL while empty */
  guint64 serial;
  gsize pending_cost; /* bytes held + PENDING_ENTRY_COST per entry */
} Direction;

typedef struct {
  guint id;
  guint8 family;
  guint8 client_addr[16];
  guint16 client_port;
  gchar *client;
  gchar *server;
  gboolean reset;
  Direction dir[2]; /* 0: client to server, 1: server to client */
} Connection;

struct _UsbipTcpReassembler {
  guint16 server_port;
  UsbipTcpEventFunc func;
  gpointer user_data;
  GHashTable *by_key; /* GBytes key -> Connection (the current one for that 4-tuple) */
  GPtrArray *connections;
};

static void
pending_free (gpointer p)
{
  Pending *pending = p;

  if (pending->data != NULL)
    g_bytes_unref (pending->data);
  g_free (pending);
}

static void
direction_clear_pending (Direction *dir)
{
  if (dir->pending != NULL)
    {
      for (GSequenceIter *it = g_sequence_get_begin_iter (dir->pending); !g_sequence_iter_is_end (it);
           it = g_sequence_iter_next (it))
        pending_free (g_sequence_get (it));
      g_clear_pointer (&dir->pending, g_sequence_free);
    }
  dir->pending_cost = 0;
}

static gsize
pending_cost (const Pending *p)
{
  return PENDING_ENTRY_COST + (p->data != NULL ? g_bytes_get_size (p->data) : 0);
}

/* the first waiting entry, or NULL */
static Pending *
first_pending (Direction *dir)
{
  GSequenceIter *it;

  if (dir->pending == NULL)
    return NULL;
  it = g_sequence_get_begin_iter (dir->pending);
  return g_sequence_iter_is_end (it) ? NULL : g_sequence_get (it);
}

static void
connection_free (gpointer p)
{
  Connection *conn = p;

  direction_clear_pending (&conn->dir[0]);
  direction_clear_pending (&conn->dir[1]);
  g_free (conn->client);
  g_free (conn->server);
  g_free (conn);
}

/**
 * usbip_tcp_reassembler_new:
 * @server_port: TCP port of the server side; segments on other ports are ignored. 0 takes
 *   every connection and calls the side that sent the first SYN (else the first segment)
 *   the client.
 * @func: (scope notified): called for each event, in input order
 * @user_data: passed to @func
 *
 * Returns: (transfer full): a new reassembler
 *
 * Since: 1.0
 */
UsbipTcpReassembler *
usbip_tcp_reassembler_new (guint16 server_port, UsbipTcpEventFunc func, gpointer user_data)
{
  UsbipTcpReassembler *self = g_new0 (UsbipTcpReassembler, 1);

  self->server_port = server_port;
  self->func = func;
  self->user_data = user_data;
  self->by_key = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, NULL);
  self->connections = g_ptr_array_new_with_free_func (connection_free);
  return self;
}

/**
 * usbip_tcp_reassembler_free:
 * @self: (nullable): a reassembler
 *
 * Frees @self without reporting what is still pending (see usbip_tcp_reassembler_finish()).
 *
 * Since: 1.0
 */
void
usbip_tcp_reassembler_free (UsbipTcpReassembler *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->by_key);
  g_ptr_array_unref (self->connections);
  g_free (self);
}

/**
 * usbip_tcp_reassembler_get_n_streams:
 * @self: a reassembler
 *
 * Returns: how many connections were seen
 *
 * Since: 1.0
 */
guint
usbip_tcp_reassembler_get_n_streams (UsbipTcpReassembler *self)
{
  return self->connections->len;
}

static void
emit (UsbipTcpReassembler *self, Connection *conn, UsbipTcpEventType type, gboolean from_client, const guint8 *data,
      gsize len, const UsbipTcpSegment *seg)
{
  UsbipTcpEvent ev = {
    .type = type,
    .stream_id = conn->id,
    .from_client = from_client,
    .data = data,
    .len = len,
    .segment = seg,
    .client = conn->client,
    .server = conn->server,
  };

  if (self->func != NULL)
    self->func (&ev, self->user_data);
}

static GBytes *
make_key (const UsbipTcpSegment *seg)
{
  guint8 key[1 + 2 * 18];
  guint8 a[18], b[18];

  memcpy (a, seg->src_addr, 16);
  a[16] = seg->src_port >> 8;
  a[17] = seg->src_port & 0xff;
  memcpy (b, seg->dst_addr, 16);
  b[16] = seg->dst_port >> 8;
  b[17] = seg->dst_port & 0xff;
  key[0] = seg->family;
  if (memcmp (a, b, 18) <= 0)
    {
      memcpy (key + 1, a, 18);
      memcpy (key + 19, b, 18);
    }
  else
    {
      memcpy (key + 1, b, 18);
      memcpy (key + 19, a, 18);
    }
  return g_bytes_new (key, sizeof key);
}

static gboolean
is_from_client (const Connection *conn, const UsbipTcpSegment *seg)
{
  gsize n = conn->family == 6 ? 16 : 4;

  return seg->src_port == conn->client_port && memcmp (seg->src_addr, conn->client_addr, n) == 0;
}

static Connection *
lookup (UsbipTcpReassembler *self, const UsbipTcpSegment *seg)
{
  g_autoptr (GBytes) key = make_key (seg);
  Connection *conn = g_hash_table_lookup (self->by_key, key);
  gboolean src_is_client;
  gboolean pure_syn = (seg->flags & (USBIP_TCP_SYN | USBIP_TCP_ACK)) == USBIP_TCP_SYN;

  if (conn != NULL)
    {
      gboolean finished = conn->reset || (conn->dir[0].closed && conn->dir[1].closed);
      /* a fresh SYN on a finished 4-tuple opens a new connection (port reuse) */
      if (!(finished && pure_syn))
        return conn;
    }

  if (self->server_port != 0 && seg->dst_port == self->server_port && seg->src_port != self->server_port)
    src_is_client = TRUE; /* NOLINT(bugprone-branch-clone): one case per line; the last is the default */
  else if (self->server_port != 0 && seg->src_port == self->server_port && seg->dst_port != self->server_port)
    src_is_client = FALSE;
  else if (self->server_port != 0 && seg->src_port != self->server_port)
    return NULL; /* neither side is the server port: not ours */
  else if ((seg->flags & USBIP_TCP_SYN) != 0)
    src_is_client = (seg->flags & USBIP_TCP_ACK) == 0;
  else
    src_is_client = TRUE;

  conn = g_new0 (Connection, 1);
  conn->id = self->connections->len;
  conn->family = seg->family;
  memcpy (conn->client_addr, src_is_client ? seg->src_addr : seg->dst_addr, 16);
  conn->client_port = src_is_client ? seg->src_port : seg->dst_port;
  conn->client = usbip_tcp_segment_format_endpoint (seg, src_is_client);
  conn->server = usbip_tcp_segment_format_endpoint (seg, !src_is_client);
  g_ptr_array_add (self->connections, conn);
  g_hash_table_replace (self->by_key, g_steal_pointer (&key), conn);
  emit (self, conn, USBIP_TCP_EVENT_OPEN, src_is_client, NULL, 0, seg);
  return conn;
}

static gint
pending_cmp (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Pending *pa = a, *pb = b;

  if (pa->offset != pb->offset)
    return pa->offset < pb->offset ? -1 : 1;
  return pa->serial < pb->serial ? -1 : pa->serial > pb->serial ? 1 : 0;
}

static void
mark_broken (UsbipTcpReassembler *self, Connection *conn, gboolean from_client, gsize missing,
             const UsbipTcpSegment *seg)
{
  Direction *dir = &conn->dir[from_client ? 0 : 1];

  dir->broken = TRUE;
  direction_clear_pending (dir);
  emit (self, conn, USBIP_TCP_EVENT_GAP, from_client, NULL, missing, seg);
}

/* deliver what of [seq, seq+len) lies at or after dir->next; the caller checked that seq
 * is not ahead of dir->next */
static void
deliver (UsbipTcpReassembler *self, Connection *conn, gboolean from_client, guint32 seq, const guint8 *data, gsize len,
         const UsbipTcpSegment *seg)
{
  Direction *dir = &conn->dir[from_client ? 0 : 1];
  gint64 rel = (gint32) (seq - dir->next);

  if (rel + (gint64) len <= 0)
    return; /* all of it was delivered already: a retransmission */
  data += -rel;
  len -= (gsize) -rel;
  dir->next += (guint32) len;
  dir->next_offset += (gint64) len;
  emit (self, conn, USBIP_TCP_EVENT_DATA, from_client, data, len, seg);
}

static void
check_fin (UsbipTcpReassembler *self, Connection *conn, gboolean from_client, const UsbipTcpSegment *seg)
{
  Direction *dir = &conn->dir[from_client ? 0 : 1];

  if (dir->fin_pending && !dir->closed && !dir->broken && dir->next == dir->fin_seq)
    {
      dir->closed = TRUE;
      dir->next++;
      dir->next_offset++;
      emit (self, conn, USBIP_TCP_EVENT_FIN, from_client, NULL, 0, seg);
    }
}

static void
drain (UsbipTcpReassembler *self, Connection *conn, gboolean from_client, const UsbipTcpSegment *seg)
{
  Direction *dir = &conn->dir[from_client ? 0 : 1];
  Pending *p;

  while (!dir->broken && (p = first_pending (dir)) != NULL)
    {
      gint64 rel = (gint64) (p->offset - dir->next_offset);
      gsize len = p->data != NULL ? g_bytes_get_size (p->data) : p->hole_len;

      if (rel > 0)
        break;
      dir->pending_cost -= pending_cost (p);
      g_sequence_remove (g_sequence_get_begin_iter (dir->pending));
      if (rel + (gint64) len > 0)
        {
          if (p->data == NULL)
            {
              mark_broken (self, conn, from_client, (gsize) (rel + (gint64) len), seg);
              pending_free (p);
              return;
            }
          deliver (self, conn, from_client, p->seq, g_bytes_get_data (p->data, NULL), len, seg);
        }
      pending_free (p);
    }
}

static void
add_pending (UsbipTcpReassembler *self, Connection *conn, gboolean from_client, guint32 seq, const guint8 *data,
             gsize len, gsize hole_len, const UsbipTcpSegment *seg)
{
  Direction *dir = &conn->dir[from_client ? 0 : 1];
  Pending *p = g_new0 (Pending, 1);

  p->offset = dir->next_offset + (gint32) (seq - dir->next);
  p->serial = dir->serial++;
  p->seq = seq;
  if (data != NULL)
    p->data = g_bytes_new (data, len);
  else
    p->hole_len = hole_len;
  if (dir->pending == NULL)
    dir->pending = g_sequence_new (NULL); /* entries are freed by their remover */
  g_sequence_insert_sorted (dir->pending, p, pending_cmp, NULL);
  dir->pending_cost += pending_cost (p);
  if (dir->pending_cost > PENDING_CAP)
    {
      Pending *first = first_pending (dir);
      mark_broken (self, conn, from_client, first != NULL ? (gsize) (first->offset - dir->next_offset) : 0, seg);
    }
}

/**
 * usbip_tcp_reassembler_add:
 * @self: a reassembler
 * @segment: the next captured segment, in capture order
 *
 * Adds a segment; events for what it completes are reported before this returns.
 *
 * Since: 1.0
 */
void
usbip_tcp_reassembler_add (UsbipTcpReassembler *self, const UsbipTcpSegment *segment)
{
  Connection *conn;
  Direction *dir;
  gboolean from_client;
  guint32 seq = segment->seq;

  g_return_if_fail (self != NULL && segment != NULL);

  conn = lookup (self, segment);
  if (conn == NULL || conn->reset)
    return;
  from_client = is_from_client (conn, segment);
  dir = &conn->dir[from_client ? 0 : 1];

  if ((segment->flags & USBIP_TCP_RST) != 0)
    {
      /* nothing more is delivered either way: what waits is dropped, not reported missing */
      conn->reset = TRUE;
      direction_clear_pending (&conn->dir[0]);
      direction_clear_pending (&conn->dir[1]);
      emit (self, conn, USBIP_TCP_EVENT_RST, from_client, NULL, 0, segment);
      return;
    }
  if (dir->broken || dir->closed)
    return;

  if ((segment->flags & USBIP_TCP_SYN) != 0)
    {
      if (!dir->syn_seen && !dir->started)
        {
          dir->started = TRUE;
          dir->next = seq + 1;
        }
      dir->syn_seen = TRUE;
      seq++; /* the SYN takes one sequence number; data (rare) follows it */
    }
  if (!dir->started)
    {
      /* the capture began inside the connection: take the first byte seen as the start */
      dir->started = TRUE;
      dir->next = seq;
    }

  if (segment->payload_len > 0)
    {
      gint32 rel = (gint32) (seq - dir->next);
      if (rel <= 0)
        {
          deliver (self, conn, from_client, seq, segment->payload, segment->payload_len, segment);
          drain (self, conn, from_client, segment);
        }
      else
        add_pending (self, conn, from_client, seq, segment->payload, segment->payload_len, 0, segment);
    }
  if (segment->payload_missing > 0 && !dir->broken)
    {
      add_pending (self, conn, from_client, seq + (guint32) segment->payload_len, NULL, 0, segment->payload_missing,
                   segment);
      drain (self, conn, from_client, segment);
    }
  if ((segment->flags & USBIP_TCP_FIN) != 0 && !dir->broken)
    {
      dir->fin_pending = TRUE;
      dir->fin_seq = seq + (guint32) (segment->payload_len + segment->payload_missing);
    }
  check_fin (self, conn, from_client, segment);
}

/**
 * usbip_tcp_reassembler_finish:
 * @self: a reassembler
 *
 * Ends the input: reports a %USBIP_TCP_EVENT_GAP for every direction that still waits for
 * bytes the capture never showed.
 *
 * Since: 1.0
 */
void
usbip_tcp_reassembler_finish (UsbipTcpReassembler *self)
{
  for (guint i = 0; i < self->connections->len; i++)
    {
      Connection *conn = g_ptr_array_index (self->connections, i);
      for (guint d = 0; d < 2; d++)
        {
          Direction *dir = &conn->dir[d];
          /* a reset connection or a closed direction waits for nothing */
          Pending *first = dir->broken || dir->closed || conn->reset ? NULL : first_pending (dir);
          if (first != NULL)
            mark_broken (self, conn, d == 0, (gsize) (first->offset - dir->next_offset), NULL);
        }
    }
}
