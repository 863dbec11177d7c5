/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "capture-builder.h"

static void
put16 (GByteArray *a, guint16 v, gboolean be)
{
  guint8 b[2] = { be ? v >> 8 : v & 0xff, be ? v & 0xff : v >> 8 };
  g_byte_array_append (a, b, 2);
}

static void
put32 (GByteArray *a, guint32 v, gboolean be)
{
  guint8 b[4];
  for (int i = 0; i < 4; i++)
    b[i] = be ? (v >> (24 - 8 * i)) & 0xff : (v >> (8 * i)) & 0xff;
  g_byte_array_append (a, b, 4);
}

static void
pad4 (GByteArray *a)
{
  static const guint8 z[4] = { 0 };
  if (a->len % 4)
    g_byte_array_append (a, z, 4 - a->len % 4);
}

GBytes *
cb_tcp_packet (const CbConn *c, gboolean from_client, guint32 seq, guint8 flags, const guint8 *payload, gsize len)
{
  GByteArray *tcp = g_byte_array_new ();
  GByteArray *ip = g_byte_array_new ();
  const guint8 *src = from_client ? c->client_addr : c->server_addr;
  const guint8 *dst = from_client ? c->server_addr : c->client_addr;

  put16 (tcp, from_client ? c->client_port : c->server_port, TRUE);
  put16 (tcp, from_client ? c->server_port : c->client_port, TRUE);
  put32 (tcp, seq, TRUE);
  put32 (tcp, 0, TRUE);
  /* 24-byte header: one MSS option, to exercise the data offset */
  put16 (tcp, (6 << 12) | flags, TRUE);
  put16 (tcp, 65535, TRUE);
  put32 (tcp, 0, TRUE);
  put32 (tcp, 0x020405b4, TRUE);
  if (len > 0)
    g_byte_array_append (tcp, payload, len);

  if (c->family == 4)
    {
      put16 (ip, 0x4500, TRUE);
      put16 (ip, 20 + tcp->len, TRUE);
      put32 (ip, 0x00004000, TRUE); /* DF */
      put16 (ip, 0x4006, TRUE);
      put16 (ip, 0, TRUE);
      g_byte_array_append (ip, src, 4);
      g_byte_array_append (ip, dst, 4);
    }
  else
    {
      guint ext = c->ipv6_ext ? 16 : 0;
      put32 (ip, 0x60000000, TRUE);
      put16 (ip, tcp->len + ext, TRUE);
      ip->data[0] = 0x60;
      {
        guint8 nh[2] = { c->ipv6_ext ? 0 : 6, 64 };
        g_byte_array_append (ip, nh, 2);
      }
      g_byte_array_append (ip, src, 16);
      g_byte_array_append (ip, dst, 16);
      if (c->ipv6_ext)
        {
          /* hop-by-hop (next: destination options), 8 bytes of padding options */
          guint8 hbh[8] = { 60, 0, 1, 4, 0, 0, 0, 0 };
          guint8 dopt[8] = { 6, 0, 1, 4, 0, 0, 0, 0 };
          g_byte_array_append (ip, hbh, 8);
          g_byte_array_append (ip, dopt, 8);
        }
    }
  g_byte_array_append (ip, tcp->data, tcp->len);
  g_byte_array_unref (tcp);
  return g_byte_array_free_to_bytes (ip);
}

GBytes *
cb_link (guint32 linktype, GBytes *ip)
{
  GByteArray *a = g_byte_array_new ();
  gsize n;
  const guint8 *p = g_bytes_get_data (ip, &n);
  guint16 ethertype = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
  static const guint8 mac[6] = { 0x02, 0, 0, 0, 0, 1 };

  switch (linktype)
    {
    case 0:
      put32 (a, (p[0] >> 4) == 6 ? 10 : 2, FALSE); /* host order of a little-endian machine */
      break;
    case 1:
      g_byte_array_append (a, mac, 6);
      g_byte_array_append (a, mac, 6);
      put16 (a, ethertype, TRUE);
      break;
    case 113:
      put16 (a, 0, TRUE);   /* packet type: to us */
      put16 (a, 772, TRUE); /* ARPHRD_LOOPBACK */
      put16 (a, 6, TRUE);
      g_byte_array_append (a, mac, 6);
      put16 (a, 0, TRUE);
      put16 (a, ethertype, TRUE);
      break;
    case 276:
      put16 (a, ethertype, TRUE);
      put16 (a, 0, TRUE);
      put32 (a, 1, TRUE); /* interface index */
      put16 (a, 772, TRUE);
      {
        guint8 b[2] = { 0, 6 };
        g_byte_array_append (a, b, 2);
      }
      g_byte_array_append (a, mac, 6);
      put16 (a, 0, TRUE);
      break;
    case 101:
    default:
      break;
    }
  g_byte_array_append (a, p, n);
  if (linktype == 1 && a->len < 60)
    {
      /* Ethernet minimum frame: padding after IP must be ignored */
      static const guint8 z[60] = { 0 };
      g_byte_array_append (a, z, 60 - a->len);
    }
  return g_byte_array_free_to_bytes (a);
}

void
cb_packet_free (gpointer p)
{
  CbPacket *pk = p;
  g_bytes_unref (pk->ip);
  g_free (pk);
}

GBytes *
cb_pcap (GPtrArray *packets, guint32 linktype, gboolean be, gboolean ns)
{
  GByteArray *a = g_byte_array_new ();

  put32 (a, ns ? 0xa1b23c4d : 0xa1b2c3d4, be);
  put16 (a, 2, be);
  put16 (a, 4, be);
  put32 (a, 0, be);
  put32 (a, 0, be);
  put32 (a, 262144, be);
  put32 (a, linktype, be);
  for (guint i = 0; i < packets->len; i++)
    {
      CbPacket *pk = g_ptr_array_index (packets, i);
      g_autoptr (GBytes) frame = cb_link (linktype, pk->ip);
      gsize n = g_bytes_get_size (frame);
      gsize cap = pk->cut != 0 ? MIN (pk->cut, n) : n;
      put32 (a, (guint32) pk->ts_sec, be);
      put32 (a, ns ? pk->ts_nsec : pk->ts_nsec / 1000, be);
      put32 (a, cap, be);
      put32 (a, n, be);
      g_byte_array_append (a, g_bytes_get_data (frame, NULL), cap);
    }
  return g_byte_array_free_to_bytes (a);
}

static void
block_begin (GByteArray *a, guint32 type, gboolean be, guint *start)
{
  *start = a->len;
  put32 (a, type, be);
  put32 (a, 0, be); /* length, patched */
}

static void
block_end (GByteArray *a, gboolean be, guint start)
{
  guint32 len;
  pad4 (a);
  len = a->len - start + 4;
  put32 (a, len, be);
  for (int i = 0; i < 4; i++)
    a->data[start + 4 + i] = be ? (len >> (24 - 8 * i)) & 0xff : (len >> (8 * i)) & 0xff;
}

GBytes *
cb_pcapng (GPtrArray *packets, guint32 lt0, guint32 lt1, gboolean be, gboolean use_spb)
{
  GByteArray *a = g_byte_array_new ();
  guint start;

  /* section header with one option block to skip */
  block_begin (a, 0x0a0d0d0a, be, &start);
  put32 (a, 0x1a2b3c4d, be);
  put16 (a, 1, be);
  put16 (a, 0, be);
  put32 (a, 0xffffffff, be);
  put32 (a, 0xffffffff, be);
  block_end (a, be, start);
  for (guint i = 0; i < 2; i++)
    {
      block_begin (a, 1, be, &start);
      put16 (a, i == 0 ? lt0 : lt1, be);
      put16 (a, 0, be);
      put32 (a, 0, be);
      if (i == 1)
        {
          guint8 r[4] = { 9, 0, 0, 0 };
          put16 (a, 9, be); /* if_tsresol = 10^-9 */
          put16 (a, 1, be);
          g_byte_array_append (a, r, 4);
        }
      put16 (a, 0, be); /* opt_endofopt */
      put16 (a, 0, be);
      block_end (a, be, start);
    }
  /* an unknown block (name resolution) the reader must skip */
  block_begin (a, 4, be, &start);
  put32 (a, 0, be);
  block_end (a, be, start);

  for (guint i = 0; i < packets->len; i++)
    {
      CbPacket *pk = g_ptr_array_index (packets, i);
      guint ifid = i % 2;
      g_autoptr (GBytes) frame = cb_link (ifid == 0 ? lt0 : lt1, pk->ip);
      gsize n = g_bytes_get_size (frame);
      gsize cap = pk->cut != 0 ? MIN (pk->cut, n) : n;
      if (use_spb && ifid == 0 && i % 3 == 0 && pk->cut == 0)
        {
          block_begin (a, 3, be, &start);
          put32 (a, n, be);
          g_byte_array_append (a, g_bytes_get_data (frame, NULL), n);
          block_end (a, be, start);
          continue;
        }
      {
        guint64 units = ifid == 0 ? (guint64) pk->ts_sec * 1000000 + pk->ts_nsec / 1000
                                  : (guint64) pk->ts_sec * 1000000000 + pk->ts_nsec;
        block_begin (a, 6, be, &start);
        put32 (a, ifid, be);
        put32 (a, units >> 32, be);
        put32 (a, units & 0xffffffffu, be);
        put32 (a, cap, be);
        put32 (a, n, be);
        g_byte_array_append (a, g_bytes_get_data (frame, NULL), cap);
        block_end (a, be, start);
      }
    }
  return g_byte_array_free_to_bytes (a);
}
