#!/usr/bin/env python3
# Read throughput of a virtual disk (usbipcored --virtual mass-storage) over TCP, with no
# kernel in the way: imports BUSID from 127.0.0.1:PORT and runs COUNT READ(10) commands of
# 120 KiB (what usb-storage sends to a high speed disk) one after the other, as usb-storage
# does: CBW, data, CSW, each waited for. Prints MB/s. See docs/performance.md.
#
#   bench/virtual-disk-read.py PORT BUSID [COUNT]
import socket
import struct
import sys
import time

if len(sys.argv) < 3:
    sys.exit("usage: bench/virtual-disk-read.py PORT BUSID [COUNT], e.g. 3240 virtual-disk 300")
port, busid, count = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3]) if len(sys.argv) > 3 else 300
BLOCKS = 240
sock = socket.create_connection(("127.0.0.1", port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def recv(n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit("the daemon closed the connection")
        data += chunk
    return bytes(data)


sock.sendall(struct.pack(">HHI", 0x0111, 0x8003, 0) + busid.ljust(32, b"\0"))  # OP_REQ_IMPORT
if struct.unpack(">HHI", recv(8))[2] != 0:
    sys.exit(f"import of {busid.decode()} refused")
recv(312)
seqnum = 0


def submit(ep, direction, length, data=b""):
    global seqnum
    seqnum += 1
    sock.sendall(struct.pack(">5I", 1, seqnum, 1, direction, ep) + struct.pack(">IiiII", 0, length, 0, 0, 0)
                 + bytes(8) + data)
    header = recv(48)
    status, actual = struct.unpack(">ii", header[20:28])
    if status != 0:
        sys.exit(f"URB failed: status {status}")
    return recv(actual) if direction == 1 else b""


start = time.monotonic()
total = 0
for i in range(count):
    read10 = struct.pack(">BBIBHB", 0x28, 0, (i * BLOCKS) % 4096, 0, BLOCKS, 0) + bytes(6)
    submit(2, 0, 31, struct.pack("<IIIBBB", 0x43425355, i, BLOCKS * 512, 0x80, 0, 10) + read10)  # CBW
    total += len(submit(1, 1, BLOCKS * 512))
    submit(1, 1, 13)  # CSW
elapsed = time.monotonic() - start
print(f"{total / elapsed / 1e6:.1f} MB/s ({count} reads of {BLOCKS * 512} bytes in {elapsed:.2f} s)")
