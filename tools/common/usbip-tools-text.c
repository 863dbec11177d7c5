/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-tools-text.h"

gchar *
usbip_tools_message_text (const gchar *message)
{
  if (message == NULL)
    return g_strdup ("");
  if (!g_utf8_validate (message, -1, NULL))
    return usbip_text_escape (message, -1);
  for (const gchar *p = message; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isprint (g_utf8_get_char (p)))
      return usbip_text_escape (message, -1);
  return g_strdup (message);
}
