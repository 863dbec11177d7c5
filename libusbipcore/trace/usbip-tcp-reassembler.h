/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * UsbipTcpReassembler: turns captured TCP segments into the ordered byte streams of each
 * connection, both directions, as a capture shows them.
 */

#include <usbipcore-plugin.h>
#include "usbip-tcp-segment.h"

G_BEGIN_DECLS

/**
 * UsbipTcpEventType:
 * @USBIP_TCP_EVENT_OPEN: a new connection (first segment seen); @stream_id is new
 * @USBIP_TCP_EVENT_DATA: in-order bytes of one direction (@data, @len)
 * @USBIP_TCP_EVENT_FIN: one direction ended cleanly (its FIN is in sequence)
 * @USBIP_TCP_EVENT_RST: the connection was reset
 * @USBIP_TCP_EVENT_GAP: @len bytes of one direction are missing from the capture (not
 *   captured, cut at snaplen, or never seen before the capture ended); nothing more of
 *   that direction is delivered
 *
 * What a #UsbipTcpEvent reports.
 */
typedef enum {
  USBIP_TCP_EVENT_OPEN,
  USBIP_TCP_EVENT_DATA,
  USBIP_TCP_EVENT_FIN,
  USBIP_TCP_EVENT_RST,
  USBIP_TCP_EVENT_GAP,
} UsbipTcpEventType;

/**
 * UsbipTcpEvent:
 * @type: what happened
 * @stream_id: connection index in order of first appearance, from 0
 * @from_client: direction: %TRUE client to server, %FALSE server to client
 * @data: (array length=len) (nullable): DATA: the bytes, borrowed for the callback only
 * @len: DATA: byte count; GAP: bytes missing (0 if unknown)
 * @segment: (nullable): the segment that caused the event (%NULL at the end of input)
 * @client: "ADDR:PORT" of the client side
 * @server: "ADDR:PORT" of the server side
 *
 * One reassembly event.
 */
typedef struct {
  UsbipTcpEventType type;
  guint stream_id;
  gboolean from_client;
  const guint8 *data;
  gsize len;
  const UsbipTcpSegment *segment;
  const gchar *client;
  const gchar *server;
} UsbipTcpEvent;

typedef void (*UsbipTcpEventFunc) (const UsbipTcpEvent *event, gpointer user_data);

typedef struct _UsbipTcpReassembler UsbipTcpReassembler;

UsbipTcpReassembler *usbip_tcp_reassembler_new (guint16 server_port, UsbipTcpEventFunc func, gpointer user_data);
void usbip_tcp_reassembler_free (UsbipTcpReassembler *self);
void usbip_tcp_reassembler_add (UsbipTcpReassembler *self, const UsbipTcpSegment *segment);
void usbip_tcp_reassembler_finish (UsbipTcpReassembler *self);
guint usbip_tcp_reassembler_get_n_streams (UsbipTcpReassembler *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsbipTcpReassembler, usbip_tcp_reassembler_free)

G_END_DECLS
