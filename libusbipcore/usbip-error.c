/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>

#include "usbip-error.h"

/**
 * usbip_error_quark:
 *
 * Returns: the #GQuark of the %USBIP_ERROR domain
 *
 * Since: 1.0
 */
/* the quark's string is the macro argument as spelled: clang-format would space the dashes */
/* clang-format off */
G_DEFINE_QUARK (usbip-error-quark, usbip_error)
/* clang-format on */

/**
 * usbip_status_to_string:
 * @status: a wire status code (#UsbipStatus)
 *
 * Returns: upstream's name for the status, e.g. "ST_NODEV"; "ST_UNKNOWN" for others
 *
 * Since: 1.0
 */
const gchar *
usbip_status_to_string (guint32 status)
{
  switch (status)
    {
    case USBIP_ST_OK:
      return "ST_OK";
    case USBIP_ST_NA:
      return "ST_NA";
    case USBIP_ST_DEV_BUSY:
      return "ST_DEV_BUSY";
    case USBIP_ST_DEV_ERR:
      return "ST_DEV_ERR";
    case USBIP_ST_NODEV:
      return "ST_NODEV";
    case USBIP_ST_ERROR:
      return "ST_ERROR";
    default:
      return "ST_UNKNOWN";
    }
}

/**
 * usbip_error_set_from_status:
 * @error: return location for a #GError, or %NULL
 * @status: the status of an OP_REP_* header
 * @remote: (nullable): the peer, for the message
 * @busid: (nullable): the busid asked for, for the message
 *
 * Sets @error from a non-zero wire status, with a message that says what to do.
 *
 * Returns: %TRUE if @status is ST_OK (nothing set), %FALSE otherwise
 *
 * Since: 1.0
 */
gboolean
usbip_error_set_from_status (GError **error, guint32 status, const gchar *remote, const gchar *busid)
{
  const gchar *r = remote != NULL ? remote : "the remote host";
  const gchar *b = busid != NULL ? busid : "the device";

  switch (status)
    {
    case USBIP_ST_OK:
      return TRUE;
    case USBIP_ST_NA:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NOT_AVAILABLE,
                   "%s on %s could not be handed over (ST_NA): the exporter could not pass the "
                   "connection to its driver, most often because another client imported it at the "
                   "same moment; try again (--auto-reconnect retries it)",
                   b, r);
      return FALSE;
    case USBIP_ST_DEV_BUSY:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_DEVICE_BUSY,
                   "%s on %s is busy (ST_DEV_BUSY): another client has imported it; detach it "
                   "there or wait",
                   b, r);
      return FALSE;
    case USBIP_ST_DEV_ERR:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_DEVICE_ERROR,
                   "%s on %s is in an error state (ST_DEV_ERR): unbind and bind it again on the "
                   "exporting host, or replug it",
                   b, r);
      return FALSE;
    case USBIP_ST_NODEV:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_NO_DEVICE,
                   "%s is not exported by %s (ST_NODEV): check the busid with "
                   "`usbip-tool list -r %s`",
                   b, r, r);
      return FALSE;
    case USBIP_ST_ERROR:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_REMOTE_ERROR,
                   "%s reported an unspecified error for %s (ST_ERROR): check the exporting "
                   "daemon's log",
                   r, b);
      return FALSE;
    default:
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_PROTOCOL,
                   "%s answered with unknown status %u for %s: the peer may speak a different "
                   "USB/IP dialect",
                   r, status, b);
      return FALSE;
    }
}

/**
 * usbip_error_to_status:
 * @error: a #GError
 *
 * Maps an error onto the wire status an exporter sends for it.
 *
 * Returns: a #UsbipStatus value (ST_ERROR for anything without a closer match)
 *
 * Since: 1.0
 */
guint32
usbip_error_to_status (const GError *error)
{
  if (error == NULL)
    return USBIP_ST_OK;
  if (error->domain != USBIP_ERROR)
    return USBIP_ST_ERROR;
  switch ((UsbipError) error->code)
    {
    case USBIP_ERROR_NOT_AVAILABLE:
      return USBIP_ST_NA;
    case USBIP_ERROR_DEVICE_BUSY:
    case USBIP_ERROR_BUSY:
      return USBIP_ST_DEV_BUSY;
    case USBIP_ERROR_DEVICE_ERROR:
      return USBIP_ST_DEV_ERR;
    case USBIP_ERROR_NO_DEVICE:
    case USBIP_ERROR_NOT_FOUND:
      return USBIP_ST_NODEV;
    default:
      return USBIP_ST_ERROR;
    }
}

static UsbipError
code_from_errno (gint errsv)
{
  switch (errsv)
    {
    case ENOENT:
      return USBIP_ERROR_NOT_FOUND;
    case EACCES:
    case EPERM:
      return USBIP_ERROR_PERMISSION;
    case EBUSY:
    case EADDRINUSE:
      return USBIP_ERROR_BUSY;
    case EINVAL:
      return USBIP_ERROR_INVALID_ARGUMENT;
    case ENODEV:
    case ENXIO:
      return USBIP_ERROR_NO_DEVICE;
    case ETIMEDOUT:
      return USBIP_ERROR_TIMEOUT;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return USBIP_ERROR_CONNECTION;
    default:
      return USBIP_ERROR_FAILED;
    }
}

/**
 * usbip_error_set_from_errno:
 * @error: return location for a #GError, or %NULL
 * @errsv: an errno value
 * @format: printf-style prefix naming what failed
 * @...: arguments
 *
 * Sets @error to "<prefix>: <strerror>" with the %USBIP_ERROR code that matches @errsv.
 *
 * Since: 1.0
 */
void
usbip_error_set_from_errno (GError **error, gint errsv, const gchar *format, ...)
{
  g_autofree gchar *prefix = NULL;
  va_list args;

  g_return_if_fail (format != NULL);
  va_start (args, format);
  prefix = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, USBIP_ERROR, code_from_errno (errsv), "%s: %s", prefix, g_strerror (errsv));
}

/**
 * usbip_error_convert:
 * @perror: (inout) (nullable): a #GError
 *
 * Converts a GIO error in place into the %USBIP_ERROR domain, keeping the message
 * (cancellation stays %G_IO_ERROR_CANCELLED so callers can tell it apart).
 *
 * Since: 1.0
 */
void
usbip_error_convert (GError **perror)
{
  GError *error;

  if (perror == NULL || *perror == NULL)
    return;
  error = *perror;
  if (error->domain == USBIP_ERROR)
    return;
  if (error->domain == G_IO_ERROR)
    {
      switch (error->code)
        {
        case G_IO_ERROR_CANCELLED:
          return;
        case G_IO_ERROR_TIMED_OUT:
          error->code = USBIP_ERROR_TIMEOUT;
          break;
        case G_IO_ERROR_CONNECTION_REFUSED:
        case G_IO_ERROR_CONNECTION_CLOSED:
        case G_IO_ERROR_HOST_UNREACHABLE:
        case G_IO_ERROR_NETWORK_UNREACHABLE:
        case G_IO_ERROR_NOT_CONNECTED:
          error->code = USBIP_ERROR_CONNECTION;
          break;
        case G_IO_ERROR_NOT_FOUND:
          error->code = USBIP_ERROR_NOT_FOUND;
          break;
        case G_IO_ERROR_PERMISSION_DENIED:
          error->code = USBIP_ERROR_PERMISSION;
          break;
        case G_IO_ERROR_BUSY:
        case G_IO_ERROR_ADDRESS_IN_USE:
          error->code = USBIP_ERROR_BUSY;
          break;
        case G_IO_ERROR_INVALID_ARGUMENT:
          error->code = USBIP_ERROR_INVALID_ARGUMENT;
          break;
        default:
          error->code = USBIP_ERROR_FAILED;
          break;
        }
      error->domain = USBIP_ERROR;
      return;
    }
  if (error->domain == G_RESOLVER_ERROR)
    {
      error->code = USBIP_ERROR_CONNECTION;
      error->domain = USBIP_ERROR;
      return;
    }
  error->code = USBIP_ERROR_FAILED;
  error->domain = USBIP_ERROR;
}
