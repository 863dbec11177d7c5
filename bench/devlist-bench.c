/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OP_REQ_DEVLIST load generator, compiled so that the client is not what limits the figure
 * (the Python client in tests/vm was, under TCG). One thread; C connections kept in flight
 * with poll(): each connects, sends the 8-byte request (version 0x0111), reads the reply to
 * EOF (the daemon closes after OP_REP_DEVLIST), checks it, and starts over.
 *
 *   devlist-bench HOST PORT [--count N] [--concurrency C] [--duration S] [--timeout S] [--warmup S]
 *
 * --count N: N handshakes per connection slot; --duration S: as many as fit in S seconds.
 * A handshake that does not complete within --timeout (default 5 s), or a bad reply, is a
 * failure and the run goes on. Prints one line (the same as tests/vm/devlist-bench.py):
 *   handshakes=H failures=F seconds=S rate=R devices=D unfinished=U [last_error=...]
 * With --duration the rate is over the measured window alone: --warmup S (default 0) seconds
 * of load come first and count for nothing (the daemon's first connections, a fork-per-
 * connection daemon's first children), and the handshakes still in flight when the window
 * closes are dropped and counted as unfinished, not as failures: before, waiting for them
 * stretched the run by up to --timeout and the rate then depended on how many were stuck.
 * Plain POSIX, no GLib: the guest runs it as it is.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OP_REQ_DEVLIST 0x8005
#define OP_REP_DEVLIST 0x0005
#define VERSION 0x0111
#define MAX_REPLY (1 << 20)

typedef struct {
  int fd;         /* -1: idle */
  int sent;       /* request written */
  double started; /* seconds */
  size_t len;
  unsigned char *buf;
  long done; /* handshakes started by this slot */
} Slot;

static struct sockaddr_storage peer;
static socklen_t peer_len;
static long ok, failures;
static int counting = 1; /* 0 during --warmup */
static long devices = -1;
static char last_error[128];

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
fail (Slot *s, const char *why)
{
  failures += counting;
  snprintf (last_error, sizeof last_error, "%s", why);
  close (s->fd);
  s->fd = -1;
}

static void
start (Slot *s)
{
  int one = 1;

  s->fd = socket (peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  s->sent = 0;
  s->len = 0;
  s->started = now ();
  s->done++;
  if (s->fd < 0)
    {
      failures++;
      snprintf (last_error, sizeof last_error, "socket: %s", strerror (errno));
      return;
    }
  setsockopt (s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (s->fd, (struct sockaddr *) &peer, peer_len) < 0 && errno != EINPROGRESS)
    fail (s, strerror (errno));
}

/* the reply is complete (EOF): check it */
static void
finish (Slot *s)
{
  const unsigned char *b = s->buf;
  uint32_t status, n;

  if (s->len < 12)
    {
      fail (s, "short_reply");
      return;
    }
  status = (uint32_t) b[4] << 24 | (uint32_t) b[5] << 16 | (uint32_t) b[6] << 8 | b[7];
  n = (uint32_t) b[8] << 24 | (uint32_t) b[9] << 16 | (uint32_t) b[10] << 8 | b[11];
  if ((b[2] << 8 | b[3]) != OP_REP_DEVLIST || status != 0)
    {
      fail (s, "bad_reply");
      return;
    }
  ok += counting;
  devices = n;
  close (s->fd);
  s->fd = -1;
}

static void
step (Slot *s, short revents)
{
  if (revents & (POLLERR | POLLNVAL))
    {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt (s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
      {
        fail (s, err ? strerror (err) : "poll_error");
        return;
      }
    }
  if (!s->sent && (revents & POLLOUT))
    {
      unsigned char req[8] = { VERSION >> 8, VERSION & 0xff, OP_REQ_DEVLIST >> 8, OP_REQ_DEVLIST & 0xff, 0, 0, 0, 0 };
      if (send (s->fd, req, sizeof req, MSG_NOSIGNAL) != (ssize_t) sizeof req)
        {
          fail (s, "send");
          return;
        }
      s->sent = 1;
      return;
    }
  if (s->sent && (revents & (POLLIN | POLLHUP)))
    {
      for (;;)
        {
          ssize_t r = recv (s->fd, s->buf + s->len, MAX_REPLY - s->len, 0);
          if (r > 0)
            {
              s->len += (size_t) r;
              if (s->len == MAX_REPLY)
                {
                  fail (s, "reply_too_long");
                  return;
                }
              continue;
            }
          if (r == 0)
            {
              finish (s);
              return;
            }
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
          {
            fail (s, strerror (errno));
            return;
          }
        }
    }
}

int
main (int argc, char **argv)
{
  long count = 0, conc = 1;
  double duration = 0, timeout = 5, warmup = 0, t0, deadline, secs;
  long unfinished = 0;
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
  Slot *slots;
  struct pollfd *pfds;
  int *map;

  if (argc < 3)
    {
      fprintf (stderr, "usage: %s HOST PORT [--count N] [--concurrency C] [--duration S] [--timeout S] [--warmup S]\n",
               argv[0]);
      return 2;
    }
  for (int i = 3; i + 1 < argc; i += 2)
    {
      if (strcmp (argv[i], "--count") == 0)
        count = atol (argv[i + 1]);
      else if (strcmp (argv[i], "--concurrency") == 0)
        conc = atol (argv[i + 1]);
      else if (strcmp (argv[i], "--duration") == 0)
        duration = atof (argv[i + 1]);
      else if (strcmp (argv[i], "--timeout") == 0)
        timeout = atof (argv[i + 1]);
      else if (strcmp (argv[i], "--warmup") == 0)
        warmup = atof (argv[i + 1]);
      else
        {
          fprintf (stderr, "unknown option %s\n", argv[i]);
          return 2;
        }
    }
  if (conc < 1 || conc > 4096 || (count <= 0 && duration <= 0) || timeout <= 0 || warmup < 0
      || (warmup > 0 && duration <= 0))
    {
      fprintf (stderr, "need --count N or --duration S, 1 <= --concurrency <= 4096, --timeout > 0, --warmup >= 0 "
                       "(with --duration only)\n");
      return 2;
    }
  if (getaddrinfo (argv[1], argv[2], &hints, &ai) != 0)
    {
      fprintf (stderr, "cannot resolve %s port %s\n", argv[1], argv[2]);
      return 2;
    }
  memcpy (&peer, ai->ai_addr, ai->ai_addrlen);
  peer_len = ai->ai_addrlen;
  freeaddrinfo (ai);

  slots = calloc ((size_t) conc, sizeof *slots);
  pfds = calloc ((size_t) conc, sizeof *pfds);
  map = calloc ((size_t) conc, sizeof *map);
  if (slots == NULL || pfds == NULL || map == NULL)
    return 1;
  counting = warmup <= 0;
  t0 = now () + warmup;
  deadline = duration > 0 ? t0 + duration : 0;
  for (long i = 0; i < conc; i++)
    {
      slots[i].fd = -1;
      slots[i].buf = malloc (MAX_REPLY);
      if (slots[i].buf == NULL)
        return 1;
    }
  for (;;)
    {
      double t = now ();
      nfds_t n = 0;

      if (!counting && t >= t0)
        counting = 1; /* the window opens: what completes from now on counts */
      if (deadline > 0 && t >= deadline)
        {
          /* the window closed: what is still in flight is not waited for */
          for (long i = 0; i < conc; i++)
            if (slots[i].fd >= 0)
              {
                unfinished++;
                close (slots[i].fd);
                slots[i].fd = -1;
              }
          break;
        }
      for (long i = 0; i < conc; i++)
        {
          Slot *s = &slots[i];
          if (s->fd >= 0 && t - s->started > timeout)
            fail (s, "timeout");
          if (s->fd < 0 && (deadline > 0 ? t < deadline : s->done < count))
            start (s);
          if (s->fd < 0)
            continue;
          pfds[n].fd = s->fd;
          pfds[n].events = s->sent ? POLLIN : POLLOUT;
          map[n++] = (int) i;
        }
      if (n == 0)
        break;
      if (poll (pfds, n, 100) < 0 && errno != EINTR)
        {
          perror ("poll");
          return 1;
        }
      for (nfds_t k = 0; k < n; k++)
        if (pfds[k].revents)
          step (&slots[map[k]], pfds[k].revents);
    }
  secs = now () - t0;
  printf ("handshakes=%ld failures=%ld seconds=%.3f rate=%.1f devices=%ld unfinished=%ld%s%s\n", ok, failures, secs,
          secs > 0 ? ok / secs : 0.0, devices, unfinished, failures ? " last_error=" : "", failures ? last_error : "");
  for (long i = 0; i < conc; i++)
    free (slots[i].buf);
  free (slots);
  free (pfds);
  free (map);
  return 0;
}
