/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Synthesizes captures for the trace tests: TCP/IP packets, link layers, pcap and pcapng
 * containers. Written from the format descriptions; no checksums (the decoder ignores them). */

#include <glib.h>

typedef struct {
  guint8 family; /* 4 or 6 */
  guint8 client_addr[16];
  guint8 server_addr[16];
  guint16 client_port;
  guint16 server_port;
  gboolean ipv6_ext; /* IPv6: add hop-by-hop + destination options headers */
} CbConn;

typedef struct {
  GBytes *ip; /* the IP packet */
  gint64 ts_sec;
  guint32 ts_nsec;
  gsize cut; /* when non-zero, capture only this many link-layer bytes */
} CbPacket;

/* an IP packet with a TCP segment */
GBytes *cb_tcp_packet (const CbConn *c, gboolean from_client, guint32 seq, guint8 flags, const guint8 *payload,
                       gsize len);
/* wrap an IP packet in a link layer (0, 1, 101, 113, 276) */
GBytes *cb_link (guint32 linktype, GBytes *ip);
/* containers; packets: CbPacket*, all on link type @linktype */
GBytes *cb_pcap (GPtrArray *packets, guint32 linktype, gboolean big_endian, gboolean nanosecond);
/* pcapng with two interfaces: packet i goes to interface i % 2 (linktypes lt0 / lt1);
 * interface 0 stamps in microseconds, interface 1 in nanoseconds; every third packet of
 * interface 0 is a simple packet block when @use_spb */
GBytes *cb_pcapng (GPtrArray *packets, guint32 lt0, guint32 lt1, gboolean big_endian, gboolean use_spb);
void cb_packet_free (gpointer p);
