/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TCP reassembly cost by arrival order: N segments of 100 bytes of one direction, fed to
 * UsbipTcpReassembler in four orders, each timed on its own:
 *   in-order    every segment in sequence (nothing waits)
 *   first-late  the first segment last: all others wait, arriving in ascending order
 *   reverse     last to first: all but the first wait, arriving in descending order
 *   shuffled    a fixed pseudo-random order
 * Every run checks that all N * 100 bytes came out, in order.
 *
 *   bench-reassembly [N ...]      (default: 10000 40000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbipcore-plugin.h"
#include "usbip-tcp-reassembler.h"

#define SEGMENT 100

typedef struct {
  guint64 delivered;
  guint8 expect; /* next byte value */
  gboolean ok;
} Sink;

static void
on_event (const UsbipTcpEvent *ev, gpointer user_data)
{
  Sink *sink = user_data;

  if (ev->type == USBIP_TCP_EVENT_GAP)
    sink->ok = FALSE;
  if (ev->type != USBIP_TCP_EVENT_DATA)
    return;
  for (gsize i = 0; i < ev->len; i++)
    sink->ok = sink->ok && ev->data[i] == sink->expect++;
  sink->delivered += ev->len;
}

static void
segment (UsbipTcpSegment *seg, guint32 seq, guint8 flags, const guint8 *payload, gsize len)
{
  memset (seg, 0, sizeof *seg);
  seg->family = 4;
  seg->src_addr[0] = seg->dst_addr[0] = 10;
  seg->src_addr[3] = 2;
  seg->dst_addr[3] = 1;
  seg->src_port = 40000;
  seg->dst_port = 3240;
  seg->seq = seq;
  seg->flags = flags;
  seg->payload = payload;
  seg->payload_len = len;
}

/* seconds to reassemble n segments in the given order */
static gdouble
run (guint n, const guint *order, const guint8 *stream)
{
  Sink sink = { 0, 0, TRUE };
  g_autoptr (UsbipTcpReassembler) tcp = usbip_tcp_reassembler_new (3240, on_event, &sink);
  UsbipTcpSegment seg;
  gint64 start;
  gdouble secs;

  segment (&seg, 999, USBIP_TCP_SYN, NULL, 0);
  usbip_tcp_reassembler_add (tcp, &seg);
  start = g_get_monotonic_time ();
  for (guint k = 0; k < n; k++)
    {
      segment (&seg, 1000 + order[k] * SEGMENT, 0x18, stream + (gsize) order[k] * SEGMENT, SEGMENT);
      usbip_tcp_reassembler_add (tcp, &seg);
    }
  usbip_tcp_reassembler_finish (tcp);
  secs = (gdouble) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  if (!sink.ok || sink.delivered != (guint64) n * SEGMENT)
    {
      g_printerr ("bench-reassembly: wrong output (%" G_GUINT64_FORMAT " of %u bytes)\n", sink.delivered, n * SEGMENT);
      exit (1);
    }
  return secs;
}

int
main (int argc, char *argv[])
{
  static const gchar *const names[] = { "in-order", "first-late", "reverse", "shuffled" };
  guint sizes[16] = { 10000, 40000 };
  guint n_sizes = 2;

  if (argc > 1)
    {
      n_sizes = 0;
      for (int i = 1; i < argc && n_sizes < G_N_ELEMENTS (sizes); i++)
        {
          guint64 v;
          if (!g_ascii_string_to_unsigned (argv[i], 10, 1, 10000000, &v, NULL))
            {
              g_printerr ("usage: bench-reassembly [SEGMENTS ...] (each 1 to 10000000)\n");
              return 2;
            }
          sizes[n_sizes++] = (guint) v;
        }
    }

  printf ("| segments | order | seconds | segments/s |\n| --- | --- | --- | --- |\n");
  for (guint s = 0; s < n_sizes; s++)
    {
      guint n = sizes[s];
      g_autofree guint8 *stream = g_malloc ((gsize) n * SEGMENT);
      g_autofree guint *order = g_new (guint, n);
      g_autoptr (GRand) rand = g_rand_new_with_seed (42);

      for (gsize i = 0; i < (gsize) n * SEGMENT; i++)
        stream[i] = (guint8) i;
      for (guint p = 0; p < G_N_ELEMENTS (names); p++)
        {
          gdouble secs;
          for (guint k = 0; k < n; k++)
            order[k] = p == 0 ? k : p == 1 ? (k + 1) % n : p == 2 ? n - 1 - k : k;
          if (p == 3)
            for (guint k = n; k > 1; k--)
              {
                guint j = (guint) g_rand_int_range (rand, 0, (gint32) k);
                guint tmp = order[k - 1];
                order[k - 1] = order[j];
                order[j] = tmp;
              }
          secs = run (n, order, stream);
          printf ("| %u | %s | %.3f | %.0f |\n", n, names[p], secs, n / secs);
          fflush (stdout);
        }
    }
  return 0;
}
