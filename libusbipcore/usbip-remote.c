/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-error.h"
#include "usbip-remote.h"

G_DEFINE_BOXED_TYPE (UsbipRemote, usbip_remote, usbip_remote_copy, usbip_remote_free)

/**
 * usbip_remote_new:
 * @host: host name or address literal (IPv6 without brackets)
 * @port: TCP port
 *
 * Returns: (transfer full): a new #UsbipRemote
 *
 * Since: 1.0
 */
UsbipRemote *
usbip_remote_new (const gchar *host, guint16 port)
{
  UsbipRemote *r = g_new0 (UsbipRemote, 1);

  r->host = g_strdup (host);
  r->port = port;
  return r;
}

static gboolean
parse_port (const gchar *text, const gchar *whole, guint16 *out, GError **error)
{
  guint64 v = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &v, NULL))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "'%s': port '%s' is not a number from 1 to 65535", whole, text);
      return FALSE;
    }
  *out = (guint16) v;
  return TRUE;
}

/**
 * usbip_remote_parse:
 * @text: `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 literal
 * @default_port: the port when @text names none, usually %USBIP_DEFAULT_TCP_PORT
 * @error: return location for a #GError, or %NULL
 *
 * Returns: (transfer full) (nullable): the remote, or %NULL with
 *   %USBIP_ERROR_INVALID_ARGUMENT set
 *
 * Since: 1.0
 */
UsbipRemote *
usbip_remote_parse (const gchar *text, guint16 default_port, GError **error)
{
  g_autofree gchar *host = NULL;
  guint16 port = default_port;
  const gchar *colon;

  if (text == NULL || *text == '\0')
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                           "empty remote: give a host, host:port or [ipv6]:port");
      return NULL;
    }
  if (text[0] == '[')
    {
      const gchar *end = strchr (text, ']');
      if (end == NULL || end == text + 1)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "'%s': an IPv6 address in brackets needs a closing ']'", text);
          return NULL;
        }
      host = g_strndup (text + 1, end - text - 1);
      if (end[1] == ':')
        {
          if (!parse_port (end + 2, text, &port, error))
            return NULL;
        }
      else if (end[1] != '\0')
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "'%s': unexpected text after ']'", text);
          return NULL;
        }
    }
  else if ((colon = strchr (text, ':')) != NULL && strchr (colon + 1, ':') == NULL)
    {
      if (colon == text)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "'%s': the host is missing before ':'", text);
          return NULL;
        }
      host = g_strndup (text, colon - text);
      if (!parse_port (colon + 1, text, &port, error))
        return NULL;
    }
  else
    {
      /* a plain host name, or a bare IPv6 literal (two or more colons) */
      host = g_strdup (text);
    }
  for (const gchar *p = host; *p != '\0'; p++)
    if (g_ascii_isspace (*p) || *p == '/' || *p == '[' || *p == ']')
      {
        g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                     "'%s' is not a valid host name or address", text);
        return NULL;
      }
  return usbip_remote_new (host, port);
}

/**
 * usbip_remote_copy:
 * @remote: a #UsbipRemote
 *
 * Returns: (transfer full): a copy
 *
 * Since: 1.0
 */
UsbipRemote *
usbip_remote_copy (const UsbipRemote *remote)
{
  g_return_val_if_fail (remote != NULL, NULL);
  return usbip_remote_new (remote->host, remote->port);
}

/**
 * usbip_remote_free:
 * @remote: (nullable): a #UsbipRemote
 *
 * Frees @remote.
 *
 * Since: 1.0
 */
void
usbip_remote_free (UsbipRemote *remote)
{
  if (remote == NULL)
    return;
  g_free (remote->host);
  g_free (remote);
}

/**
 * usbip_remote_to_string:
 * @remote: a #UsbipRemote
 *
 * Returns: (transfer full): `host:port`, with brackets around IPv6 literals
 *
 * Since: 1.0
 */
gchar *
usbip_remote_to_string (const UsbipRemote *remote)
{
  g_return_val_if_fail (remote != NULL, NULL);
  if (strchr (remote->host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", remote->host, remote->port);
  return g_strdup_printf ("%s:%u", remote->host, remote->port);
}

/**
 * usbip_remote_equal:
 * @a: a #UsbipRemote
 * @b: a #UsbipRemote
 *
 * Returns: %TRUE if host (case-insensitively) and port are equal
 *
 * Since: 1.0
 */
gboolean
usbip_remote_equal (const UsbipRemote *a, const UsbipRemote *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  return a->port == b->port && g_ascii_strcasecmp (a->host, b->host) == 0;
}
