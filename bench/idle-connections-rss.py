#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Peak RSS of usbipcored idle and with N idle connections held (DESIGN.md §5: <= 8 MiB
idle, <= 16 MiB with 1000). Usage:
    meson devenv -C build python3 bench/idle-connections-rss.py build/tools/usbipcored/usbipcored [N]"""
import resource
import socket
import subprocess
import sys
import time

daemon = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
p = subprocess.Popen([daemon, "--listen", f"127.0.0.1:{port}", "--handshake-timeout", "60000",
                      "--log-format", "text"], stderr=subprocess.DEVNULL,
                     preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256)))


def status(key):
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])


time.sleep(0.5)
idle = status("VmHWM:")
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
time.sleep(1.0)
held = status("VmRSS:")
peak = status("VmHWM:")
for c in conns:
    c.close()
p.terminate()
p.wait()
print(f"idle peak RSS: {idle} KiB ({idle / 1024:.1f} MiB)")
print(f"with {n} idle connections: RSS {held} KiB, peak {peak} KiB ({peak / 1024:.1f} MiB)")
