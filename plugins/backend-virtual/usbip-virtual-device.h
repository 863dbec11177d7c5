/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The model interface: what a virtual USB device implements. The base class answers the
 * standard control requests from the descriptors a model sets, keeps endpoint halts, and
 * owns the one session a device may have at a time. A model (a subclass) answers:
 *
 * - configure: read its own keys from its `[virtual-device NAME]` group and set its
 *   descriptors (usbip_virtual_device_set_descriptors()); under a check
 *   (usbip_virtual_device_is_check_only()) validate them the same way but create and open
 *   nothing;
 * - control: class and vendor requests on endpoint 0 (the default stalls);
 * - submit: a transfer on any other endpoint, completed now or later with
 *   usbip_virtual_urb_complete() (an IN transfer may wait for data as long as it likes);
 * - cancel: forget an URB that was unlinked or whose session ended (never complete it);
 * - clear_halt, attached, detached: optional notifications.
 *
 * Everything runs on the daemon's main context; a model must not block for long (image
 * reads of one transfer are fine, waiting for a peer is not: keep the URB pending instead).
 * docs/virtual-devices.md says how to add a model.
 */

#include <usbipcore-plugin.h>

G_BEGIN_DECLS

typedef struct _UsbipVirtualSession UsbipVirtualSession;

/**
 * UsbipVirtualUrb:
 * @seqnum: the client's sequence number
 * @endpoint: the endpoint address (number | 0x80 for IN)
 * @length: transfer_buffer_length: the most an IN transfer may return
 * @out: (nullable): the data of an OUT transfer
 * @session: the session that completes it (private)
 *
 * One pending transfer on a non-control endpoint.
 */
typedef struct {
  guint32 seqnum;
  guint8 endpoint;
  guint32 length;
  GBytes *out;
  UsbipVirtualSession *session;
} UsbipVirtualUrb;

#define USBIP_VIRTUAL_EP_IN 0x80

#define USBIP_TYPE_VIRTUAL_DEVICE (usbip_virtual_device_get_type ())
G_DECLARE_DERIVABLE_TYPE (UsbipVirtualDevice, usbip_virtual_device, USBIP, VIRTUAL_DEVICE, GObject)

struct _UsbipVirtualDeviceClass {
  GObjectClass parent_class;

  /* the model's keys (NULL-terminated), besides type, vendor-id, product-id and serial */
  const gchar *const *keys;
  gboolean (*configure) (UsbipVirtualDevice *self, GKeyFile *keyfile, const gchar *group, GError **error);
  /* FALSE stalls; an IN request appends at most wLength bytes to @in */
  gboolean (*control) (UsbipVirtualDevice *self, const guint8 *setup, GBytes *out, GByteArray *in);
  void (*submit) (UsbipVirtualDevice *self, UsbipVirtualUrb *urb);
  void (*cancel) (UsbipVirtualDevice *self, UsbipVirtualUrb *urb);
  void (*clear_halt) (UsbipVirtualDevice *self, guint8 endpoint);
  void (*attached) (UsbipVirtualDevice *self);
  void (*detached) (UsbipVirtualDevice *self);
};

/* the model registry: GType of a model by its `type=` name; 0 if unknown */
GType usbip_virtual_device_type_from_name (const gchar *name);
/* "mass-storage, cdc-acm, ..." for error messages */
const gchar *usbip_virtual_device_type_names (void);

/* creates and configures a device from its keyfile group `[virtual-device NAME]`; with
 * @check_only the model validates its keys and creates nothing (no pty, FIFO or open image:
 * `usbipcored --check-config`), with the errors a real start would give */
UsbipVirtualDevice *usbip_virtual_device_new_from_keyfile (GKeyFile *keyfile, const gchar *group, guint index,
                                                           gboolean check_only, GError **error);
/* For models: only check the configuration (see usbip_virtual_device_new_from_keyfile()) */
gboolean usbip_virtual_device_is_check_only (UsbipVirtualDevice *self);

const gchar *usbip_virtual_device_get_name (UsbipVirtualDevice *self);
const gchar *usbip_virtual_device_get_busid (UsbipVirtualDevice *self);
/* the DEVLIST record, status AVAILABLE or USED (transfer full) */
UsbipDeviceInfo *usbip_virtual_device_get_info (UsbipVirtualDevice *self);

/* For models: the 18-byte device descriptor (ids and serial overrides are applied to it),
 * the whole configuration descriptor, and the strings (index 1, 2, ...; NULL-terminated) */
void usbip_virtual_device_set_descriptors (UsbipVirtualDevice *self, const guint8 *device, gsize device_len,
                                           const guint8 *config, gsize config_len, const gchar *const *strings);
/* For models: the speed the device list reports (default high; vhci attaches a super speed
 * device on a USB 3 root-hub port) and the BOS descriptor (NULL: none, a request for it stalls) */
void usbip_virtual_device_set_speed (UsbipVirtualDevice *self, UsbipSpeed speed, const guint8 *bos, gsize bos_len);
/* For models: the device's path in the device list (default /sys/devices/virtual/usbip/BUSID) */
void usbip_virtual_device_set_path (UsbipVirtualDevice *self, const gchar *path);
/* For models: halt an endpoint (its transfers fail with -EPIPE until the host clears it) */
void usbip_virtual_device_halt (UsbipVirtualDevice *self, guint8 endpoint);
/* For models: the session in progress, or NULL */
UsbipVirtualSession *usbip_virtual_device_get_session (UsbipVirtualDevice *self);

/* For models: the transfer is done: @status 0 or a negative errno (-EPIPE: stall), @data
 * (IN only) at most urb->length bytes. Frees @urb. */
void usbip_virtual_urb_complete (UsbipVirtualUrb *urb, gint32 status, const guint8 *data, gsize len);

/* For the session: claim/release (each notifies the property "in-use") and the transfers */
gboolean usbip_virtual_device_claim (UsbipVirtualDevice *self, UsbipVirtualSession *session, GError **error);
void usbip_virtual_device_release (UsbipVirtualDevice *self, UsbipVirtualSession *session);
/* ep 0: standard requests here, the others to the model; returns 0 or -EPIPE */
gint32 usbip_virtual_device_control (UsbipVirtualDevice *self, const guint8 *setup, GBytes *out, GByteArray *in);
/* FALSE: no such endpoint or halted (answer -EPIPE) */
gboolean usbip_virtual_device_endpoint_ready (UsbipVirtualDevice *self, guint8 endpoint);
void usbip_virtual_device_submit (UsbipVirtualDevice *self, UsbipVirtualUrb *urb);
void usbip_virtual_device_cancel (UsbipVirtualDevice *self, UsbipVirtualUrb *urb);

void usbip_virtual_urb_free (UsbipVirtualUrb *urb);

G_END_DECLS
