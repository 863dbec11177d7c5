#!/usr/bin/python3
# devlist-bench.py HOST PORT [--count N] [--concurrency C] [--duration S] [--timeout T] [--warmup S]
#
# Sends OP_REQ_DEVLIST handshakes (version 0x0111) to a USB/IP daemon and reads each reply to
# the end (the daemon closes the connection after OP_REP_DEVLIST). Without the process start-up
# of `usbip list -r` per request, this measures the daemon. With --count N: N handshakes per
# client; with --duration S: as many as fit in S seconds, after --warmup S seconds that count
# for nothing; the handshakes still in flight when the window closes are unfinished, not
# failures, and not waited for (as bench/devlist-bench). Prints one line:
#   handshakes=H failures=F seconds=S rate=R devices=D unfinished=U
import socket
import struct
import sys
import threading
import time

OP_REQ_DEVLIST = 0x8005
OP_REP_DEVLIST = 0x0005
VERSION = 0x0111


def one(host, port, timeout):
    """One handshake; returns the device count, raises on any failure."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(struct.pack(">HHI", VERSION, OP_REQ_DEVLIST, 0))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if len(data) < 12:
        raise ValueError("short reply (%d bytes)" % len(data))
    version, code, status, ndev = struct.unpack(">HHII", data[:12])
    if code != OP_REP_DEVLIST or status != 0:
        raise ValueError("reply code %#x status %d" % (code, status))
    return ndev


def main():
    args = sys.argv[1:]
    host, port = args[0], int(args[1])
    opts = {"--count": 0, "--concurrency": 1, "--duration": 0.0, "--timeout": 10.0, "--warmup": 0.0}
    i = 2
    while i < len(args):
        opts[args[i]] = type(opts[args[i]])(args[i + 1])
        i += 2
    count, conc, duration, timeout = opts["--count"], opts["--concurrency"], opts["--duration"], opts["--timeout"]
    lock = threading.Lock()
    totals = {"ok": 0, "fail": 0, "devices": -1, "last_error": "", "inflight": 0}
    start = time.monotonic() + (opts["--warmup"] if duration > 0 else 0.0)
    deadline = start + duration if duration > 0 else None

    def client():
        n = 0
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                break
            if deadline is None and n >= count:
                break
            n += 1
            with lock:
                totals["inflight"] += 1
            try:
                d = one(host, port, timeout)
                with lock:
                    totals["inflight"] -= 1
                    totals["devices"] = d
                    totals["ok"] += time.monotonic() >= start  # the warm-up's count for nothing
            except Exception as e:  # a failed handshake counts; the run goes on
                with lock:
                    totals["inflight"] -= 1
                    if time.monotonic() >= start:
                        totals["fail"] += 1
                        totals["last_error"] = str(e)

    # daemon threads: the ones still in a handshake when the window closes are not waited for
    threads = [threading.Thread(target=client, daemon=True) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    with lock:  # the window's totals; what ends after this is not counted
        snap = dict(totals)
    secs = (min(time.monotonic(), deadline) if deadline is not None else time.monotonic()) - start
    print("handshakes=%d failures=%d seconds=%.3f rate=%.1f devices=%d unfinished=%d%s" % (
        snap["ok"], snap["fail"], secs, snap["ok"] / secs if secs > 0 else 0.0,
        snap["devices"], snap["inflight"],
        (" last_error=" + snap["last_error"].replace(" ", "_")) if snap["fail"] else ""))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
