#!/bin/sh
# Error paths on the real kernel, with usbip-tool's exit codes: a busid already imported (4,
# "busy"), an unknown busid (3), attach without vhci-hcd loaded (6, names `modprobe vhci-hcd`),
# and a wrong-version handshake against usbipcored (closed, no reply) while an idle client is
# connected and a good client is still served.
. "$VMH_SRC/lib.sh"
need_tool
need_daemon
B=$LB_BUSID
# raw TCP clients: bash's /dev/tcp (bash is Essential in Debian: the guest always has it)
# raw_client OUT [BYTES]: connects to 127.0.0.1:3240, sends BYTES (printf escapes), writes what
# comes back to OUT until the server closes
# (one process: the background job's PID is the one holding the socket)
raw_client() { exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/3240 || exit 1; printf "$1" >&3; exec cat <&3 > "$0"' "$1" "${2:-}"; }

# a handshake deadline far beyond the scenario: the idle client below is held, whatever the pace
start_usbipcored --listen 127.0.0.1:3240 --handshake-timeout 600000
run usbip bind -b "$B"
# the mass-storage gadget stays exported and free: what a good client must see listed
run usbip bind -b "$MS_BUSID"
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device appeared on vhci"
dev=$(vhci_device "$LB_ID")
[ "$(vhci_attached_count)" -eq 1 ] || fail "expected 1 used vhci port, have $(vhci_attached_count)"

# --- 1a. the same (remote, busid) again from this host: usbip-tool returns the existing port
#          (deduplication, docs/reconnect.md) without asking the exporter
run "$USBIP_TOOL" --json attach -r 127.0.0.1 -b "$B" > /tmp/again.json
grep -q '"type":"attached"' /tmp/again.json && grep -q '"already_attached":true' /tmp/again.json ||
  fail "a second attach of an attached pair did not report the existing port (already_attached)"
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B" > /tmp/again.txt
grep -qx "$B from 127.0.0.1 is already attached on port [0-9]*" /tmp/again.txt ||
  fail "a second attach did not say it is already attached: $(cat /tmp/again.txt)"
[ "$(vhci_attached_count)" -eq 1 ] || fail "a second attach of an attached pair took another port"
# --- 1b. another client asking for it (a different remote spelling = a different pair):
#          the exporter answers ST_DEV_BUSY
t=$(now)
expect_rc 4 /tmp/busy.txt "$USBIP_TOOL" attach -r localhost -b "$B"
say "busy refusal in $(elapsed "$t") s"
grep -qi "busy" /tmp/busy.txt || fail "the refusal does not say busy"
[ "$(vhci_attached_count)" -eq 1 ] || fail "a refused attach changed the vhci ports ($(vhci_attached_count) used)"
[ "$(vhci_device "$LB_ID")" = "$dev" ] || fail "the first import is gone after the refused second one"
expect_rc 4 /tmp/busy.json "$USBIP_TOOL" --json attach -r localhost -b "$B"
grep -q '"type":"error"' /tmp/busy.json && grep -q '"kind":"busy"' /tmp/busy.json && grep -q '"exit_code":4' /tmp/busy.json ||
  fail "--json attach did not write an error object with kind busy and exit_code 4"

# --- 2. an unknown busid: ST_NODEV
expect_rc 3 /tmp/nodev.txt "$USBIP_TOOL" attach -r 127.0.0.1 -b 9-9
grep -q "9-9" /tmp/nodev.txt || fail "the not-found message does not name the busid"

# --- 3. a wrong protocol version (0x0106) in OP_REQ_DEVLIST, an idle client, a good client
raw_client /tmp/idle.out &
idle=$!
wait_for 10 sh -c "ls -l /proc/$idle/fd 2>/dev/null | grep -q socket" || fail "the idle client did not connect"
t=$(now)
say "+ bash /dev/tcp 127.0.0.1:3240, sending 01 06 80 05 00 00 00 00 (OP_REQ_DEVLIST, version 0x0106)"
raw_client /tmp/bad.out '\001\006\200\005\000\000\000\000' &
bad=$!
wait_for 5 absent kill -0 "$bad" || fail "usbipcored did not close the wrong-version connection within 5 s"
wait "$bad" || fail "the wrong-version client could not connect"
say "wrong version: connection closed after $(elapsed "$t") s, $(wc -c < /tmp/bad.out) reply bytes"
[ "$(wc -c < /tmp/bad.out)" -eq 0 ] || fail "usbipcored replied to a wrong version: $(od -An -tx1 /tmp/bad.out)"
kill -0 "$idle" 2>/dev/null || fail "the idle client was dropped early"
t=$(now)
run usbip list -r 127.0.0.1 > /tmp/good.txt
cat /tmp/good.txt
grep -q "$MS_BUSID:" /tmp/good.txt || fail "a good client is not served while a hostile one is connected"
# like upstream usbipd, a device in use is not listed
grep -q "$B:" /tmp/good.txt && fail "$B is listed while imported (upstream usbipd omits devices in use)"
say "good client served in $(elapsed "$t") s with an idle connection open"
kill -0 "$idle" 2>/dev/null || fail "the idle client was closed before the good client was served"
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null
kill -0 "$USBIPCORED_PID" || fail "usbipcored died"
grep -i "version" "$RESULTS/logs/usbipcored-18-error-paths.log" | tail -n 3

# --- 4. the same against upstream usbipd: it answers ST_DEV_BUSY too (usbip_export_device)
stop_usbipcored
start_usbipd
expect_rc 4 /tmp/busy-up.txt "$USBIP_TOOL" attach -r localhost -b "$B"
grep -qi "busy" /tmp/busy-up.txt || fail "the refusal through usbipd does not say busy"
[ "$(vhci_attached_count)" -eq 1 ] || fail "a refused attach changed the vhci ports"
expect_rc 3 /tmp/nodev-up.txt "$USBIP_TOOL" attach -r 127.0.0.1 -b 9-9

# --- 5. vhci-hcd unloaded
port=$(upstream_port "$LB_ID") || fail "usbip port does not show $LB_ID"
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "$dev still present after detach"
[ "$(vhci_attached_count)" -eq 0 ] || fail "ports still in use: $(vhci_attached_count)"
run rmmod vhci-hcd
wait_for 10 absent test -d /sys/devices/platform/vhci_hcd.0 || fail "vhci_hcd.0 still present after rmmod"
t=$(now)
expect_rc 6 /tmp/nomod.txt "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
say "module-missing refusal in $(elapsed "$t") s"
grep -q "modprobe vhci-hcd" /tmp/nomod.txt || fail "the message does not name \`modprobe vhci-hcd\`"
expect_rc 6 /tmp/nomod-port.txt "$USBIP_TOOL" port
run modprobe -d "$VMH_MODROOT" vhci-hcd
wait_for 10 test -e /sys/devices/platform/vhci_hcd.0/attach || fail "vhci_hcd.0 did not come back"
# and it works again
run "$USBIP_TOOL" attach -r 127.0.0.1 -b "$B"
wait_for 20 vhci_device "$LB_ID" || fail "no $LB_ID device after reloading vhci-hcd"
port=$(upstream_port "$LB_ID") || fail "usbip port does not show $LB_ID"
run "$USBIP_TOOL" detach -p "$port"
wait_for 10 absent vhci_device "$LB_ID" || fail "still present after detach"
run usbip unbind -b "$B"
run usbip unbind -b "$MS_BUSID"
stop_usbipd
say "error paths passed"
