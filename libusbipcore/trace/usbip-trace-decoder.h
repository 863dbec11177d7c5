/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * UsbipTraceDecoder: USB/IP messages out of a pcap/pcapng capture. Reads the capture
 * (UsbipPcapReader), digs out TCP (usbip_tcp_segment_parse), reassembles both directions
 * of each connection (UsbipTcpReassembler) and frames them with the codec's deframer,
 * switching to the URB phase after a successful OP_REP_IMPORT.
 */

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

/**
 * UsbipTraceEventType:
 * @USBIP_TRACE_EVENT_MESSAGE: one decoded message
 * @USBIP_TRACE_EVENT_NOTE: a remark: a stream opened or closed, bytes missing, a protocol
 *   error, the capture cut short
 *
 * What a #UsbipTraceEvent carries.
 */
typedef enum {
  USBIP_TRACE_EVENT_MESSAGE,
  USBIP_TRACE_EVENT_NOTE,
} UsbipTraceEventType;

/**
 * UsbipTraceNoteKind:
 * @USBIP_TRACE_NOTE_INFO: informational (connection opened, closed)
 * @USBIP_TRACE_NOTE_TRUNCATED: the capture lacks bytes (file cut short, snaplen, packets
 *   not captured, a message unfinished at the end)
 * @USBIP_TRACE_NOTE_PROTOCOL: a stream's bytes are not valid USB/IP; that direction stops
 * @USBIP_TRACE_NOTE_DAMAGED: the capture file itself is malformed; decoding stops
 *
 * How serious a note is.
 */
typedef enum {
  USBIP_TRACE_NOTE_INFO,
  USBIP_TRACE_NOTE_TRUNCATED,
  USBIP_TRACE_NOTE_PROTOCOL,
  USBIP_TRACE_NOTE_DAMAGED,
} UsbipTraceNoteKind;

/**
 * UsbipTraceEvent:
 * @type: message or note
 * @frame: capture frame (1-based) that completed the message or caused the note; 0 at the
 *   end of the capture
 * @ts_sec: that frame's capture time, seconds since the epoch
 * @ts_nsec: nanoseconds part
 * @stream_id: TCP connection index in order of first appearance, or -1 for the capture
 * @from_client: %TRUE client to server (`c>s`), %FALSE server to client (`s>c`)
 * @client: (nullable): the stream's client "ADDR:PORT"
 * @server: (nullable): the stream's server "ADDR:PORT"
 * @message: (nullable): MESSAGE: the decoded message, valid during the callback
 * @raw: (array length=raw_len) (nullable): MESSAGE: its bytes as reassembled from the stream
 * @raw_len: length of @raw
 * @note_kind: NOTE: its kind
 * @note: (nullable): NOTE: the text
 *
 * One decoder event, reported in capture order.
 */
typedef struct {
  UsbipTraceEventType type;
  guint frame;
  gint64 ts_sec;
  guint32 ts_nsec;
  gint stream_id;
  gboolean from_client;
  const gchar *client;
  const gchar *server;
  const UsbipMessage *message;
  const guint8 *raw;
  gsize raw_len;
  UsbipTraceNoteKind note_kind;
  const gchar *note;
} UsbipTraceEvent;

typedef void (*UsbipTraceEventFunc) (const UsbipTraceEvent *event, gpointer user_data);

/**
 * UsbipTraceSummary:
 * @n_frames: frames read
 * @n_streams: USB/IP connections seen
 * @n_messages: messages decoded
 * @n_protocol_errors: directions that stopped on invalid bytes
 * @truncated: the capture lacked bytes somewhere
 * @damaged: the capture file is malformed
 *
 * Totals of one decode.
 */
typedef struct {
  guint n_frames;
  guint n_streams;
  guint n_messages;
  guint n_protocol_errors;
  gboolean truncated;
  gboolean damaged;
} UsbipTraceSummary;

gboolean usbip_trace_decode (GBytes *capture, guint16 server_port, UsbipTraceEventFunc func, gpointer user_data,
                             UsbipTraceSummary *summary, GError **error);

G_END_DECLS
