/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The quick attach (usbip-tool-quick.h): the module's plain attach, without GLib. Each step
 * is the library's (usbip-importer.c, usbip-transport.c, plugins/backend-vhci): connect with
 * the default deadlines, the default socket options, OP_REQ_IMPORT, the OP_REP_IMPORT checks,
 * the vhci port choice and `attach` write, the port record. The constants come from the
 * library's headers (compiled against, never linked: this file calls libc alone).
 *
 * The one place outside the sysfs seam (usbip-sysfs.c) that touches sysfs: it honours the
 * seam's USBIP_SYSFS_ROOT and the records' USBIP_VHCI_STATE_DIR as they do.
 *
 * Any doubt before a side effect, and any failure after one, returns NOT_HANDLED: the module
 * then runs the command line (a failed attach costs a second attempt, which says why). One
 * exception: a connect that times out is reported here, in the module's words, since a second
 * attempt would wait the whole deadline again.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "usbip-busid.h"
#include "usbip-defaults-private.h"
#include "usbip-error.h"
#include "usbip-port-info.h"
#include "usbip-proto.h"
#include "usbip-speed.h"
#include "usbip-tool-output.h"
#include "usbip-tool-quick.h"
#include "usbip-vhci-backend.h"
#include "usbip-vhci-records.h"

#define NO USBIP_TOOL_QUICK_NOT_HANDLED
#define CONNECT_TIMED_OUT (-2)
_Static_assert(USBIP_DEFAULT_CONNECT_TIMEOUT_MS == USBIP_DEFAULT_READ_TIMEOUT_MS
                   && USBIP_DEFAULT_READ_TIMEOUT_MS == USBIP_DEFAULT_WRITE_TIMEOUT_MS,
               "one deadline here serves the connect, the request and the reply, as --timeout does");
#define MAX_PORTS 1024
#define MAX_STATUS_FILES 256 /* status, status.1 ... status.255 */
#define MAX_TEXT 65536
#define DIR_SIZE 4096                  /* vhci_hcd.0 and the record directory */
#define PATH_SIZE (DIR_SIZE + 256 + 8) /* a file in one of them */

typedef struct {
  unsigned port, status;
  int ss;
} Port;

/* a decimal number of digits alone, at most @max */
static int
number (const char *s, size_t len, unsigned long max, unsigned long *out)
{
  unsigned long v = 0;

  if (len == 0 || len > 10)
    return 0;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return 0;
      v = v * 10 + (unsigned long) (s[i] - '0');
    }
  *out = v;
  return v <= max;
}

/* the whole of a small file (NUL-terminated), or NULL */
static char *
slurp (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  char *buf;
  ssize_t n;

  if (fd < 0)
    return NULL;
  buf = malloc (MAX_TEXT + 1);
  n = buf != NULL ? read (fd, buf, MAX_TEXT + 1) : -1;
  close (fd);
  if (n < 0 || n > MAX_TEXT)
    {
      free (buf);
      return NULL;
    }
  buf[n] = '\0';
  return buf;
}

/* ---- the configuration: certain to leave a plain attach as without one ---- */

/* libusbip-plugin-NAME.so on the registry's search path */
static int
plugin_installed (const char *name)
{
  const char *env = getenv ("USBIP_PLUGIN_DIR");
  char dirs[4096], path[4096 + 64];

  snprintf (dirs, sizeof dirs, "%s", env != NULL && *env != '\0' ? env : USBIP_PLUGINDIR);
  for (char *save = NULL, *d = strtok_r (dirs, ":", &save); d != NULL; d = strtok_r (NULL, ":", &save))
    {
      snprintf (path, sizeof path, "%s/libusbip-plugin-%s.so", d, name);
      if (access (path, F_OK) == 0)
        return 1;
    }
  return 0;
}

/* [plugins] enabled names vhci and only installed plugins (else the module warns or fails) */
static int
plugins_fine (const char *list, const char *groups)
{
  char names[1024], *save = NULL;
  int vhci = 0;

  if (strlen (list) >= sizeof names || strspn (list, "abcdefghijklmnopqrstuvwxyz0123456789_-;") != strlen (list))
    return 0;
  snprintf (names, sizeof names, "%s", list);
  for (char *n = strtok_r (names, ";", &save); n != NULL; n = strtok_r (NULL, ";", &save))
    {
      if (!plugin_installed (n))
        return 0;
      vhci |= strcmp (n, "vhci") == 0;
    }
  /* each other group a plugin's own ([NAME]): the module notes it at debug level only */
  for (const char *g = groups; *g != '\0'; g += strlen (g) + 1)
    {
      size_t len = strlen (g);
      const char *hit = strstr (list, g);
      int found = 0;

      for (; hit != NULL && !found; hit = strstr (hit + 1, g))
        found = (hit == list || hit[-1] == ';') && (hit[len] == ';' || hit[len] == '\0');
      if (!found)
        return 0;
    }
  return vhci;
}

/* whether GROUP/KEY (KEY "" for the group's header) is new in SEEN ("\n" then one
 * "\nGROUP/KEY" per line seen); a repeat, or no room left, is the module's to report
 * (usbip-config.c refuses a group or a key given twice) */
static int
first_time (char *seen, size_t size, const char *group, const char *key, size_t key_len)
{
  char entry[600];
  size_t used = strlen (seen);
  int n = snprintf (entry, sizeof entry, "\n%s/%.*s\n", group, (int) key_len, key);

  if (n < 0 || (size_t) n >= sizeof entry || strstr (seen, entry) != NULL || used + (size_t) n >= size)
    return 0;
  memcpy (seen + used, entry + 1, (size_t) n); /* its leading "\n" is the last entry's end */
  return 1;
}

/* USBIP_CONFIG or the default file, in the GKeyFile subset whose meaning is certain: comments,
 * [plugins] with `enabled` alone, [daemon] (usbip-tool ignores it), a plugin's own group;
 * printable ASCII only, no backslash, no group or key twice. Anything else is the module's to
 * read and report. */
static int
config_fine (void)
{
  const char *path = getenv ("USBIP_CONFIG");
  char *text, *save = NULL, groups[1024] = "", *gend = groups;
  char enabled[1024] = USBIP_DEFAULT_PLUGINS_ENABLED, seen[4096] = "\n";
  const char *group = NULL;
  int ok = 1;

  text = slurp (path != NULL ? path : USBIP_DEFAULT_CONFIG);
  if (text == NULL)
    return path == NULL && errno == ENOENT && plugins_fine (enabled, "");
  for (const char *c = text; *c != '\0' && ok; c++)
    ok = (*c >= 0x20 && *c < 0x7f && *c != '\\') || *c == '\n';
  for (char *line = strtok_r (text, "\n", &save); line != NULL && ok; line = strtok_r (NULL, "\n", &save))
    {
      char *eq;

      line += strspn (line, " ");
      if (*line == '#' || *line == '\0')
        continue;
      if (*line == '[')
        {
          size_t len = strcspn (line + 1, "]");
          ok = len > 0 && strcmp (line + 1 + len, "]") == 0
               && strspn (line + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len
               && (size_t) (gend - groups) + len + 2 < sizeof groups;
          line[1 + len] = '\0';
          group = line + 1;
          ok = ok && first_time (seen, sizeof seen, group, "", 0);
          if (ok && strcmp (group, "plugins") != 0 && strcmp (group, "daemon") != 0)
            gend = stpcpy (gend, group) + 1, *gend = '\0';
          continue;
        }
      /* KEY = VALUE, the key of letters, digits, '-' and '_' (no locale, no odd names) */
      eq = line + strspn (line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
      ok = group != NULL && eq > line && eq[strspn (eq, " ")] == '='
           && first_time (seen, sizeof seen, group, line, (size_t) (eq - line));
      eq += strspn (eq, " ");
      if (!ok || strcmp (group, "plugins") != 0)
        continue;
      /* [plugins]: `enabled` alone, its value without white space at its end (GKeyFile drops
       * the spaces around `=`) */
      *eq++ = '\0';
      eq += strspn (eq, " ");
      ok = strncmp (line, "enabled", 7) == 0 && line[7 + strspn (line + 7, " ")] == '\0'
           && (*eq == '\0' || eq[strlen (eq) - 1] != ' ') && strlen (eq) < sizeof enabled;
      if (ok)
        snprintf (enabled, sizeof enabled, "%s", eq);
    }
  free (text);
  return ok && plugins_fine (enabled, groups);
}

/* ---- vhci_hcd: the ports (backend read_ports, usbip-vhci-status.c's layout by names) ---- */

static int
cmp_names (const void *a, const void *b)
{
  return strcmp ((const char *) a, (const char *) b);
}

/* a status header's column name as usbip-vhci-status.c knows it: its slot in @cols; NULL for
 * the old layout's `bus` (that layout is the module's); @other for a column nobody reads */
static int *
column (const char *name, int cols[6], int *other)
{
  static const char *const names[] = { "hub", "port", "prt", "sta", "spd", "dev", "sockfd", "socket" };
  static const int slot[] = { 0, 1, 1, 2, 3, 4, 5, 5 };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (name, names[i]) == 0)
      return &cols[slot[i]];
  return strcmp (name, "bus") == 0 ? NULL : other;
}

enum { HUB, PORT, STA, SPD, DEV, SOCK };

/* one status file's ports appended to @ports; 0 on anything the module would reject */
static int
parse_status (char *text, Port *ports, size_t *n)
{
  int cols[6] = { -1, -1, -1, -1, -1, -1 }, ncols = 0, other;
  char *save = NULL, *line = text[0] != '\n' ? strtok_r (text, "\n", &save) : NULL, *w, *wsave = NULL;

  if (line == NULL)
    return 0;
  for (w = strtok_r (line, " \t", &wsave); w != NULL; w = strtok_r (NULL, " \t", &wsave), ncols++)
    {
      int *c = column (w, cols, &other);
      if (c == NULL)
        return 0;
      *c = ncols;
    }
  if (cols[PORT] < 0 || cols[STA] < 0 || cols[SPD] < 0 || cols[DEV] < 0)
    return 0;
  for (line = strtok_r (NULL, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      char *f[16];
      int nf = 0, need = 0;
      unsigned long port, sta, spd, sock;

      wsave = NULL;
      for (w = strtok_r (line, " \t", &wsave); w != NULL && nf < 16; w = strtok_r (NULL, " \t", &wsave))
        f[nf++] = w;
      if (nf == 0)
        continue;
      for (int c = 0; c < 6; c++)
        need = cols[c] >= need ? cols[c] + 1 : need;
      if (w != NULL || nf < need || *n >= MAX_PORTS
          || !number (f[cols[PORT]], strlen (f[cols[PORT]]), 0xffffffffUL, &port)
          || !number (f[cols[STA]], strlen (f[cols[STA]]), 0xffffffffUL, &sta)
          || !number (f[cols[SPD]], strlen (f[cols[SPD]]), 0xffffffffUL, &spd) || strlen (f[cols[DEV]]) > 8
          || strspn (f[cols[DEV]], "0123456789abcdefABCDEF") != strlen (f[cols[DEV]])
          || (cols[SOCK] >= 0 && !number (f[cols[SOCK]], strlen (f[cols[SOCK]]), 0x7fffffffUL, &sock)))
        return 0;
      ports[*n].port = (unsigned) port;
      ports[*n].status = (unsigned) sta;
      ports[*n].ss = cols[HUB] >= 0 && strcmp (f[cols[HUB]], "ss") == 0;
      (*n)++;
    }
  return 1;
}

/* every port of vhci_hcd.0's status, status.1, ... (in the module's order); 0 on doubt */
static int
read_ports (const char *vhci, Port *ports, size_t *n)
{
  char names[MAX_STATUS_FILES][16]; /* "status" and "status.N" with N in 1..255 */
  size_t count = 0;
  int ok = 1;
  DIR *dir = opendir (vhci);
  struct dirent *e;

  *n = 0;
  if (dir == NULL)
    return 0;
  /* cppcheck-suppress readdirCalled ; one thread, its own DIR stream: readdir is safe (readdir_r is deprecated) */
  while (ok && (e = readdir (dir)) != NULL)
    {
      unsigned long controller;
      const char *name = e->d_name;

      if (strcmp (name, "status") != 0
          && (strncmp (name, "status.", 7) != 0 || !number (name + 7, strlen (name + 7), 255, &controller)
              || controller < 1))
        continue;
      size_t len = strlen (name);

      ok = count < MAX_STATUS_FILES && len < sizeof names[0];
      if (ok)
        memcpy (names[count++], name, len + 1);
    }
  closedir (dir);
  qsort (names, count, sizeof names[0], cmp_names);
  for (size_t i = 0; ok && i < count; i++)
    {
      char path[PATH_SIZE], *text;

      snprintf (path, sizeof path, "%s/%s", vhci, names[i]);
      text = slurp (path);
      ok = text != NULL && parse_status (text, ports, n);
      free (text);
    }
  return ok;
}

/* ---- the port record (usbip-vhci-records.c: upstream's "HOST PORT BUSID\n") ---- */

/* a record already names (host, service, busid): the module answers "already attached" */
static int
recorded (const char *dir, const char *want)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int found = 0;

  /* cppcheck-suppress readdirCalled ; one thread, its own DIR stream: readdir is safe (readdir_r is deprecated) */
  while (d != NULL && !found && (e = readdir (d)) != NULL)
    {
      char path[PATH_SIZE], *text, *save = NULL, words[PATH_SIZE] = "";
      int nw = 0, len = 0;

      if (strncmp (e->d_name, "port", 4) != 0)
        continue;
      snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
      if ((text = slurp (path)) == NULL)
        continue;
      for (char *w = strtok_r (text, " \t\n\r\v\f", &save); w != NULL; w = strtok_r (NULL, " \t\n\r\v\f", &save))
        if (++nw <= 3 && len >= 0 && (size_t) len < sizeof words)
          len += snprintf (words + len, sizeof words - (size_t) len, "%s%s", nw > 1 ? " " : "", w);
      found = nw == 3 && strcmp (words, want) == 0;
      free (text);
    }
  if (d != NULL)
    closedir (d);
  return found;
}

static int
mkdir_parents (char *dir)
{
  for (char *p = strchr (dir + 1, '/'); p != NULL; p = strchr (p + 1, '/'))
    {
      *p = '\0';
      if (mkdir (dir, 0700) < 0 && errno != EEXIST)
        return -1;
      *p = '/';
    }
  return mkdir (dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* written whole or not at all (the library: g_file_set_contents_full, CONSISTENT, 0700) */
static const char *
write_record (const char *dir, unsigned port, const char *text)
{
  char path[PATH_SIZE], tmp[PATH_SIZE + 24], parents[DIR_SIZE];
  struct stat st;
  int fd;
  size_t len = strlen (text);

  snprintf (parents, sizeof parents, "%s", dir);
  if (mkdir_parents (parents) < 0)
    return "creating the port-record directory";
  snprintf (path, sizeof path, "%s/port%u", dir, port);
  snprintf (tmp, sizeof tmp, "%s.%ld", path, (long) getpid ());
  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  if (fd < 0 || write (fd, text, len) != (ssize_t) len || (stat (path, &st) == 0 && st.st_size > 0 && fsync (fd) < 0)
      || close (fd) < 0 || rename (tmp, path) < 0)
    {
      unlink (tmp);
      return "writing the port record";
    }
  return NULL;
}

/* ---- the connection (usbip-transport.c, usbip-socket-options.c, usbip-importer.c) ---- */

static long long
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waits for @events until the deadline; 0 when it passed */
static int
wait_fd (int fd, short events, long long deadline)
{
  struct pollfd p = { fd, events, 0 };
  int r;

  do
    {
      long long left = deadline - now_ms ();
      if (left <= 0)
        return 0;
      r = poll (&p, 1, (int) left);
    }
  while (r < 0 && errno == EINTR);
  return r > 0;
}

static int
set_int (int fd, int level, int name, int value)
{
  return setsockopt (fd, level, name, &value, sizeof value) == 0;
}

/* the address and port of ADDRESS as usbip_remote_parse() splits it and GLib's
 * g_inet_socket_address_new_from_string() reads it (literals only: names are the module's) */
static int
parse_address (const char *text, unsigned long port, char *host, size_t size, struct sockaddr_storage *sa,
               socklen_t *sa_len, unsigned long *out_port)
{
  const char *end = NULL, *colon = strchr (text, ':'), *start = text, *port_text = NULL;
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *res;
  struct sockaddr_in *in = (struct sockaddr_in *) sa;
  size_t len;

  if (text[0] == '[')
    {
      end = strchr (text, ']');
      if (end == NULL || (end[1] != ':' && end[1] != '\0'))
        return 0;
      start = text + 1;
      port_text = end[1] == ':' ? end + 2 : NULL;
    }
  else if (colon != NULL && strchr (colon + 1, ':') == NULL)
    end = colon, port_text = colon + 1;
  else
    end = text + strlen (text);
  len = (size_t) (end - start);
  if (len == 0 || len >= size || (port_text != NULL && !number (port_text, strlen (port_text), 65535, &port))
      || port == 0)
    return 0;
  memcpy (host, start, len);
  host[len] = '\0';
  memset (sa, 0, sizeof *sa);
  if (strchr (host, ':') == NULL)
    {
      in->sin_family = AF_INET;
      in->sin_port = htons ((uint16_t) port);
      *sa_len = sizeof *in;
      *out_port = port;
      return inet_pton (AF_INET, host, &in->sin_addr) == 1;
    }
  if (getaddrinfo (host, NULL, &hints, &res) != 0)
    return 0;
  if (res->ai_family == AF_INET6 && res->ai_addrlen == sizeof (struct sockaddr_in6))
    {
      memcpy (sa, res->ai_addr, res->ai_addrlen);
      ((struct sockaddr_in6 *) sa)->sin6_port = htons ((uint16_t) port);
      *sa_len = res->ai_addrlen;
    }
  freeaddrinfo (res);
  *out_port = port;
  return sa->ss_family == AF_INET6;
}

/* connect, OP_REQ_IMPORT, a checked OP_REP_IMPORT: the socket, and devid and speed; -1 on
 * any failure, CONNECT_TIMED_OUT when nobody answered the connect within the deadline */
#define U32(p) ((unsigned) (p)[0] << 24 | (unsigned) (p)[1] << 16 | (unsigned) (p)[2] << 8 | (p)[3])

static int
import (const struct sockaddr_storage *sa, socklen_t sa_len, long long timeout_ms, const char *busid, unsigned *devid,
        unsigned *speed)
{
  unsigned char req[USBIP_OP_HEADER_SIZE + USBIP_BUSID_SIZE] = { 0 },
                                           rep[USBIP_OP_HEADER_SIZE + USBIP_DEVICE_RECORD_SIZE];
  const unsigned char *dev = rep + USBIP_OP_HEADER_SIZE;
  int fd = socket (sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
  socklen_t err_len = sizeof err;
  long long deadline = now_ms () + timeout_ms;
  size_t done = 0;

  if (fd < 0)
    return -1;
  if (connect (fd, (const struct sockaddr *) sa, sa_len) < 0)
    {
      if (errno != EINPROGRESS)
        goto fail;
      if (!wait_fd (fd, POLLOUT, deadline))
        {
          close (fd);
          return CONNECT_TIMED_OUT;
        }
    }
  if ((getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 || err != 0)
      || !set_int (fd, IPPROTO_TCP, TCP_NODELAY, 1) || !set_int (fd, SOL_SOCKET, SO_KEEPALIVE, 1)
      || !set_int (fd, IPPROTO_TCP, TCP_KEEPIDLE, USBIP_DEFAULT_KEEPALIVE_IDLE_S)
      || !set_int (fd, IPPROTO_TCP, TCP_KEEPINTVL, USBIP_DEFAULT_KEEPALIVE_INTERVAL_S)
      || !set_int (fd, IPPROTO_TCP, TCP_KEEPCNT, USBIP_DEFAULT_KEEPALIVE_PROBES)
      || !set_int (fd, IPPROTO_TCP, TCP_USER_TIMEOUT, USBIP_DEFAULT_USER_TIMEOUT_MS))
    goto fail;
  req[0] = USBIP_PROTO_VERSION >> 8, req[1] = USBIP_PROTO_VERSION & 0xff;
  req[2] = USBIP_OP_REQ_IMPORT >> 8, req[3] = USBIP_OP_REQ_IMPORT & 0xff;
  memcpy (req + USBIP_OP_HEADER_SIZE, busid, strlen (busid) + 1); /* at most 32 bytes: validated */
  for (deadline = now_ms () + timeout_ms; done < sizeof req;)
    {
      ssize_t n = send (fd, req + done, sizeof req - done, MSG_NOSIGNAL);
      if (n < 0 && (errno != EAGAIN || !wait_fd (fd, POLLOUT, deadline)))
        goto fail;
      done += n > 0 ? (size_t) n : 0;
    }
  for (done = 0, deadline = now_ms () + timeout_ms; done < sizeof rep;)
    {
      ssize_t n = recv (fd, rep + done, sizeof rep - done, 0);
      if (n == 0 || (n < 0 && (errno != EAGAIN || !wait_fd (fd, POLLIN, deadline))))
        goto fail;
      done += n > 0 ? (size_t) n : 0;
      /* the header first: a refusal (a status other than ST_OK) carries no device record */
      if (done >= USBIP_OP_HEADER_SIZE
          && ((rep[0] << 8 | rep[1]) != USBIP_PROTO_VERSION || (rep[2] << 8 | rep[3]) != USBIP_OP_REP_IMPORT
              || U32 (rep + 4) != USBIP_ST_OK))
        goto fail;
    }
  /* check_import_reply: the device asked for, a USB speed, a USB address */
  if (strncmp ((const char *) dev + 256, busid, USBIP_BUSID_SIZE) != 0 || U32 (dev + 296) < USBIP_SPEED_LOW
      || U32 (dev + 296) > USBIP_SPEED_SUPER_PLUS || U32 (dev + 288) > 0xffff || U32 (dev + 292) > 127)
    goto fail;
  *devid = U32 (dev + 288) << 16 | U32 (dev + 292);
  *speed = U32 (dev + 296);
#undef U32
  return fd;
fail:
  close (fd);
  return -1;
}

/* ---- the command line ---- */

/* --tcp-port/-t and --timeout before `attach`; -r/--remote and -b/--busid after it, each
 * once, in the forms GOption reads the same way; NULL values when anything else is there */
static int
parse_args (int argc, char **argv, unsigned long *port, unsigned long *timeout, const char **remote, const char **busid)
{
  int i = 1, verb = 0;

  for (; i < argc; i++)
    {
      const char *a = argv[i], *v = NULL;
      const char **slot = NULL;
      unsigned long *num = NULL, max = 0;

      if (!verb && strcmp (a, "attach") == 0)
        {
          verb = 1;
          continue;
        }
      if (!verb && (strcmp (a, "--tcp-port") == 0 || strcmp (a, "-t") == 0 || strncmp (a, "--tcp-port=", 11) == 0))
        num = port, max = 65535, v = a[1] == '-' && a[10] == '=' ? a + 11 : NULL;
      else if (!verb && (strcmp (a, "--timeout") == 0 || strncmp (a, "--timeout=", 10) == 0))
        num = timeout, max = 3600000, v = a[9] == '=' ? a + 10 : NULL;
      else if (verb && (strcmp (a, "-r") == 0 || strcmp (a, "--remote") == 0 || strncmp (a, "--remote=", 9) == 0))
        slot = remote, v = a[1] == '-' && a[8] == '=' ? a + 9 : NULL;
      else if (verb && (strcmp (a, "-b") == 0 || strcmp (a, "--busid") == 0 || strncmp (a, "--busid=", 8) == 0))
        slot = busid, v = a[1] == '-' && a[7] == '=' ? a + 8 : NULL;
      else
        return 0;
      if (v == NULL && (v = argv[++i]) == NULL)
        return 0;
      if (*v == '-' || *v == '\0' || (slot != NULL && *slot != NULL))
        return 0;
      if (slot != NULL)
        *slot = v;
      else if (num == NULL || v[0] == '0' || !number (v, strlen (v), max, num)
               || *num == 0) /* GOption reads 010 as octal */
        return 0;
    }
  return verb && *remote != NULL && *busid != NULL;
}

/* <bus>-<port>[.<port>...] as usbip_busid_validate() takes it */
static int
usb_busid (const char *s)
{
  size_t len = strlen (s), digits = strspn (s, "0123456789");

  if (len >= USBIP_BUSID_SIZE || digits == 0 || s[digits] != '-')
    return 0;
  for (s += digits + 1; (digits = strspn (s, "0123456789")) > 0; s += digits + 1)
    if (s[digits] == '\0')
      return 1;
    else if (s[digits] != '.')
      return 0;
  return 0;
}

int
usbip_tool_quick_attach (int argc, char **argv)
{
  const char *off = getenv ("USBIP_TOOL_QUICK"), *debug = getenv ("G_MESSAGES_DEBUG");
  const char *root = getenv ("USBIP_SYSFS_ROOT"), *state = getenv ("USBIP_VHCI_STATE_DIR");
  const char *remote = NULL, *busid = NULL, *failed;
  unsigned long tcp_port = USBIP_DEFAULT_TCP_PORT, timeout = USBIP_DEFAULT_CONNECT_TIMEOUT_MS, port;
  char host[256], vhci[DIR_SIZE], dir[DIR_SIZE], want[PATH_SIZE], value[64], attach[PATH_SIZE];
  struct sockaddr_storage sa;
  socklen_t sa_len = 0;
  unsigned devid, speed, skip_below = 0;
  size_t n = 0;
  static Port ports[MAX_PORTS];
  int fd;

  /* as root alone (other users go through the D-Bus service); no debug output asked for */
  if ((off != NULL && strcmp (off, "0") == 0) || geteuid () != 0 || (debug != NULL && *debug != '\0')
      || !parse_args (argc, argv, &tcp_port, &timeout, &remote, &busid) || !usb_busid (busid)
      || strncmp (remote, "unix:", 5) == 0 || strncmp (remote, "vsock:", 6) == 0
      || !parse_address (remote, tcp_port, host, sizeof host, &sa, &sa_len, &port))
    return NO;
#ifdef USBIP_BUILTIN_PLUGINS
  return NO; /* the builtin plugins' names are the module's to know */
#endif
  /* the seam's paths: USBIP_SYSFS_ROOT prefixes them ("/" or unset: none) */
  if (root == NULL || strcmp (root, "/") == 0)
    root = "";
  if (state == NULL || *state == '\0')
    state = NULL;
  if ((size_t) snprintf (vhci, sizeof vhci, "%s%s", root, USBIP_VHCI_SYSFS_DIR) >= sizeof vhci
      || (size_t) snprintf (dir, sizeof dir, "%s%s", state != NULL ? "" : root,
                            state != NULL ? state : USBIP_VHCI_STATE_DIR)
             >= sizeof dir)
    return NO;
  snprintf (want, sizeof want, "%s %lu %s", host, port, busid);
  /* vhci_hcd missing (the module names `modprobe vhci-hcd`), the pair attached already, a
   * configuration that may say more: the module's */
  if (access (vhci, F_OK) != 0 || recorded (dir, want) || !config_fine ())
    return NO;
  fd = import (&sa, sa_len, (long long) timeout, busid, &devid, &speed);
  /* the module's words (usbip-transport.c): asking it again would wait the deadline again */
  if (fd == CONNECT_TIMED_OUT)
    {
      fprintf (stderr,
               strchr (host, ':') != NULL
                   ? "usbip-tool: error: cannot connect to [%s]:%lu: no answer within %lu ms (%s)\n"
                   : "usbip-tool: error: cannot connect to %s:%lu: no answer within %lu ms (%s)\n",
               host, port, timeout, "is the host up and the port reachable through firewalls?");
      return USBIP_TOOL_EXIT_NETWORK;
    }
  if (fd < 0)
    return NO;
  /* usbip_vhci_backend_attach: a free port of the speed class; a port taken between our read
   * and our write (EBUSY) sends us to the next */
  for (unsigned attempt = 0; attempt < USBIP_VHCI_ATTACH_RETRIES && read_ports (vhci, ports, &n); attempt++)
    {
      int ss = speed == USBIP_SPEED_SUPER || speed == USBIP_SPEED_SUPER_PLUS, free_port = -1, afd;
      ssize_t len;

      /* from the port after the one taken; then from the first */
      for (size_t i = 0; i < 2 * n && free_port < 0; i++)
        if (ports[i % n].ss == ss && ports[i % n].status == USBIP_PORT_STATUS_NULL
            && ports[i % n].port >= (i < n ? skip_below : 0))
          free_port = (int) ports[i % n].port;
      if (free_port < 0)
        break;
      snprintf (value, sizeof value, "%d %d %u %u", free_port, fd, devid, speed);
      snprintf (attach, sizeof attach, "%s/attach", vhci);
      afd = open (attach, O_WRONLY | O_CLOEXEC);
      do
        len = afd < 0 ? -1 : write (afd, value, strlen (value));
      while (len < 0 && errno == EINTR && afd >= 0);
      if (afd < 0 || len != (ssize_t) strlen (value) || close (afd) < 0)
        {
          if (len < 0 && errno == EBUSY)
            {
              skip_below = (unsigned) free_port + 1;
              continue;
            }
          break;
        }
      close (fd); /* the kernel holds its own reference */
      snprintf (want, sizeof want, "%s %lu %s\n", host, port, busid);
      failed = write_record (dir, (unsigned) free_port, want);
      if (failed != NULL) /* as the module words it (a file error there has GLib's words) */
        fprintf (stderr,
                 "usbip-tool: warning: attached on port %d, but %s: %s: `usbip port` will not show the remote\n",
                 free_port, failed, strerror (errno));
      return 0;
    }
  close (fd);
  return NO;
}
