/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CDC ACM (USB CDC 1.2, PSTN subclass): a communication interface with an interrupt
 * notification endpoint and a data interface with bulk IN/OUT. SET_LINE_CODING,
 * GET_LINE_CODING and SET_CONTROL_LINE_STATE are answered; in pty mode the line coding
 * (speed, bits, parity, stop bits) is applied to the pseudo-terminal, so a program on the
 * pty side sees what the USB host set. Data the host sends goes to the pty (or straight
 * back, in loopback mode); data for the host waits in a bounded buffer until the host
 * reads (bulk IN transfers stay pending while there is nothing to read).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>

#include "usbip-virtual-cdc-acm.h"

#define EP_NOTIFY 0x83
#define EP_IN 0x81
#define EP_OUT 0x02
#define BUFFER_MAX 65536

struct _UsbipVirtualCdcAcm {
  UsbipVirtualDevice parent_instance;
  gboolean loopback;
  gint master; /* pty mode */
  gint slave;  /* held open so the master never sees a hang-up */
  gchar *pty;
  guint read_watch;
  guint write_watch;
  GByteArray *to_host; /* for bulk IN */
  GByteArray *to_pty;  /* pty mode: not yet written */
  GQueue waiting_in;   /* UsbipVirtualUrb* on bulk IN */
  GQueue waiting_out;  /* OUT transfers held while the buffer is full */
  guint8 line_coding[7];
};

G_DEFINE_FINAL_TYPE (UsbipVirtualCdcAcm, usbip_virtual_cdc_acm, USBIP_TYPE_VIRTUAL_DEVICE)

static const gchar *const keys[] = { "mode", NULL };

static const guint8 device_descriptor[18] = {
  18,   1,    0x00, 0x02, 0x02, 0x00, 0x00, 64, /* USB 2.0, communications class */
  0x6b, 0x1d, 0x04, 0x01, 0x00, 0x01,           /* 1d6b:0104, release 1.00 */
  1,    2,    3,    1,
};

static const guint8 config_descriptor[] = {
  9, 2,    67,        0,    2,    1,    0,    0x80, 250,
  9, 4,    0,         0,    1,    0x02, 0x02, 0x01, 0, /* communication: ACM, AT commands */
  5, 0x24, 0x00,      0x10, 0x01,                      /* header, CDC 1.10 */
  5, 0x24, 0x01,      0x00, 0x01,                      /* call management: data interface 1 */
  4, 0x24, 0x02,      0x02,                            /* ACM: line coding and serial state */
  5, 0x24, 0x06,      0x00, 0x01,                      /* union: control 0, data 1 */
  7, 5,    EP_NOTIFY, 0x03, 16,   0,    9,             /* interrupt IN, 16 bytes */
  9, 4,    1,         0,    2,    0x0a, 0x00, 0x00, 0, /* data */
  7, 5,    EP_IN,     0x02, 0x00, 0x02, 0,             /* bulk IN, 512 bytes */
  7, 5,    EP_OUT,    0x02, 0x00, 0x02, 0,             /* bulk OUT, 512 bytes */
};

const gchar *
usbip_virtual_cdc_acm_get_pty (UsbipVirtualCdcAcm *self)
{
  return self->pty;
}

static void take_out (UsbipVirtualCdcAcm *self, UsbipVirtualUrb *urb);
static void watch_pty (UsbipVirtualCdcAcm *self);

/* bulk IN transfers get what is buffered for the host */
static void
serve_in (UsbipVirtualCdcAcm *self)
{
  while (self->to_host->len > 0 && !g_queue_is_empty (&self->waiting_in))
    {
      UsbipVirtualUrb *urb = g_queue_pop_head (&self->waiting_in);
      guint n = MIN (self->to_host->len, urb->length);

      usbip_virtual_urb_complete (urb, 0, self->to_host->data, n);
      g_byte_array_remove_range (self->to_host, 0, n);
    }
  /* room again: held OUT transfers and the pty reader resume */
  while (!g_queue_is_empty (&self->waiting_out) && self->loopback && self->to_host->len < BUFFER_MAX)
    take_out (self, g_queue_pop_head (&self->waiting_out));
  watch_pty (self);
}

static gboolean
pty_readable (gint fd, GIOCondition condition, gpointer data)
{
  UsbipVirtualCdcAcm *self = data;
  guint8 buf[4096];
  gssize n = read (fd, buf, MIN (sizeof buf, BUFFER_MAX - self->to_host->len));

  if (n > 0 && usbip_virtual_device_get_session (USBIP_VIRTUAL_DEVICE (self)) != NULL)
    g_byte_array_append (self->to_host, buf, (guint) n);
  self->read_watch = 0;
  serve_in (self);
  return G_SOURCE_REMOVE;
}

static gboolean
pty_writable (gint fd, GIOCondition condition, gpointer data)
{
  UsbipVirtualCdcAcm *self = data;
  gssize n = write (fd, self->to_pty->data, self->to_pty->len);

  if (n > 0)
    g_byte_array_remove_range (self->to_pty, 0, (guint) n);
  self->write_watch = 0;
  while (!g_queue_is_empty (&self->waiting_out) && self->to_pty->len < BUFFER_MAX)
    take_out (self, g_queue_pop_head (&self->waiting_out));
  watch_pty (self);
  return G_SOURCE_REMOVE;
}

static void
watch_pty (UsbipVirtualCdcAcm *self)
{
  if (self->master < 0)
    return;
  if (self->read_watch == 0 && self->to_host->len < BUFFER_MAX)
    self->read_watch = g_unix_fd_add (self->master, G_IO_IN, pty_readable, self);
  if (self->write_watch == 0 && self->to_pty->len > 0)
    self->write_watch = g_unix_fd_add (self->master, G_IO_OUT, pty_writable, self);
}

/* an OUT transfer's data: to the pty, or back to the host */
static void
take_out (UsbipVirtualCdcAcm *self, UsbipVirtualUrb *urb)
{
  gsize len = 0;
  const guint8 *d = urb->out != NULL ? g_bytes_get_data (urb->out, &len) : NULL;
  GByteArray *target = self->loopback ? self->to_host : self->to_pty;

  if (target->len >= BUFFER_MAX)
    {
      g_queue_push_tail (&self->waiting_out, urb);
      return;
    }
  if (len > 0)
    g_byte_array_append (target, d, (guint) len);
  usbip_virtual_urb_complete (urb, 0, NULL, len);
}

static void
cdc_acm_submit (UsbipVirtualDevice *device, UsbipVirtualUrb *urb)
{
  UsbipVirtualCdcAcm *self = USBIP_VIRTUAL_CDC_ACM (device);

  if (urb->endpoint == EP_NOTIFY)
    return; /* no serial state changes to notify: stays pending until unlinked */
  if (urb->endpoint == EP_IN)
    g_queue_push_tail (&self->waiting_in, urb);
  else
    take_out (self, urb);
  serve_in (self);
}

static void
cdc_acm_cancel (UsbipVirtualDevice *device, UsbipVirtualUrb *urb)
{
  UsbipVirtualCdcAcm *self = USBIP_VIRTUAL_CDC_ACM (device);

  g_queue_remove (&self->waiting_in, urb);
  g_queue_remove (&self->waiting_out, urb);
}

static speed_t
baud_constant (guint32 rate)
{
  static const struct {
    guint32 rate;
    speed_t c;
  } map[] = {
    { 1200, B1200 },     { 2400, B2400 },     { 4800, B4800 },     { 9600, B9600 },
    { 19200, B19200 },   { 38400, B38400 },   { 57600, B57600 },   { 115200, B115200 },
    { 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (map[i].rate == rate)
      return map[i].c;
  return B0;
}

/* the host's line coding onto the pty: speed, character size, parity, stop bits */
static void
apply_line_coding (UsbipVirtualCdcAcm *self)
{
  struct termios t;
  guint32 rate = (guint32) self->line_coding[0] | (guint32) self->line_coding[1] << 8
                 | (guint32) self->line_coding[2] << 16 | (guint32) self->line_coding[3] << 24;
  speed_t speed = baud_constant (rate);
  static const tcflag_t sizes[] = { CS5, CS6, CS7, CS8 };
  guint8 bits = self->line_coding[6];

  if (self->master < 0 || tcgetattr (self->master, &t) != 0)
    return;
  if (speed != B0)
    {
      cfsetispeed (&t, speed);
      cfsetospeed (&t, speed);
    }
  t.c_cflag &= ~(tcflag_t) (CSIZE | PARENB | PARODD | CSTOPB);
  t.c_cflag |= bits >= 5 && bits <= 8 ? sizes[bits - 5] : CS8;
  if (self->line_coding[5] == 1 || self->line_coding[5] == 2)
    t.c_cflag |= PARENB | (self->line_coding[5] == 1 ? PARODD : 0);
  if (self->line_coding[4] != 0)
    t.c_cflag |= CSTOPB;
  tcsetattr (self->master, TCSANOW, &t);
}

static gboolean
cdc_acm_control (UsbipVirtualDevice *device, const guint8 *setup, GBytes *out, GByteArray *in)
{
  UsbipVirtualCdcAcm *self = USBIP_VIRTUAL_CDC_ACM (device);

  switch (setup[1])
    {
    case 0x20: /* SET_LINE_CODING */
      {
        gsize len = 0;
        const guint8 *d = out != NULL ? g_bytes_get_data (out, &len) : NULL;
        if (setup[0] != 0x21 || len < sizeof self->line_coding)
          return FALSE;
        memcpy (self->line_coding, d, sizeof self->line_coding);
        apply_line_coding (self);
        return TRUE;
      }
    case 0x21: /* GET_LINE_CODING */
      if (setup[0] != 0xa1)
        return FALSE;
      g_byte_array_append (in, self->line_coding, sizeof self->line_coding);
      return TRUE;
    case 0x22: /* SET_CONTROL_LINE_STATE: DTR and RTS; a pty has no lines to set */
      return setup[0] == 0x21;
    default:
      return FALSE;
    }
}

static void
cdc_acm_detached (UsbipVirtualDevice *device)
{
  UsbipVirtualCdcAcm *self = USBIP_VIRTUAL_CDC_ACM (device);

  g_byte_array_set_size (self->to_host, 0);
}

/* errno: why the pty could not be made */
static void
pty_error (const gchar *group, GError **error)
{
  g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
               "[%s] mode=pty: cannot create a pseudo-terminal: %s (is /dev/pts mounted? or use mode=loopback)", group,
               g_strerror (errno));
}

static gboolean
open_pty (UsbipVirtualCdcAcm *self, const gchar *group, GError **error)
{
  struct termios t;
  const gchar *name;

  self->master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (self->master < 0 || grantpt (self->master) != 0 || unlockpt (self->master) != 0
      || (name = ptsname (self->master)) == NULL)
    {
      pty_error (group, error);
      return FALSE;
    }
  self->pty = g_strdup (name);
  self->slave = open (self->pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
  /* raw: bytes pass unchanged and nothing is echoed back to the USB host */
  if (tcgetattr (self->master, &t) == 0)
    {
      cfmakeraw (&t);
      tcsetattr (self->master, TCSANOW, &t);
    }
  g_unix_set_fd_nonblocking (self->master, TRUE, NULL);
  return TRUE;
}

static gboolean
cdc_acm_configure (UsbipVirtualDevice *device, GKeyFile *kf, const gchar *group, GError **error)
{
  UsbipVirtualCdcAcm *self = USBIP_VIRTUAL_CDC_ACM (device);
  g_autofree gchar *mode = g_key_file_get_string (kf, group, "mode", NULL);
  const gchar *strings[] = { "usbipcore", "Virtual Serial Port", usbip_virtual_device_get_name (device), NULL };

  if ((mode == NULL || g_str_equal (mode, "pty")) && usbip_virtual_device_is_check_only (device))
    {
      /* a check opens no pty: the multiplexer must be there for the start to open one */
      if (access ("/dev/ptmx", R_OK | W_OK) != 0)
        {
          pty_error (group, error);
          return FALSE;
        }
    }
  else if (mode == NULL || g_str_equal (mode, "pty"))
    {
      if (!open_pty (self, group, error))
        return FALSE;
      usbip_virtual_device_set_path (device, self->pty);
      g_message ("virtual serial port %s: its other end is %s", usbip_virtual_device_get_busid (device), self->pty);
      watch_pty (self);
    }
  else if (g_str_equal (mode, "loopback"))
    self->loopback = TRUE;
  else
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] mode=%s: expected pty or loopback", group, mode);
      return FALSE;
    }
  usbip_virtual_device_set_descriptors (device, device_descriptor, sizeof device_descriptor, config_descriptor,
                                        sizeof config_descriptor, strings);
  return TRUE;
}

static void
usbip_virtual_cdc_acm_finalize (GObject *object)
{
  UsbipVirtualCdcAcm *self = USBIP_VIRTUAL_CDC_ACM (object);

  g_clear_handle_id (&self->read_watch, g_source_remove);
  g_clear_handle_id (&self->write_watch, g_source_remove);
  if (self->master >= 0)
    close (self->master);
  if (self->slave >= 0)
    close (self->slave);
  g_free (self->pty);
  g_byte_array_unref (self->to_host);
  g_byte_array_unref (self->to_pty);
  g_queue_clear (&self->waiting_in);
  g_queue_clear (&self->waiting_out);
  G_OBJECT_CLASS (usbip_virtual_cdc_acm_parent_class)->finalize (object);
}

static void
usbip_virtual_cdc_acm_class_init (UsbipVirtualCdcAcmClass *klass)
{
  UsbipVirtualDeviceClass *device_class = USBIP_VIRTUAL_DEVICE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = usbip_virtual_cdc_acm_finalize;
  device_class->keys = keys;
  device_class->configure = cdc_acm_configure;
  device_class->control = cdc_acm_control;
  device_class->submit = cdc_acm_submit;
  device_class->cancel = cdc_acm_cancel;
  device_class->detached = cdc_acm_detached;
}

static void
usbip_virtual_cdc_acm_init (UsbipVirtualCdcAcm *self)
{
  static const guint8 default_coding[7] = { 0x00, 0xc2, 0x01, 0x00, 0, 0, 8 }; /* 115200 8N1 */

  self->master = -1;
  self->slave = -1;
  self->to_host = g_byte_array_new ();
  self->to_pty = g_byte_array_new ();
  memcpy (self->line_coding, default_coding, sizeof self->line_coding);
  g_queue_init (&self->waiting_in);
  g_queue_init (&self->waiting_out);
}
