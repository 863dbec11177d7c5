/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * USB Mass Storage, Bulk-Only Transport (BOT, usbmassbulk_10): each command is a 31-byte
 * CBW on bulk OUT, an optional data phase, and a 13-byte CSW on bulk IN. The command set
 * is SCSI (SPC/SBC): INQUIRY, TEST UNIT READY, READ CAPACITY(10/16), READ(10/16),
 * WRITE(10/16), MODE SENSE(6/10), REQUEST SENSE, SYNCHRONIZE CACHE, PREVENT ALLOW MEDIUM
 * REMOVAL, START STOP UNIT; anything else fails with ILLEGAL REQUEST sense data. Blocks
 * are 512 bytes; reads and writes go straight to the image (pread/pwrite per transfer).
 *
 * IN transfers that arrive before there is something to send (a client that pipelines the
 * CSW read) wait in a queue and are served in order.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usbip-virtual-mass-storage.h"

#define EP_IN 0x81
#define EP_OUT 0x02
#define BLOCK 512u
#define CBW_SIZE 31
#define CSW_SIZE 13
#define CBW_SIGNATURE 0x43425355u
#define CSW_SIGNATURE 0x53425355u

/* sense keys and additional sense codes (SPC-4) */
#define SENSE_NONE 0x00
#define SENSE_MEDIUM_ERROR 0x03
#define SENSE_ILLEGAL_REQUEST 0x05
#define SENSE_DATA_PROTECT 0x07
#define ASC_WRITE_ERROR 0x0c
#define ASC_READ_ERROR 0x11
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD_IN_CDB 0x24
#define ASC_WRITE_PROTECTED 0x27

typedef enum {
  BOT_IDLE,     /* waiting for a CBW */
  BOT_DATA_IN,  /* sending data */
  BOT_DATA_OUT, /* receiving data */
  BOT_STATUS,   /* the CSW is due */
} BotState;

struct _UsbipVirtualMassStorage {
  UsbipVirtualDevice parent_instance;
  gchar *image;
  gboolean read_only;
  gint fd;
  guint64 blocks;

  BotState state;
  guint32 tag;
  guint32 expected;  /* dCBWDataTransferLength */
  guint32 data_len;  /* what the data phase carries (<= expected) */
  guint32 done;      /* bytes moved so far */
  guint8 csw_status; /* 0 passed, 1 failed */
  GByteArray *data;  /* IN data built by the command, or NULL: read the image */
  guint64 offset;    /* image offset of a READ/WRITE */
  gboolean to_image; /* DATA_OUT: write to the image (else discard) */
  GQueue waiting_in; /* UsbipVirtualUrb* on bulk IN */
  guint8 sense_key, asc, ascq;
};

G_DEFINE_FINAL_TYPE (UsbipVirtualMassStorage, usbip_virtual_mass_storage, USBIP_TYPE_VIRTUAL_DEVICE)

static const gchar *const keys[] = { "image", "read-only", "speed", NULL };

static const guint8 device_descriptor[18] = {
  18,   1,    0x00, 0x02, 0x00, 0x00, 0x00, 64, /* USB 2.0, class per interface, ep0 64 bytes */
  0x6b, 0x1d, 0x04, 0x01, 0x00, 0x01,           /* 1d6b:0104, release 1.00 */
  1,    2,    3,    1,                          /* strings, one configuration */
};

static const guint8 config_descriptor[] = {
  9, 2, 32,     0,    1,    1,    0,    0x80, 250, /* one interface, bus powered, 500 mA */
  9, 4, 0,      0,    2,    0x08, 0x06, 0x50, 0,   /* mass storage, SCSI transparent, bulk-only */
  7, 5, EP_IN,  0x02, 0x00, 0x02, 0,               /* bulk IN, 512 bytes (high speed) */
  7, 5, EP_OUT, 0x02, 0x00, 0x02, 0,               /* bulk OUT, 512 bytes */
};

/* speed=super: USB 3.0, ep0 2^9 bytes, 1024-byte bulk endpoints each with its SuperSpeed
 * endpoint companion (no bursts, no streams), and a BOS with the USB 2.0 extension and the
 * SuperSpeed capability (USB 3.2 section 9.6.2) */
static const guint8 ss_device_descriptor[18] = {
  18,   1,    0x00, 0x03, 0x00, 0x00, 0x00, 9, /* USB 3.0, class per interface, ep0 2^9 = 512 bytes */
  0x6b, 0x1d, 0x04, 0x01, 0x00, 0x01,          /* 1d6b:0104, release 1.00 */
  1,    2,    3,    1,                         /* strings, one configuration */
};

static const guint8 ss_config_descriptor[] = {
  9, 2,    44,     0,    1,    1,    0,    0x80, 112, /* one interface, bus powered, 896 mA (8 mA units) */
  9, 4,    0,      0,    2,    0x08, 0x06, 0x50, 0,   /* mass storage, SCSI transparent, bulk-only */
  7, 5,    EP_IN,  0x02, 0x00, 0x04, 0,               /* bulk IN, 1024 bytes */
  6, 0x30, 0,      0,    0,    0,                     /* its companion: bMaxBurst 0, no streams */
  7, 5,    EP_OUT, 0x02, 0x00, 0x04, 0,               /* bulk OUT, 1024 bytes */
  6, 0x30, 0,      0,    0,    0,                     /* its companion */
};

static const guint8 ss_bos_descriptor[] = {
  5,    0x0f, 22,   0,    2,                      /* BOS: 22 bytes, two capabilities */
  7,    0x10, 0x02, 0x00, 0x00, 0x00, 0x00,       /* USB 2.0 extension, no LPM */
  10,   0x10, 0x03, 0x00, 0x0e, 0x00, 0x01, 0x0a, /* SuperSpeed: full, high and super speed; */
  0xff, 0x07,                                     /* functional from full speed, U1/U2 exit latencies */
};

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static guint64
be64 (const guint8 *p)
{
  return (guint64) be32 (p) << 32 | be32 (p + 4);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

static void
put_le32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) (v >> 16);
  p[3] = (guint8) (v >> 24);
}

static void
set_sense (UsbipVirtualMassStorage *self, guint8 key, guint8 asc)
{
  self->sense_key = key;
  self->asc = asc;
  self->ascq = 0;
  if (key != SENSE_NONE)
    self->csw_status = 1;
}

static GByteArray *
reply (UsbipVirtualMassStorage *self, guint len)
{
  self->data = g_byte_array_sized_new (len);
  g_byte_array_set_size (self->data, len);
  memset (self->data->data, 0, len);
  return self->data;
}

static void
inquiry (UsbipVirtualMassStorage *self, const guint8 *cb)
{
  guint8 *d;

  if (cb[1] & 0x01) /* EVPD: only the list of supported pages */
    {
      if (cb[2] != 0x00)
        {
          set_sense (self, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
          return;
        }
      d = reply (self, 5)->data;
      d[3] = 1; /* one page: this one */
      return;
    }
  d = reply (self, 36)->data;
  d[0] = 0x00; /* direct access block device */
  d[1] = 0x80; /* removable */
  d[2] = 0x04; /* SPC-2 */
  d[3] = 0x02; /* response data format 2 */
  d[4] = 31;   /* additional length */
  memcpy (d + 8, "usbipcor", 8);
  memcpy (d + 16, "Virtual Disk    ", 16);
  memcpy (d + 32, "1.00", 4);
}

static void
mode_sense (UsbipVirtualMassStorage *self, const guint8 *cb, gboolean ten)
{
  guint8 page = cb[2] & 0x3f;
  gboolean caching = page == 0x08 || page == 0x3f;
  guint header = ten ? 8 : 4;
  guint8 *d;

  if (page != 0x08 && page != 0x3f && page != 0x00)
    {
      set_sense (self, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
      return;
    }
  d = reply (self, header + (caching ? 20 : 0))->data;
  if (ten)
    {
      d[1] = (guint8) (self->data->len - 2);
      d[3] = self->read_only ? 0x80 : 0x00; /* WP */
    }
  else
    {
      d[0] = (guint8) (self->data->len - 1);
      d[2] = self->read_only ? 0x80 : 0x00;
    }
  if (caching)
    {
      d[header] = 0x08; /* caching page, write cache off */
      d[header + 1] = 0x12;
    }
}

/* READ/WRITE: checks the range; TRUE if the data phase touches the image */
static gboolean
block_range (UsbipVirtualMassStorage *self, guint64 lba, guint32 count, gboolean write)
{
  if (lba > self->blocks || count > self->blocks - lba)
    {
      set_sense (self, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
      return FALSE;
    }
  if (write && self->read_only)
    {
      set_sense (self, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
      return FALSE;
    }
  self->offset = lba * BLOCK;
  self->data_len = MIN (self->expected, count * BLOCK);
  return TRUE;
}

/* runs one SCSI command: sets the data phase up, or the sense data */
static void
execute (UsbipVirtualMassStorage *self, const guint8 *cb, gboolean dir_in)
{
  g_clear_pointer (&self->data, g_byte_array_unref);
  self->data_len = 0;
  self->to_image = FALSE;
  self->csw_status = 0;
  if (cb[0] != 0x03) /* REQUEST SENSE reports the previous command's sense */
    set_sense (self, SENSE_NONE, 0);

  switch (cb[0])
    {
    case 0x00: /* TEST UNIT READY */
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
    case 0x1b: /* START STOP UNIT */
      break;
    case 0x35: /* SYNCHRONIZE CACHE(10) */
      if (!self->read_only && fsync (self->fd) != 0)
        set_sense (self, SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
      break;
    case 0x03: /* REQUEST SENSE: fixed format */
      {
        guint8 *d = reply (self, 18)->data;
        d[0] = 0x70;
        d[2] = self->sense_key;
        d[7] = 10;
        d[12] = self->asc;
        d[13] = self->ascq;
        set_sense (self, SENSE_NONE, 0);
        break;
      }
    case 0x12: /* INQUIRY */
      inquiry (self, cb);
      break;
    case 0x25: /* READ CAPACITY(10) */
      {
        guint8 *d = reply (self, 8)->data;
        put_be32 (d, (guint32) MIN (self->blocks - 1, G_MAXUINT32));
        put_be32 (d + 4, BLOCK);
        break;
      }
    case 0x9e: /* SERVICE ACTION IN(16): READ CAPACITY(16) */
      {
        guint8 *d;
        if ((cb[1] & 0x1f) != 0x10)
          {
            set_sense (self, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
            break;
          }
        d = reply (self, 32)->data;
        put_be32 (d, (guint32) ((self->blocks - 1) >> 32));
        put_be32 (d + 4, (guint32) (self->blocks - 1));
        put_be32 (d + 8, BLOCK);
        break;
      }
    case 0x1a: /* MODE SENSE(6) */
      mode_sense (self, cb, FALSE);
      break;
    case 0x5a: /* MODE SENSE(10) */
      mode_sense (self, cb, TRUE);
      break;
    case 0x28: /* READ(10) */
    case 0x2a: /* WRITE(10) */
      self->to_image = block_range (self, be32 (cb + 2), (guint32) (cb[7] << 8 | cb[8]), cb[0] == 0x2a);
      break;
    case 0x88: /* READ(16) */
    case 0x8a: /* WRITE(16) */
      self->to_image = block_range (self, be64 (cb + 2), be32 (cb + 10), cb[0] == 0x8a);
      break;
    default:
      set_sense (self, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
      break;
    }
  if (self->data != NULL)
    self->data_len = MIN (self->expected, self->data->len);
  if (self->expected == 0)
    self->state = BOT_STATUS;
  else
    self->state = dir_in ? BOT_DATA_IN : BOT_DATA_OUT;
  /* an IN command whose data goes the wrong way is not written to the image */
  if ((cb[0] == 0x2a || cb[0] == 0x8a) && dir_in)
    self->to_image = FALSE;
}

static void
send_csw (UsbipVirtualMassStorage *self, UsbipVirtualUrb *urb)
{
  guint8 csw[CSW_SIZE];

  put_le32 (csw, CSW_SIGNATURE);
  put_le32 (csw + 4, self->tag);
  put_le32 (csw + 8, self->expected - MIN (self->done, self->expected));
  csw[12] = self->csw_status;
  self->state = BOT_IDLE;
  usbip_virtual_urb_complete (urb, 0, csw, CSW_SIZE);
}

/* one IN transfer of the data phase */
static void
send_data (UsbipVirtualMassStorage *self, UsbipVirtualUrb *urb)
{
  /* the URB is freed by its completion: what is needed after it is read first */
  guint32 length = urb->length;
  guint32 n = MIN (length, self->data_len - self->done);
  g_autofree guint8 *buf = NULL;

  if (self->data != NULL)
    usbip_virtual_urb_complete (urb, 0, self->data->data + self->done, n);
  else if (self->to_image && n > 0)
    {
      ssize_t got;

      buf = g_malloc (n);
      got = pread (self->fd, buf, n, (off_t) (self->offset + self->done));
      if (got < (ssize_t) n)
        {
          g_warning ("virtual disk %s: read at %" G_GUINT64_FORMAT ": %s", self->image, self->offset + self->done,
                     got < 0 ? g_strerror (errno) : "short read");
          set_sense (self, SENSE_MEDIUM_ERROR, ASC_READ_ERROR);
          n = 0;
          self->data_len = self->done;
        }
      usbip_virtual_urb_complete (urb, 0, buf, n);
    }
  else
    usbip_virtual_urb_complete (urb, 0, NULL, 0);
  self->done += n;
  /* the phase ends when everything went, or with a short transfer */
  if (self->done >= self->data_len || n < length)
    self->state = BOT_STATUS;
}

static void
serve_in (UsbipVirtualMassStorage *self)
{
  while (!g_queue_is_empty (&self->waiting_in))
    {
      UsbipVirtualUrb *urb;

      if (self->state != BOT_DATA_IN && self->state != BOT_STATUS)
        return;
      urb = g_queue_pop_head (&self->waiting_in);
      if (self->state == BOT_DATA_IN)
        send_data (self, urb);
      else
        send_csw (self, urb);
    }
}

static void
receive_cbw (UsbipVirtualMassStorage *self, UsbipVirtualUrb *urb, const guint8 *d, gsize len)
{
  guint8 cb_len;

  if (len != CBW_SIZE || le32 (d) != CBW_SIGNATURE || (cb_len = d[14] & 0x1f) == 0 || cb_len > 16
      || (d[13] & 0x0f) != 0)
    {
      /* not a valid CBW: stall both pipes until a Bulk-Only Mass Storage Reset */
      usbip_virtual_device_halt (USBIP_VIRTUAL_DEVICE (self), EP_IN);
      usbip_virtual_device_halt (USBIP_VIRTUAL_DEVICE (self), EP_OUT);
      usbip_virtual_urb_complete (urb, -EPIPE, NULL, 0);
      return;
    }
  self->tag = le32 (d + 4);
  self->expected = le32 (d + 8);
  self->done = 0;
  execute (self, d + 15, (d[12] & 0x80) != 0);
  usbip_virtual_urb_complete (urb, 0, NULL, len); /* frees @d: last */
}

static void
receive_data (UsbipVirtualMassStorage *self, UsbipVirtualUrb *urb, const guint8 *d, gsize len)
{
  guint32 n = (guint32) MIN (len, (gsize) (self->expected - self->done));

  if (self->to_image && self->done < self->data_len)
    {
      guint32 w = MIN (n, self->data_len - self->done);
      ssize_t put = pwrite (self->fd, d, w, (off_t) (self->offset + self->done));
      if (put < (ssize_t) w)
        {
          g_warning ("virtual disk %s: write at %" G_GUINT64_FORMAT ": %s", self->image, self->offset + self->done,
                     put < 0 ? g_strerror (errno) : "short write");
          set_sense (self, SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
          self->to_image = FALSE;
        }
    }
  self->done += n;
  usbip_virtual_urb_complete (urb, 0, NULL, len);
  if (self->done >= self->expected)
    self->state = BOT_STATUS;
}

static void
mass_storage_submit (UsbipVirtualDevice *device, UsbipVirtualUrb *urb)
{
  UsbipVirtualMassStorage *self = USBIP_VIRTUAL_MASS_STORAGE (device);
  gsize len = 0;
  const guint8 *d = urb->out != NULL ? g_bytes_get_data (urb->out, &len) : NULL;

  if (urb->endpoint == EP_IN)
    g_queue_push_tail (&self->waiting_in, urb);
  else if (self->state == BOT_IDLE)
    receive_cbw (self, urb, d, len);
  else if (self->state == BOT_DATA_OUT)
    receive_data (self, urb, d, len);
  else
    usbip_virtual_urb_complete (urb, -EPIPE, NULL, 0);
  serve_in (self);
}

static void
mass_storage_cancel (UsbipVirtualDevice *device, UsbipVirtualUrb *urb)
{
  g_queue_remove (&USBIP_VIRTUAL_MASS_STORAGE (device)->waiting_in, urb);
}

static void
reset (UsbipVirtualMassStorage *self)
{
  self->state = BOT_IDLE;
  g_clear_pointer (&self->data, g_byte_array_unref);
}

static gboolean
mass_storage_control (UsbipVirtualDevice *device, const guint8 *setup, GBytes *out, GByteArray *in)
{
  UsbipVirtualMassStorage *self = USBIP_VIRTUAL_MASS_STORAGE (device);

  if (setup[0] == 0x21 && setup[1] == 0xff) /* Bulk-Only Mass Storage Reset */
    {
      reset (self);
      return TRUE;
    }
  if (setup[0] == 0xa1 && setup[1] == 0xfe) /* Get Max LUN: one LUN */
    {
      guint8 lun = 0;
      g_byte_array_append (in, &lun, 1);
      return TRUE;
    }
  return FALSE;
}

static void
mass_storage_attached (UsbipVirtualDevice *device)
{
  UsbipVirtualMassStorage *self = USBIP_VIRTUAL_MASS_STORAGE (device);

  reset (self);
  set_sense (self, SENSE_NONE, 0);
}

static gboolean
mass_storage_configure (UsbipVirtualDevice *device, GKeyFile *kf, const gchar *group, GError **error)
{
  UsbipVirtualMassStorage *self = USBIP_VIRTUAL_MASS_STORAGE (device);
  g_autoptr (GError) local_error = NULL;
  const gchar *strings[] = { "usbipcore", "Virtual Disk", usbip_virtual_device_get_name (device), NULL };
  gboolean check_only = usbip_virtual_device_is_check_only (device);
  gboolean opened;
  struct stat st;

  g_autofree gchar *speed = g_key_file_get_string (kf, group, "speed", NULL);

  if (speed != NULL && g_strcmp0 (speed, "high") != 0 && g_strcmp0 (speed, "super") != 0)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[%s] speed=%s: expected high (USB 2.0, 512-byte bulk) or super (USB 3, 1024-byte bulk)", group,
                   speed);
      return FALSE;
    }
  self->image = g_key_file_get_string (kf, group, "image", NULL);
  if (self->image == NULL || *self->image == '\0')
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[%s]: a mass-storage device needs image=PATH (a disk image file, e.g. made with "
                   "`truncate -s 64M disk.img`)",
                   group);
      return FALSE;
    }
  if (g_key_file_has_key (kf, group, "read-only", NULL))
    {
      self->read_only = g_key_file_get_boolean (kf, group, "read-only", &local_error);
      if (local_error != NULL)
        {
          g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] read-only: expected true or false", group);
          return FALSE;
        }
    }
  /* a check opens nothing: access() answers as the open would, stat() sees the size */
  if (check_only)
    opened = access (self->image, self->read_only ? R_OK : R_OK | W_OK) == 0;
  else
    opened = (self->fd = open (self->image, (self->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC)) >= 0;
  if (!opened)
    {
      gint saved = errno;
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG, "[%s] image=%s: cannot open %s: %s%s", group, self->image,
                   self->read_only ? "for reading" : "for reading and writing", g_strerror (saved),
                   saved == EACCES || saved == EROFS ? " (set read-only=true, or fix its permissions)" : "");
      return FALSE;
    }
  if ((check_only ? stat (self->image, &st) : fstat (self->fd, &st)) != 0 || !S_ISREG (st.st_mode)
      || (guint64) st.st_size < BLOCK)
    {
      g_set_error (error, USBIP_ERROR, USBIP_ERROR_CONFIG,
                   "[%s] image=%s: not a regular file of at least %u bytes: give a disk image file", group, self->image,
                   BLOCK);
      return FALSE;
    }
  self->blocks = (guint64) st.st_size / BLOCK;
  if (g_strcmp0 (speed, "super") == 0)
    {
      usbip_virtual_device_set_descriptors (device, ss_device_descriptor, sizeof ss_device_descriptor,
                                            ss_config_descriptor, sizeof ss_config_descriptor, strings);
      usbip_virtual_device_set_speed (device, USBIP_SPEED_SUPER, ss_bos_descriptor, sizeof ss_bos_descriptor);
    }
  else
    usbip_virtual_device_set_descriptors (device, device_descriptor, sizeof device_descriptor, config_descriptor,
                                          sizeof config_descriptor, strings);
  return TRUE;
}

static void
usbip_virtual_mass_storage_finalize (GObject *object)
{
  UsbipVirtualMassStorage *self = USBIP_VIRTUAL_MASS_STORAGE (object);

  if (self->fd >= 0)
    close (self->fd);
  g_free (self->image);
  g_clear_pointer (&self->data, g_byte_array_unref);
  g_queue_clear (&self->waiting_in);
  G_OBJECT_CLASS (usbip_virtual_mass_storage_parent_class)->finalize (object);
}

static void
usbip_virtual_mass_storage_class_init (UsbipVirtualMassStorageClass *klass)
{
  UsbipVirtualDeviceClass *device_class = USBIP_VIRTUAL_DEVICE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = usbip_virtual_mass_storage_finalize;
  device_class->keys = keys;
  device_class->configure = mass_storage_configure;
  device_class->control = mass_storage_control;
  device_class->submit = mass_storage_submit;
  device_class->cancel = mass_storage_cancel;
  device_class->attached = mass_storage_attached;
}

static void
usbip_virtual_mass_storage_init (UsbipVirtualMassStorage *self)
{
  self->fd = -1;
  g_queue_init (&self->waiting_in);
}
