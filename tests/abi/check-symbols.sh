#!/bin/sh
# Compares the symbols libusbipcore.so exports with the checked-in list.
# Regenerate the list after an intended API change with:
#   tests/abi/check-symbols.sh build/libusbipcore/libusbipcore.so libusbipcore/usbipcore.symbols --update
set -eu
lib=$1
expected=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRV]$/ {print $3}' | sort -u)
bad=$(printf '%s\n' "$actual" | grep -v '^usbip_' || true)
if [ -n "$bad" ]; then
  echo "exported symbols outside the usbip_ prefix:"; printf '%s\n' "$bad"; exit 1
fi
# never part of the ABI, whatever the list says: the trace stack (an internal library of
# usbip-tool), test hooks and seams, the vhci port records (plugins/backend-vhci)
internal=$(printf '%s\n' "$actual" | grep -E '^usbip_(pcap_|tcp_segment_|tcp_reassembler_|trace_)|_write_hook$|_set_clock$|port_record|_state_dir$|_add_builtin$|_uevent_' || true)
if [ -n "$internal" ]; then
  echo "internal symbols are exported (declare them in a *-private.h header, without USBIP_PUBLIC):"
  printf '%s\n' "$internal"; exit 1
fi
if [ "${3:-}" = "--update" ]; then
  printf '%s\n' "$actual" > "$expected"
  echo "updated $expected"
  exit 0
fi
if ! diff -u "$expected" - <<EOF2
$actual
EOF2
then
  echo "the exported symbols differ from $expected (+ = exported now, - = listed):"
  echo "if the change is intended, run: $0 $lib $expected --update"
  exit 1
fi
echo "$(printf '%s\n' "$actual" | wc -l) symbols exported, as listed"
