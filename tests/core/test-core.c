/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain types and the error domain. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <gio/gio.h>

#include "usbipcore.h"

static void
test_busid_valid (void)
{
  const gchar *good[] = { "1-1", "1-1.2", "1-1.2.3.4", "17-1", "usbip-vudc.0", "12-10.3", "a_b:c.d-e9" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (usbip_busid_validate (good[i], &error));
      g_assert_no_error (error);
    }
}

static void
test_busid_invalid (void)
{
  const gchar *bad[] = { "",       "1",    "1-",           "-1",           "1-1.",
                         "1-1..2", "1 -1", "../1-1",       "1-1/",         "0123456789012345678901234567890123",
                         "1-a",    "-",    "usbip-vudc/0", "usbip vudc.0", "a;b" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (usbip_busid_validate (bad[i], &error));
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
    }
  g_assert_false (usbip_busid_validate (NULL, NULL));

  /* a hostile busid is shown the way every other untrusted text is (usbip_text_escape):
   * printable UTF-8, no control character, one escape style in the whole message */
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (usbip_busid_validate ("\033[2J\377\n1-1", &error));
    g_assert_nonnull (strstr (error->message, "'\\x1b[2J\\xff\\n1-1'"));
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
    for (const gchar *c = error->message; *c; c++)
      g_assert_false (g_ascii_iscntrl (*c));
  }
}

static void
test_busid_width (void)
{
  /* 31 bytes fit, 32 do not */
  g_autofree gchar *ok = g_strnfill (29, '1');
  g_autofree gchar *b31 = g_strconcat ("1-", ok, NULL);
  g_autofree gchar *b32 = g_strconcat ("1-1", ok, NULL);
  g_assert_cmpuint (strlen (b31), ==, 31);
  g_autoptr (GError) error = NULL;
  g_assert_true (usbip_busid_validate (b31, NULL));
  g_assert_false (usbip_busid_validate (b32, &error));
  g_assert_nonnull (strstr (error->message, "32 bytes long; at most 31 fit"));
}

static void
test_remote_parse (void)
{
  struct {
    const gchar *in;
    const gchar *host;
    guint port;
    const gchar *str;
  } cases[] = {
    { "host", "host", 3240, "host:3240" },
    { "host:4000", "host", 4000, "host:4000" },
    { "10.0.0.1", "10.0.0.1", 3240, "10.0.0.1:3240" },
    { "10.0.0.1:1", "10.0.0.1", 1, "10.0.0.1:1" },
    { "[::1]", "::1", 3240, "[::1]:3240" },
    { "[fe80::1]:65535", "fe80::1", 65535, "[fe80::1]:65535" },
    { "::1", "::1", 3240, "[::1]:3240" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (UsbipRemote) r = usbip_remote_parse (cases[i].in, USBIP_DEFAULT_TCP_PORT, &error);
      g_autofree gchar *s = NULL;
      g_assert_no_error (error);
      g_assert_cmpstr (r->host, ==, cases[i].host);
      g_assert_cmpuint (r->port, ==, cases[i].port);
      s = usbip_remote_to_string (r);
      g_assert_cmpstr (s, ==, cases[i].str);
    }
}

static void
test_remote_invalid (void)
{
  const gchar *bad[] = { "",     ":3240", "host:",  "host:0", "host:65536", "host:x",
                         "[::1", "[]",    "[::1]x", "[::1]:", "a b",        "a/b" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (UsbipRemote) r = usbip_remote_parse (bad[i], 3240, &error);
      g_assert_null (r);
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_remote_schemes (void)
{
  struct {
    const gchar *in;
    const gchar *scheme;
    const gchar *host;
    guint port;
    const gchar *record_host;
    const gchar *record_port;
  } cases[] = {
    { "unix:/run/usbipcored/usbip.sock", "unix", "/run/usbipcored/usbip.sock", 0, "unix:/run/usbipcored/usbip.sock",
      "0" },
    { "unix:@usbip", "unix", "@usbip", 0, "unix:@usbip", "0" },
    { "vsock:2:3240", "vsock", "2", 3240, "vsock:2", "3240" },
    { "vsock:1:5000", "vsock", "1", 5000, "vsock:1", "5000" },
    { "vsock:-1:3240", "vsock", "-1", 3240, "vsock:-1", "3240" },
    { "vsock:4294967294:1", "vsock", "4294967294", 1, "vsock:4294967294", "1" },
    { "10.0.0.1:4000", "tcp", "10.0.0.1", 4000, "10.0.0.1", "4000" },
    { "[::1]:5", "tcp", "::1", 5, "::1", "5" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (UsbipRemote) r = usbip_remote_parse (cases[i].in, USBIP_DEFAULT_TCP_PORT, &error);
      g_autoptr (UsbipRemote) back = NULL;
      g_autoptr (UsbipRemote) copy = NULL;
      g_autofree gchar *s = NULL, *host = NULL, *service = NULL;

      g_assert_no_error (error);
      g_assert_cmpstr (r->scheme, ==, cases[i].scheme);
      g_assert_cmpstr (r->host, ==, cases[i].host);
      g_assert_cmpuint (r->port, ==, cases[i].port);
      s = usbip_remote_to_string (r);
      if (!g_str_equal (cases[i].scheme, "tcp"))
        g_assert_cmpstr (s, ==, cases[i].in); /* reads back as written */
      usbip_remote_to_record (r, &host, &service);
      g_assert_cmpstr (host, ==, cases[i].record_host);
      g_assert_cmpstr (service, ==, cases[i].record_port);
      back = usbip_remote_from_record (host, service);
      g_assert_true (usbip_remote_equal (back, r));
      copy = usbip_remote_copy (r);
      g_assert_cmpstr (copy->scheme, ==, r->scheme);
    }
  /* vsock without a port takes the default; a TCP host named like a scheme needs no scheme */
  {
    g_autoptr (UsbipRemote) r = usbip_remote_parse ("vsock:3", 3240, NULL);
    g_autoptr (UsbipRemote) t = usbip_remote_parse ("unixhost:22", 3240, NULL);
    g_autoptr (UsbipRemote) u = usbip_remote_parse ("unix:/a", 3240, NULL);
    g_autoptr (UsbipRemote) v = usbip_remote_parse ("unix:/A", 3240, NULL);
    g_assert_cmpuint (r->port, ==, 3240);
    g_assert_cmpstr (t->scheme, ==, "tcp");
    g_assert_false (usbip_remote_equal (u, v)); /* paths are case-sensitive */
  }
  /* the CIDs at both ends of the range (0, the hypervisor; 2^32 - 2) are CIDs */
  {
    g_autoptr (UsbipRemote) lo = usbip_remote_parse ("vsock:0:3240", 3240, NULL);
    g_autoptr (UsbipRemote) hi = usbip_remote_parse ("vsock:4294967294:1", 3240, NULL);
    g_assert_nonnull (lo);
    g_assert_nonnull (hi);
  }
  /* the longest that fits sun_path (107 bytes and its NUL; an abstract name has no NUL, so
   * its '@' does not count) parses; one more is refused */
  for (guint extra = 0; extra <= 1; extra++)
    {
      g_autofree gchar *name = g_strnfill (106 + extra, 'x');
      g_autofree gchar *path = g_strconcat ("unix:/", name, NULL);
      g_autofree gchar *abstract = g_strconcat ("unix:@x", name, NULL);
      g_autoptr (UsbipRemote) p = usbip_remote_parse (path, 3240, NULL);
      g_autoptr (UsbipRemote) a = usbip_remote_parse (abstract, 3240, NULL);
      g_assert_true ((p != NULL) == (extra == 0));
      g_assert_true ((a != NULL) == (extra == 0));
    }
}

static void
test_remote_schemes_invalid (void)
{
  g_autofree gchar *long_path = g_strnfill (108, 'x');
  g_autofree gchar *too_long = g_strconcat ("unix:/", long_path, NULL);
  const gchar *bad[] = {
    "unix:",        "unix:relative/path", "unix:@",    "unix:/a b",     "unix:/a\tb",         too_long,    "vsock:",
    "vsock:x:3240", "vsock:2:",           "vsock:2:0", "vsock:2:65536", "vsock:4294967295:1", "vsock:-2:1"
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (UsbipRemote) r = usbip_remote_parse (bad[i], 3240, &error);
      g_autofree gchar *shown = usbip_text_escape (bad[i], -1); /* "unix:/a\\tb" */
      g_assert_null (r);
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, shown));
    }
  g_assert_null (usbip_remote_from_record ("host", "x"));
  g_assert_null (usbip_remote_from_record ("host", "65536"));
  {
    g_autoptr (UsbipRemote) top = usbip_remote_from_record ("host", "65535"); /* the last port */
    g_assert_nonnull (top);
    g_assert_cmpuint (top->port, ==, 65535);
  }
}

/* a caller's remote name reaches error messages escaped (usbip_text_escape), once: the
 * D-Bus service hands the message to its caller and the journal, the tools print it */
static void
test_remote_hostile_text (void)
{
  const gchar *bad[] = {
    "host\n\033[31mfake", /* white space */
    "\a",                 /* a control character alone: no host name */
    "ho\033]0;x\ast",     /* an OSC title sequence inside a name */
    "\377\376",           /* not UTF-8 */
    "ho\xe2\x80\xaest",   /* a bidirectional override */
    "ho\\st",             /* a backslash: no host name either */
    "[::1\033",
    "[::1]\033",
    "host:\033[2J",
    "[vsock\033]",
    "vsock:\033:1",
    "vsock:2:\n",
    "unix:rel\033",
    "unix:/a\033b",
    "unix:/a\nb",
    ":\033",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (UsbipRemote) r = usbip_remote_parse (bad[i], 3240, &error);
      g_autofree gchar *shown = usbip_text_escape (bad[i], -1);
      g_autofree gchar *quoted = g_strdup_printf ("'%s'", shown);

      g_assert_null (r);
      g_assert_error (error, USBIP_ERROR, USBIP_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      for (const gchar *c = error->message; *c != '\0'; c = g_utf8_next_char (c))
        g_assert_true (g_unichar_isprint (g_utf8_get_char (c)));
      if (strstr (error->message, quoted) == NULL)
        g_error ("%s: %s does not name %s", shown, error->message, quoted);
    }
}

static void
test_remote_equal_copy (void)
{
  g_autoptr (UsbipRemote) a = usbip_remote_new ("Host", 1);
  g_autoptr (UsbipRemote) b = usbip_remote_copy (a);
  g_autoptr (UsbipRemote) c = usbip_remote_new ("host", 2);
  g_free (b->host);
  b->host = g_strdup ("host");
  g_assert_true (usbip_remote_equal (a, b));
  g_assert_false (usbip_remote_equal (a, c));
  g_assert_true (G_TYPE_IS_BOXED (USBIP_TYPE_REMOTE));
  usbip_remote_free (NULL); /* nullable, as documented */
}

static void
test_speed (void)
{
  UsbipSpeed s;
  g_assert_cmpstr (usbip_speed_to_string (USBIP_SPEED_HIGH), ==, "High Speed(480Mbps)");
  g_assert_cmpstr (usbip_speed_to_string (99), ==, "Unknown Speed");
  g_assert_cmpint (usbip_speed_from_sysfs ("480\n"), ==, USBIP_SPEED_HIGH);
  g_assert_cmpint (usbip_speed_from_sysfs ("1.5"), ==, USBIP_SPEED_LOW);
  g_assert_cmpint (usbip_speed_from_sysfs ("12"), ==, USBIP_SPEED_FULL);
  g_assert_cmpint (usbip_speed_from_sysfs ("53.3-480"), ==, USBIP_SPEED_WIRELESS);
  g_assert_cmpint (usbip_speed_from_sysfs ("5000"), ==, USBIP_SPEED_SUPER);
  g_assert_cmpint (usbip_speed_from_sysfs ("10000"), ==, USBIP_SPEED_SUPER_PLUS);
  g_assert_cmpint (usbip_speed_from_sysfs ("20000"), ==, USBIP_SPEED_SUPER_PLUS);
  g_assert_cmpint (usbip_speed_from_sysfs ("fast"), ==, USBIP_SPEED_UNKNOWN);
  g_assert_cmpint (usbip_speed_from_sysfs (NULL), ==, USBIP_SPEED_UNKNOWN);
  g_assert_cmpuint (usbip_speed_to_mbps (USBIP_SPEED_SUPER), ==, 5000);
  g_assert_cmpuint (usbip_speed_to_mbps (USBIP_SPEED_UNKNOWN), ==, 0);
  g_assert_true (usbip_speed_is_superspeed (USBIP_SPEED_SUPER));
  g_assert_true (usbip_speed_is_superspeed (USBIP_SPEED_SUPER_PLUS));
  g_assert_false (usbip_speed_is_superspeed (USBIP_SPEED_HIGH));
  g_assert_false (usbip_speed_is_superspeed (USBIP_SPEED_WIRELESS));
  for (UsbipSpeed i = USBIP_SPEED_UNKNOWN; i <= USBIP_SPEED_SUPER_PLUS; i++)
    {
      g_assert_true (usbip_speed_from_nick (usbip_speed_to_nick (i), &s));
      g_assert_cmpint (s, ==, i);
    }
  g_assert_false (usbip_speed_from_nick ("warp", &s));
  g_assert_false (usbip_speed_from_nick (NULL, &s));
}

static void
test_device_info (void)
{
  g_autoptr (UsbipDeviceInfo) d = usbip_device_info_new ();
  g_autoptr (UsbipDeviceInfo) c = NULL;
  d->busnum = 3;
  d->devnum = 7;
  g_strlcpy (d->busid, "3-1", sizeof d->busid);
  g_strlcpy (d->path, "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-1", sizeof d->path);
  c = usbip_device_info_copy (d);
  g_assert_cmpstr (c->busid, ==, "3-1");
  g_assert_cmphex (usbip_device_info_get_devid (c), ==, 0x00030007);
  /* bindings read the fixed-size path array through its getter: the copy's, not the original's */
  g_assert_cmpstr (usbip_device_info_get_path (c), ==, "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-1");
  g_assert_true (usbip_device_info_get_path (c) == c->path);

  /* the boxed type (bindings, GValue) copies deeply through the same function */
  {
    g_autoptr (UsbipDeviceInfo) boxed = g_boxed_copy (USBIP_TYPE_DEVICE_INFO, d);
    g_assert_true (boxed != d);
    g_assert_cmpstr (boxed->busid, ==, "3-1");
    g_assert_cmpuint (boxed->devnum, ==, 7);
  }
}

static void
test_port_info (void)
{
  g_autoptr (UsbipPortInfo) p = usbip_port_info_new ();
  g_autoptr (UsbipPortInfo) c = NULL;
  g_assert_cmpint (p->status, ==, USBIP_PORT_STATUS_NULL);
  p->remote_host = g_strdup ("h");
  p->remote_busid = g_strdup ("1-1");
  c = usbip_port_info_copy (p);
  g_assert_true (c->remote_host != p->remote_host);
  g_assert_cmpstr (c->remote_host, ==, "h");
  g_assert_null (c->remote_port);
}

static void
test_status_errors (void)
{
  struct {
    guint32 st;
    gint code;
    const gchar *hint;
  } cases[] = {
    { USBIP_ST_NA, USBIP_ERROR_NOT_AVAILABLE, "handed over" },
    { USBIP_ST_DEV_BUSY, USBIP_ERROR_DEVICE_BUSY, "another client" },
    { USBIP_ST_DEV_ERR, USBIP_ERROR_DEVICE_ERROR, "replug" },
    { USBIP_ST_NODEV, USBIP_ERROR_NO_DEVICE, "list -r" },
    { USBIP_ST_ERROR, USBIP_ERROR_REMOTE_ERROR, "log" },
    { 77, USBIP_ERROR_PROTOCOL, "unknown status 77" },
  };
  g_assert_true (usbip_error_set_from_status (NULL, USBIP_ST_OK, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (usbip_error_set_from_status (&error, cases[i].st, "srv", "1-1"));
      g_assert_error (error, USBIP_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].hint));
      g_assert_nonnull (strstr (error->message, "1-1"));
      if (cases[i].st <= USBIP_ST_ERROR)
        g_assert_cmpuint (usbip_error_to_status (error), ==, cases[i].st);
    }
  /* upstream's names for every wire status */
  g_assert_cmpstr (usbip_status_to_string (USBIP_ST_OK), ==, "ST_OK");
  g_assert_cmpstr (usbip_status_to_string (USBIP_ST_NA), ==, "ST_NA");
  g_assert_cmpstr (usbip_status_to_string (USBIP_ST_DEV_BUSY), ==, "ST_DEV_BUSY");
  g_assert_cmpstr (usbip_status_to_string (USBIP_ST_DEV_ERR), ==, "ST_DEV_ERR");
  g_assert_cmpstr (usbip_status_to_string (USBIP_ST_NODEV), ==, "ST_NODEV");
  g_assert_cmpstr (usbip_status_to_string (USBIP_ST_ERROR), ==, "ST_ERROR");
  g_assert_cmpstr (usbip_status_to_string (42), ==, "ST_UNKNOWN");
  g_assert_cmpuint (usbip_error_to_status (NULL), ==, USBIP_ST_OK);
}

static void
test_error_to_status_other (void)
{
  g_autoptr (GError) a = g_error_new_literal (USBIP_ERROR, USBIP_ERROR_NOT_FOUND, "x");
  g_autoptr (GError) b = g_error_new_literal (USBIP_ERROR, USBIP_ERROR_BUSY, "x");
  g_autoptr (GError) c = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_autoptr (GError) d = g_error_new_literal (USBIP_ERROR, USBIP_ERROR_PERMISSION, "x");
  g_assert_cmpuint (usbip_error_to_status (a), ==, USBIP_ST_NODEV);
  g_assert_cmpuint (usbip_error_to_status (b), ==, USBIP_ST_DEV_BUSY);
  g_assert_cmpuint (usbip_error_to_status (c), ==, USBIP_ST_ERROR);
  g_assert_cmpuint (usbip_error_to_status (d), ==, USBIP_ST_ERROR);
}

static void
test_errno (void)
{
  struct {
    gint e;
    gint code;
  } cases[] = {
    { ENOENT, USBIP_ERROR_NOT_FOUND },  { EACCES, USBIP_ERROR_PERMISSION },       { EPERM, USBIP_ERROR_PERMISSION },
    { EBUSY, USBIP_ERROR_BUSY },        { EINVAL, USBIP_ERROR_INVALID_ARGUMENT }, { ENODEV, USBIP_ERROR_NO_DEVICE },
    { ETIMEDOUT, USBIP_ERROR_TIMEOUT }, { ECONNREFUSED, USBIP_ERROR_CONNECTION }, { EIO, USBIP_ERROR_FAILED },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      usbip_error_set_from_errno (&error, cases[i].e, "writing %s", "/sys/x");
      g_assert_error (error, USBIP_ERROR, cases[i].code);
      g_assert_true (g_str_has_prefix (error->message, "writing /sys/x: "));
    }
}

static void
test_convert (void)
{
  struct {
    GQuark d;
    gint in;
    gint out;
  } cases[] = {
    { 0, G_IO_ERROR_TIMED_OUT, USBIP_ERROR_TIMEOUT },
    { 0, G_IO_ERROR_CONNECTION_REFUSED, USBIP_ERROR_CONNECTION },
    { 0, G_IO_ERROR_CONNECTION_CLOSED, USBIP_ERROR_CONNECTION },
    { 0, G_IO_ERROR_NOT_FOUND, USBIP_ERROR_NOT_FOUND },
    { 0, G_IO_ERROR_PERMISSION_DENIED, USBIP_ERROR_PERMISSION },
    { 0, G_IO_ERROR_ADDRESS_IN_USE, USBIP_ERROR_BUSY },
    { 0, G_IO_ERROR_INVALID_ARGUMENT, USBIP_ERROR_INVALID_ARGUMENT },
    { 0, G_IO_ERROR_FAILED, USBIP_ERROR_FAILED },
  };
  GError *cancel = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "c");
  GError *resolver = g_error_new_literal (G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "r");
  GError *other = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_FAILED, "o");
  GError *mine = g_error_new_literal (USBIP_ERROR, USBIP_ERROR_DENIED, "m");
  GError *none = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GError *e = g_error_new_literal (G_IO_ERROR, cases[i].in, "msg");
      usbip_error_convert (&e);
      g_assert_error (e, USBIP_ERROR, cases[i].out);
      g_assert_cmpstr (e->message, ==, "msg");
      g_error_free (e);
    }
  usbip_error_convert (&cancel);
  g_assert_error (cancel, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  usbip_error_convert (&resolver);
  g_assert_error (resolver, USBIP_ERROR, USBIP_ERROR_CONNECTION);
  usbip_error_convert (&other);
  g_assert_error (other, USBIP_ERROR, USBIP_ERROR_FAILED);
  usbip_error_convert (&mine);
  g_assert_error (mine, USBIP_ERROR, USBIP_ERROR_DENIED);
  usbip_error_convert (&none);
  usbip_error_convert (NULL);
  g_assert_null (none);
  g_error_free (cancel);
  g_error_free (resolver);
  g_error_free (other);
  g_error_free (mine);
}

/* hostile bytes come out printable, one line, valid UTF-8; clean text is unchanged */
static void
test_text_escape (void)
{
  static const struct {
    const gchar *in;
    const gchar *out;
  } cases[] = {
    { "1-1.2", "1-1.2" },
    { "M\xc3\xbcnchen", "M\xc3\xbcnchen" }, /* printable UTF-8 stays */
    { "a\x1b]0;pwned\x07"
      "b",
      "a\\x1b]0;pwned\\x07b" },    /* OSC */
    { "x\x1b[2Jy", "x\\x1b[2Jy" }, /* CSI */
    { "line\nforged", "line\\nforged" },
    { "\xff\xfe", "\\xff\\xfe" }, /* invalid UTF-8 */
    { "back\\slash", "back\\\\slash" },
    { "\xc2\x9b"
      "1m",
      "\\u{009B}1m" }, /* C1 CSI */
    { "\xe2\x80\xae"
      "txt",
      "\\u{202E}txt" }, /* bidi override */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *got = usbip_text_escape (cases[i].in, -1);
      g_assert_cmpstr (got, ==, cases[i].out);
      g_assert_true (g_utf8_validate (got, -1, NULL));
    }
  {
    g_autofree gchar *got = usbip_text_escape ("a\0b", 3);
    g_assert_cmpstr (got, ==, "a\\x00b");
  }
}

int
main (int argc, char **argv)
{
  /* log lines go to stderr: stdout is TAP */
  g_log_writer_default_set_use_stderr (TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/busid/valid", test_busid_valid);
  g_test_add_func ("/core/busid/invalid", test_busid_invalid);
  g_test_add_func ("/core/busid/width", test_busid_width);
  g_test_add_func ("/core/remote/parse", test_remote_parse);
  g_test_add_func ("/core/remote/invalid", test_remote_invalid);
  g_test_add_func ("/core/remote/equal-copy", test_remote_equal_copy);
  g_test_add_func ("/core/remote/schemes", test_remote_schemes);
  g_test_add_func ("/core/remote/schemes-invalid", test_remote_schemes_invalid);
  g_test_add_func ("/core/remote/hostile-text", test_remote_hostile_text);
  g_test_add_func ("/core/speed", test_speed);
  g_test_add_func ("/core/device-info", test_device_info);
  g_test_add_func ("/core/port-info", test_port_info);
  g_test_add_func ("/core/error/status", test_status_errors);
  g_test_add_func ("/core/error/to-status", test_error_to_status_other);
  g_test_add_func ("/core/error/errno", test_errno);
  g_test_add_func ("/core/error/convert", test_convert);
  g_test_add_func ("/core/text-escape", test_text_escape);
  return g_test_run ();
}
