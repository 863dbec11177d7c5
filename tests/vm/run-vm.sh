#!/bin/sh
# run-vm.sh [options] [SCENARIO-GLOB...]
#
# Boots Debian 12's kernel under qemu (TCG, no KVM needed) with the host's root shared
# read-only over virtio-9p, runs tests/vm/scenarios/*.sh inside the guest and prints TAP on
# stdout. Needs root (9p security_model=none over /).
#
#   --cache DIR        guest kernel/initramfs cache (default $VM_CACHE or ~/.cache/usbipcore-vm)
#   --results DIR      results dir (default CACHE/results; emptied first)
#   --usbip-tool PATH  our usbip CLI (scenarios using it skip without it)
#   --usbipcored PATH  our daemon (scenarios using it skip without it)
#   --plugin-dir DIRS  USBIP_PLUGIN_DIR for our binaries (':'-separated)
#   --timeout SEC      whole-boot timeout (default 600)
#   --scenario-timeout SEC  per-scenario timeout inside the guest (default 180)
#   --figures-out FILE write the FIGURE lines as markdown to FILE too (collect-figures.sh;
#                      always written to RESULTS/figures.md when a scenario printed any)
#   SCENARIO-GLOB      run only scenarios whose file name matches (e.g. '01-*' or '*mass*')
#
# Without root or qemu the suite is skipped (`1..0 # SKIP`) on a workstation, but in CI (the
# CI environment variable set and not "false"/"0") it fails loudly unless VM_ALLOW_SKIP=1.
set -eu

INVOCATION="$0 $*"

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/usbipcore-vm}
RESULTS=
USBIP_TOOL=${USBIP_TOOL:-}
USBIPCORED=${USBIPCORED:-}
PLUGIN_DIR=${USBIP_PLUGIN_DIR:-}
TIMEOUT=600
STIMEOUT=180
FIGURES_OUT=${VM_FIGURES_OUT:-}
while [ $# -gt 0 ]; do
  case $1 in
    --cache) CACHE=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --usbip-tool) USBIP_TOOL=$2; shift 2 ;;
    --usbipcored) USBIPCORED=$2; shift 2 ;;
    --plugin-dir) PLUGIN_DIR=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --scenario-timeout) STIMEOUT=$2; shift 2 ;;
    --figures-out) FIGURES_OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "run-vm.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done

bail() { echo "Bail out! $*"; exit 1; }
in_ci() { case ${CI:-} in ''|false|0) return 1 ;; *) return 0 ;; esac; }
skip_all() {
  if in_ci && [ "${VM_ALLOW_SKIP:-0}" != 1 ]; then
    echo "Bail out! the real-kernel suite cannot run in CI: $* (set VM_ALLOW_SKIP=1 to skip it on purpose)"
    echo "run-vm.sh: FATAL: the real-kernel suite cannot run in CI: $*." >&2
    echo "run-vm.sh: run the job as root with qemu-system-x86 installed (scripts/install-deps.sh)," >&2
    echo "run-vm.sh: or set VM_ALLOW_SKIP=1 to skip it on purpose." >&2
    exit 1
  fi
  echo "1..0 # SKIP $*"; exit 0
}
[ "$(id -u)" -eq 0 ] || skip_all "needs root (9p share of / with security_model=none)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 missing (scripts/install-deps.sh)"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
[ -n "$RESULTS" ] || RESULTS=$CACHE/results
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
rm -rf "${RESULTS:?}"/*

abspath() { [ -z "$1" ] && return 0; case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
USBIP_TOOL=$(abspath "$USBIP_TOOL")
USBIPCORED=$(abspath "$USBIPCORED")
# The guest sees the host's root, except /tmp, /var/tmp, /run, /dev, /proc, /sys (its own).
for p in "$USBIP_TOOL" "$USBIPCORED" "$CACHE" "$RESULTS" $(echo "$PLUGIN_DIR" | tr ':' ' '); do
  case $p in
    /tmp/*|/var/tmp/*|/run/*|/dev/*|/proc/*|/sys/*)
      bail "$p is not visible in the guest (it has its own /tmp, /var/tmp, /run, /dev, /proc, /sys)" ;;
  esac
done

# (re)build the guest when missing or older than its inputs
if [ ! -f "$CACHE/initramfs.img" ] || [ ! -f "$CACHE/vmlinuz" ] ||
   [ "$HERE/init" -nt "$CACHE/initramfs.img" ] || [ "$HERE/build-guest.sh" -nt "$CACHE/initramfs.img" ]; then
  "$HERE/build-guest.sh" "$CACHE" > "$RESULTS/build-guest.log" 2>&1 ||
    { cat "$RESULTS/build-guest.log" >&2; bail "build-guest.sh failed"; }
fi

# the scenario list (sorted), optionally filtered
scenarios=
for f in "$HERE"/scenarios/*.sh; do
  b=$(basename "$f")
  if [ $# -gt 0 ]; then
    m=0
    for g in "$@"; do case $b in $g|$g.sh) m=1 ;; esac; done
    [ $m -eq 1 ] || continue
  fi
  scenarios="$scenarios $b"
done
set -- $scenarios
total=$#
[ "$total" -gt 0 ] || bail "no scenario matches"

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
  echo "VMH_SRC=$(q "$HERE")"
  echo "VMH_RESULTS_HOST=$(q "$RESULTS")"
  echo "VMH_MODROOT=$(q "$CACHE/initramfs-root")"
  echo "VMH_SCENARIOS=$(q "$scenarios")"
  echo "VMH_SCENARIO_TIMEOUT=$(q "$STIMEOUT")"
  echo "USBIP_TOOL=$(q "$USBIP_TOOL")"
  echo "USBIPCORED=$(q "$USBIPCORED")"
  echo "USBIP_PLUGIN_DIR=$(q "$PLUGIN_DIR")"
  echo "G_MESSAGES_DEBUG=$(q "${G_MESSAGES_DEBUG:-}")"
} > "$RESULTS/config.sh"

echo "$INVOCATION" > "$RESULTS/command.txt"

start=$(date +%s.%N)
rc=0
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot \
  -nic none \
  -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initramfs.img" \
  -append 'console=ttyS0 panic=-1 quiet' \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$RESULTS,mount_tag=results,security_model=none" \
  < /dev/null > "$RESULTS/console.log" 2>&1 || rc=$?
wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

echo "1..$total"
ok=1
[ $rc -eq 0 ] || ok=0
n=0
for s in $scenarios; do
  n=$((n + 1))
  name=${s%.sh}
  line=$(grep -E "^(not )?ok $n - " "$RESULTS/tap.txt" 2>/dev/null | head -n1 || true)
  if [ -z "$line" ]; then
    line="not ok $n - $name # no result (guest died or timed out)"
  fi
  echo "$line"
  grep -E "^# $name: " "$RESULTS/tap.txt" 2>/dev/null || true
  case $line in "not ok"*) ok=0 ;; esac
done
boot=$(sed -n 's/.*VMH: stage2 starting at \([0-9.]*\)s.*/\1/p' "$RESULTS/console.log" | head -n1)
echo "# qemu exit $rc, wall ${wall} s, guest ready for stage 2 at ${boot:-?} s (uptime)"
echo "# results and logs: $RESULTS"
if grep -qs '^FIGURE ' "$RESULTS"/logs/*.log; then
  if "$HERE/collect-figures.sh" "$RESULTS" "$RESULTS/figures.md" 2>/dev/null; then
    echo "# figures: $RESULTS/figures.md"
    [ -z "$FIGURES_OUT" ] || { cp "$RESULTS/figures.md" "$FIGURES_OUT" && echo "# figures written to $FIGURES_OUT"; }
  else
    echo "# collect-figures.sh failed"
  fi
fi
if [ $ok -eq 0 ]; then
  [ $rc -eq 124 ] && echo "# the whole boot timed out after $TIMEOUT s"
  echo "=== console log ($RESULTS/console.log) ===" >&2
  cat "$RESULTS/console.log" >&2
  exit 1
fi
exit 0
