/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* usbip-tool's output: upstream's human wording, or JSON Lines (schema in docs/json-schema.md). */

#include <usbipcore.h>

G_BEGIN_DECLS

#define USBIP_TOOL_JSON_SCHEMA 1

/* exit codes (docs/cli.md) */
enum {
  USBIP_TOOL_EXIT_OK = 0,
  USBIP_TOOL_EXIT_FAILURE = 1,
  USBIP_TOOL_EXIT_USAGE = 2,
  USBIP_TOOL_EXIT_NOT_FOUND = 3,
  USBIP_TOOL_EXIT_BUSY = 4,
  USBIP_TOOL_EXIT_NO_FREE_PORT = 5,
  USBIP_TOOL_EXIT_MODULE_MISSING = 6,
  USBIP_TOOL_EXIT_PERMISSION = 7,
  USBIP_TOOL_EXIT_NETWORK = 8,
  USBIP_TOOL_EXIT_PROTOCOL = 9,
};

typedef struct {
  gboolean json;
  gboolean parsable;
  GString *out;       /* everything written to stdout */
  GPtrArray *scratch; /* escaped strings, freed at the next flush */
} UsbipToolOutput;

/* @text escaped for a terminal (usbip_text_escape()), owned by @o until usbip_tool_flush() */
const gchar *usbip_tool_text (UsbipToolOutput *o, const gchar *text);
/* @message (an error's, or a line worded around one) for a terminal: as it is when printable,
 * since the library escaped the untrusted text in it, else escaped whole
 * (usbip_tools_message_text()); owned by @o until usbip_tool_flush() */
const gchar *usbip_tool_message (UsbipToolOutput *o, const gchar *message);
/* writes what was collected to stdout */
void usbip_tool_flush (UsbipToolOutput *o);

/* JSON members: a string (NULL writes null), an integer, a zero-padded lower-case hex string */
#include <json-glib/json-glib.h>
void usbip_tool_json_str (JsonBuilder *b, const gchar *key, const gchar *value);
void usbip_tool_json_int (JsonBuilder *b, const gchar *key, gint64 value);
void usbip_tool_json_hex (JsonBuilder *b, const gchar *key, guint value, guint width);
/* the members of a device object (docs/json-schema.md), into an object already begun */
void usbip_tool_json_device (JsonBuilder *b, const UsbipDeviceInfo *d);

/* names from usb.ids as upstream prints them: "Vendor : Product (vvvv:pppp)" and
 * "Class / Subclass / Protocol (cc/ss/pp)", "unknown ..." where usb.ids has none */
gchar *usbip_tool_device_names (guint16 vid, guint16 pid);
gchar *usbip_tool_class_names (guint8 c, guint8 s, guint8 p);

int usbip_tool_exit_code (const GError *error);
const gchar *usbip_tool_error_kind (const GError *error);

void usbip_tool_print_remote_devices (UsbipToolOutput *o, const gchar *host, GPtrArray *devices);
void usbip_tool_print_local_devices (UsbipToolOutput *o, GPtrArray *devices);
void usbip_tool_print_ports (UsbipToolOutput *o, GPtrArray *ports);
void usbip_tool_print_attached (UsbipToolOutput *o, const UsbipPortInfo *port, gboolean already_attached);
void usbip_tool_print_event (UsbipToolOutput *o, const gchar *type, const gchar *key, const gchar *value,
                             const gchar *human);
/* an event of `attach --auto-reconnect` or `events`; port, error: (nullable) */
void usbip_tool_print_port_event (UsbipToolOutput *o, const gchar *type, const gchar *ts, const UsbipPortInfo *port,
                                  guint attempt, guint delay_ms, const GError *error, const gchar *human);
void usbip_tool_print_error (UsbipToolOutput *o, const GError *error);

G_END_DECLS
