/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HID keyboard and mouse (HID 1.11, boot protocol, so any host and BIOS understands the
 * reports). Input comes from a FIFO: for the keyboard each line written is typed, one key
 * press and release per character, then Enter; for the mouse each line is `DX DY [BUTTONS
 * [WHEEL]]` (relative moves -127..127, BUTTONS a mask: 1 left, 2 right, 4 middle) and gives
 * one report, so a click is `0 0 1` then `0 0 0`. Reports wait in a queue (at most 4096)
 * until the host's interrupt IN transfers take them; while no client is attached, lines are
 * read and dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "usbip-virtual-hid.h"

#define EP_IN 0x81
#define KEYBOARD_REPORT 8
#define MOUSE_REPORT 4
#define MAX_REPORTS 4096
#define LINE_MAX_BYTES 4096

struct _UsbipVirtualHid {
  UsbipVirtualDevice parent_instance;
  gboolean keyboard;
  gchar *input;
  gint fd;
  gint keep_writer; /* our own writer: the FIFO never reports end-of-file */
  guint watch;
  GString *line;
  GByteArray *reports;
  GQueue waiting_in;
  guint8 idle, protocol;
};

G_DEFINE_FINAL_TYPE (UsbipVirtualHid, usbip_virtual_hid, USBIP_TYPE_VIRTUAL_DEVICE)

static const gchar *const keys[] = { "input", NULL };

static const guint8 device_descriptor[18] = {
  18, 1, 0x00, 0x02, 0x00, 0x00, 0x00, 64, 0x6b, 0x1d, 0x04, 0x01, 0x00, 0x01, 1, 2, 3, 1,
};

static const guint8 keyboard_report_descriptor[] = {
  0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
  0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01,
  0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06,
  0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
};

static const guint8 mouse_report_descriptor[] = {
  0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x01, 0xa1, 0x00, 0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15, 0x00,
  0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02, 0x95, 0x01, 0x75, 0x05, 0x81, 0x01, 0x05, 0x01, 0x09, 0x30,
  0x09, 0x31, 0x09, 0x38, 0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x03, 0x81, 0x06, 0xc0, 0xc0,
};

static const guint8 *
report_descriptor (UsbipVirtualHid *self, gsize *len)
{
  *len = self->keyboard ? sizeof keyboard_report_descriptor : sizeof mouse_report_descriptor;
  return self->keyboard ? keyboard_report_descriptor : mouse_report_descriptor;
}

static guint
report_size (UsbipVirtualHid *self)
{
  return self->keyboard ? KEYBOARD_REPORT : MOUSE_REPORT;
}

/* US layout: the usage of @c and whether it needs shift; 0 if no key types it */
static guint8
key_usage (gchar c, gboolean *shift)
{
  static const gchar plain[] = "-=[]\\\0;'`,./";
  static const gchar shifted[] = "_+{}|\0:\"~<>?";
  static const gchar digits_shifted[] = ")!@#$%^&*(";
  const gchar *p;

  *shift = FALSE;
  if (c >= 'a' && c <= 'z')
    return (guint8) (0x04 + c - 'a');
  if (c >= 'A' && c <= 'Z')
    {
      *shift = TRUE;
      return (guint8) (0x04 + c - 'A');
    }
  if (c >= '1' && c <= '9')
    return (guint8) (0x1e + c - '1');
  if (c == '0')
    return 0x27;
  if (c == ' ')
    return 0x2c;
  if (c == '\t')
    return 0x2b;
  if (c == '\n')
    return 0x28;
  if (c != '\0' && (p = memchr (digits_shifted, c, sizeof digits_shifted - 1)) != NULL)
    {
      *shift = TRUE;
      return p == digits_shifted ? 0x27 : (guint8) (0x1e + (p - digits_shifted) - 1);
    }
  if (c != '\0' && (p = memchr (plain, c, sizeof plain - 1)) != NULL)
    return (guint8) (0x2d + (p - plain));
  if (c != '\0' && (p = memchr (shifted, c, sizeof shifted - 1)) != NULL)
    {
      *shift = TRUE;
      return (guint8) (0x2d + (p - shifted));
    }
  return 0;
}

gboolean
usbip_virtual_hid_parse_line (gboolean keyboard, const gchar *line, GByteArray *reports)
{
  if (keyboard)
    {
      g_autofree gchar *typed = g_strconcat (line, "\n", NULL);
      for (const gchar *c = typed; *c != '\0'; c++)
        {
          gboolean shift;
          guint8 usage = key_usage (*c, &shift);
          guint8 press[KEYBOARD_REPORT] = { shift ? 0x02 : 0x00, 0, usage };
          static const guint8 release[KEYBOARD_REPORT] = { 0 };

          if (usage == 0)
            continue;
          g_byte_array_append (reports, press, sizeof press);
          g_byte_array_append (reports, release, sizeof release);
        }
      return TRUE;
    }
  else
    {
      g_autofree gchar *stripped = g_strstrip (g_strdup (line));
      g_auto (GStrv) words = g_strsplit_set (stripped, " \t", -1);
      gint64 v[4] = { 0, 0, 0, 0 };
      guint8 report[MOUSE_REPORT];
      guint n = 0;

      for (guint i = 0; words[i] != NULL; i++)
        {
          if (*words[i] == '\0')
            continue;
          if (n == 4 || !g_ascii_string_to_signed (words[i], 10, -1000000, 1000000, &v[n], NULL))
            return FALSE;
          n++;
        }
      if (n < 2)
        return FALSE;
      report[0] = (guint8) (CLAMP (v[2], 0, 7));
      report[1] = (guint8) (gint8) CLAMP (v[0], -127, 127);
      report[2] = (guint8) (gint8) CLAMP (v[1], -127, 127);
      report[3] = (guint8) (gint8) CLAMP (v[3], -127, 127);
      g_byte_array_append (reports, report, sizeof report);
      return TRUE;
    }
}

static void
serve_in (UsbipVirtualHid *self)
{
  guint size = report_size (self);

  while (self->reports->len >= size && !g_queue_is_empty (&self->waiting_in))
    {
      usbip_virtual_urb_complete (g_queue_pop_head (&self->waiting_in), 0, self->reports->data, size);
      g_byte_array_remove_range (self->reports, 0, size);
    }
}

static void
take_line (UsbipVirtualHid *self, const gchar *line)
{
  if (usbip_virtual_device_get_session (USBIP_VIRTUAL_DEVICE (self)) == NULL)
    return;
  if (self->reports->len >= MAX_REPORTS * report_size (self))
    {
      g_message ("virtual %s %s: %u reports wait for the host already: input line dropped",
                 self->keyboard ? "keyboard" : "mouse", usbip_virtual_device_get_busid (USBIP_VIRTUAL_DEVICE (self)),
                 (guint) MAX_REPORTS);
      return;
    }
  if (!usbip_virtual_hid_parse_line (self->keyboard, line, self->reports))
    g_message ("virtual mouse %s: \"%s\" is not DX DY [BUTTONS [WHEEL]]: ignored",
               usbip_virtual_device_get_busid (USBIP_VIRTUAL_DEVICE (self)), line);
}

static gboolean
fifo_readable (gint fd, GIOCondition condition, gpointer data)
{
  UsbipVirtualHid *self = data;
  gchar buf[1024];
  gssize n;

  while ((n = read (fd, buf, sizeof buf)) > 0)
    for (gssize i = 0; i < n; i++)
      {
        if (buf[i] == '\n')
          {
            take_line (self, self->line->str);
            g_string_truncate (self->line, 0);
          }
        else if (self->line->len < LINE_MAX_BYTES)
          g_string_append_c (self->line, buf[i]);
      }
  serve_in (self);
  return G_SOURCE_CONTINUE;
}

static void
hid_submit (UsbipVirtualDevice *device, UsbipVirtualUrb *urb)
{
  UsbipVirtualHid *self = USBIP_VIRTUAL_HID (device);

  g_queue_push_tail (&self->waiting_in, urb);
  serve_in (self);
}

static void
hid_cancel (UsbipVirtualDevice *device, UsbipVirtualUrb *urb)
{
  g_queue_remove (&USBIP_VIRTUAL_HID (device)->waiting_in, urb);
}

static void
hid_detached (UsbipVirtualDevice *device)
{
  g_byte_array_set_size (USBIP_VIRTUAL_HID (device)->reports, 0);
}

static gboolean
hid_control (UsbipVirtualDevice *device, const guint8 *setup, GBytes *out, GByteArray *in)
{
  UsbipVirtualHid *self = USBIP_VIRTUAL_HID (device);
  gsize len;
  const guint8 *desc = report_descriptor (self, &len);

  if (setup[0] == 0x81 && setup[1] == 0x06 && setup[3] == 0x22) /* GET_DESCRIPTOR(REPORT) */
    {
      g_byte_array_append (in, desc, (guint) len);
      return TRUE;
    }
  switch (setup[0] << 8 | setup[1])
    {
    case 0xa101: /* GET_REPORT: nothing pressed */
      g_byte_array_set_size (in, report_size (self));
      memset (in->data, 0, in->len);
      return TRUE;
    case 0xa102: /* GET_IDLE */
      g_byte_array_append (in, &self->idle, 1);
      return TRUE;
    case 0xa103: /* GET_PROTOCOL */
      g_byte_array_append (in, &self->protocol, 1);
      return TRUE;
    case 0x2109: /* SET_REPORT: the keyboard's LEDs */
      return TRUE;
    case 0x210a: /* SET_IDLE */
      self->idle = setup[3];
      return TRUE;
    case 0x210b: /* SET_PROTOCOL: boot and report protocols are the same reports here */
      self->protocol = setup[2];
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
open_fifo (UsbipVirtualHid *self, const gchar *group, GError **error)
{
  struct stat st;

  if (mkfifo (self->input, 0620) != 0 && errno != EEXIST)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] input=%s: cannot create the FIFO: %s", group,
                   self->input, g_strerror (errno));
      return FALSE;
    }
  if (stat (self->input, &st) != 0 || !S_ISFIFO (st.st_mode))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[%s] input=%s: exists and is not a FIFO: remove it or name another path", group, self->input);
      return FALSE;
    }
  self->fd = open (self->input, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  self->keep_writer = self->fd >= 0 ? open (self->input, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;
  if (self->fd < 0 || self->keep_writer < 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] input=%s: cannot open the FIFO: %s", group,
                   self->input, g_strerror (errno));
      return FALSE;
    }
  self->watch = g_unix_fd_add (self->fd, G_IO_IN, fifo_readable, self);
  return TRUE;
}

/* a check: the FIFO could be made (or is one) and opened, with the errors open_fifo()
 * gives; nothing is created or opened */
static gboolean
check_fifo (UsbipVirtualHid *self, const gchar *group, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (self->input);
  struct stat st;

  if (stat (self->input, &st) != 0)
    {
      /* mkfifo's errors: ENOENT without the directory, EACCES or EROFS when it is not writable */
      if (errno == ENOENT && access (dir, W_OK | X_OK) == 0)
        return TRUE;
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] input=%s: cannot create the FIFO: %s", group,
                   self->input, g_strerror (errno));
      return FALSE;
    }
  if (!S_ISFIFO (st.st_mode))
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[%s] input=%s: exists and is not a FIFO: remove it or name another path", group, self->input);
      return FALSE;
    }
  if (access (self->input, R_OK | W_OK) != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] input=%s: cannot open the FIFO: %s", group,
                   self->input, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
hid_configure (UsbipVirtualDevice *device, GKeyFile *kf, const gchar *group, GError **error)
{
  UsbipVirtualHid *self = USBIP_VIRTUAL_HID (device);
  g_autofree gchar *type = g_key_file_get_string (kf, group, "type", NULL);
  guint8 config[34] = {
    9, 2,    34,   0,    1, 1,    0,    0xa0, 50,                             /* remote wakeup, 100 mA */
    9, 4,    0,    0,    1, 0x03, 0x01, 0x01, 0,                              /* HID, boot interface, keyboard */
    9, 0x21, 0x11, 0x01, 0, 1,    0x22, 0,    0,  7, 5, EP_IN, 0x03, 8, 0, 7, /* interrupt IN, 8 bytes, every 8 ms */
  };
  const gchar *strings[] = { "usbipcore", NULL, usbip_virtual_device_get_name (device), NULL };
  gsize len;

  self->keyboard = g_strcmp0 (type, "hid-keyboard") == 0;
  report_descriptor (self, &len);
  config[9 + 7] = self->keyboard ? 0x01 : 0x02;
  config[18 + 7] = (guint8) len;
  strings[1] = self->keyboard ? "Virtual Keyboard" : "Virtual Mouse";
  self->input = g_key_file_get_string (kf, group, "input", NULL);
  if (self->input == NULL || *self->input == '\0')
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[%s]: a %s needs input=PATH: the FIFO the daemon creates for its input lines", group, type);
      return FALSE;
    }
  if (!(usbip_virtual_device_is_check_only (device) ? check_fifo (self, group, error) : open_fifo (self, group, error)))
    return FALSE;
  usbip_virtual_device_set_descriptors (device, device_descriptor, sizeof device_descriptor, config, sizeof config,
                                        strings);
  return TRUE;
}

static void
usbip_virtual_hid_finalize (GObject *object)
{
  UsbipVirtualHid *self = USBIP_VIRTUAL_HID (object);

  g_clear_handle_id (&self->watch, g_source_remove);
  if (self->fd >= 0)
    close (self->fd);
  if (self->keep_writer >= 0)
    close (self->keep_writer);
  g_free (self->input);
  g_string_free (self->line, TRUE);
  g_byte_array_unref (self->reports);
  g_queue_clear (&self->waiting_in);
  G_OBJECT_CLASS (usbip_virtual_hid_parent_class)->finalize (object);
}

static void
usbip_virtual_hid_class_init (UsbipVirtualHidClass *klass)
{
  UsbipVirtualDeviceClass *device_class = USBIP_VIRTUAL_DEVICE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = usbip_virtual_hid_finalize;
  device_class->keys = keys;
  device_class->configure = hid_configure;
  device_class->control = hid_control;
  device_class->submit = hid_submit;
  device_class->cancel = hid_cancel;
  device_class->detached = hid_detached;
}

static void
usbip_virtual_hid_init (UsbipVirtualHid *self)
{
  self->fd = -1;
  self->keep_writer = -1;
  self->protocol = 1;
  self->line = g_string_new (NULL);
  self->reports = g_byte_array_new ();
  g_queue_init (&self->waiting_in);
}
