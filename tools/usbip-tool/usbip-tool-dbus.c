/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <unistd.h>

#include "usbip-tool-dbus.h"
#include "usbip-tools-dbus.h"

static gboolean
name_available (GDBusConnection *bus)
{
  g_autoptr (GVariant) owned = NULL;
  g_autoptr (GVariant) names = NULL;
  g_autofree const gchar **list = NULL;
  gboolean has_owner = FALSE;

  owned = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "NameHasOwner", g_variant_new ("(s)", USBIP_DBUS_NAME), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (owned != NULL)
    g_variant_get (owned, "(b)", &has_owner);
  if (has_owner)
    return TRUE;
  names = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "ListActivatableNames", NULL, G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, NULL);
  if (names == NULL)
    return FALSE;
  g_variant_get (names, "(^a&s)", &list);
  return g_strv_contains (list, USBIP_DBUS_NAME);
}

GDBusConnection *
usbip_tool_dbus_get (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = NULL;

  if (geteuid () == 0)
    return NULL;
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    {
      g_debug ("no system bus (%s): working directly", error->message);
      return NULL;
    }
  if (!name_available (bus))
    {
      g_debug ("%s is not installed: working directly", USBIP_DBUS_NAME);
      return NULL;
    }
  g_debug ("not root: going through %s", USBIP_DBUS_NAME);
  usbip_tools_dbus_register_errors ();
  return g_steal_pointer (&bus);
}

GVariant *
usbip_tool_dbus_call (GDBusConnection *bus, const gchar *path, const gchar *iface, const gchar *method, GVariant *args,
                      const gchar *reply_type, GError **error)
{
  GVariant *reply;

  /* polkit may ask for a password where an agent runs; attach can take the whole
   * connect and reply deadline, so no D-Bus timeout of its own */
  reply = g_dbus_connection_call_sync (bus, USBIP_DBUS_NAME, path, iface, method, args, G_VARIANT_TYPE (reply_type),
                                       G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL, error);
  if (reply == NULL && error != NULL)
    usbip_tools_dbus_error_strip (*error);
  return reply;
}

static GVariant *
manager_call (GDBusConnection *bus, const gchar *method, GVariant *args, const gchar *reply_type, GError **error)
{
  return usbip_tool_dbus_call (bus, USBIP_DBUS_MANAGER_PATH, "org.usbipcore.Usbip1.Manager", method, args, reply_type,
                               error);
}

GPtrArray *
usbip_tool_dbus_list_ports (GDBusConnection *bus, GError **error)
{
  g_autoptr (GVariant) reply = manager_call (bus, "ListPorts", NULL, "(aa{sv})", error);
  g_autoptr (GVariant) ports = NULL;

  if (reply == NULL)
    return NULL;
  ports = g_variant_get_child_value (reply, 0);
  return usbip_tools_dbus_array_from_variant (ports, (gpointer (*) (GVariant *)) usbip_tools_dbus_port_from_variant,
                                              (GDestroyNotify) usbip_port_info_free);
}

UsbipPortInfo *
usbip_tool_dbus_attach (GDBusConnection *bus, const gchar *remote, const gchar *busid, GVariant *options, gchar **path,
                        gboolean *already_attached, GError **error)
{
  g_autoptr (GVariant) reply =
      manager_call (bus, "Attach", g_variant_new ("(ss@a{sv})", remote, busid, options), "(oa{sv}b)", error);
  g_autoptr (GVariant) port = NULL;

  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(o@a{sv}b)", path, &port, already_attached);
  return usbip_tools_dbus_port_from_variant (port);
}

gboolean
usbip_tool_dbus_detach (GDBusConnection *bus, guint port, GError **error)
{
  g_autoptr (GVariant) reply = manager_call (bus, "DetachPort", g_variant_new ("(u)", port), "()", error);
  return reply != NULL;
}

gboolean
usbip_tool_dbus_bind (GDBusConnection *bus, const gchar *busid, gboolean bind, GError **error)
{
  g_autoptr (GVariant) reply = manager_call (bus, bind ? "Bind" : "Unbind", g_variant_new ("(s)", busid), "()", error);
  return reply != NULL;
}
