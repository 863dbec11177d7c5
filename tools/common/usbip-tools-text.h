/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Messages the tools print or log. */

#include <usbipcore.h>

G_BEGIN_DECLS

/* @message for a terminal or a log line: as it is when it is printable UTF-8, which it is
 * when every untrusted part was escaped where it was worded (the library does that with
 * usbip_text_escape(): remote names, bus IDs, a peer's bytes); else escaped whole, so text
 * that reached it unescaped drives no terminal. Either way escaped once, never twice. */
gchar *usbip_tools_message_text (const gchar *message);

G_END_DECLS
