/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parser of vhci_hcd's status files. The layout changed across kernels, so columns
 * are found by the names in the header line, never by position. */
#include "config.h"

#include <string.h>

#include "usbip-vhci-status.h"

enum { COL_HUB, COL_PORT, COL_STA, COL_SPD, COL_DEV, COL_BUS, COL_SOCK, COL_BUSID, N_COLS };

static gint
column_of (const gchar *name)
{
  static const struct {
    const gchar *name;
    gint col;
  } names[] = {
    { "hub", COL_HUB },     { "port", COL_PORT },         { "prt", COL_PORT }, { "sta", COL_STA },
    { "spd", COL_SPD },     { "dev", COL_DEV },           { "bus", COL_BUS },  { "sockfd", COL_SOCK },
    { "socket", COL_SOCK }, { "local_busid", COL_BUSID },
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (names[i].name, name) == 0)
      return names[i].col;
  return -1;
}

static gboolean
parse_num (const gchar *s, guint base, guint64 max, guint64 *out)
{
  return s != NULL && g_ascii_string_to_unsigned (s, base, 0, max, out, NULL);
}

gboolean
usbip_vhci_status_parse (const gchar *text, guint controller, GPtrArray *ports, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gint pos[N_COLS];
  g_auto (GStrv) header = NULL;
  guint ncols;

  for (guint i = 0; i < N_COLS; i++)
    pos[i] = -1;
  if (lines[0] == NULL || *g_strstrip (lines[0]) == '\0')
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                           "vhci status file is empty: expected a header line");
      return FALSE;
    }
  header = g_strsplit_set (lines[0], " \t", -1);
  ncols = 0;
  for (guint i = 0; header[i] != NULL; i++)
    {
      gint c;
      if (*header[i] == '\0')
        continue;
      c = column_of (header[i]);
      if (c >= 0)
        pos[c] = (gint) ncols;
      ncols++;
    }
  if (pos[COL_PORT] < 0 || pos[COL_STA] < 0 || pos[COL_SPD] < 0 || pos[COL_DEV] < 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "unknown vhci status layout '%s': this kernel's format is not supported", lines[0]);
      return FALSE;
    }

  for (guint l = 1; lines[l] != NULL; l++)
    {
      g_autoptr (GPtrArray) f = g_ptr_array_new ();
      g_autoptr (UsbipPortInfo) p = NULL;
      g_auto (GStrv) words = g_strsplit_set (g_strstrip (lines[l]), " \t", -1);
      guint64 port, sta, spd, dev, bus = 0, sock = 0;

      for (guint i = 0; words[i] != NULL; i++)
        if (*words[i] != '\0')
          g_ptr_array_add (f, words[i]);
      if (f->len == 0)
        continue;
#define FIELD(c) (pos[c] >= 0 && (guint) pos[c] < f->len ? (const gchar *) g_ptr_array_index (f, pos[c]) : NULL)
      if (!parse_num (FIELD (COL_PORT), 10, G_MAXUINT, &port) || !parse_num (FIELD (COL_STA), 10, G_MAXUINT, &sta)
          || !parse_num (FIELD (COL_SPD), 10, G_MAXUINT, &spd))
        goto bad;
      if (pos[COL_BUS] >= 0)
        {
          /* old layout: bus and dev in decimal */
          if (!parse_num (FIELD (COL_BUS), 10, 0xffff, &bus) || !parse_num (FIELD (COL_DEV), 10, 0xffff, &dev))
            goto bad;
          dev = (bus << 16) | dev;
        }
      else if (!parse_num (FIELD (COL_DEV), 16, G_MAXUINT32, &dev))
        goto bad;
      /* the old layout prints a kernel pointer there, not an fd */
      if (pos[COL_BUS] < 0 && pos[COL_SOCK] >= 0 && !parse_num (FIELD (COL_SOCK), 10, G_MAXINT, &sock))
        goto bad;

      p = usbip_port_info_new ();
      p->port = (guint) port;
      p->controller = controller;
      p->hub =
          (pos[COL_HUB] >= 0 && g_strcmp0 (FIELD (COL_HUB), "ss") == 0) ? USBIP_HUB_SPEED_SUPER : USBIP_HUB_SPEED_HIGH;
      p->status = (UsbipPortStatus) sta;
      p->speed = (UsbipSpeed) spd;
      p->devid = (guint32) dev;
      p->sockfd = (gint) sock;
      {
        const gchar *busid = FIELD (COL_BUSID);
        if (busid != NULL && g_strcmp0 (busid, "0-0") != 0)
          g_strlcpy (p->local_busid, busid, sizeof p->local_busid);
      }
#undef FIELD
      g_ptr_array_add (ports, g_steal_pointer (&p));
      continue;
    bad:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL, "cannot parse line %u of the vhci status file: '%s'",
                   l + 1, lines[l]);
      return FALSE;
    }
  return TRUE;
}
