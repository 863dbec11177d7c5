/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The fuzz targets' entry functions, shared by the libFuzzer programs (fuzz-main.c, one
 * per target) and the always-built replay test (test-fuzz-replay.c).
 *
 * Each entry function takes arbitrary bytes, drives one decoder with them and checks the
 * decoder's promises (bounds, consistency, encode/decode round trips). A broken promise
 * aborts with a message, which libFuzzer reports as a crash. The return value is how many
 * items (frames, headers, names) were accepted: 0 when the input was rejected.
 */

#include "usbipcore-plugin.h"

G_BEGIN_DECLS

typedef gint (*UsbipFuzzFunc) (const guint8 *data, gsize size);

typedef struct {
  const gchar *name; /* also the corpus directory name */
  UsbipFuzzFunc func;
} UsbipFuzzTarget;

/* Deframer inputs start with 4 bytes seeding the chunk sizes; the stream follows. */
#define USBIP_FUZZ_CHUNK_SEED_SIZE 4
/* tcp_segment_parse inputs start with a link-type index (1 byte) and the bytes the wire
 * had beyond the frame (2 bytes, big-endian); the frame follows */
#define USBIP_FUZZ_FRAME_PREFIX_SIZE 3
/* tcp_reassemble inputs: the initial sequence number (4 bytes), then one record per
 * segment: flags | direction << 7, stream offset (3 bytes), length, missing, spare */
#define USBIP_FUZZ_SEGMENT_RECORD_SIZE 7

gint usbip_fuzz_deframe_op_request (const guint8 *data, gsize size);
gint usbip_fuzz_deframe_op_reply (const guint8 *data, gsize size);
gint usbip_fuzz_deframe_urb_command (const guint8 *data, gsize size);
gint usbip_fuzz_deframe_urb_return (const guint8 *data, gsize size);
gint usbip_fuzz_decode_op_header (const guint8 *data, gsize size);
gint usbip_fuzz_decode_device_record (const guint8 *data, gsize size);
gint usbip_fuzz_decode_urb_header (const guint8 *data, gsize size);
gint usbip_fuzz_busid_validate (const guint8 *data, gsize size);
gint usbip_fuzz_remote_parse (const guint8 *data, gsize size);
gint usbip_fuzz_pcap_read (const guint8 *data, gsize size);
gint usbip_fuzz_tcp_segment_parse (const guint8 *data, gsize size);
gint usbip_fuzz_tcp_reassemble (const guint8 *data, gsize size);
gint usbip_fuzz_trace_decode (const guint8 *data, gsize size);
gint usbip_fuzz_vhci_status (const guint8 *data, gsize size);
gint usbip_fuzz_port_record (const guint8 *data, gsize size);
gint usbip_fuzz_vudc_descriptor (const guint8 *data, gsize size);
gint usbip_fuzz_config_keyfile (const guint8 *data, gsize size);
gint usbip_fuzz_cidr_parse (const guint8 *data, gsize size);
/* first byte: which virtual device (even: mass-storage, odd: cdc-acm loopback); then the
 * command stream of one session */
gint usbip_fuzz_virtual_session (const guint8 *data, gsize size);

/* every target, in a fixed order; NULL-terminated */
extern const UsbipFuzzTarget usbip_fuzz_targets[];

G_END_DECLS
