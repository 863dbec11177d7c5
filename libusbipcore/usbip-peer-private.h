/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* UsbipPeer internals the exporter uses: not installed, not exported */

#include "usbip-peer.h"

G_BEGIN_DECLS

UsbipPeer *usbip_peer_new_from_fd (gint fd);

G_END_DECLS
