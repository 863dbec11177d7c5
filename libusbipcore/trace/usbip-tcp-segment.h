/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * UsbipTcpSegment: a TCP segment dug out of a captured frame (Ethernet, Linux cooked
 * SLL/SLL2, BSD loopback/null, raw IP; IPv4 and IPv6 with extension headers).
 */

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

#define USBIP_LINKTYPE_NULL 0
#define USBIP_LINKTYPE_ETHERNET 1
#define USBIP_LINKTYPE_RAW 101
#define USBIP_LINKTYPE_LOOP 108
#define USBIP_LINKTYPE_LINUX_SLL 113
#define USBIP_LINKTYPE_IPV4 228
#define USBIP_LINKTYPE_IPV6 229
#define USBIP_LINKTYPE_LINUX_SLL2 276

#define USBIP_TCP_FIN 0x01
#define USBIP_TCP_SYN 0x02
#define USBIP_TCP_RST 0x04
#define USBIP_TCP_ACK 0x10

/**
 * UsbipTcpSegment:
 * @family: 4 or 6
 * @src_addr: source address (4 or 16 bytes used)
 * @dst_addr: destination address
 * @src_port: source port
 * @dst_port: destination port
 * @seq: sequence number
 * @flags: TCP flags (USBIP_TCP_SYN, ...)
 * @payload: (array length=payload_len): captured payload bytes, borrowed from the frame
 * @payload_len: captured payload length
 * @payload_missing: payload bytes that were on the wire but not captured (snaplen)
 *
 * The parts of a TCP segment reassembly needs.
 */
typedef struct {
  guint8 family;
  guint8 src_addr[16];
  guint8 dst_addr[16];
  guint16 src_port;
  guint16 dst_port;
  guint32 seq;
  guint8 flags;
  const guint8 *payload;
  gsize payload_len;
  gsize payload_missing;
} UsbipTcpSegment;

/**
 * UsbipTcpParseResult:
 * @USBIP_TCP_PARSE_SEGMENT: a TCP segment was found
 * @USBIP_TCP_PARSE_OTHER: not TCP over IP (ARP, UDP, an IP fragment, ...): skip it
 * @USBIP_TCP_PARSE_UNSUPPORTED_LINK: a link type this parser does not know
 * @USBIP_TCP_PARSE_MALFORMED: the headers are cut short or inconsistent
 *
 * What usbip_tcp_segment_parse() found.
 */
typedef enum {
  USBIP_TCP_PARSE_SEGMENT,
  USBIP_TCP_PARSE_OTHER,
  USBIP_TCP_PARSE_UNSUPPORTED_LINK,
  USBIP_TCP_PARSE_MALFORMED,
} UsbipTcpParseResult;

UsbipTcpParseResult usbip_tcp_segment_parse (guint32 linktype, const guint8 *data, gsize caplen, gsize origlen,
                                             UsbipTcpSegment *out);
/* "127.0.0.1:3240" or "[::1]:3240"; free with g_free() */
gchar *usbip_tcp_segment_format_endpoint (const UsbipTcpSegment *seg, gboolean source);

G_END_DECLS
