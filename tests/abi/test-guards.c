/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A NULL or wrong-type argument to the public API is refused with a critical naming the
 * failed precondition, and the call returns its documented failure value: it does not crash.
 * Linked against the installed-form shared library (only exported symbols). check-guards.py
 * holds that every exported function starts with such a check; these calls prove a sample
 * of them work (object, opaque struct, plain struct, codec buffer).
 */
#include <usbipcore-plugin.h>

/* the next call must emit exactly one critical whose message names @expr */
#define EXPECT_CRITICAL(expr) g_test_expect_message ("usbipcore", G_LOG_LEVEL_CRITICAL, "*assertion*" expr "*failed*")

static void
test_null_object (void)
{
  EXPECT_CRITICAL ("USBIP_IS_CONFIG (self)");
  g_assert_null (usbip_config_get_path (NULL));
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("USBIP_IS_CONFIG (self)");
  g_assert_null (usbip_config_get_string (NULL, "plugins", "enabled"));
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("USBIP_IS_PLUGIN_REGISTRY (self)");
  g_assert_null (usbip_plugin_registry_list (NULL));
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("USBIP_IS_SYSFS (self)");
  g_assert_false (usbip_sysfs_exists (NULL, "/sys"));
  g_test_assert_expected_messages ();
}

static void
test_wrong_type (void)
{
  g_autoptr (UsbipConfig) config = usbip_config_new ();
  g_autoptr (GError) error = NULL;

  /* a config where a sysfs seam belongs */
  EXPECT_CRITICAL ("USBIP_IS_SYSFS (self)");
  g_assert_null (usbip_sysfs_read ((UsbipSysfs *) config, "/sys/x", &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  EXPECT_CRITICAL ("sysfs == NULL || USBIP_IS_SYSFS (sysfs)");
  g_assert_null (usbip_plugin_registry_new (config, (UsbipSysfs *) config));
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("backend == NULL || USBIP_IS_IMPORT_BACKEND (backend)");
  g_assert_null (usbip_importer_new ((UsbipImportBackend *) config, NULL));
  g_test_assert_expected_messages ();
}

static void
test_null_struct_and_buffer (void)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  UsbipOpHeader header;
  guint32 uid = 0;

  EXPECT_CRITICAL ("host != NULL");
  g_assert_null (usbip_remote_new (NULL, 3240));
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("out != NULL");
  usbip_encode_op_req_devlist (NULL);
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("busid != NULL");
  usbip_encode_op_req_import (out, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (out->len, ==, 0); /* nothing half-written */
  EXPECT_CRITICAL ("buf != NULL || len == 0");
  g_assert_false (usbip_decode_op_header (NULL, 8, &header, NULL));
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("text != NULL");
  g_assert_false (usbip_peer_parse_uid (NULL, &uid, NULL));
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("ctx != NULL");
  g_assert_null (usbip_plugin_context_get_name (NULL));
  g_test_assert_expected_messages ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/guards/null-object", test_null_object);
  g_test_add_func ("/guards/wrong-type", test_wrong_type);
  g_test_add_func ("/guards/null-struct-and-buffer", test_null_struct_and_buffer);
  return g_test_run ();
}
