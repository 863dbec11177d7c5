/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "usbip-tool-output.h"
#include "usbip-tools-text.h"
#include "usbip-tools-usb-ids.h"

gchar *
usbip_tool_device_names (guint16 vid, guint16 pid)
{
  const guint ids[] = { vid, pid };
  g_autofree gchar *vendor = usbip_tools_usb_ids_lookup ("", 4, ids, 0);
  g_autofree gchar *product = vendor != NULL ? usbip_tools_usb_ids_lookup ("", 4, ids, 1) : NULL;

  return g_strdup_printf ("%s : %s (%04x:%04x)", vendor ? vendor : "unknown vendor",
                          product ? product : "unknown product", vid, pid);
}

gchar *
usbip_tool_class_names (guint8 c, guint8 s, guint8 p)
{
  const guint ids[] = { c, s, p };
  g_autofree gchar *cn = NULL, *sn = NULL, *pn = NULL;

  if (c == 0 && s == 0 && p == 0)
    return g_strdup ("(Defined at Interface level) (00/00/00)");
  cn = usbip_tools_usb_ids_lookup ("C ", 2, ids, 0);
  sn = cn != NULL ? usbip_tools_usb_ids_lookup ("C ", 2, ids, 1) : NULL;
  pn = sn != NULL ? usbip_tools_usb_ids_lookup ("C ", 2, ids, 2) : NULL;
  return g_strdup_printf ("%s / %s / %s (%02x/%02x/%02x)", cn ? cn : "unknown class", sn ? sn : "unknown subclass",
                          pn ? pn : "unknown protocol", c, s, p);
}

static const gchar *
keep (UsbipToolOutput *o, gchar *text)
{
  if (o->scratch == NULL)
    o->scratch = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (o->scratch, text);
  return text;
}

const gchar *
usbip_tool_text (UsbipToolOutput *o, const gchar *text)
{
  return text != NULL ? keep (o, usbip_text_escape (text, -1)) : NULL;
}

const gchar *
usbip_tool_message (UsbipToolOutput *o, const gchar *message)
{
  return message != NULL ? keep (o, usbip_tools_message_text (message)) : NULL;
}

void
usbip_tool_flush (UsbipToolOutput *o)
{
  fputs (o->out->str, stdout);
  fflush (stdout);
  g_string_truncate (o->out, 0);
  if (o->scratch != NULL)
    g_ptr_array_set_size (o->scratch, 0);
}

int
usbip_tool_exit_code (const GError *error)
{
  if (error == NULL)
    return USBIP_TOOL_EXIT_OK;
  if (error->domain != USBIP_ERROR)
    return USBIP_TOOL_EXIT_FAILURE;
  switch (error->code)
    {
    case USBIP_ERROR_INVALID_ARGUMENT:
    case USBIP_ERROR_CONFIG:
      return USBIP_TOOL_EXIT_USAGE;
    case USBIP_ERROR_NOT_FOUND:
    case USBIP_ERROR_NO_DEVICE:
      return USBIP_TOOL_EXIT_NOT_FOUND;
    case USBIP_ERROR_BUSY:
    case USBIP_ERROR_DEVICE_BUSY:
      return USBIP_TOOL_EXIT_BUSY;
    case USBIP_ERROR_NO_FREE_PORT:
      return USBIP_TOOL_EXIT_NO_FREE_PORT;
    case USBIP_ERROR_MODULE_MISSING:
      return USBIP_TOOL_EXIT_MODULE_MISSING;
    case USBIP_ERROR_PERMISSION:
    case USBIP_ERROR_DENIED:
      return USBIP_TOOL_EXIT_PERMISSION;
    case USBIP_ERROR_CONNECTION:
    case USBIP_ERROR_TIMEOUT:
      return USBIP_TOOL_EXIT_NETWORK;
    case USBIP_ERROR_PROTOCOL:
    case USBIP_ERROR_VERSION:
    case USBIP_ERROR_UNKNOWN_OPCODE:
      return USBIP_TOOL_EXIT_PROTOCOL;
    default:
      return USBIP_TOOL_EXIT_FAILURE;
    }
}

const gchar *
usbip_tool_error_kind (const GError *error)
{
  static const gchar *const kinds[] = {
    [USBIP_TOOL_EXIT_FAILURE] = "failure",           [USBIP_TOOL_EXIT_USAGE] = "usage",
    [USBIP_TOOL_EXIT_NOT_FOUND] = "not-found",       [USBIP_TOOL_EXIT_BUSY] = "busy",
    [USBIP_TOOL_EXIT_NO_FREE_PORT] = "no-free-port", [USBIP_TOOL_EXIT_MODULE_MISSING] = "module-missing",
    [USBIP_TOOL_EXIT_PERMISSION] = "permission",     [USBIP_TOOL_EXIT_NETWORK] = "network",
    [USBIP_TOOL_EXIT_PROTOCOL] = "protocol",
  };
  int code = usbip_tool_exit_code (error);

  return code > 0 && code < (int) G_N_ELEMENTS (kinds) ? kinds[code] : "failure";
}

/* ---- JSON ---- */

static JsonBuilder *
json_begin (const gchar *type)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schema");
  json_builder_add_int_value (b, USBIP_TOOL_JSON_SCHEMA);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  return b;
}

static void
json_end (UsbipToolOutput *o, JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;

  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_string_append_printf (o->out, "%s\n", text);
  g_object_unref (b);
}

void
usbip_tool_json_str (JsonBuilder *b, const gchar *k, const gchar *v)
{
  json_builder_set_member_name (b, k);
  if (v != NULL && !g_utf8_validate (v, -1, NULL))
    {
      /* bytes from a peer or a capture that are not UTF-8 would make the line invalid JSON */
      g_autofree gchar *escaped = usbip_text_escape (v, -1);
      json_builder_add_string_value (b, escaped);
    }
  else if (v != NULL)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

void
usbip_tool_json_int (JsonBuilder *b, const gchar *k, gint64 v)
{
  json_builder_set_member_name (b, k);
  json_builder_add_int_value (b, v);
}

void
usbip_tool_json_hex (JsonBuilder *b, const gchar *k, guint v, guint width)
{
  g_autofree gchar *s = g_strdup_printf ("%0*x", (int) width, v);
  usbip_tool_json_str (b, k, s);
}

void
usbip_tool_json_device (JsonBuilder *b, const UsbipDeviceInfo *d)
{
  usbip_tool_json_str (b, "busid", d->busid);
  usbip_tool_json_str (b, "path", d->path);
  usbip_tool_json_int (b, "busnum", d->busnum);
  usbip_tool_json_int (b, "devnum", d->devnum);
  usbip_tool_json_str (b, "speed", usbip_speed_to_nick (d->speed));
  usbip_tool_json_hex (b, "vendor_id", d->idVendor, 4);
  usbip_tool_json_hex (b, "product_id", d->idProduct, 4);
  usbip_tool_json_hex (b, "bcd_device", d->bcdDevice, 4);
  usbip_tool_json_hex (b, "device_class", d->bDeviceClass, 2);
  usbip_tool_json_hex (b, "device_subclass", d->bDeviceSubClass, 2);
  usbip_tool_json_hex (b, "device_protocol", d->bDeviceProtocol, 2);
  usbip_tool_json_int (b, "configuration_value", d->bConfigurationValue);
  usbip_tool_json_int (b, "num_configurations", d->bNumConfigurations);
  json_builder_set_member_name (b, "interfaces");
  json_builder_begin_array (b);
  for (guint i = 0; i < d->bNumInterfaces && i < USBIP_MAX_INTERFACES; i++)
    {
      json_builder_begin_object (b);
      usbip_tool_json_hex (b, "class", d->interfaces[i].bInterfaceClass, 2);
      usbip_tool_json_hex (b, "subclass", d->interfaces[i].bInterfaceSubClass, 2);
      usbip_tool_json_hex (b, "protocol", d->interfaces[i].bInterfaceProtocol, 2);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* ---- human ---- */

static void
class_line (GString *out, const gchar *lead, guint8 c, guint8 s, guint8 p)
{
  g_autofree gchar *names = usbip_tool_class_names (c, s, p);
  g_autofree gchar *shown = usbip_text_escape (names, -1);

  g_string_append_printf (out, "%s%s\n", lead, shown);
}

void
usbip_tool_print_remote_devices (UsbipToolOutput *o, const gchar *host, GPtrArray *devices)
{
  if (o->json)
    {
      for (guint i = 0; i < devices->len; i++)
        {
          JsonBuilder *b = json_begin ("remote-device");
          usbip_tool_json_str (b, "host", host);
          usbip_tool_json_device (b, g_ptr_array_index (devices, i));
          json_end (o, b);
        }
      return;
    }
  if (devices->len == 0)
    return; /* the caller prints upstream's "no exportable devices found" note */
  g_string_append (o->out, "Exportable USB devices\n======================\n");
  g_string_append_printf (o->out, " - %s\n", usbip_tool_text (o, host));
  for (guint i = 0; i < devices->len; i++)
    {
      const UsbipDeviceInfo *d = g_ptr_array_index (devices, i);
      g_autofree gchar *names = usbip_tool_device_names (d->idVendor, d->idProduct);

      g_string_append_printf (o->out, "%11s: %s\n", usbip_tool_text (o, d->busid), usbip_tool_text (o, names));
      g_string_append_printf (o->out, "%11s: %s\n", "", usbip_tool_text (o, d->path));
      class_line (o->out, "           : ", d->bDeviceClass, d->bDeviceSubClass, d->bDeviceProtocol);
      for (guint j = 0; j < d->bNumInterfaces && j < USBIP_MAX_INTERFACES; j++)
        {
          g_autofree gchar *lead = g_strdup_printf ("           : %2u - ", j);
          class_line (o->out, lead, d->interfaces[j].bInterfaceClass, d->interfaces[j].bInterfaceSubClass,
                      d->interfaces[j].bInterfaceProtocol);
        }
      g_string_append (o->out, "\n");
    }
}

void
usbip_tool_print_local_devices (UsbipToolOutput *o, GPtrArray *devices)
{
  for (guint i = 0; i < devices->len; i++)
    {
      const UsbipDeviceInfo *d = g_ptr_array_index (devices, i);
      g_autofree gchar *names = usbip_tool_device_names (d->idVendor, d->idProduct);

      if (o->json)
        {
          JsonBuilder *b = json_begin ("local-device");
          usbip_tool_json_device (b, d);
          json_builder_set_member_name (b, "exported");
          json_builder_add_boolean_value (b, d->status != USBIP_DEVICE_STATUS_UNKNOWN);
          /* a device in use is left out of OP_REP_DEVLIST (as upstream): here it shows */
          json_builder_set_member_name (b, "export_state");
          if (d->status == USBIP_DEVICE_STATUS_UNKNOWN)
            json_builder_add_null_value (b);
          else
            json_builder_add_string_value (b, d->status == USBIP_DEVICE_STATUS_AVAILABLE ? "available"
                                              : d->status == USBIP_DEVICE_STATUS_USED    ? "in-use"
                                                                                         : "error");
          json_end (o, b);
        }
      else if (o->parsable)
        g_string_append_printf (o->out, "busid=%s#usbid=%04x:%04x#\n", usbip_tool_text (o, d->busid), d->idVendor,
                                d->idProduct);
      else
        g_string_append_printf (o->out, " - busid %s (%04x:%04x)\n   %s\n\n", usbip_tool_text (o, d->busid),
                                d->idVendor, d->idProduct, usbip_tool_text (o, names));
    }
}

void
usbip_tool_print_ports (UsbipToolOutput *o, GPtrArray *ports)
{
  if (!o->json)
    g_string_append (o->out, "Imported USB devices\n====================\n");
  for (guint i = 0; i < ports->len; i++)
    {
      const UsbipPortInfo *p = g_ptr_array_index (ports, i);
      g_autoptr (UsbipRemote) remote = NULL;

      if (p->status == USBIP_PORT_STATUS_NULL)
        continue;
      if (o->json)
        {
          JsonBuilder *b = json_begin ("port");
          usbip_tool_json_int (b, "port", p->port);
          usbip_tool_json_str (b, "hub", p->hub == USBIP_HUB_SPEED_SUPER ? "ss" : "hs");
          usbip_tool_json_str (b, "status",
                               p->status == USBIP_PORT_STATUS_USED    ? "used"
                               : p->status == USBIP_PORT_STATUS_ERROR ? "error"
                                                                      : "not-assigned");
          usbip_tool_json_str (b, "speed", usbip_speed_to_nick (p->speed));
          usbip_tool_json_int (b, "remote_busnum", p->devid >> 16);
          usbip_tool_json_int (b, "remote_devnum", p->devid & 0xffff);
          usbip_tool_json_str (b, "local_busid", p->local_busid[0] ? p->local_busid : NULL);
          usbip_tool_json_str (b, "remote_host", p->remote_host);
          usbip_tool_json_str (b, "remote_port", p->remote_port);
          usbip_tool_json_str (b, "remote_busid", p->remote_busid);
          json_end (o, b);
          continue;
        }
      g_string_append_printf (o->out, "Port %02u: <%s> at %s\n", p->port,
                              p->status == USBIP_PORT_STATUS_USED    ? "Port in Use"
                              : p->status == USBIP_PORT_STATUS_ERROR ? "Port Error"
                                                                     : "Not Assigned",
                              usbip_speed_to_string (p->speed));
      if (p->local_busid[0])
        {
          /* the imported device as it enumerated here, as upstream shows it */
          UsbipSysfs *sysfs = usbip_sysfs_get_default ();
          g_autofree gchar *vid_path = g_strdup_printf ("/sys/bus/usb/devices/%s/idVendor", p->local_busid);
          g_autofree gchar *pid_path = g_strdup_printf ("/sys/bus/usb/devices/%s/idProduct", p->local_busid);
          guint64 vid, pid;

          if (usbip_sysfs_read_uint (sysfs, vid_path, 16, &vid, NULL)
              && usbip_sysfs_read_uint (sysfs, pid_path, 16, &pid, NULL))
            {
              g_autofree gchar *names = usbip_tool_device_names ((guint16) vid, (guint16) pid);
              g_string_append_printf (o->out, "       %s\n", usbip_tool_text (o, names));
            }
        }
      if (p->remote_host != NULL && (remote = usbip_remote_from_record (p->remote_host, p->remote_port)) != NULL
          && g_strcmp0 (remote->scheme, USBIP_REMOTE_SCHEME_TCP) != 0)
        {
          /* unix:/path, vsock:CID:PORT: the record's host carries the scheme */
          g_autofree gchar *where = usbip_remote_to_string (remote);
          g_string_append_printf (
              o->out, "       %s -> usbip://%s/%s\n", usbip_tool_text (o, p->local_busid[0] ? p->local_busid : "?"),
              usbip_tool_text (o, where), usbip_tool_text (o, p->remote_busid ? p->remote_busid : "?"));
        }
      else if (p->remote_host != NULL) /* as upstream prints it */
        g_string_append_printf (
            o->out, "       %s -> usbip://%s:%s/%s\n", usbip_tool_text (o, p->local_busid[0] ? p->local_busid : "?"),
            usbip_tool_text (o, p->remote_host), usbip_tool_text (o, p->remote_port ? p->remote_port : "3240"),
            usbip_tool_text (o, p->remote_busid ? p->remote_busid : "?"));
      else
        g_string_append_printf (o->out, "       %s -> unknown host, remote port and remote busid\n",
                                usbip_tool_text (o, p->local_busid[0] ? p->local_busid : "?"));
      g_string_append_printf (o->out, "           -> remote bus/dev %03u/%03u\n", p->devid >> 16, p->devid & 0xffff);
    }
}

void
usbip_tool_print_attached (UsbipToolOutput *o, const UsbipPortInfo *p, gboolean already_attached)
{
  if (o->json)
    {
      JsonBuilder *b = json_begin ("attached");
      usbip_tool_json_int (b, "port", p->port);
      usbip_tool_json_str (b, "speed", usbip_speed_to_nick (p->speed));
      usbip_tool_json_str (b, "remote_host", p->remote_host);
      usbip_tool_json_str (b, "remote_port", p->remote_port);
      usbip_tool_json_str (b, "remote_busid", p->remote_busid);
      json_builder_set_member_name (b, "already_attached");
      json_builder_add_boolean_value (b, already_attached);
      json_end (o, b);
    }
  else if (already_attached) /* upstream fails here; we name the port that carries it */
    g_string_append_printf (o->out, "%s from %s is already attached on port %u\n", usbip_tool_text (o, p->remote_busid),
                            usbip_tool_text (o, p->remote_host), p->port);
  /* a new attachment: upstream prints nothing on success; scripts check the exit status */
}

void
usbip_tool_print_event (UsbipToolOutput *o, const gchar *type, const gchar *key, const gchar *value, const gchar *human)
{
  if (o->json)
    {
      JsonBuilder *b = json_begin (type);
      if (key != NULL)
        usbip_tool_json_str (b, key, value);
      json_end (o, b);
    }
  else if (human != NULL)
    g_printerr ("usbip-tool: info: %s\n", usbip_tool_text (o, human)); /* upstream writes these notes to stderr */
}

void
usbip_tool_print_error (UsbipToolOutput *o, const GError *error)
{
  if (o->json)
    {
      JsonBuilder *b = json_begin ("error");
      usbip_tool_json_str (b, "kind", usbip_tool_error_kind (error));
      usbip_tool_json_int (b, "exit_code", usbip_tool_exit_code (error));
      usbip_tool_json_str (b, "message", error->message);
      json_end (o, b);
    }
}

void
usbip_tool_print_port_event (UsbipToolOutput *o, const gchar *type, const gchar *ts, const UsbipPortInfo *port,
                             guint attempt, guint delay_ms, const GError *error, const gchar *human)
{
  if (!o->json)
    {
      g_string_append_printf (o->out, "%s %s\n", ts, usbip_tool_message (o, human));
      return;
    }
  {
    JsonBuilder *b = json_begin ("event");
    usbip_tool_json_str (b, "event", type);
    usbip_tool_json_str (b, "ts", ts);
    if (port != NULL)
      {
        usbip_tool_json_int (b, "port", port->port);
        usbip_tool_json_str (b, "remote_host", port->remote_host);
        usbip_tool_json_str (b, "remote_port", port->remote_port);
        usbip_tool_json_str (b, "remote_busid", port->remote_busid);
        usbip_tool_json_str (b, "local_busid", port->local_busid[0] ? port->local_busid : NULL);
      }
    if (attempt > 0)
      {
        usbip_tool_json_int (b, "attempt", attempt);
        usbip_tool_json_int (b, "delay_ms", delay_ms);
      }
    if (error != NULL)
      {
        usbip_tool_json_str (b, "kind", usbip_tool_error_kind (error));
        usbip_tool_json_str (b, "message", error->message);
      }
    json_end (o, b);
  }
}
