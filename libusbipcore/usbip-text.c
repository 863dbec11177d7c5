/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Untrusted text made safe to show: whatever a peer, a capture or a port record supplies
 * passes through here before it reaches a terminal or a log line.
 */
#include "config.h"

#include <string.h>

#include "usbip-text.h"

/**
 * usbip_text_escape:
 * @data: (array length=len) (element-type guint8): bytes, perhaps hostile
 * @len: the number of bytes, or -1 if @data is NUL-terminated
 *
 * Escapes @data for a terminal or a one-line log record: printable characters of valid
 * UTF-8 stay as they are; a backslash becomes `\\`; newline, carriage return and tab
 * become `\n`, `\r`, `\t`; other control characters and every byte that is not valid
 * UTF-8 become `\xHH`; non-printable code points beyond ASCII (C1 controls, format
 * characters such as bidirectional overrides) become `\u{HHHH}`. The result is valid
 * UTF-8 with no control character, and equals @data when @data needed no escaping.
 *
 * Returns: (transfer full): the escaped text
 *
 * Since: 1.0
 */
gchar *
usbip_text_escape (const gchar *data, gssize len)
{
  GString *out;
  const gchar *p, *end;

  if (data == NULL)
    return g_strdup ("");
  if (len < 0)
    len = (gssize) strlen (data);
  out = g_string_sized_new ((gsize) len);
  for (p = data, end = data + len; p < end;)
    {
      guchar c = (guchar) *p;
      gunichar u;

      if (c >= 0x20 && c < 0x7f)
        {
          if (c == '\\')
            g_string_append_c (out, '\\');
          g_string_append_c (out, (gchar) c);
          p++;
          continue;
        }
      if (c == '\n' || c == '\r' || c == '\t')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
          p++;
          continue;
        }
      u = c >= 0x80 ? g_utf8_get_char_validated (p, end - p) : (gunichar) -1;
      if (u == (gunichar) -1 || u == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", c);
          p++;
          continue;
        }
      if (g_unichar_isprint (u))
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      else
        g_string_append_printf (out, "\\u{%04X}", u);
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}
