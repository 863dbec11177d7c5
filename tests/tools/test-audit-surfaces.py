#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What a user or an attacker meets on the surfaces beside the USB/IP port: the `status` verb
pointed at a socket that is not usbipcored's, a Unix-socket client the daemon refuses, and
the metrics endpoint under hostile HTTP. Each ends with an error that names its cause (no
GLib assertion, no bare errno text) and the daemon keeps serving. Prints TAP."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import TIME_SCALE, check, run_tests, test, wait_until  # noqa: E402

DAEMON, TOOL = sys.argv[1:3]
ROOT = tempfile.mkdtemp(prefix="usbip-surfaces-")
os.chmod(ROOT, 0o755)
ENV = dict(os.environ, LC_ALL="C.UTF-8", USBIP_CONFIG=os.path.join(ROOT, "empty.conf"))  # the defaults
open(ENV["USBIP_CONFIG"], "w").close()


def tool(*args):
    p = subprocess.run([TOOL, *args], capture_output=True, text=True, env=ENV, timeout=30 * TIME_SCALE)
    return p.returncode, p.stdout, p.stderr


def json_http_server(path, body):
    """A Unix-socket HTTP server answering every request with 200 and BODY (JSON), as
    another program's API socket would; returns its listening socket (close it to stop)."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(8)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                          b"Connection: close\r\n\r\n%s" % (len(body), body))

    threading.Thread(target=serve, daemon=True).start()
    return srv


@test
def status_of_a_socket_that_is_not_usbipcored():
    good_status = (b'{"version":"1","uptime_s":1,"draining":false,"listeners":[],"plugins":[],'
                   b'"policy":{},"counters":{},"sessions":[]}')
    for i, body in enumerate((b"{}", b'{"version":5,"policy":[],"listeners":[1,2]}',
                              b'{"version":"1","uptime_s":"x","draining":false}',
                              # /v1/status as usbipcored's, but the sessions list holds no sessions
                              good_status.replace(b'"sessions":[]', b'"sessions":[1,{"peer":2}]'))):
        path = os.path.join(ROOT, f"other-{i}.sock")
        srv = json_http_server(path, body)
        try:
            for args in (("status",), ("--json", "status")):
                rc, out, err = tool(*args, "--socket", path)
                check(rc == 9 and "not usbipcored's status" in err and "assertion" not in err
                      and len(err.splitlines()) == 1, body, args, rc, out, err)
                check(("--json" in args) == ('"kind":"protocol"' in out), args, out)
        finally:
            srv.close()
    # nothing there, or a file that is no socket: nothing answers (exit 8, docs/ops.md)
    regular = os.path.join(ROOT, "regular-file")
    open(regular, "w").close()
    for path in (os.path.join(ROOT, "missing.sock"), regular):
        rc, _, err = tool("status", "--socket", path)
        check(rc == 8 and "is usbipcored running" in err and "assertion" not in err, path, rc, err)


@test
def refused_unix_client_told_the_policy_may_refuse_it():
    # the daemon closes a client its allow-uid refuses at once; the client's request may
    # then meet a closed socket on its write (EPIPE) as well as on its read: both must say why
    sock = os.path.join(ROOT, "refusing.sock")
    d = subprocess.Popen([DAEMON, "--status-socket", "", "--listen", f"unix:{sock}", "--allow-uid", "54321"],
                         env=ENV, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: os.path.exists(sock) or d.poll() is not None, "usbipcored to listen on its socket")
        for _ in range(30):
            rc, _, err = tool("list", "-r", f"unix:{sock}")
            check(rc == 8 and "the peer closed the connection" in err and "may refuse this client by policy" in err
                  and "Broken pipe" not in err, rc, err)
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=20 * TIME_SCALE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1])


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def scrape(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5 * TIME_SCALE) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode()


@test
def metrics_endpoint_under_hostile_http():
    mport, uport = free_port(), free_port()
    conf = os.path.join(ROOT, "metrics.conf")
    with open(conf, "w") as f:
        f.write(f"[plugins]\nenabled=host;metrics\n[metrics]\nlisten=127.0.0.1:{mport}\n")
    # in an ASan build (scripts/sanitize.sh) freed blocks wait in ASan's quarantine (256 MiB by
    # default) and count in RSS: without it RSS shows what the daemon keeps, the measure here
    asan = ENV.get("ASAN_OPTIONS", "")
    env = dict(ENV, ASAN_OPTIONS=(asan + ":" if asan else "") + "quarantine_size_mb=0")
    d = subprocess.Popen([DAEMON, "--config", conf, "--status-socket", "", "--listen", f"127.0.0.1:{uport}",
                          "--virtual", "cdc-acm:mode=loopback"], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: d.poll() is not None or socket.socket().connect_ex(("127.0.0.1", mport)) == 0,
                   "metrics to listen")
        check(d.poll() is None, "usbipcored exited at start")
        base_rss, base_fds = rss_kib(d.pid), open_fds(d.pid)

        # a 32 MiB upload is answered from its headers, never buffered
        with socket.create_connection(("127.0.0.1", mport), timeout=2 * TIME_SCALE) as s:
            s.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n")
            try:
                answer = s.recv(100)
            except TimeoutError:
                answer = b""  # waiting for the body
            try:
                for _ in range(32):
                    s.sendall(b"b" * (1 << 20))
                answer = answer or s.recv(100)
            except OSError:
                pass  # closed on us: what it should do
        check(answer.startswith(b"HTTP/1.1 405"), answer)
        check(rss_kib(d.pid) - base_rss < 8192, "RSS grew by", rss_kib(d.pid) - base_rss, "KiB")

        # 300 idle connections: at most 64 are kept, and not for ever
        idle = [socket.create_connection(("127.0.0.1", mport)) for _ in range(300)]
        try:
            wait_until(lambda: open_fds(d.pid) <= base_fds + 64 + 2, "the daemon to keep at most 64 metrics connections")
            rc, _, err = tool("list", "-r", f"127.0.0.1:{uport}")
            check(rc == 0, "USB/IP not served meanwhile", rc, err)
            # up to two rounds of the 10 s idle limit: the 64 kept, then the up to 64 the listen
            # backlog held, accepted as the first ones close
            wait_until(lambda: open_fds(d.pid) <= base_fds + 1, "idle metrics connections to be closed", timeout=40)
            check("usbip_build_info" in scrape(mport), "no scrape after the idle connections")
        finally:
            for s in idle:
                s.close()
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=20 * TIME_SCALE)


@test
def live_unix_listener_with_a_full_queue_is_not_replaced():
    # a listener too busy to accept (its queue full: connect says EAGAIN) is alive; a second
    # daemon must not take its path as a stale socket
    path = os.path.join(ROOT, "busy.sock")
    busy = socket.socket(socket.AF_UNIX)
    busy.bind(path)
    busy.listen(0)
    queued = []
    try:
        while True:  # fill the queue
            c = socket.socket(socket.AF_UNIX)
            c.setblocking(False)
            queued.append(c)
            c.connect(path)
    except BlockingIOError:
        pass
    try:
        d = subprocess.Popen([DAEMON, "--status-socket", "", "--listen", f"unix:{path}"], env=ENV,
                             stderr=subprocess.PIPE, text=True)
        try:
            _, err = d.communicate(timeout=10 * TIME_SCALE)
        except subprocess.TimeoutExpired:
            d.send_signal(signal.SIGTERM)
            _, err = d.communicate(timeout=20 * TIME_SCALE)
            check(False, "usbipcored took the path of a live listener:", err)
        check(d.returncode != 0 and "another process listens on it" in err and os.path.exists(path), d.returncode, err)
    finally:
        for c in queued:
            c.close()
        busy.close()


run_tests(cleanup=lambda: shutil.rmtree(ROOT, ignore_errors=True))
