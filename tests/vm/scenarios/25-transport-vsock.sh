#!/bin/sh
# USB/IP over vsock (issue 15): usbipcored listens on vsock:-1:5000, usbip-tool attaches the
# mass-storage gadget from vsock:1:5000 (CID 1: this machine, through vsock_loopback) into the
# real vhci_hcd, data checked end to end; detach, daemon restart, attach again. The daemon
# names the peer `cid=1 port=...`.
. "$VMH_SRC/lib.sh"
need_daemon
need_tool
modprobe -d "$VMH_MODROOT" vsock_loopback || fail "cannot load vsock_loopback: $(modprobe -d "$VMH_MODROOT" vsock_loopback 2>&1)"
TRANSPORT_PEER="cid=1 port="
transport_roundtrip vsock:1:5000 --listen vsock:-1:5000
say "mass storage over vsock passed"
