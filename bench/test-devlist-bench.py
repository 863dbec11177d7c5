#!/usr/bin/python3
# test-devlist-bench.py CLIENT...: the OP_REQ_DEVLIST load clients (bench/devlist-bench and
# tests/vm/devlist-bench.py, given as command lines) against a fake daemon on 127.0.0.1:
#  - handshakes that are still waiting for their reply when --duration ends are reported as
#    unfinished, not as failures, and are not waited for (before, the client waited up to
#    --timeout for them and the rate then depended on how many were stuck);
#  - with --warmup, the daemon answers more handshakes than the client reports (the warm-up's
#    count for nothing) and the report carries seconds = the window.
import shlex
import socket
import struct
import subprocess
import sys
import threading


class FakeDaemon:
    """Accepts on 127.0.0.1; answers each OP_REQ_DEVLIST with an empty list, or never."""

    def __init__(self, answer):
        self.answer = answer
        self.answered = 0
        self.held = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.sock.accept()
            if not self.answer:
                self.held.append(c)  # never answered, never closed
                continue
            data = b""
            while len(data) < 8:
                chunk = c.recv(8 - len(data))
                if not chunk:
                    break
                data += chunk
            c.sendall(struct.pack(">HHII", 0x0111, 0x0005, 0, 0))
            c.close()
            self.answered += 1


def run(client, port, *args):
    cmd = shlex.split(client) + ["127.0.0.1", str(port)] + list(args)
    # the bound is a hang guard far above the 30 s --timeout a client must not wait for
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=25, check=True).stdout
    return dict(kv.split("=", 1) for kv in out.split())


def main():
    failed = 0
    for client in sys.argv[1:]:
        stuck = FakeDaemon(answer=False)
        r = run(client, stuck.port, "--concurrency", "4", "--duration", "0.5", "--timeout", "30")
        ok = r["failures"] == "0" and r["handshakes"] == "0" and r.get("unfinished") == "4"
        print("%s %s: stuck daemon -> %s" % ("ok" if ok else "FAIL", client, r))
        failed += not ok

        good = FakeDaemon(answer=True)
        r = run(client, good.port, "--concurrency", "2", "--duration", "0.5", "--warmup", "1", "--timeout", "5")
        ok = (r["failures"] == "0" and int(r["handshakes"]) > 0 and good.answered > int(r["handshakes"])
              and 0.5 <= float(r["seconds"]) < 5 and r["devices"] == "0")
        print("%s %s: warm-up -> %s, the daemon answered %d" % ("ok" if ok else "FAIL", client, r, good.answered))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
