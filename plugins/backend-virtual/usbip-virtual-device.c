/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The base of every virtual USB device: identity, descriptors, the standard control
 * requests (GET_DESCRIPTOR, SET_ADDRESS, SET/GET_CONFIGURATION, SET/GET_INTERFACE,
 * GET_STATUS, CLEAR_FEATURE(ENDPOINT_HALT)), endpoint halts, and the claim that keeps one
 * session per device.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "usbip-virtual-device.h"
#include "usbip-virtual-cdc-acm.h"
#include "usbip-virtual-hid.h"
#include "usbip-virtual-mass-storage.h"

#define BUSID_PREFIX "virtual-"
#define GROUP_PREFIX "virtual-device "

typedef struct {
  gchar *name;
  gchar *busid;
  guint index;
  guint8 device_desc[18];
  GBytes *config_desc;
  GBytes *bos_desc; /* NULL: none (GET_DESCRIPTOR(BOS) stalls) */
  UsbipSpeed speed;
  GPtrArray *strings; /* gchar*, index 1.. at [0].. */
  gchar *serial;      /* override */
  gchar *path;        /* override */
  guint32 halted;     /* bit n: OUT endpoint n, bit 16 + n: IN endpoint n */
  guint8 configuration;
  UsbipVirtualSession *session;
  UsbipDeviceInfo info;
  gboolean check_only;
} UsbipVirtualDevicePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (UsbipVirtualDevice, usbip_virtual_device, G_TYPE_OBJECT)

enum { PROP_0, PROP_IN_USE, N_PROPS };
static GParamSpec *props[N_PROPS];

static const gchar *const common_keys[] = { "type", "vendor-id", "product-id", "serial", NULL };

static const struct {
  const gchar *name;
  GType (*get_type) (void);
} models[] = {
  { "mass-storage", usbip_virtual_mass_storage_get_type },
  { "cdc-acm", usbip_virtual_cdc_acm_get_type },
  { "hid-keyboard", usbip_virtual_hid_get_type },
  { "hid-mouse", usbip_virtual_hid_get_type },
};

GType
usbip_virtual_device_type_from_name (const gchar *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    if (g_strcmp0 (models[i].name, name) == 0)
      return models[i].get_type ();
  return 0;
}

const gchar *
usbip_virtual_device_type_names (void)
{
  return "mass-storage, cdc-acm, hid-keyboard, hid-mouse";
}

static void
usbip_virtual_device_finalize (GObject *object)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (USBIP_VIRTUAL_DEVICE (object));

  g_free (priv->name);
  g_free (priv->busid);
  g_free (priv->serial);
  g_free (priv->path);
  g_clear_pointer (&priv->config_desc, g_bytes_unref);
  g_clear_pointer (&priv->bos_desc, g_bytes_unref);
  g_ptr_array_unref (priv->strings);
  G_OBJECT_CLASS (usbip_virtual_device_parent_class)->finalize (object);
}

static void
usbip_virtual_device_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (USBIP_VIRTUAL_DEVICE (object));

  switch (prop_id)
    {
    case PROP_IN_USE:
      g_value_set_boolean (value, priv->session != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
usbip_virtual_device_class_init (UsbipVirtualDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = usbip_virtual_device_finalize;
  object_class->get_property = usbip_virtual_device_get_property;
  /* a session holds the device (its state in the device list): notified on import and
   * when the session ends */
  props[PROP_IN_USE] = g_param_spec_boolean ("in-use", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
usbip_virtual_device_init (UsbipVirtualDevice *self)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);

  priv->strings = g_ptr_array_new_with_free_func (g_free);
  priv->speed = USBIP_SPEED_HIGH;
}

static gboolean
read_id (GKeyFile *kf, const gchar *group, const gchar *key, guint8 *at, GError **error)
{
  g_autofree gchar *text = g_key_file_get_string (kf, group, key, NULL);
  guint64 v;

  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (g_str_has_prefix (text, "0x") ? text + 2 : text, 16, 0, 0xffff, &v, NULL))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] %s=%s: expected a 16-bit hexadecimal id such as 1d6b",
                   group, key, text);
      return FALSE;
    }
  at[0] = (guint8) (v & 0xff);
  at[1] = (guint8) (v >> 8);
  return TRUE;
}

static gboolean
check_keys (GKeyFile *kf, const gchar *group, const gchar *const *model_keys, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (common_keys, keys[i]) && (model_keys == NULL || !g_strv_contains (model_keys, keys[i])))
      {
        g_autofree gchar *accepted = model_keys != NULL ? g_strjoinv (", ", (gchar **) model_keys) : g_strdup ("");
        g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                     "[%s] unknown key %s: this type takes type, vendor-id, product-id, serial%s%s", group, keys[i],
                     *accepted ? ", " : "", accepted);
        return FALSE;
      }
  return TRUE;
}

UsbipVirtualDevice *
usbip_virtual_device_new_from_keyfile (GKeyFile *kf, const gchar *group, guint index, gboolean check_only,
                                       GError **error)
{
  g_autofree gchar *type_name = g_key_file_get_string (kf, group, "type", NULL);
  g_autoptr (UsbipVirtualDevice) self = NULL;
  g_autoptr (GError) busid_error = NULL;
  UsbipVirtualDevicePrivate *priv;
  UsbipVirtualDeviceClass *klass;
  GType type;
  guint8 scratch[2];

  g_return_val_if_fail (g_str_has_prefix (group, GROUP_PREFIX), NULL);
  type = usbip_virtual_device_type_from_name (type_name);
  if (type == 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] type=%s: %s; expected one of %s", group,
                   type_name != NULL ? type_name : "", type_name != NULL ? "no such device model" : "missing",
                   usbip_virtual_device_type_names ());
      return NULL;
    }
  self = g_object_new (type, NULL);
  priv = usbip_virtual_device_get_instance_private (self);
  klass = USBIP_VIRTUAL_DEVICE_GET_CLASS (self);
  priv->name = g_strdup (group + strlen (GROUP_PREFIX));
  priv->busid = g_strconcat (BUSID_PREFIX, priv->name, NULL);
  priv->index = index;
  priv->check_only = check_only;
  if (!usbip_busid_validate (priv->busid, &busid_error))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[%s]: the name gives the bus ID %s, which is not valid (%s): use at most %d letters, digits, "
                   "'-', '_' or '.'",
                   group, priv->busid, busid_error->message, (gint) (USBIP_BUSID_SIZE - 1 - strlen (BUSID_PREFIX)));
      return NULL;
    }
  if (!check_keys (kf, group, klass->keys, error))
    return NULL;
  /* every key checked before the model creates anything (a pty, a FIFO): a bad id must
   * not leave one behind, nor its notice in the log */
  if (!read_id (kf, group, "vendor-id", scratch, error) || !read_id (kf, group, "product-id", scratch, error))
    return NULL;
  priv->serial = g_key_file_get_string (kf, group, "serial", NULL);
  if (klass->configure != NULL && !klass->configure (self, kf, group, error))
    return NULL;
  if (priv->config_desc == NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s]: the %s model set no descriptors", group, type_name);
      return NULL;
    }
  if (!read_id (kf, group, "vendor-id", &priv->device_desc[8], error)
      || !read_id (kf, group, "product-id", &priv->device_desc[10], error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
usbip_virtual_device_is_check_only (UsbipVirtualDevice *self)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  return priv->check_only;
}

const gchar *
usbip_virtual_device_get_name (UsbipVirtualDevice *self)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  return priv->name;
}

const gchar *
usbip_virtual_device_get_busid (UsbipVirtualDevice *self)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  return priv->busid;
}

void
usbip_virtual_device_set_descriptors (UsbipVirtualDevice *self, const guint8 *device, gsize device_len,
                                      const guint8 *config, gsize config_len, const gchar *const *strings)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);

  g_return_if_fail (device_len == sizeof priv->device_desc && config_len >= 9);
  memcpy (priv->device_desc, device, sizeof priv->device_desc);
  g_clear_pointer (&priv->config_desc, g_bytes_unref);
  priv->config_desc = g_bytes_new (config, config_len);
  g_ptr_array_set_size (priv->strings, 0);
  for (guint i = 0; strings != NULL && strings[i] != NULL; i++)
    g_ptr_array_add (priv->strings, g_strdup (strings[i]));
}

void
usbip_virtual_device_set_speed (UsbipVirtualDevice *self, UsbipSpeed speed, const guint8 *bos, gsize bos_len)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);

  g_return_if_fail (bos == NULL || bos_len >= 5);
  priv->speed = speed;
  g_clear_pointer (&priv->bos_desc, g_bytes_unref);
  if (bos != NULL)
    priv->bos_desc = g_bytes_new (bos, bos_len);
}

/* the interfaces and endpoints of the configuration descriptor */
static void
walk_config (UsbipVirtualDevicePrivate *priv, UsbipDeviceInfo *info, guint32 *endpoints)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (priv->config_desc, &len);

  for (gsize i = 0; i + 2 <= len && d[i] >= 2 && i + d[i] <= len; i += d[i])
    {
      if (d[i + 1] == 4 && d[i] >= 9 && info != NULL && info->bNumInterfaces < USBIP_MAX_INTERFACES)
        {
          UsbipInterfaceInfo *itf = &info->interfaces[info->bNumInterfaces++];
          itf->bInterfaceClass = d[i + 5];
          itf->bInterfaceSubClass = d[i + 6];
          itf->bInterfaceProtocol = d[i + 7];
        }
      if (d[i + 1] == 5 && d[i] >= 7 && endpoints != NULL)
        *endpoints |= 1u << ((d[i + 2] & 0x0f) + ((d[i + 2] & USBIP_VIRTUAL_EP_IN) ? 16 : 0));
    }
}

UsbipDeviceInfo *
usbip_virtual_device_get_info (UsbipVirtualDevice *self)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  UsbipDeviceInfo *info = usbip_device_info_new ();
  const guint8 *d = priv->device_desc;

  if (priv->path != NULL)
    g_strlcpy (info->path, priv->path, sizeof info->path);
  else
    g_snprintf (info->path, sizeof info->path, "/sys/devices/virtual/usbip/%s", priv->busid);
  g_strlcpy (info->busid, priv->busid, sizeof info->busid);
  info->busnum = 0;
  info->devnum = priv->index + 1;
  info->speed = priv->speed;
  info->idVendor = (guint16) (d[8] | d[9] << 8);
  info->idProduct = (guint16) (d[10] | d[11] << 8);
  info->bcdDevice = (guint16) (d[12] | d[13] << 8);
  info->bDeviceClass = d[4];
  info->bDeviceSubClass = d[5];
  info->bDeviceProtocol = d[6];
  info->bConfigurationValue = 1;
  info->bNumConfigurations = d[17];
  walk_config (priv, info, NULL);
  info->status = priv->session != NULL ? USBIP_DEVICE_STATUS_USED : USBIP_DEVICE_STATUS_AVAILABLE;
  return info;
}

void
usbip_virtual_device_set_path (UsbipVirtualDevice *self, const gchar *path)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);

  g_free (priv->path);
  priv->path = g_strdup (path);
}

UsbipVirtualSession *
usbip_virtual_device_get_session (UsbipVirtualDevice *self)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  return priv->session;
}

gboolean
usbip_virtual_device_claim (UsbipVirtualDevice *self, UsbipVirtualSession *session, GError **error)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);

  if (priv->session != NULL)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_DEVICE_BUSY,
                   "virtual device %s is imported by another client: detach it there first", priv->busid);
      return FALSE;
    }
  priv->session = session;
  priv->halted = 0;
  priv->configuration = 0;
  if (USBIP_VIRTUAL_DEVICE_GET_CLASS (self)->attached != NULL)
    USBIP_VIRTUAL_DEVICE_GET_CLASS (self)->attached (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IN_USE]);
  return TRUE;
}

void
usbip_virtual_device_release (UsbipVirtualDevice *self, UsbipVirtualSession *session)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);

  if (priv->session != session)
    return;
  priv->session = NULL;
  if (USBIP_VIRTUAL_DEVICE_GET_CLASS (self)->detached != NULL)
    USBIP_VIRTUAL_DEVICE_GET_CLASS (self)->detached (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IN_USE]);
}

static guint32
halt_bit (guint8 endpoint)
{
  return 1u << ((endpoint & 0x0f) + ((endpoint & USBIP_VIRTUAL_EP_IN) ? 16 : 0));
}

void
usbip_virtual_device_halt (UsbipVirtualDevice *self, guint8 endpoint)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  priv->halted |= halt_bit (endpoint);
}

gboolean
usbip_virtual_device_endpoint_ready (UsbipVirtualDevice *self, guint8 endpoint)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  guint32 endpoints = 0;

  walk_config (priv, NULL, &endpoints);
  return (endpoints & halt_bit (endpoint)) != 0 && (priv->halted & halt_bit (endpoint)) == 0;
}

static void
append_string_descriptor (GByteArray *in, const gchar *text)
{
  glong n = 0;
  g_autofree gunichar2 *utf16 = g_utf8_to_utf16 (text, -1, NULL, &n, NULL);
  guint8 head[2];

  n = MIN (n, 126);
  head[0] = (guint8) (2 + 2 * n);
  head[1] = 3;
  g_byte_array_append (in, head, 2);
  for (glong i = 0; i < n; i++)
    {
      guint8 le[2] = { utf16[i] & 0xff, utf16[i] >> 8 };
      g_byte_array_append (in, le, 2);
    }
}

static gboolean
get_descriptor (UsbipVirtualDevicePrivate *priv, guint8 type, guint8 index, GByteArray *in)
{
  switch (type)
    {
    case 1: /* DEVICE */
      g_byte_array_append (in, priv->device_desc, sizeof priv->device_desc);
      return TRUE;
    case 2: /* CONFIGURATION */
      if (index != 0)
        return FALSE;
      g_byte_array_append (in, g_bytes_get_data (priv->config_desc, NULL), g_bytes_get_size (priv->config_desc));
      return TRUE;
    case 3: /* STRING */
      if (index == 0)
        {
          static const guint8 langs[] = { 4, 3, 0x09, 0x04 }; /* en-US */
          g_byte_array_append (in, langs, sizeof langs);
          return TRUE;
        }
      if (index == priv->device_desc[16] && priv->serial != NULL)
        {
          append_string_descriptor (in, priv->serial);
          return TRUE;
        }
      if (index > priv->strings->len)
        return FALSE;
      append_string_descriptor (in, g_ptr_array_index (priv->strings, index - 1));
      return TRUE;
    case 0x0f: /* BOS */
      if (priv->bos_desc == NULL)
        return FALSE;
      g_byte_array_append (in, g_bytes_get_data (priv->bos_desc, NULL), g_bytes_get_size (priv->bos_desc));
      return TRUE;
    default: /* DEVICE_QUALIFIER, OTHER_SPEED_CONFIGURATION, ...: stall */
      return FALSE;
    }
}

/* a standard request; FALSE stalls */
static gboolean
standard_request (UsbipVirtualDevice *self, const guint8 *setup, GByteArray *in)
{
  UsbipVirtualDevicePrivate *priv = usbip_virtual_device_get_instance_private (self);
  guint8 type = setup[0], request = setup[1];
  guint16 value = (guint16) (setup[2] | setup[3] << 8);
  guint16 windex = (guint16) (setup[4] | setup[5] << 8);

  switch (request)
    {
    case 0x00: /* GET_STATUS: device, interface or endpoint */
      {
        guint8 status[2] = { 0, 0 };
        if ((type & 0x1f) == 2 && (priv->halted & halt_bit ((guint8) windex)) != 0)
          status[0] = 1;
        g_byte_array_append (in, status, 2);
        return (type & 0x80) != 0;
      }
    case 0x01:                              /* CLEAR_FEATURE */
      if ((type & 0x1f) == 2 && value == 0) /* ENDPOINT_HALT */
        {
          priv->halted &= ~halt_bit ((guint8) windex);
          if (USBIP_VIRTUAL_DEVICE_GET_CLASS (self)->clear_halt != NULL)
            USBIP_VIRTUAL_DEVICE_GET_CLASS (self)->clear_halt (self, (guint8) windex);
          return TRUE;
        }
      return (type & 0x1f) == 0; /* DEVICE_REMOTE_WAKEUP */
    case 0x03:                   /* SET_FEATURE */
      if ((type & 0x1f) == 2 && value == 0)
        {
          priv->halted |= halt_bit ((guint8) windex);
          return TRUE;
        }
      return (type & 0x1f) == 0;
    case 0x05: /* SET_ADDRESS */
      return TRUE;
    case 0x06: /* GET_DESCRIPTOR */
      return (type & 0x80) != 0 && get_descriptor (priv, value >> 8, value & 0xff, in);
    case 0x08: /* GET_CONFIGURATION */
      g_byte_array_append (in, &priv->configuration, 1);
      return TRUE;
    case 0x09: /* SET_CONFIGURATION */
      if (value > 1)
        return FALSE;
      priv->configuration = (guint8) value;
      priv->halted = 0;
      return TRUE;
    case 0x0a: /* GET_INTERFACE */
      {
        guint8 alt = 0;
        g_byte_array_append (in, &alt, 1);
        return TRUE;
      }
    case 0x0b: /* SET_INTERFACE: alternate setting 0 only */
      return value == 0;
    default:
      return FALSE;
    }
}

gint32
usbip_virtual_device_control (UsbipVirtualDevice *self, const guint8 *setup, GBytes *out, GByteArray *in)
{
  UsbipVirtualDeviceClass *klass = USBIP_VIRTUAL_DEVICE_GET_CLASS (self);
  guint16 length = (guint16) (setup[6] | setup[7] << 8);
  gboolean ok;

  if ((setup[0] & 0x60) == 0)
    {
      ok = standard_request (self, setup, in);
      /* a standard request to an interface the base does not know (a HID class
       * descriptor) is the model's */
      if (!ok && (setup[0] & 0x1f) == 1 && klass->control != NULL)
        {
          g_byte_array_set_size (in, 0);
          ok = klass->control (self, setup, out, in);
        }
    }
  else
    ok = klass->control != NULL && klass->control (self, setup, out, in);
  if (!ok)
    return -EPIPE;
  if (in->len > length)
    g_byte_array_set_size (in, length);
  return 0;
}

void
usbip_virtual_device_submit (UsbipVirtualDevice *self, UsbipVirtualUrb *urb)
{
  UsbipVirtualDeviceClass *klass = USBIP_VIRTUAL_DEVICE_GET_CLASS (self);

  if (klass->submit == NULL)
    usbip_virtual_urb_complete (urb, -EPIPE, NULL, 0);
  else
    klass->submit (self, urb);
}

void
usbip_virtual_device_cancel (UsbipVirtualDevice *self, UsbipVirtualUrb *urb)
{
  UsbipVirtualDeviceClass *klass = USBIP_VIRTUAL_DEVICE_GET_CLASS (self);

  if (klass->cancel != NULL)
    klass->cancel (self, urb);
}

void
usbip_virtual_urb_free (UsbipVirtualUrb *urb)
{
  g_clear_pointer (&urb->out, g_bytes_unref);
  g_free (urb);
}
