#!/bin/sh
# USB/IP over a Unix socket (issue 15): usbipcored listens on unix:/run/usbipcored/usbip.sock
# (socket file 0660, the directory made), usbip-tool attaches the mass-storage gadget through
# it into the real vhci_hcd, data checked end to end; detach, daemon restart (the stale file
# is gone with the daemon), attach again. The daemon names the peer `uid=0 pid=...`.
. "$VMH_SRC/lib.sh"
need_daemon
need_tool
S=/run/usbipcored/usbip.sock
TRANSPORT_PEER="uid=0 pid="
transport_roundtrip "unix:$S" --listen "unix:$S"
[ -e "$S" ] && fail "$S left behind after the daemon stopped"
say "mass storage over a Unix socket passed"
