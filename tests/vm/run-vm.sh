#!/bin/sh
# run-vm.sh [options] [SCENARIO-GLOB...]
#
# Boots Debian 12's kernel under qemu (TCG, no KVM needed) with the host's root shared
# read-only over virtio-9p, runs tests/vm/scenarios/*.sh inside the guest and prints TAP on
# stdout. Needs root (9p security_model=none over /).
#
#   --cache DIR        guest kernel/initramfs cache (default $VM_CACHE or ~/.cache/usbipcore-vm)
#   --results DIR      results dir (default CACHE/results; emptied first)
#   --stage DIR        a DESTDIR install of usbipcore (tests/install/stage.sh: --prefix=/usr);
#                      shared with the guest and laid over its /usr and /etc, so the scenarios
#                      run the installed tools; sets USBIP_TOOL, USBIPCORED, USBIP_PLUGIN_DIR
#   --build DIR        meson install the build DIR into RESULTS/stage, then as --stage
#                      (its own prefix and sysconfdir; works from anywhere, /tmp too)
#   --usbip-tool PATH  our usbip CLI, used in place (scenarios using it skip without it)
#   --usbipcored PATH  our daemon, used in place (scenarios using it skip without it)
#   --plugin-dir DIRS  USBIP_PLUGIN_DIR for our binaries (':'-separated)
#   --timeout SEC      whole-boot timeout (default 600)
#   --scenario-timeout SEC  per-scenario timeout inside the guest (default 180)
#   --profile quick|full  quick (the default; $VM_PROFILE): the long figure scenarios run a
#                      sample (reconnect outages of 12 s, the netem matrix at RTT 200 ms
#                      only); full: every outage 55 s, RTT 50/200/800 ms, the figures that
#                      docs/performance-vm.md records (scripts/vm-full.sh)
#   --figures-out FILE write the FIGURE lines as markdown to FILE too (collect-figures.sh;
#                      always written to RESULTS/figures.md when a scenario printed any)
#   --coverage         our binaries come from a coverage build (-Db_coverage=true): the guest
#                      writes their .gcda counters under RESULTS/gcov (GCOV_PREFIX; the host
#                      root is read-only there), for scripts/coverage.sh --vm RESULTS ($VM_COVERAGE=1)
#   SCENARIO-GLOB      run only scenarios whose file name matches (e.g. '01-*' or '*mass*')
#
# USBIPCORE_STRICT=1 (set by .ci/run): anything that would skip fails instead: no root, no
# qemu, our tools not given, or a scenario exiting 77 that allowed-skips.txt does not list.
# Without it, the suite prints `1..0 # SKIP reason` and scenarios may skip.
set -eu

INVOCATION="$0 $*"

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/usbipcore-vm}
RESULTS=
STAGE=
BUILD=
USBIP_TOOL=${USBIP_TOOL:-}
USBIPCORED=${USBIPCORED:-}
PLUGIN_DIR=${USBIP_PLUGIN_DIR:-}
TIMEOUT=600
STIMEOUT=180
PROFILE=${VM_PROFILE:-quick}
FIGURES_OUT=${VM_FIGURES_OUT:-}
ALLOWED_SKIPS=${VM_ALLOWED_SKIPS:-$HERE/allowed-skips.txt}
COVERAGE=${VM_COVERAGE:-0}
while [ $# -gt 0 ]; do
  case $1 in
    --cache) CACHE=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --stage) STAGE=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --usbip-tool) USBIP_TOOL=$2; shift 2 ;;
    --usbipcored) USBIPCORED=$2; shift 2 ;;
    --plugin-dir) PLUGIN_DIR=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --scenario-timeout) STIMEOUT=$2; shift 2 ;;
    --figures-out) FIGURES_OUT=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --coverage) COVERAGE=1; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "run-vm.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done

bail() { echo "Bail out! $*"; echo "run-vm.sh: $*" >&2; exit 1; }
case $PROFILE in
  quick|full) ;;
  *) echo "run-vm.sh: --profile takes quick or full, not '$PROFILE'" >&2; exit 2 ;;
esac
strict() { [ "${USBIPCORE_STRICT:-0}" = 1 ]; }
skip_all() {
  strict && bail "the real-kernel suite cannot run: $* (USBIPCORE_STRICT=1 makes that a failure)"
  echo "1..0 # SKIP $*"; exit 0
}
[ "$(id -u)" -eq 0 ] || skip_all "needs root (9p share of / with security_model=none); run it as root"
command -v qemu-system-x86_64 >/dev/null ||
  skip_all "qemu-system-x86_64 missing: install qemu-system-x86 (scripts/install-deps.sh)"
# the guest runs these from the host's root (its read-only share of /): one missing fails one
# scenario after minutes of boot, so they are checked here, by the package that has them
for need in usbip:usbip usbipd:usbip tcpdump:tcpdump evtest:evtest tc:iproute2 curl:curl \
    mkfs.ext4:e2fsprogs dbus-daemon:dbus python3:python3; do
  command -v "${need%%:*}" >/dev/null ||
    skip_all "${need%%:*} missing on the host, which the guest runs it from: install ${need#*:} (scripts/install-deps.sh)"
done
[ -z "$STAGE" ] || [ -z "$BUILD" ] || bail "give --stage or --build, not both"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
[ -n "$RESULTS" ] || RESULTS=$CACHE/results
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
rm -rf "${RESULTS:?}"/*

if [ -n "$BUILD" ]; then
  [ -f "$BUILD/build.ninja" ] || bail "--build $BUILD: not a meson build dir (no build.ninja)"
  STAGE=$RESULTS/stage
  meson install -C "$BUILD" --quiet --destdir "$STAGE" > "$RESULTS/install.log" 2>&1 ||
    { cat "$RESULTS/install.log" >&2; bail "meson install -C $BUILD failed (see above)"; }
fi
# in_stage PATTERN: the one installed path (as the guest sees it) matching PATTERN in the stage
in_stage() {
  for _f in "$STAGE"/$1; do [ -e "$_f" ] && { echo "${_f#"$STAGE"}"; return 0; }; done
  return 1
}
STAGE_LIBPATH=
if [ -n "$STAGE" ]; then
  [ -d "$STAGE" ] || bail "--stage $STAGE: no such directory"
  STAGE=$(cd "$STAGE" && pwd)
  USBIP_TOOL=$(in_stage '*/bin/usbip-tool' || in_stage '*/*/bin/usbip-tool' || true)
  USBIPCORED=$(in_stage '*/sbin/usbipcored' || in_stage '*/*/sbin/usbipcored' || true)
  PLUGIN_DIR=$(in_stage '*/lib/*/usbipcore-1/plugins' || in_stage '*/*/lib/*/usbipcore-1/plugins' ||
               in_stage '*/lib/usbipcore-1/plugins' || true)
  # the library's dir, when the dynamic linker would not look there by itself (/usr/local/lib...)
  lib=$(in_stage '*/lib/*/libusbipcore.so.1' || in_stage '*/*/lib/*/libusbipcore.so.1' ||
        in_stage '*/lib/libusbipcore.so.1' || true)
  case ${lib%/*} in ''|/usr/lib|/lib|/usr/lib/*-linux-gnu|/lib/*-linux-gnu) ;; *) STAGE_LIBPATH=${lib%/*} ;; esac
fi
if strict; then
  [ -n "$USBIP_TOOL" ] || bail "no usbip-tool to test (--stage, --build or --usbip-tool; a renamed meson variable?) and USBIPCORE_STRICT=1"
  [ -n "$USBIPCORED" ] || bail "no usbipcored to test (--stage, --build or --usbipcored; a renamed meson variable?) and USBIPCORE_STRICT=1"
fi

abspath() { [ -z "$1" ] && return 0; case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
invisible() { case $1 in /tmp/*|/var/tmp/*|/run/*|/dev/*|/proc/*|/sys/*) return 0 ;; esac; return 1; }
if [ -z "$STAGE" ]; then
  USBIP_TOOL=$(abspath "$USBIP_TOOL")
  USBIPCORED=$(abspath "$USBIPCORED")
  # tools used in place are read from the host's root; the guest has its own /tmp, /run, ...
  for p in "$USBIP_TOOL" "$USBIPCORED" $(echo "$PLUGIN_DIR" | tr ':' ' '); do
    ! invisible "$p" || bail "$p is not visible in the guest (it has its own /tmp, /var/tmp, /run, /dev, /proc, /sys): pass the build with --build DIR instead, which shares an install of it with the guest"
  done
fi
invisible "$HERE/" && bail "the source tree ($HERE) is not visible in the guest (it has its own /tmp, /var/tmp, /run): check it out elsewhere"

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
  echo "VMH_STAGE=$(q "$STAGE")"
  echo "VMH_LD_LIBRARY_PATH=$(q "$STAGE_LIBPATH")"
  echo "VMH_SCENARIOS=$(q "$scenarios")"
  echo "VMH_SCENARIO_TIMEOUT=$(q "$STIMEOUT")"
  echo "VMH_PROFILE=$(q "$PROFILE")"
  echo "DEVLIST_BENCH=$(q "${DEVLIST_BENCH:-}")"
  echo "USBIP_TOOL=$(q "$USBIP_TOOL")"
  echo "USBIPCORED=$(q "$USBIPCORED")"
  echo "USBIP_PLUGIN_DIR=$(q "$PLUGIN_DIR")"
  echo "G_MESSAGES_DEBUG=$(q "${G_MESSAGES_DEBUG:-}")"
  echo "VMH_COVERAGE=$(q "$COVERAGE")"
} > "$RESULTS/config.sh"

echo "$INVOCATION" > "$RESULTS/command.txt"
# the host's load when the boot starts and ends: figures from a busy host read differently
echo "start $(cut -d' ' -f1-3 /proc/loadavg)" > "$RESULTS/load.txt"

start=$(date +%s.%N)
rc=0
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot \
  -nic none \
  -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initramfs.img" \
  -append 'console=ttyS0 panic=-1 quiet no_timer_check' \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$RESULTS,mount_tag=results,security_model=none" \
  ${STAGE:+-virtfs "local,path=$STAGE,mount_tag=stage,security_model=none,readonly=on"} \
  < /dev/null > "$RESULTS/console.log" 2>&1 || rc=$?
wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS/load.txt"

# skip_allowed NAME: the allowed-skips list names NAME (or a glob matching it) with a reason
skip_allowed() {
  [ -f "$ALLOWED_SKIPS" ] || return 1
  while read -r pat reason; do
    case $pat in ''|'#'*) continue ;; esac
    [ -n "$reason" ] || continue
    case $1 in $pat) return 0 ;; esac
  done < "$ALLOWED_SKIPS"
  return 1
}

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
  case $line in
    "ok $n - $name # SKIP"*)
      if strict && ! skip_allowed "$name"; then
        line="not ok $n - $name # skipped (${line#*# SKIP }) under USBIPCORE_STRICT=1 and not listed in $ALLOWED_SKIPS"
      fi ;;
  esac
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
