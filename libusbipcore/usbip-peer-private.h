/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* UsbipPeer internals the exporter uses: not installed, not exported */

#include "usbip-peer.h"

G_BEGIN_DECLS

UsbipPeer *usbip_peer_new_from_fd (gint fd);

/* room for usbip_peer_to_string() and usbip_peer_get_key() of any peer: `[` + 45-character
 * IPv6 text + `]:65535`, or `uid=` + two 20-digit ids */
#define USBIP_PEER_NAME_SIZE 64

/* Who is at the other end of an accepted connection, read for the exporter's accept loop
 * without building a GObject per connection: @text and @key are what usbip_peer_to_string()
 * and usbip_peer_get_key() would return. @peer.address stays %NULL unless asked for (the
 * policy judges addresses only while rules or a rate limit are set). */
typedef struct {
  UsbipPeer peer;
  gchar text[USBIP_PEER_NAME_SIZE];
  gchar key[USBIP_PEER_NAME_SIZE];
} UsbipPeerInfo;

void usbip_peer_info_read (UsbipPeerInfo *info, gint fd, gboolean with_address);
void usbip_peer_info_clear (UsbipPeerInfo *info);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (UsbipPeerInfo, usbip_peer_info_clear)

G_END_DECLS
