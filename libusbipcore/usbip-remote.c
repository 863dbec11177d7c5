/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/un.h>

#include "usbip-error.h"
#include "usbip-remote.h"
#include "usbip-text.h"

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
  g_return_val_if_fail (host != NULL, NULL);
  return usbip_remote_new_full (USBIP_REMOTE_SCHEME_TCP, host, port);
}

/**
 * usbip_remote_new_full:
 * @scheme: `tcp`, `unix` or `vsock`
 * @host: see #UsbipRemote
 * @port: TCP or vsock port, 0 for `unix`
 *
 * Returns: (transfer full): a new #UsbipRemote
 *
 * Since: 1.0
 */
UsbipRemote *
usbip_remote_new_full (const gchar *scheme, const gchar *host, guint16 port)
{
  UsbipRemote *r = NULL;

  g_return_val_if_fail (scheme != NULL, NULL);
  g_return_val_if_fail (host != NULL, NULL);
  r = g_new0 (UsbipRemote, 1);
  r->scheme = g_strdup (scheme);
  r->host = g_strdup (host);
  r->port = port;
  return r;
}

static gboolean
is_scheme (const UsbipRemote *remote, const gchar *scheme)
{
  return g_strcmp0 (remote->scheme, scheme) == 0;
}

static gboolean
parse_port (const gchar *text, const gchar *whole, guint16 *out, GError **error)
{
  guint64 v = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &v, NULL))
    {
      g_autofree gchar *whole_shown = usbip_text_escape (whole, -1);
      g_autofree gchar *shown = usbip_text_escape (text, -1);
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "'%s': port '%s' is not a number from 1 to 65535",
                   whole_shown, shown);
      return FALSE;
    }
  *out = (guint16) v;
  return TRUE;
}

/* unix:/path or unix:@name: the path must fit sockaddr_un and, being a field of the port
 * records (`<host> <port> <busid>`), hold no white space */
static UsbipRemote *
parse_unix (const gchar *text, const gchar *path, GError **error)
{
  gsize max = sizeof (((struct sockaddr_un *) NULL)->sun_path) - 1;
  g_autofree gchar *shown = usbip_text_escape (text, -1);

  if (path[0] != '/' && path[0] != '@')
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "'%s': give an absolute socket path (unix:/run/usbipcored/usbip.sock) "
                   "or an abstract name (unix:@name)",
                   shown);
      return NULL;
    }
  if (path[1] == '\0' || strlen (path) > max + (path[0] == '@'))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "'%s': a socket path or abstract name must have 1 to %" G_GSIZE_FORMAT " characters", shown, max);
      return NULL;
    }
  for (const gchar *p = path; *p != '\0'; p++)
    if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
      {
        g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                     "'%s': the socket path holds white space or a control character, which the "
                     "port records cannot keep: pick a path without them",
                     shown);
        return NULL;
      }
  return usbip_remote_new_full (USBIP_REMOTE_SCHEME_UNIX, path, 0);
}

/* vsock:CID:PORT or vsock:CID; CID -1 is VMADDR_CID_ANY (listening on every CID) */
static UsbipRemote *
parse_vsock (const gchar *text, const gchar *rest, guint16 default_port, GError **error)
{
  g_autofree gchar *cid_text = NULL;
  const gchar *colon = strchr (rest, ':');
  guint16 port = default_port;
  guint64 cid = 0;

  cid_text = colon != NULL ? g_strndup (rest, colon - rest) : g_strdup (rest);
  if (g_strcmp0 (cid_text, USBIP_REMOTE_VSOCK_CID_ANY) != 0
      && !g_ascii_string_to_unsigned (cid_text, 10, 0, G_MAXUINT32 - 1, &cid, NULL))
    {
      g_autofree gchar *shown = usbip_text_escape (text, -1);
      g_autofree gchar *cid_shown = usbip_text_escape (cid_text, -1);
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "'%s': the vsock CID '%s' is not a number from 0 to 4294967294 or -1 (any); "
                   "write vsock:CID:PORT, e.g. vsock:2:3240 for the host",
                   shown, cid_shown);
      return NULL;
    }
  if (colon != NULL && !parse_port (colon + 1, text, &port, error))
    return NULL;
  return usbip_remote_new_full (USBIP_REMOTE_SCHEME_VSOCK, cid_text, port);
}

/**
 * usbip_remote_parse:
 * @text: `host`, `host:port`, `[v6]`, `[v6]:port`, a bare IPv6 literal (TCP),
 *   `unix:/path`, `unix:@name`, `vsock:CID` or `vsock:CID:PORT`
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
  g_autofree gchar *shown = NULL;
  g_autofree gchar *host_shown = NULL;
  guint16 port = default_port;
  const gchar *colon;

  if (text == NULL || *text == '\0')
    {
      g_set_error_literal (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                           "empty remote: give a host, host:port or [ipv6]:port");
      return NULL;
    }
  if (g_str_has_prefix (text, USBIP_REMOTE_SCHEME_UNIX ":"))
    return parse_unix (text, text + strlen (USBIP_REMOTE_SCHEME_UNIX ":"), error);
  if (g_str_has_prefix (text, USBIP_REMOTE_SCHEME_VSOCK ":"))
    return parse_vsock (text, text + strlen (USBIP_REMOTE_SCHEME_VSOCK ":"), default_port, error);
  /* the caller's text, perhaps hostile, as the messages below show it */
  shown = usbip_text_escape (text, -1);
  if (text[0] == '[')
    {
      const gchar *end = strchr (text, ']');
      if (end == NULL || end == text + 1)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "'%s': an IPv6 address in brackets needs a closing ']'", shown);
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
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "'%s': unexpected text after ']'", shown);
          return NULL;
        }
    }
  else if ((colon = strchr (text, ':')) != NULL && strchr (colon + 1, ':') == NULL)
    {
      if (colon == text)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "'%s': the host is missing before ':'", shown);
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
  /* a scheme's name is a mistake, not a host ("vsock", "[vsock]:3240"): as a host it would
   * print as "vsock:3240", which reads back as a vsock address */
  if (g_str_equal (host, USBIP_REMOTE_SCHEME_UNIX) || g_str_equal (host, USBIP_REMOTE_SCHEME_VSOCK))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                   "'%s': %s is a transport name, not a host: give unix:/path, unix:@name or vsock:CID:PORT", shown,
                   host);
      return NULL;
    }
  /* no host name or address holds white space, a control character, a backslash, bytes that
   * are not UTF-8 or a character that cannot be shown: whatever would need escaping
   * (usbip_text_escape()), so the remote shows as it is in every later message and record */
  host_shown = usbip_text_escape (host, -1);
  if (!g_str_equal (host_shown, host) || strpbrk (host, " /[]") != NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "'%s' is not a valid host name or address", shown);
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
  return usbip_remote_new_full (remote->scheme, remote->host, remote->port);
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
  g_free (remote->scheme);
  g_free (remote);
}

/**
 * usbip_remote_to_string:
 * @remote: a #UsbipRemote
 *
 * Returns: (transfer full): `host:port`, with brackets around IPv6 literals;
 *   `unix:/path`, `unix:@name`, `vsock:CID:PORT`: what usbip_remote_parse() reads back
 *
 * Since: 1.0
 */
gchar *
usbip_remote_to_string (const UsbipRemote *remote)
{
  g_return_val_if_fail (remote != NULL, NULL);
  if (is_scheme (remote, USBIP_REMOTE_SCHEME_UNIX))
    return g_strconcat (USBIP_REMOTE_SCHEME_UNIX ":", remote->host, NULL);
  if (is_scheme (remote, USBIP_REMOTE_SCHEME_VSOCK))
    return g_strdup_printf (USBIP_REMOTE_SCHEME_VSOCK ":%s:%u", remote->host, remote->port);
  if (strchr (remote->host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", remote->host, remote->port);
  return g_strdup_printf ("%s:%u", remote->host, remote->port);
}

/**
 * usbip_remote_equal:
 * @a: a #UsbipRemote
 * @b: a #UsbipRemote
 *
 * Returns: %TRUE if scheme, host (case-insensitively for TCP) and port are equal
 *
 * Since: 1.0
 */
gboolean
usbip_remote_equal (const UsbipRemote *a, const UsbipRemote *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  if (a->port != b->port || g_strcmp0 (a->scheme, b->scheme) != 0)
    return FALSE;
  if (is_scheme (a, USBIP_REMOTE_SCHEME_TCP))
    return g_ascii_strcasecmp (a->host, b->host) == 0;
  return g_strcmp0 (a->host, b->host) == 0;
}

/**
 * usbip_remote_to_record:
 * @remote: a #UsbipRemote
 * @host: (out) (transfer full): the record's host field
 * @service: (out) (transfer full): the record's port field
 *
 * The fields of a vhci port record (`<host> <port> <busid>`, as upstream `usbip attach`
 * writes them): for TCP exactly upstream's (`192.0.2.1 3240`), for the other schemes the
 * host carries the scheme (`unix:/run/x.sock 0`, `vsock:2 3240`), so that upstream
 * `usbip port` still shows something readable.
 *
 * Since: 1.0
 */
void
usbip_remote_to_record (const UsbipRemote *remote, gchar **host, gchar **service)
{
  g_return_if_fail (remote != NULL && host != NULL && service != NULL);
  if (is_scheme (remote, USBIP_REMOTE_SCHEME_TCP))
    *host = g_strdup (remote->host);
  else
    *host = g_strdup_printf ("%s:%s", remote->scheme, remote->host);
  *service = g_strdup_printf ("%u", remote->port);
}

/**
 * usbip_remote_from_record:
 * @host: a port record's host field
 * @service: (nullable): its port field
 *
 * The inverse of usbip_remote_to_record().
 *
 * Returns: (transfer full) (nullable): the remote, %NULL if the fields do not parse
 *
 * Since: 1.0
 */
UsbipRemote *
usbip_remote_from_record (const gchar *host, const gchar *service)
{
  guint64 port = USBIP_DEFAULT_TCP_PORT;

  g_return_val_if_fail (host != NULL, NULL);
  if (service != NULL && !g_ascii_string_to_unsigned (service, 10, 0, 65535, &port, NULL))
    return NULL;
  if (g_str_has_prefix (host, USBIP_REMOTE_SCHEME_UNIX ":"))
    return usbip_remote_new_full (USBIP_REMOTE_SCHEME_UNIX, host + strlen (USBIP_REMOTE_SCHEME_UNIX ":"), 0);
  if (g_str_has_prefix (host, USBIP_REMOTE_SCHEME_VSOCK ":"))
    return usbip_remote_new_full (USBIP_REMOTE_SCHEME_VSOCK, host + strlen (USBIP_REMOTE_SCHEME_VSOCK ":"),
                                  (guint16) port);
  return usbip_remote_new (host, (guint16) port);
}
