/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Link layer -> IP -> TCP header walk. Every offset is checked against the captured
 * length; the wire length (origlen) tells how much payload the capture did not keep.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "usbip-tcp-segment.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

static guint16
be16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static UsbipTcpParseResult
parse_tcp (const guint8 *p, gsize cap, gsize wire, UsbipTcpSegment *out)
{
  gsize hlen;

  if (cap < 20)
    return USBIP_TCP_PARSE_MALFORMED;
  hlen = (gsize) (p[12] >> 4) * 4;
  if (hlen < 20 || hlen > cap || hlen > wire)
    return USBIP_TCP_PARSE_MALFORMED;
  out->src_port = be16 (p);
  out->dst_port = be16 (p + 2);
  out->seq = be32 (p + 4);
  out->flags = p[13];
  out->payload = p + hlen;
  out->payload_len = cap - hlen;
  out->payload_missing = wire - hlen - out->payload_len;
  return USBIP_TCP_PARSE_SEGMENT;
}

/* cap: captured bytes from p on; wire: bytes from p on as they were on the wire */
static UsbipTcpParseResult
parse_ipv4 (const guint8 *p, gsize cap, gsize wire, UsbipTcpSegment *out)
{
  gsize ihl, total;
  guint16 frag;

  if (cap < 20 || (p[0] >> 4) != 4)
    return USBIP_TCP_PARSE_MALFORMED;
  ihl = (gsize) (p[0] & 0x0f) * 4;
  total = be16 (p + 2);
  if (ihl < 20 || ihl > cap || total < ihl || total > wire)
    return USBIP_TCP_PARSE_MALFORMED;
  frag = be16 (p + 6);
  if ((frag & 0x3fff) != 0 || p[9] != 6) /* a fragment, or not TCP */
    return USBIP_TCP_PARSE_OTHER;
  out->family = 4;
  memcpy (out->src_addr, p + 12, 4);
  memcpy (out->dst_addr, p + 16, 4);
  /* link-layer padding past the IP total length is not payload */
  return parse_tcp (p + ihl, MIN (cap, total) - ihl, total - ihl, out);
}

static UsbipTcpParseResult
parse_ipv6 (const guint8 *p, gsize cap, gsize wire, UsbipTcpSegment *out)
{
  gsize total, off = 40;
  guint8 next;

  if (cap < 40 || (p[0] >> 4) != 6)
    return USBIP_TCP_PARSE_MALFORMED;
  total = 40 + (gsize) be16 (p + 4);
  if (total > wire)
    return USBIP_TCP_PARSE_MALFORMED;
  next = p[6];
  for (guint hops = 0; next != 6; hops++)
    {
      gsize len;
      if (hops > 16 || off + 8 > MIN (cap, total))
        return next == 59 ? USBIP_TCP_PARSE_OTHER : USBIP_TCP_PARSE_MALFORMED;
      switch (next)
        {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
          len = ((gsize) p[off + 1] + 1) * 8;
          break;
        case 44: /* fragment */
          if ((be16 (p + off + 2) & 0xfff9) != 0)
            return USBIP_TCP_PARSE_OTHER;
          len = 8;
          break;
        case 51: /* authentication header */
          len = ((gsize) p[off + 1] + 2) * 4;
          break;
        default:
          return USBIP_TCP_PARSE_OTHER;
        }
      next = p[off];
      off += len;
    }
  if (off > MIN (cap, total))
    return USBIP_TCP_PARSE_MALFORMED;
  out->family = 6;
  memcpy (out->src_addr, p + 8, 16);
  memcpy (out->dst_addr, p + 24, 16);
  return parse_tcp (p + off, MIN (cap, total) - off, total - off, out);
}

static UsbipTcpParseResult
parse_ip (const guint8 *p, gsize cap, gsize wire, UsbipTcpSegment *out)
{
  if (cap < 1)
    return USBIP_TCP_PARSE_MALFORMED;
  if ((p[0] >> 4) == 4)
    return parse_ipv4 (p, cap, wire, out);
  if ((p[0] >> 4) == 6)
    return parse_ipv6 (p, cap, wire, out);
  return USBIP_TCP_PARSE_OTHER;
}

static UsbipTcpParseResult
parse_ethertype (guint16 type, const guint8 *p, gsize cap, gsize wire, UsbipTcpSegment *out)
{
  if (type == ETHERTYPE_IPV4)
    return parse_ipv4 (p, cap, wire, out);
  if (type == ETHERTYPE_IPV6)
    return parse_ipv6 (p, cap, wire, out);
  return USBIP_TCP_PARSE_OTHER;
}

/**
 * usbip_tcp_segment_parse:
 * @linktype: the packet's LINKTYPE_* value
 * @data: (array length=caplen): captured bytes
 * @caplen: how many were captured
 * @origlen: the packet's length on the wire (at least @caplen)
 * @out: (out caller-allocates): on %USBIP_TCP_PARSE_SEGMENT, the segment; its payload
 *   borrows from @data
 *
 * Walks the link, IP (IPv6 extension headers skipped) and TCP headers.
 *
 * Returns: what the frame holds
 *
 * Since: 1.0
 */
UsbipTcpParseResult
usbip_tcp_segment_parse (guint32 linktype, const guint8 *data, gsize caplen, gsize origlen, UsbipTcpSegment *out)
{
  gsize wire = MAX (origlen, caplen);

  memset (out, 0, sizeof *out);
  switch (linktype)
    {
    case USBIP_LINKTYPE_ETHERNET:
      {
        gsize off = 12;
        guint16 type;
        if (caplen < 14)
          return USBIP_TCP_PARSE_MALFORMED;
        type = be16 (data + off);
        while ((type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && caplen >= off + 6)
          {
            off += 4;
            type = be16 (data + off);
          }
        off += 2;
        return parse_ethertype (type, data + off, caplen - off, wire - off, out);
      }

    case USBIP_LINKTYPE_LINUX_SLL:
      if (caplen < 16)
        return USBIP_TCP_PARSE_MALFORMED;
      return parse_ethertype (be16 (data + 14), data + 16, caplen - 16, wire - 16, out);

    case USBIP_LINKTYPE_LINUX_SLL2:
      if (caplen < 20)
        return USBIP_TCP_PARSE_MALFORMED;
      return parse_ethertype (be16 (data), data + 20, caplen - 20, wire - 20, out);

    case USBIP_LINKTYPE_NULL:
    case USBIP_LINKTYPE_LOOP:
      {
        guint32 af;
        if (caplen < 4)
          return USBIP_TCP_PARSE_MALFORMED;
        /* NULL: host byte order of the capturing machine; LOOP: network order */
        af = be32 (data);
        if (linktype == USBIP_LINKTYPE_NULL && (af & 0xffff) == 0)
          af = GUINT32_SWAP_LE_BE (af);
        if (af == 2)
          return parse_ipv4 (data + 4, caplen - 4, wire - 4, out);
        if (af == 10 || af == 24 || af == 28 || af == 30)
          return parse_ipv6 (data + 4, caplen - 4, wire - 4, out);
        return USBIP_TCP_PARSE_OTHER;
      }

    case USBIP_LINKTYPE_RAW:
    case 12: /* DLT_RAW as some systems number it */
    case 14:
      return parse_ip (data, caplen, wire, out);

    case USBIP_LINKTYPE_IPV4:
      return parse_ipv4 (data, caplen, wire, out);

    case USBIP_LINKTYPE_IPV6:
      return parse_ipv6 (data, caplen, wire, out);

    default:
      return USBIP_TCP_PARSE_UNSUPPORTED_LINK;
    }
}

/**
 * usbip_tcp_segment_format_endpoint:
 * @seg: a parsed segment
 * @source: %TRUE for the source endpoint, %FALSE for the destination
 *
 * Returns: (transfer full): "ADDR:PORT", with brackets around an IPv6 address
 *
 * Since: 1.0
 */
gchar *
usbip_tcp_segment_format_endpoint (const UsbipTcpSegment *seg, gboolean source)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_bytes (
      source ? seg->src_addr : seg->dst_addr, seg->family == 6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
  g_autofree gchar *text = g_inet_address_to_string (addr);

  return g_strdup_printf (seg->family == 6 ? "[%s]:%u" : "%s:%u", text, source ? seg->src_port : seg->dst_port);
}
