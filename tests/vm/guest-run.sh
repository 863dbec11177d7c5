#!/bin/sh
# Stage 2 of the guest: runs inside a chroot of the host's root (read-only, over 9p) with the
# guest's own /proc, /sys, /dev, /tmp, /run and the writable results directory at its host path.
# Creates the gadgets, brings up lo, runs every scenario listed in VMH_SCENARIOS and writes
# TAP result lines to $RESULTS/tap.txt and each scenario's output to $RESULTS/logs/NAME.log.
# The host (run-vm.sh) prints the plan and the TAP.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LC_ALL=C
export RESULTS="$VMH_RESULTS_HOST"
export VMH_SRC VMH_MODROOT
[ -n "${USBIP_TOOL:-}" ] && export USBIP_TOOL
[ -n "${USBIPCORED:-}" ] && export USBIPCORED
[ -n "${USBIP_PLUGIN_DIR:-}" ] && export USBIP_PLUGIN_DIR
[ -n "${G_MESSAGES_DEBUG:-}" ] && export G_MESSAGES_DEBUG
# a staged install under a prefix the dynamic linker does not search (e.g. /usr/local)
[ -n "${VMH_LD_LIBRARY_PATH:-}" ] && export LD_LIBRARY_PATH="$VMH_LD_LIBRARY_PATH"
# run-vm.sh --coverage: a coverage build's counters go to the writable results share, under
# their full host path (the objects' dirs are on the read-only host root)
if [ "${VMH_COVERAGE:-0}" = 1 ]; then
  export GCOV_PREFIX="$RESULTS/gcov" GCOV_PREFIX_STRIP=0
fi
. "$VMH_SRC/lib.sh"

mkdir -p "$RESULTS/logs"
: > "$RESULTS/tap.txt"
setup_log=$RESULTS/logs/00-setup.log

setup() {
  set -e
  say "kernel $(uname -r)"
  $IP link set lo up
  G=/sys/kernel/config/usb_gadget
  udcs=$(ls /sys/class/udc | grep '^dummy_udc' | sort)
  udc1=$(echo "$udcs" | sed -n 1p)
  udc2=$(echo "$udcs" | sed -n 2p)
  [ -n "$udc1" ] && [ -n "$udc2" ] || { say "need two dummy UDCs, have: $(ls /sys/class/udc)"; return 1; }

  # Loopback gadget (what g_zero would give): vendor 1a0a:badd, one bulk IN + OUT pair
  mkdir $G/lb
  echo 0x1a0a > $G/lb/idVendor
  echo 0xbadd > $G/lb/idProduct
  mkdir $G/lb/strings/0x409
  echo usbipcore > $G/lb/strings/0x409/manufacturer
  echo "vm loopback" > $G/lb/strings/0x409/product
  echo LB0001 > $G/lb/strings/0x409/serialnumber
  mkdir $G/lb/configs/c.1
  mkdir $G/lb/functions/Loopback.0
  echo 512 > $G/lb/functions/Loopback.0/bulk_buflen
  ln -s $G/lb/functions/Loopback.0 $G/lb/configs/c.1/
  echo "$udc1" > $G/lb/UDC

  # Mass-storage gadget (what g_mass_storage would give): 0525:a4a5 over a 16 MiB image
  MS_IMAGE=/tmp/ms.img
  dd if=/dev/zero of=$MS_IMAGE bs=1M count=16 2>/dev/null
  mkdir $G/ms
  echo 0x0525 > $G/ms/idVendor
  echo 0xa4a5 > $G/ms/idProduct
  mkdir $G/ms/strings/0x409
  echo usbipcore > $G/ms/strings/0x409/manufacturer
  echo "vm mass storage" > $G/ms/strings/0x409/product
  echo MS0001 > $G/ms/strings/0x409/serialnumber
  mkdir $G/ms/configs/c.1
  mkdir $G/ms/functions/mass_storage.0
  echo $MS_IMAGE > $G/ms/functions/mass_storage.0/lun.0/file
  ln -s $G/ms/functions/mass_storage.0 $G/ms/configs/c.1/
  echo "$udc2" > $G/ms/UDC

  LB_ID=1a0a:badd MS_ID=0525:a4a5
  wait_for 20 local_busid $LB_ID || { say "loopback gadget did not enumerate"; return 1; }
  wait_for 20 local_busid $MS_ID || { say "mass-storage gadget did not enumerate"; return 1; }
  LB_BUSID=$(local_busid $LB_ID)
  MS_BUSID=$(local_busid $MS_ID)
  # usb-storage claims the mass-storage gadget locally; a scenario binds it to usbip-host
  say "loopback $LB_ID at $LB_BUSID on $udc1, mass storage $MS_ID at $MS_BUSID on $udc2"
  set +e
}

t0=$(now)
if ! setup > "$setup_log" 2>&1; then
  say "setup failed:"; cat "$setup_log"
  echo "# setup failed, see logs/00-setup.log" >> "$RESULTS/tap.txt"
  exit 1
fi
export LB_ID MS_ID LB_BUSID MS_BUSID MS_IMAGE
say "setup done in $(elapsed "$t0") s"
cat "$setup_log"
dmesg -c > "$RESULTS/logs/00-setup.dmesg" 2>&1

# Leave the machine as the next scenario expects it, whatever the last one did.
cleanup() {
  for p in /tmp/supervisor.pid /tmp/usbipd.pid /tmp/usbipcored.pid; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
    rm -f "$p"
  done
  for pid in $(pidof usbipd usbipcored tcpdump 2>/dev/null); do kill "$pid" 2>/dev/null; done
  st=/sys/devices/platform/vhci_hcd.0/status
  if [ -r $st ]; then
    for f in /sys/devices/platform/vhci_hcd.*/status*; do
      awk 'NR > 1 && $3 != "004" { print $2 + 0 }' "$f"
    done | while read -r port; do
      usbip detach -p "$port" >/dev/null 2>&1
    done
  fi
  for b in "$LB_BUSID" "$MS_BUSID"; do
    [ "$(driver_of "$b")" = usbip-host ] && usbip unbind -b "$b" >/dev/null 2>&1
  done
  sleep 0.2
}

n=0
for s in $VMH_SCENARIOS; do
  n=$((n + 1))
  name=$(basename "$s" .sh)
  log=$RESULTS/logs/$name.log
  say "scenario $n $name"
  start=$(now)
  timeout -k 5 "${VMH_SCENARIO_TIMEOUT:-180}" sh "$VMH_SRC/scenarios/$s" > "$log" 2>&1
  rc=$?
  t=$(elapsed "$start")
  case $rc in
    0) line="ok $n - $name" ;;
    77) reason=$(sed -n 's/^SKIP *//p' "$log" | tail -n1)
        line="ok $n - $name # SKIP ${reason:-skipped}" ;;
    124|137) line="not ok $n - $name # timed out after ${VMH_SCENARIO_TIMEOUT:-180} s" ;;
    *) line="not ok $n - $name # exit $rc" ;;
  esac
  echo "$line" >> "$RESULTS/tap.txt"
  echo "# $name: ${t} s" >> "$RESULTS/tap.txt"
  say "$line (${t} s)"
  [ $rc -eq 0 ] || [ $rc -eq 77 ] || sed 's/^/  | /' "$log"
  cleanup >> "$log" 2>&1
  dmesg -c > "$RESULTS/logs/$name.dmesg" 2>&1
done
sync
