/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-tools-dbus.h"
#include "usbip-tools-usb-ids.h"

/* org.usbipcore.Usbip1.Error.<name>, in UsbipErrorCode order */
static const gchar *const error_names[] = {
  "Failed",        "NotAvailable",  "DeviceBusy",      "DeviceError", "NoDevice", "RemoteError", "Protocol",
  "Version",       "UnknownOpcode", "Timeout",         "Denied",      "NotFound", "Busy",        "NoFreePort",
  "ModuleMissing", "Permission",    "InvalidArgument", "Connection",  "Plugin",   "Config",
};
G_STATIC_ASSERT (G_N_ELEMENTS (error_names) == USBIP_ERROR_LAST);

void
usbip_tools_dbus_register_errors (void)
{
  static gsize done;

  if (!g_once_init_enter (&done))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (error_names); i++)
    {
      g_autofree gchar *name = g_strconcat (USBIP_DBUS_ERROR_PREFIX, error_names[i], NULL);
      g_dbus_error_register_error (USBIP_ERROR, (gint) i, name);
    }
  g_once_init_leave (&done, 1);
}

GError *
usbip_tools_dbus_error_new (const gchar *name, const gchar *message)
{
  usbip_tools_dbus_register_errors ();
  return usbip_tools_dbus_error_strip (g_dbus_error_new_for_dbus_error (name, message));
}

GError *
usbip_tools_dbus_error_strip (GError *error)
{
  g_dbus_error_strip_remote_error (error);
  return error;
}

/* ---- records ---- */

static void
add (GVariantBuilder *b, const gchar *key, GVariant *value)
{
  g_variant_builder_add (b, "{sv}", key, value);
}

static void
add_name (GVariantBuilder *b, const gchar *key, gchar *name)
{
  add (b, key, g_variant_new_string (name != NULL ? name : ""));
  g_free (name);
}

GVariant *
usbip_tools_dbus_device_to_variant (const UsbipDeviceInfo *d)
{
  GVariantBuilder b, ifs;
  const guint ids[] = { d->idVendor, d->idProduct };

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add (&b, "busid", g_variant_new_string (d->busid));
  add (&b, "path", g_variant_new_string (d->path));
  add (&b, "busnum", g_variant_new_uint32 (d->busnum));
  add (&b, "devnum", g_variant_new_uint32 (d->devnum));
  add (&b, "speed", g_variant_new_string (usbip_speed_to_nick (d->speed)));
  add (&b, "speed-code", g_variant_new_uint32 (d->speed));
  add (&b, "vendor-id", g_variant_new_uint16 (d->idVendor));
  add (&b, "product-id", g_variant_new_uint16 (d->idProduct));
  add (&b, "bcd-device", g_variant_new_uint16 (d->bcdDevice));
  add (&b, "device-class", g_variant_new_byte (d->bDeviceClass));
  add (&b, "device-subclass", g_variant_new_byte (d->bDeviceSubClass));
  add (&b, "device-protocol", g_variant_new_byte (d->bDeviceProtocol));
  add (&b, "configuration-value", g_variant_new_byte (d->bConfigurationValue));
  add (&b, "num-configurations", g_variant_new_byte (d->bNumConfigurations));
  add (&b, "num-interfaces", g_variant_new_byte (d->bNumInterfaces));
  g_variant_builder_init (&ifs, G_VARIANT_TYPE ("a(yyy)"));
  for (guint i = 0; i < d->bNumInterfaces && i < USBIP_MAX_INTERFACES; i++)
    g_variant_builder_add (&ifs, "(yyy)", d->interfaces[i].bInterfaceClass, d->interfaces[i].bInterfaceSubClass,
                           d->interfaces[i].bInterfaceProtocol);
  add (&b, "interfaces", g_variant_builder_end (&ifs));
  add (&b, "status", g_variant_new_uint32 (d->status));
  add_name (&b, "vendor-name", usbip_tools_usb_ids_lookup ("", 4, ids, 0));
  add_name (&b, "product-name", usbip_tools_usb_ids_lookup ("", 4, ids, 1));
  return g_variant_builder_end (&b);
}

/* the string @key of @dict copied into @dest (size @size); absent: empty */
static void
copy_str (GVariant *dict, const gchar *key, gchar *dest, gsize size)
{
  const gchar *s = NULL;

  dest[0] = '\0';
  if (g_variant_lookup (dict, key, "&s", &s))
    g_strlcpy (dest, s, size);
}

static guint
get_uint (GVariant *dict, const gchar *key)
{
  guint32 v = 0;

  g_variant_lookup (dict, key, "u", &v);
  return v;
}

static guint8
get_byte (GVariant *dict, const gchar *key)
{
  guint8 v = 0;

  g_variant_lookup (dict, key, "y", &v);
  return v;
}

static guint16
get_uint16 (GVariant *dict, const gchar *key)
{
  guint16 v = 0;

  g_variant_lookup (dict, key, "q", &v);
  return v;
}

UsbipDeviceInfo *
usbip_tools_dbus_device_from_variant (GVariant *dict)
{
  UsbipDeviceInfo *d = usbip_device_info_new ();
  g_autoptr (GVariant) ifs = g_variant_lookup_value (dict, "interfaces", G_VARIANT_TYPE ("a(yyy)"));

  copy_str (dict, "busid", d->busid, sizeof d->busid);
  copy_str (dict, "path", d->path, sizeof d->path);
  d->busnum = get_uint (dict, "busnum");
  d->devnum = get_uint (dict, "devnum");
  d->speed = (UsbipSpeed) get_uint (dict, "speed-code");
  d->idVendor = get_uint16 (dict, "vendor-id");
  d->idProduct = get_uint16 (dict, "product-id");
  d->bcdDevice = get_uint16 (dict, "bcd-device");
  d->bDeviceClass = get_byte (dict, "device-class");
  d->bDeviceSubClass = get_byte (dict, "device-subclass");
  d->bDeviceProtocol = get_byte (dict, "device-protocol");
  d->bConfigurationValue = get_byte (dict, "configuration-value");
  d->bNumConfigurations = get_byte (dict, "num-configurations");
  d->bNumInterfaces = get_byte (dict, "num-interfaces");
  for (gsize i = 0; ifs != NULL && i < g_variant_n_children (ifs) && i < USBIP_MAX_INTERFACES; i++)
    g_variant_get_child (ifs, i, "(yyy)", &d->interfaces[i].bInterfaceClass, &d->interfaces[i].bInterfaceSubClass,
                         &d->interfaces[i].bInterfaceProtocol);
  d->status = (UsbipDeviceStatus) get_uint (dict, "status");
  return d;
}

GVariant *
usbip_tools_dbus_port_to_variant (const UsbipPortInfo *p)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add (&b, "port", g_variant_new_uint32 (p->port));
  add (&b, "controller", g_variant_new_uint32 (p->controller));
  add (&b, "hub", g_variant_new_string (p->hub == USBIP_HUB_SPEED_SUPER ? "ss" : "hs"));
  add (&b, "status", g_variant_new_uint32 (p->status));
  add (&b, "speed", g_variant_new_string (usbip_speed_to_nick (p->speed)));
  add (&b, "speed-code", g_variant_new_uint32 (p->speed));
  add (&b, "devid", g_variant_new_uint32 (p->devid));
  add (&b, "local-busid", g_variant_new_string (p->local_busid));
  if (p->remote_host != NULL)
    add (&b, "remote-host", g_variant_new_string (p->remote_host));
  if (p->remote_port != NULL)
    add (&b, "remote-port", g_variant_new_string (p->remote_port));
  if (p->remote_busid != NULL)
    add (&b, "remote-busid", g_variant_new_string (p->remote_busid));
  return g_variant_builder_end (&b);
}

static gchar *
dup_str (GVariant *dict, const gchar *key)
{
  gchar *s = NULL;

  g_variant_lookup (dict, key, "s", &s);
  return s;
}

UsbipPortInfo *
usbip_tools_dbus_port_from_variant (GVariant *dict)
{
  UsbipPortInfo *p = usbip_port_info_new ();
  const gchar *hub = "hs";

  p->port = get_uint (dict, "port");
  p->controller = get_uint (dict, "controller");
  g_variant_lookup (dict, "hub", "&s", &hub);
  p->hub = g_str_equal (hub, "ss") ? USBIP_HUB_SPEED_SUPER : USBIP_HUB_SPEED_HIGH;
  p->status = (UsbipPortStatus) get_uint (dict, "status");
  p->speed = (UsbipSpeed) get_uint (dict, "speed-code");
  p->devid = get_uint (dict, "devid");
  p->sockfd = 0;
  copy_str (dict, "local-busid", p->local_busid, sizeof p->local_busid);
  p->remote_host = dup_str (dict, "remote-host");
  p->remote_port = dup_str (dict, "remote-port");
  p->remote_busid = dup_str (dict, "remote-busid");
  return p;
}

GPtrArray *
usbip_tools_dbus_array_from_variant (GVariant *array, gpointer (*from_variant) (GVariant *), GDestroyNotify free_func)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (free_func);
  GVariantIter iter;
  GVariant *child;

  g_variant_iter_init (&iter, array);
  while ((child = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_ptr_array_add (out, from_variant (child));
      g_variant_unref (child);
    }
  return out;
}

/* ---- options ---- */

const gchar *const usbip_tools_dbus_socket_keys[] = {
  "tcp-port:q",
  "connect-timeout-ms:u",
  "read-timeout-ms:u",
  "write-timeout-ms:u",
  "nodelay:b",
  "keepalive:b",
  "keepalive-idle-s:u",
  "keepalive-interval-s:u",
  "keepalive-probes:u",
  "user-timeout-ms:u",
  "sndbuf:u",
  "rcvbuf:u",
  NULL,
};

void
usbip_tools_dbus_add_socket_options (GVariantBuilder *b, const UsbipSocketOptions *o)
{
  add (b, "connect-timeout-ms", g_variant_new_uint32 (o->connect_timeout_ms));
  add (b, "read-timeout-ms", g_variant_new_uint32 (o->read_timeout_ms));
  add (b, "write-timeout-ms", g_variant_new_uint32 (o->write_timeout_ms));
  add (b, "nodelay", g_variant_new_boolean (o->nodelay));
  add (b, "keepalive", g_variant_new_boolean (o->keepalive));
  add (b, "keepalive-idle-s", g_variant_new_uint32 (o->keepalive_idle_s));
  add (b, "keepalive-interval-s", g_variant_new_uint32 (o->keepalive_interval_s));
  add (b, "keepalive-probes", g_variant_new_uint32 (o->keepalive_probes));
  add (b, "user-timeout-ms", g_variant_new_uint32 (o->user_timeout_ms));
  add (b, "sndbuf", g_variant_new_uint32 (o->sndbuf));
  add (b, "rcvbuf", g_variant_new_uint32 (o->rcvbuf));
}

void
usbip_tools_dbus_read_socket_options (GVariant *options, UsbipSocketOptions *o)
{
  g_variant_lookup (options, "connect-timeout-ms", "u", &o->connect_timeout_ms);
  g_variant_lookup (options, "read-timeout-ms", "u", &o->read_timeout_ms);
  g_variant_lookup (options, "write-timeout-ms", "u", &o->write_timeout_ms);
  g_variant_lookup (options, "nodelay", "b", &o->nodelay);
  g_variant_lookup (options, "keepalive", "b", &o->keepalive);
  g_variant_lookup (options, "keepalive-idle-s", "u", &o->keepalive_idle_s);
  g_variant_lookup (options, "keepalive-interval-s", "u", &o->keepalive_interval_s);
  g_variant_lookup (options, "keepalive-probes", "u", &o->keepalive_probes);
  g_variant_lookup (options, "user-timeout-ms", "u", &o->user_timeout_ms);
  g_variant_lookup (options, "sndbuf", "u", &o->sndbuf);
  g_variant_lookup (options, "rcvbuf", "u", &o->rcvbuf);
}

gboolean
usbip_tools_dbus_check_options (GVariant *options, const gchar *const *keys, const gchar *const *more, GError **error)
{
  GVariantIter iter;
  const gchar *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) v = value;
      const gchar *type = NULL;
      gsize len = strlen (key);

      for (const gchar *const *list = keys; list != NULL && type == NULL; list = list == keys ? more : NULL)
        for (guint i = 0; list[i] != NULL && type == NULL; i++)
          if (strncmp (list[i], key, len) == 0 && list[i][len] == ':')
            type = list[i] + len + 1;
      /* the key is the caller's: escaped in the message (it reaches the caller and logs) */
      if (type == NULL)
        {
          g_autofree gchar *shown = usbip_text_escape (key, -1);
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT,
                       "unknown option \"%s\" (data/dbus/org.usbipcore.Usbip1.xml lists the options)", shown);
          return FALSE;
        }
      if (!g_variant_is_of_type (v, G_VARIANT_TYPE (type)))
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT, "option \"%s\" takes type \"%s\", not \"%s\"",
                       key, type, g_variant_get_type_string (v));
          return FALSE;
        }
    }
  return TRUE;
}
