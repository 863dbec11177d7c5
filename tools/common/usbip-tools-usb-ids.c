/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-tools-usb-ids.h"

/* usb.ids (hwdata), read once: vendors "vvvv  name" with products "\tpppp  name", and
 * classes "C cc  name" with subclasses "\tss  name" and protocols "\t\tpp  name" */
static gchar **
usb_ids_lines (void)
{
  static const gchar *const paths[] = { "/usr/share/hwdata/usb.ids", "/usr/share/misc/usb.ids" };
  static gchar **lines;
  const gchar *override = g_getenv ("USBIP_USB_IDS");
  g_autofree gchar *text = NULL;

  if (lines != NULL)
    return lines;
  if (override != NULL)
    g_file_get_contents (override, &text, NULL, NULL);
  for (guint i = 0; text == NULL && override == NULL && i < G_N_ELEMENTS (paths); i++)
    g_file_get_contents (paths[i], &text, NULL, NULL);
  lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  return lines;
}

/* the name on @line if it starts with @id in @width hex digits and two spaces */
static gchar *
ids_name (const gchar *line, guint width, guint id)
{
  guint v = 0;

  for (guint k = 0; k < width; k++)
    {
      if (!g_ascii_isxdigit (line[k]))
        return NULL;
      v = v * 16 + (guint) g_ascii_xdigit_value (line[k]);
    }
  if (v != id || line[width] != ' ')
    return NULL;
  return g_strstrip (g_strdup (line + width));
}

gchar *
usbip_tools_usb_ids_lookup (const gchar *prefix, guint width, const guint *ids, guint depth)
{
  gchar **lines = usb_ids_lines ();
  gsize plen = strlen (prefix);
  guint level = 0; /* entries matched so far */

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const gchar *l = lines[i];
      guint tabs = 0;
      gchar *name;

      if (l[0] == '#' || l[0] == '\0')
        continue;
      while (l[tabs] == '\t')
        tabs++;
      if (level > 0 && tabs < level)
        return NULL; /* left the matched entry without finding its child */
      if (tabs != level || (tabs == 0 && strncmp (l, prefix, plen) != 0))
        continue;
      name = ids_name (l + (tabs == 0 ? plen : tabs), width, ids[level]);
      if (name == NULL)
        continue;
      if (level == depth)
        return name;
      g_free (name);
      level++;
    }
  return NULL;
}
