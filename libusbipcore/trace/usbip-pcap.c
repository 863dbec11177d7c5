/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcap / pcapng reader over an in-memory capture. Every read is bounds-checked against
 * the buffer; block and record lengths are validated before they are used.
 */
#include "config.h"

#include <string.h>

#include "usbip-pcap.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_FILE_HEADER_SIZE 24
#define PCAP_RECORD_HEADER_SIZE 16

#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_PB_OBSOLETE 0x00000002u
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BYTE_ORDER_MAGIC 0x1a2b3c4du
#define PCAPNG_OPT_IF_TSRESOL 9
#define PCAPNG_OPT_IF_TSOFFSET 14

/* a cap on a single record; tcpdump's own maximum snapshot is 256 KiB */
#define MAX_RECORD (64u * 1024u * 1024u)

typedef struct {
  guint32 linktype;
  gboolean resol_pow2; /* resolution is 2^-resol instead of 10^-resol */
  guint8 resol;
  gint64 offset_sec;
} Interface;

struct _UsbipPcapReader {
  GBytes *bytes;
  const guint8 *buf;
  gsize len;
  gsize pos;
  UsbipPcapFormat format;
  gboolean big_endian;
  /* pcap */
  gboolean nanosecond;
  guint32 linktype;
  /* pcapng: interfaces of the current section */
  GArray *interfaces;
  guint frame;
};

static guint32
rd32 (const UsbipPcapReader *self, const guint8 *p)
{
  if (self->big_endian)
    return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

static guint16
rd16 (const UsbipPcapReader *self, const guint8 *p)
{
  if (self->big_endian)
    return (guint16) ((p[0] << 8) | p[1]);
  return (guint16) ((p[1] << 8) | p[0]);
}

static guint32
rd32_be (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/**
 * usbip_pcap_reader_new:
 * @bytes: the whole capture file
 * @error: return location for a #GError, or %NULL
 *
 * Checks the file header (pcap magic in either byte order, microsecond or nanosecond, or a
 * pcapng section header) and prepares to walk the packets.
 *
 * Returns: (transfer full) (nullable): a reader, or %NULL if @bytes is not a capture
 *
 * Since: 1.0
 */
UsbipPcapReader *
usbip_pcap_reader_new (GBytes *bytes, GError **error)
{
  g_autoptr (UsbipPcapReader) self = g_new0 (UsbipPcapReader, 1);
  guint32 magic;

  g_return_val_if_fail (bytes != NULL, NULL);

  self->bytes = g_bytes_ref (bytes);
  self->buf = g_bytes_get_data (bytes, &self->len);
  self->interfaces = g_array_new (FALSE, TRUE, sizeof (Interface));
  if (self->len < 4)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "the file is %" G_GSIZE_FORMAT " bytes long, too short for a capture; "
                   "give a file written by `tcpdump -w` or `tshark -w`",
                   self->len);
      return NULL;
    }
  magic = rd32_be (self->buf);
  if (magic == PCAPNG_SHB)
    {
      self->format = USBIP_PCAP_FORMAT_PCAPNG;
      /* the byte order is set by each section header as it is read */
      return g_steal_pointer (&self);
    }

  self->format = USBIP_PCAP_FORMAT_PCAP;
  if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
    self->big_endian = TRUE;
  else if (GUINT32_SWAP_LE_BE (magic) == PCAP_MAGIC_US || GUINT32_SWAP_LE_BE (magic) == PCAP_MAGIC_NS)
    self->big_endian = FALSE;
  else
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "not a pcap or pcapng capture (first bytes %08x); give a file written by "
                   "`tcpdump -w` or `tshark -w`",
                   magic);
      return NULL;
    }
  if (self->len < PCAP_FILE_HEADER_SIZE)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "the pcap file header is cut short (%" G_GSIZE_FORMAT " of 24 bytes); the "
                   "capture was not written completely",
                   self->len);
      return NULL;
    }
  self->nanosecond = rd32 (self, self->buf) == PCAP_MAGIC_NS;
  /* the upper bits of the link-type field may carry FCS information */
  self->linktype = rd32 (self, self->buf + 20) & 0x0fffffffu;
  self->pos = PCAP_FILE_HEADER_SIZE;
  return g_steal_pointer (&self);
}

/**
 * usbip_pcap_reader_free:
 * @self: (nullable): a reader
 *
 * Frees @self.
 *
 * Since: 1.0
 */
void
usbip_pcap_reader_free (UsbipPcapReader *self)
{
  if (self == NULL)
    return;
  g_bytes_unref (self->bytes);
  g_array_unref (self->interfaces);
  g_free (self);
}

/**
 * usbip_pcap_reader_get_format:
 * @self: a reader
 *
 * Returns: the container format
 *
 * Since: 1.0
 */
UsbipPcapFormat
usbip_pcap_reader_get_format (UsbipPcapReader *self)
{
  return self->format;
}

static UsbipPcapResult
truncated (UsbipPcapReader *self, GError **error, const gchar *what, gsize need)
{
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
               "the capture ends inside %s %u at offset %" G_GSIZE_FORMAT " (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
               " bytes present); the capture was cut short",
               what, self->frame + 1, self->pos, self->len - self->pos, need);
  self->pos = self->len;
  return USBIP_PCAP_TRUNCATED;
}

static UsbipPcapResult invalid (UsbipPcapReader *self, GError **error, const gchar *format, ...) G_GNUC_PRINTF (3, 4);

static UsbipPcapResult
invalid (UsbipPcapReader *self, GError **error, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
               "the capture is damaged at offset %" G_GSIZE_FORMAT ": %s; it cannot be read "
               "further",
               self->pos, msg);
  self->pos = self->len;
  return USBIP_PCAP_INVALID;
}

static UsbipPcapResult
next_pcap (UsbipPcapReader *self, UsbipPcapPacket *packet, GError **error)
{
  const guint8 *p;
  guint32 incl, orig, sub;

  if (self->pos == self->len)
    return USBIP_PCAP_END;
  if (self->len - self->pos < PCAP_RECORD_HEADER_SIZE)
    return truncated (self, error, "the record header of packet", PCAP_RECORD_HEADER_SIZE);
  p = self->buf + self->pos;
  incl = rd32 (self, p + 8);
  orig = rd32 (self, p + 12);
  if (incl > MAX_RECORD)
    return invalid (self, error, "packet %u claims %u captured bytes", self->frame + 1, incl);
  if (self->len - self->pos - PCAP_RECORD_HEADER_SIZE < incl)
    return truncated (self, error, "packet", (gsize) incl + PCAP_RECORD_HEADER_SIZE);
  sub = rd32 (self, p + 4);
  memset (packet, 0, sizeof *packet);
  packet->frame = ++self->frame;
  packet->linktype = self->linktype;
  packet->ts_sec = rd32 (self, p);
  if (self->nanosecond)
    packet->ts_nsec = sub % 1000000000u;
  else
    packet->ts_nsec = (sub % 1000000u) * 1000u;
  packet->data = p + PCAP_RECORD_HEADER_SIZE;
  packet->caplen = incl;
  packet->origlen = MAX (orig, incl);
  self->pos += PCAP_RECORD_HEADER_SIZE + (gsize) incl;
  return USBIP_PCAP_PACKET;
}

/* floor (frac * 10^9 / 2^shift) for frac < 2^shift, shift <= 63, in 64-bit arithmetic
 * (32-bit targets have no 128-bit integer): below 2^32 the product fits 64 bits; above,
 * frac splits into 32-bit halves and the low half's bits under 2^32 cannot reach the result */
static guint32
pow2_fraction_nsec (guint64 frac, guint shift)
{
  guint64 high;

  if (shift <= 32)
    return (guint32) ((frac * 1000000000u) >> shift);
  high = (frac >> 32) * 1000000000u + (((frac & G_MAXUINT32) * 1000000000u) >> 32);
  return (guint32) (high >> (shift - 32));
}

/* the packet time in seconds + nanoseconds; FALSE when it does not fit a gint64 (a
 * hostile if_tsoffset or a timestamp near 2^64 units) */
static gboolean
ts_from_units (const Interface *iface, guint64 units, gint64 *sec, guint32 *nsec)
{
  guint64 whole;

  if (iface->resol_pow2)
    {
      guint shift = MIN (iface->resol, 63);
      guint64 mask = shift == 0 ? 0 : (G_GUINT64_CONSTANT (1) << shift) - 1;
      whole = units >> shift;
      *nsec = pow2_fraction_nsec (units & mask, shift);
    }
  else
    {
      guint64 div = 1;
      guint e = MIN (iface->resol, 19);
      guint64 frac;
      for (guint i = 0; i < e; i++)
        div *= 10;
      whole = units / div;
      frac = units % div;
      if (e <= 9)
        {
          for (guint i = e; i < 9; i++)
            frac *= 10;
        }
      else
        {
          for (guint i = 9; i < e; i++)
            frac /= 10;
        }
      *nsec = (guint32) frac;
    }
  return whole <= (guint64) G_MAXINT64 && !__builtin_add_overflow ((gint64) whole, iface->offset_sec, sec);
}

static void
parse_idb_options (UsbipPcapReader *self, const guint8 *opt, gsize len, Interface *iface)
{
  while (len >= 4)
    {
      guint16 code = rd16 (self, opt);
      guint16 olen = rd16 (self, opt + 2);
      gsize padded = ((gsize) olen + 3) & ~(gsize) 3;

      if (code == 0 || len - 4 < olen)
        break;
      if (code == PCAPNG_OPT_IF_TSRESOL && olen >= 1)
        {
          iface->resol_pow2 = (opt[4] & 0x80) != 0;
          iface->resol = opt[4] & 0x7f;
        }
      else if (code == PCAPNG_OPT_IF_TSOFFSET && olen >= 8)
        {
          guint64 hi = rd32 (self, opt + 4), lo = rd32 (self, opt + 8);
          iface->offset_sec = self->big_endian ? (gint64) ((hi << 32) | lo) : (gint64) ((lo << 32) | hi);
        }
      if (len - 4 < padded)
        break;
      opt += 4 + padded;
      len -= 4 + padded;
    }
}

static UsbipPcapResult
next_pcapng (UsbipPcapReader *self, UsbipPcapPacket *packet, GError **error)
{
  for (;;)
    {
      const guint8 *p;
      guint32 type, blen;
      const guint8 *body;
      gsize body_len;

      if (self->pos == self->len)
        return USBIP_PCAP_END;
      if (self->len - self->pos < 12)
        return truncated (self, error, "the block header before packet", 12);
      p = self->buf + self->pos;
      type = rd32_be (p) == PCAPNG_SHB ? PCAPNG_SHB : rd32 (self, p);
      if (type == PCAPNG_SHB)
        {
          guint32 bom = rd32_be (p + 8);
          if (bom == PCAPNG_BYTE_ORDER_MAGIC)
            self->big_endian = TRUE;
          else if (GUINT32_SWAP_LE_BE (bom) == PCAPNG_BYTE_ORDER_MAGIC)
            self->big_endian = FALSE;
          else
            return invalid (self, error, "section header with byte-order magic %08x", bom);
          g_array_set_size (self->interfaces, 0);
        }
      blen = rd32 (self, p + 4);
      if (blen < 12 || blen % 4 != 0 || blen > MAX_RECORD)
        return invalid (self, error, "block of type 0x%08x with length %u", type, blen);
      if (self->len - self->pos < blen)
        return truncated (self, error, "the block of packet", blen);
      if (rd32 (self, p + blen - 4) != blen)
        return invalid (self, error, "block of type 0x%08x: trailing length %u differs from %u", type,
                        rd32 (self, p + blen - 4), blen);
      body = p + 8;
      body_len = blen - 12;
      self->pos += blen;

      switch (type)
        {
        case PCAPNG_SHB:
          break;

        case PCAPNG_IDB:
          {
            Interface iface = { 0 };
            if (body_len < 8)
              return invalid (self, error, "interface description block of %u bytes", blen);
            iface.linktype = rd16 (self, body);
            iface.resol = 6;
            parse_idb_options (self, body + 8, body_len - 8, &iface);
            g_array_append_val (self->interfaces, iface);
            break;
          }

        case PCAPNG_EPB:
        case PCAPNG_PB_OBSOLETE:
        case PCAPNG_SPB:
          {
            const Interface *iface;
            guint32 ifid, caplen, origlen;
            guint64 units = 0;
            const guint8 *data;

            if (type == PCAPNG_SPB)
              {
                if (body_len < 4)
                  return invalid (self, error, "simple packet block of %u bytes", blen);
                ifid = 0;
                origlen = rd32 (self, body);
                caplen = (guint32) MIN ((gsize) origlen, body_len - 4);
                data = body + 4;
              }
            else
              {
                if (body_len < 20)
                  return invalid (self, error, "packet block of %u bytes", blen);
                ifid = type == PCAPNG_EPB ? rd32 (self, body) : rd16 (self, body);
                units = ((guint64) rd32 (self, body + 4) << 32) | rd32 (self, body + 8);
                caplen = rd32 (self, body + 12);
                origlen = rd32 (self, body + 16);
                data = body + 20;
                if (caplen > body_len - 20)
                  return invalid (self, error, "packet %u claims %u captured bytes in a block of %u", self->frame + 1,
                                  caplen, blen);
              }
            if (ifid >= self->interfaces->len)
              return invalid (self, error,
                              "packet %u names interface %u, but the section "
                              "describes %u",
                              self->frame + 1, ifid, self->interfaces->len);
            iface = &g_array_index (self->interfaces, Interface, ifid);
            memset (packet, 0, sizeof *packet);
            packet->frame = ++self->frame;
            packet->interface_id = ifid;
            packet->linktype = iface->linktype;
            if (type != PCAPNG_SPB && !ts_from_units (iface, units, &packet->ts_sec, &packet->ts_nsec))
              return invalid (self, error,
                              "packet %u: its timestamp (%" G_GUINT64_FORMAT
                              " units) plus the interface's if_tsoffset (%" G_GINT64_FORMAT " s) is out of range",
                              packet->frame, units, iface->offset_sec);
            packet->data = data;
            packet->caplen = caplen;
            packet->origlen = MAX (origlen, caplen);
            return USBIP_PCAP_PACKET;
          }

        default:
          /* name resolution, statistics, custom blocks...: nothing to decode */
          break;
        }
    }
}

/**
 * usbip_pcap_reader_next:
 * @self: a reader
 * @packet: (out caller-allocates): on %USBIP_PCAP_PACKET, the packet
 * @error: return location for a #GError, or %NULL
 *
 * Reads the next packet. After %USBIP_PCAP_TRUNCATED or %USBIP_PCAP_INVALID the reader
 * returns %USBIP_PCAP_END.
 *
 * Returns: what was found
 *
 * Since: 1.0
 */
UsbipPcapResult
usbip_pcap_reader_next (UsbipPcapReader *self, UsbipPcapPacket *packet, GError **error)
{
  g_return_val_if_fail (self != NULL && packet != NULL, USBIP_PCAP_INVALID);

  if (self->format == USBIP_PCAP_FORMAT_PCAP)
    return next_pcap (self, packet, error);
  return next_pcapng (self, packet, error);
}
