/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "usbip-speed.h"

static const struct {
  UsbipSpeed speed;
  guint mbps;
  const gchar *nick;
  const gchar *text;
  const gchar *sysfs;
} speeds[] = {
  { USBIP_SPEED_UNKNOWN, 0, "unknown", "Unknown Speed", "unknown" },
  { USBIP_SPEED_LOW, 1, "low", "Low Speed(1.5Mbps)", "1.5" },
  { USBIP_SPEED_FULL, 12, "full", "Full Speed(12Mbps)", "12" },
  { USBIP_SPEED_HIGH, 480, "high", "High Speed(480Mbps)", "480" },
  { USBIP_SPEED_WIRELESS, 480, "wireless", "Wireless", "53.3-480" },
  { USBIP_SPEED_SUPER, 5000, "super", "Super Speed(5000Mbps)", "5000" },
  { USBIP_SPEED_SUPER_PLUS, 10000, "super-plus", "Super Speed Plus(10000Mbps)", "10000" },
};

static guint
index_of (UsbipSpeed speed)
{
  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    if (speeds[i].speed == speed)
      return i;
  return 0;
}

/**
 * usbip_speed_to_string:
 * @speed: a #UsbipSpeed
 *
 * Returns: the wording upstream `usbip list` prints, e.g. "High Speed(480Mbps)"
 *
 * Since: 1.0
 */
const gchar *
usbip_speed_to_string (UsbipSpeed speed)
{
  return speeds[index_of (speed)].text;
}

/**
 * usbip_speed_to_nick:
 * @speed: a #UsbipSpeed
 *
 * Returns: a short stable name for machine output ("high", "super", ...)
 *
 * Since: 1.0
 */
const gchar *
usbip_speed_to_nick (UsbipSpeed speed)
{
  return speeds[index_of (speed)].nick;
}

/**
 * usbip_speed_from_nick:
 * @nick: a name as usbip_speed_to_nick() returns
 * @out: (out): the speed
 *
 * Returns: %FALSE if @nick is not a speed name
 *
 * Since: 1.0
 */
gboolean
usbip_speed_from_nick (const gchar *nick, UsbipSpeed *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (nick == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    if (g_strcmp0 (speeds[i].nick, nick) == 0)
      {
        *out = speeds[i].speed;
        return TRUE;
      }
  return FALSE;
}

/**
 * usbip_speed_from_sysfs:
 * @text: (nullable): the content of a device's `speed` attribute
 *
 * Returns: the speed, %USBIP_SPEED_UNKNOWN for anything unrecognised
 *
 * Since: 1.0
 */
UsbipSpeed
usbip_speed_from_sysfs (const gchar *text)
{
  g_autofree gchar *t = NULL;

  if (text == NULL)
    return USBIP_SPEED_UNKNOWN;
  t = g_strstrip (g_strdup (text));
  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    if (strcmp (speeds[i].sysfs, t) == 0)
      return speeds[i].speed;
  /* SuperSpeedPlus gen 2x2 reports 20000 */
  if (strcmp (t, "20000") == 0)
    return USBIP_SPEED_SUPER_PLUS;
  return USBIP_SPEED_UNKNOWN;
}

/**
 * usbip_speed_to_mbps:
 * @speed: a #UsbipSpeed
 *
 * Returns: nominal signalling rate in Mbps (low speed rounds to 1), 0 if unknown
 *
 * Since: 1.0
 */
guint
usbip_speed_to_mbps (UsbipSpeed speed)
{
  return speeds[index_of (speed)].mbps;
}

/**
 * usbip_speed_is_superspeed:
 * @speed: a #UsbipSpeed
 *
 * Returns: %TRUE if a device of this speed needs a SuperSpeed (`ss`) vhci port
 *
 * Since: 1.0
 */
gboolean
usbip_speed_is_superspeed (UsbipSpeed speed)
{
  return speed == USBIP_SPEED_SUPER || speed == USBIP_SPEED_SUPER_PLUS;
}
