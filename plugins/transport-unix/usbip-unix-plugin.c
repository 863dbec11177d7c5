/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "usbip-unix-transport.h"

gboolean usbip_unix_plugin_register (UsbipPluginContext *ctx, GError **error);

/* the socket file's mode and owner, from [unix] */
static gboolean
read_file_access (UsbipPluginContext *ctx, guint *mode, gint64 *uid, gint64 *gid, GError **error)
{
  g_autofree gchar *mode_text = usbip_plugin_context_get_string (ctx, "socket-mode");
  g_autofree gchar *user = usbip_plugin_context_get_string (ctx, "socket-user");
  g_autofree gchar *group = usbip_plugin_context_get_string (ctx, "socket-group");
  guint64 m;
  guint32 id;

  if (!g_ascii_string_to_unsigned (mode_text, 8, 0, 0777, &m, NULL))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[unix] socket-mode=%s: expected octal permissions from 0000 to 0777, e.g. 0660", mode_text);
      return FALSE;
    }
  *mode = (guint) m;
  *uid = *gid = -1;
  if (user != NULL && *user != '\0')
    {
      if (!usbip_peer_parse_uid (user, &id, error))
        {
          g_prefix_error (error, "[unix] socket-user: ");
          return FALSE;
        }
      *uid = id;
    }
  if (group != NULL && *group != '\0')
    {
      if (!usbip_peer_parse_gid (group, &id, error))
        {
          g_prefix_error (error, "[unix] socket-group: ");
          return FALSE;
        }
      *gid = id;
    }
  return TRUE;
}

gboolean
usbip_unix_plugin_register (UsbipPluginContext *ctx, GError **error)
{
  g_autoptr (UsbipUnixTransport) transport = NULL;
  guint mode;
  gint64 uid, gid;

  usbip_plugin_context_register_key (ctx, "socket-mode", USBIP_CONFIG_TYPE_STRING, "0660", 0, 0,
                                     "permissions of a listening socket file (octal)");
  usbip_plugin_context_register_key (ctx, "socket-user", USBIP_CONFIG_TYPE_STRING, "", 0, 0,
                                     "owner of a listening socket file (name or id; empty: the daemon's user)");
  usbip_plugin_context_register_key (ctx, "socket-group", USBIP_CONFIG_TYPE_STRING, "", 0, 0,
                                     "group of a listening socket file (name or id; empty: the daemon's group)");
  if (!usbip_plugin_context_check_config (ctx, error) || !read_file_access (ctx, &mode, &uid, &gid, error))
    return FALSE;
  transport = usbip_unix_transport_new (mode, uid, gid);
  usbip_plugin_context_add_transport (ctx, USBIP_REMOTE_SCHEME_UNIX, USBIP_TRANSPORT (transport));
  return TRUE;
}

USBIP_PLUGIN_DEFINE (unix, usbip_unix_plugin_register)
