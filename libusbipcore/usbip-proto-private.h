/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Codec internals shared by usbip-proto.c and usbip-deframer.c; not installed, not exported. */

#include "usbip-common.h"

G_BEGIN_DECLS

/* big-endian readers and writers over a buffer the caller has bounds-checked */

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static inline guint32
rd32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static inline void
wr16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
wr32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

/* a fixed-width string field: must be NUL-terminated within @width, copied whole to @out */
gboolean usbip_proto_read_fixed_string (const guint8 *p, gsize width, gchar *out, const gchar *what, GError **error);

G_END_DECLS
