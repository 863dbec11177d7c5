#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""usbipcored --log-format journal against a fake journal: the test re-runs itself in a private
mount namespace with its own /run (so nothing outside sees it), binds the journal's datagram
socket /run/systemd/journal/socket there, makes the daemon refuse an import, and reads the
record in the journal's native protocol: MESSAGE, PRIORITY and every USBIP_* field.

usage: test-journal.py USBIPCORED (needs root for the namespace; run by meson, suite tools)"""
import os
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import check, run_tests, test  # noqa: E402

DAEMON = os.path.abspath(sys.argv[1])
JOURNAL = "/run/systemd/journal/socket"

if os.environ.get("USBIP_TEST_JOURNAL_NS") != "1":
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root: the fake journal lives in a private mount namespace")
        sys.exit(0)
    env = dict(os.environ, USBIP_TEST_JOURNAL_NS="1")
    os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
                           'mount -t tmpfs usbip-test-run /run; exec "$@"', "sh",
                           sys.executable, *sys.argv], env)

ROOT = tempfile.mkdtemp(prefix="usbip-journal-")
with open(os.path.join(ROOT, "none.conf"), "w") as f:
    f.write("# empty: defaults\n")
ENV = dict(os.environ, USBIP_SYSFS_ROOT=ROOT, USBIP_CONFIG=os.path.join(ROOT, "none.conf"), LC_ALL="C")


def parse_native(data):
    """One datagram of the journal's native protocol: KEY=VALUE\\n, or KEY\\n + a 64-bit
    little-endian length + the value + \\n for a value with a newline in it."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            (n,) = struct.unpack_from("<Q", data, nl + 1)
            k, v = line, data[nl + 9:nl + 9 + n]
            check(data[nl + 9 + n:nl + 10 + n] == b"\n", "a binary field must end with a newline:", data)
            i = nl + 10 + n
        fields[k.decode()] = v.decode()
    return fields


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def import_request(busid):
    # OP_REQ_IMPORT: version 0x0111, code 0x8003, status 0, then the 32-byte busid
    return struct.pack(">HHI", 0x0111, 0x8003, 0) + busid.encode().ljust(32, b"\0")


@test
def journal_record_fields():
    os.makedirs(os.path.dirname(JOURNAL), exist_ok=True)
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(JOURNAL)
    journal.settimeout(10)
    port = free_port()
    p = subprocess.Popen([DAEMON, "--log-format", "journal", "--listen", f"127.0.0.1:{port}",
                          "--status-socket", os.path.join(ROOT, "status.sock")],
                         env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        records = []

        def receive_until(pred):
            while True:
                try:
                    records.append(parse_native(journal.recv(65536)))
                except socket.timeout:
                    return None
                r = next((r for r in records if pred(r)), None)
                if r is not None:
                    return r

        started = receive_until(lambda r: "serving" in r.get("MESSAGE", ""))
        check(started is not None, "no start-up record reached the journal:", records)
        check(started.get("PRIORITY") == "5", "a notice is priority 5:", started)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(import_request("9-9"))
            reply = c.recv(64)
        check(len(reply) == 8, "the import of an unknown device is answered with a bare header:", reply)
        refused = receive_until(lambda r: r.get("USBIP_BUSID") == "9-9")
        check(refused is not None, "no record of the refused import:", records)
        check(refused["PRIORITY"] == "6", "a refused import is logged at info (6):", refused)
        check(refused["GLIB_DOMAIN"] == "usbipcore", refused)
        check(refused["USBIP_PEER"].startswith("127.0.0.1:"), refused)
        check(refused["USBIP_OP"] == "OP_REQ_IMPORT", refused)
        check(refused["USBIP_STATUS"] == "4", "ST_NODEV is 4:", refused)
        check("import of 9-9 refused" in refused["MESSAGE"], refused)
    finally:
        p.terminate()
        _, err = p.communicate(timeout=20)
        journal.close()
    # everything went to the journal: stderr holds no record
    check("refused" not in err, "with a journal the records do not go to stderr too:", err)


@test
def no_journal_falls_back_to_text():
    os.unlink(JOURNAL)
    p = subprocess.Popen([DAEMON, "--log-format", "journal", "--listen", f"127.0.0.1:{free_port()}",
                          "--status-socket", os.path.join(ROOT, "status2.sock")],
                         env=ENV, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        # reads until the start-up line or the end of stderr (the daemon exited); meson's
        # timeout bounds a daemon that says nothing
        for line in p.stderr:
            lines.append(line)
            if "serving" in line:
                break
    finally:
        p.terminate()
        p.communicate(timeout=20)
    check(any(line.startswith("usbipcored: notice: serving") for line in lines),
          "without a journal the records go to stderr as text:", lines)


run_tests(cleanup=lambda: subprocess.run(["rm", "-rf", ROOT]))
