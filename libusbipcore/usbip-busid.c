/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-busid.h"
#include "usbip-error.h"
#include "usbip-text.h"

static gboolean
is_usb_busid (const gchar *s)
{
  /* <bus>-<port>[.<port>...], all decimal */
  const gchar *p = s;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p++ != '-')
    return FALSE;
  for (;;)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
      if (*p == '\0')
        return TRUE;
      if (*p++ != '.')
        return FALSE;
    }
}

static gboolean
is_platform_name (const gchar *s)
{
  /* a platform device name such as usbip-vudc.0: starts with a letter, then letters,
   * digits, '-', '_', '.', ':' */
  if (!g_ascii_isalpha (*s))
    return FALSE;
  for (const gchar *p = s; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-_.:", *p) == NULL)
      return FALSE;
  return TRUE;
}

/**
 * usbip_busid_validate:
 * @busid: (nullable): a busid such as `1-1.2` or `usbip-vudc.0`
 * @error: return location for a #GError, or %NULL
 *
 * Checks a busid is one the kernel and upstream peers accept.
 *
 * Returns: %TRUE if valid, else %FALSE with %USBIP_ERROR_INVALID_ARGUMENT set
 *
 * Since: 1.0
 */
gboolean
usbip_busid_validate (const gchar *busid, GError **error)
{
  gsize len;

  if (busid == NULL || *busid == '\0')
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                           "empty busid: give one such as 1-1 or 1-1.2 (see `usbip-tool list -l`)");
      return FALSE;
    }
  len = strlen (busid);
  if (len >= USBIP_BUSID_SIZE)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "busid is %" G_GSIZE_FORMAT " bytes long; at most %d fit on the wire", len, USBIP_BUSID_SIZE - 1);
      return FALSE;
    }
  if (!is_usb_busid (busid) && !is_platform_name (busid))
    {
      g_autofree gchar *shown = usbip_text_escape (busid, -1);
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a busid: expected <bus>-<port>[.<port>...] such as 1-1.2, or a "
                   "device name such as usbip-vudc.0",
                   shown);
      return FALSE;
    }
  return TRUE;
}
