/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * UsbipPcapReader: walks the packets of a pcap or pcapng capture held in memory.
 * Pure parsing, no I/O: the caller hands over the file's bytes.
 */

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

/**
 * UsbipPcapFormat:
 * @USBIP_PCAP_FORMAT_PCAP: classic libpcap file (either byte order, micro- or nanoseconds)
 * @USBIP_PCAP_FORMAT_PCAPNG: pcapng (sections, interfaces, enhanced and simple packets)
 *
 * The container format of a capture.
 */
typedef enum {
  USBIP_PCAP_FORMAT_PCAP,
  USBIP_PCAP_FORMAT_PCAPNG,
} UsbipPcapFormat;

/**
 * UsbipPcapResult:
 * @USBIP_PCAP_PACKET: one packet returned
 * @USBIP_PCAP_END: the capture ended cleanly
 * @USBIP_PCAP_TRUNCATED: the file ends inside a record; error set (says where)
 * @USBIP_PCAP_INVALID: a record is malformed; error set (says where)
 *
 * What usbip_pcap_reader_next() found.
 */
typedef enum {
  USBIP_PCAP_PACKET,
  USBIP_PCAP_END,
  USBIP_PCAP_TRUNCATED,
  USBIP_PCAP_INVALID,
} UsbipPcapResult;

/**
 * UsbipPcapPacket:
 * @frame: 1-based packet number (as tshark counts frames)
 * @interface_id: pcapng interface (0 for pcap)
 * @linktype: LINKTYPE_* value of the packet's interface (1 Ethernet, 113 SLL, ...)
 * @ts_sec: capture time, seconds since the epoch
 * @ts_nsec: capture time, nanoseconds part
 * @data: (array length=caplen): captured bytes, borrowed from the reader's buffer
 * @caplen: bytes captured
 * @origlen: length of the packet on the wire (larger than @caplen when cut at snaplen)
 *
 * One captured packet.
 */
typedef struct {
  guint frame;
  guint interface_id;
  guint32 linktype;
  gint64 ts_sec;
  guint32 ts_nsec;
  const guint8 *data;
  gsize caplen;
  gsize origlen;
} UsbipPcapPacket;

typedef struct _UsbipPcapReader UsbipPcapReader;

UsbipPcapReader *usbip_pcap_reader_new (GBytes *bytes, GError **error);
void usbip_pcap_reader_free (UsbipPcapReader *self);
UsbipPcapFormat usbip_pcap_reader_get_format (UsbipPcapReader *self);
UsbipPcapResult usbip_pcap_reader_next (UsbipPcapReader *self, UsbipPcapPacket *packet, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipPcapReader, usbip_pcap_reader_free)

G_END_DECLS
