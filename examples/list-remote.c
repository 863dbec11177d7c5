/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lists the devices a USB/IP server exports, like `usbip list -r HOST`.
 *
 *   cc list-remote.c $(pkg-config --cflags --libs usbipcore-1) -o list-remote
 *   ./list-remote 192.0.2.10:3240
 */
#include <usbipcore.h>

static void
listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GMainLoop *loop = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = usbip_importer_list_devices_finish (USBIP_IMPORTER (source), result, &error);

  if (devices == NULL)
    g_printerr ("%s\n", error->message);
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      const UsbipDeviceInfo *d = g_ptr_array_index (devices, i);
      g_print ("%s %04x:%04x %s\n", usbip_device_info_get_busid (d), d->idVendor, d->idProduct,
               usbip_speed_to_nick (d->speed));
    }
  g_main_loop_quit (loop);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (UsbipRemote) remote = NULL;
  g_autoptr (UsbipImporter) importer = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  if (argc != 2)
    {
      g_printerr ("usage: %s HOST[:PORT]\n", argv[0]);
      return 2;
    }
  remote = usbip_remote_parse (argv[1], USBIP_DEFAULT_TCP_PORT, &error);
  if (remote == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  /* listing needs no import backend (no vhci): NULL backend, default TCP transport */
  importer = usbip_importer_new (NULL, NULL);
  usbip_importer_list_devices_async (importer, remote, NULL, listed, loop);
  g_main_loop_run (loop);
  return 0;
}
