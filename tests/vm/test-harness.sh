#!/bin/sh
# test-harness.sh STAGE: run-vm.sh's own behaviour, without booting anything: qemu and `id`
# are stubs on PATH (the qemu stub records its arguments and writes the guest's tap.txt), so
# this runs in a second. Checks that USBIPCORE_STRICT=1 turns every way the suite could skip
# into a failure with a clear message, that allowed-skips.txt is honoured, and that a staged
# install anywhere (here under /tmp) is shared with the guest instead of refused. Prints TAP.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
RUNVM=$HERE/run-vm.sh
SRC_STAGE=$1
T=$(mktemp -d /tmp/usbip-harness-XXXXXX)
trap 'rm -rf "$T"' EXIT

# stubs: qemu writes what STUB_TAP holds into the results share; id says root unless STUB_UID
mkdir -p "$T/bin" "$T/noqemu" "$T/cache"
cat > "$T/bin/qemu-system-x86_64" <<'EOF'
#!/bin/sh
echo "$@" > "$STUB_ARGS"
for a in "$@"; do
  case $a in local,path=*,mount_tag=results,*) r=${a#local,path=}; r=${r%%,*} ;; esac
done
printf '%s\n' "$STUB_TAP" > "$r/tap.txt"
EOF
cat > "$T/bin/id" <<'EOF'
#!/bin/sh
echo "${STUB_UID:-0}"
EOF
chmod +x "$T/bin/qemu-system-x86_64" "$T/bin/id"
for c in sh cat sed grep awk date mkdir rm tr basename dirname timeout head tail printf env ls cut cp touch sort true; do
  ln -s "$(command -v $c)" "$T/noqemu/$c"
done
cp "$T/bin/id" "$T/noqemu/id"
# the programs the guest runs from the host's root (run-vm.sh checks them before the boot):
# stubs where this host has none; $T/noevtest has all of them but evtest
mkdir -p "$T/noevtest"
cp -P "$T/noqemu/"* "$T/noevtest/"
cp "$T/bin/qemu-system-x86_64" "$T/noevtest/"
for c in usbip usbipd tcpdump evtest tc curl mkfs.ext4 dbus-daemon python3; do
  command -v "$c" >/dev/null || ln -s /usr/bin/true "$T/bin/$c"
  [ "$c" = evtest ] || ln -s /usr/bin/true "$T/noevtest/$c"
done
touch "$T/cache/vmlinuz" "$T/cache/initramfs.img"  # newer than init and build-guest.sh
cp -a "$SRC_STAGE" "$T/stage"                        # a stage under /tmp: invisible to 9p of /
export STUB_ARGS="$T/qemu-args"

n=0
failed=0
check() {  # check NAME CMD...: one TAP line
  n=$((n + 1))
  if ( "$@" ) > "$T/out" 2> "$T/err"; then echo "ok $n - $1"; else
    echo "not ok $n - $1"; failed=$((failed + 1)); sed 's/^/# /' "$T/out" "$T/err"
  fi
}
runvm() {  # runvm EXPECTED-RC ARGS...: runs run-vm.sh with the stubs, checks its exit status
  _want=$1; shift
  PATH="${STUB_PATH:-$T/bin:$PATH}" "$RUNVM" --cache "$T/cache" --results "$T/results" "$@" > "$T/stdout" 2> "$T/stderr"
  _rc=$?
  cat "$T/stdout"; cat "$T/stderr" >&2
  [ "$_rc" -eq "$_want" ] || { echo "run-vm.sh exited $_rc, expected $_want"; return 1; }
}
has() { grep -qF -- "$1" "$2" || { echo "no '$1' in $2"; return 1; }; }

strict_without_qemu_fails() {
  export USBIPCORE_STRICT=1 STUB_PATH="$T/noqemu"
  runvm 1 --stage "$T/stage" '01-*' && has 'Bail out! the real-kernel suite cannot run: qemu-system-x86_64 missing' "$T/stdout" &&
    has 'USBIPCORE_STRICT=1' "$T/stderr"
}
without_qemu_skips_when_not_strict() {
  export USBIPCORE_STRICT=0 STUB_PATH="$T/noqemu"
  runvm 0 --stage "$T/stage" '01-*' && has '1..0 # SKIP qemu-system-x86_64 missing' "$T/stdout"
}
strict_without_a_guest_program_fails() {
  # found before the boot, by name and package, not by one scenario minutes later
  export USBIPCORE_STRICT=1 STUB_PATH="$T/noevtest"
  runvm 1 --stage "$T/stage" '29-*' &&
    has 'evtest missing on the host, which the guest runs it from: install evtest' "$T/stdout"
}
strict_without_root_fails() {
  export USBIPCORE_STRICT=1 STUB_UID=1000
  runvm 1 --stage "$T/stage" '01-*' && has 'cannot run: needs root' "$T/stdout"
}
strict_without_our_tools_fails() {
  # what a renamed meson variable would do: no --stage, no --usbip-tool/--usbipcored
  export USBIPCORE_STRICT=1 STUB_TAP='ok 1 - 01-upstream-baseline'
  runvm 1 '01-*' && has 'no usbip-tool to test' "$T/stdout"
  runvm 1 --usbip-tool /usr/bin/true '01-*' && has 'no usbipcored to test' "$T/stdout"
}
strict_scenario_skip_fails_unless_allowed() {
  export USBIPCORE_STRICT=1 STUB_TAP='ok 1 - 01-upstream-baseline # SKIP no gadget here'
  runvm 1 --stage "$T/stage" '01-*' &&
    has 'not ok 1 - 01-upstream-baseline # skipped (no gadget here) under USBIPCORE_STRICT=1' "$T/stdout" || return 1
  echo '01-upstream-* ' > "$T/allowed"            # no reason: does not count
  VM_ALLOWED_SKIPS="$T/allowed" runvm 1 --stage "$T/stage" '01-*' || return 1
  echo '01-upstream-*  this machine has no dummy_hcd' > "$T/allowed"
  VM_ALLOWED_SKIPS="$T/allowed" runvm 0 --stage "$T/stage" '01-*' &&
    has 'ok 1 - 01-upstream-baseline # SKIP no gadget here' "$T/stdout" || return 1
  USBIPCORE_STRICT=0 runvm 0 --stage "$T/stage" '01-*'
}
stage_under_tmp_is_shared() {
  export USBIPCORE_STRICT=1 STUB_TAP='ok 1 - 12-ours-both-ends'
  runvm 0 --stage "$T/stage" '12-*' || return 1
  has "local,path=$T/stage,mount_tag=stage,security_model=none,readonly=on" "$STUB_ARGS" &&
    has "USBIP_TOOL='/usr/bin/usbip-tool'" "$T/results/config.sh" &&
    has "USBIPCORED='/usr/sbin/usbipcored'" "$T/results/config.sh" &&
    grep -q "^USBIP_PLUGIN_DIR='/usr/lib/.*usbipcore-1/plugins'" "$T/results/config.sh" &&
    has "VMH_LD_LIBRARY_PATH=''" "$T/results/config.sh"
}
build_tree_under_tmp_used_in_place_says_how() {
  export USBIPCORE_STRICT=0
  runvm 1 --usbip-tool /tmp/b/tools/usbip-tool/usbip-tool '12-*' &&
    has 'is not visible in the guest' "$T/stdout" && has 'pass the build with --build DIR' "$T/stdout"
}
profile_reaches_the_guest() {
  # quick unless asked; full from the flag or VM_PROFILE; anything else refused up front
  export USBIPCORE_STRICT=1 STUB_TAP='ok 1 - 12-ours-both-ends'
  runvm 0 --stage "$T/stage" '12-*' && has "VMH_PROFILE='quick'" "$T/results/config.sh" || return 1
  runvm 0 --stage "$T/stage" --profile full '12-*' && has "VMH_PROFILE='full'" "$T/results/config.sh" || return 1
  VM_PROFILE=full runvm 0 --stage "$T/stage" '12-*' && has "VMH_PROFILE='full'" "$T/results/config.sh" || return 1
  runvm 2 --stage "$T/stage" --profile long '12-*' && has "--profile takes quick or full, not 'long'" "$T/stderr"
}

echo "1..9"
check strict_without_qemu_fails
check without_qemu_skips_when_not_strict
check strict_without_a_guest_program_fails
check strict_without_root_fails
check strict_without_our_tools_fails
check strict_scenario_skip_fails_unless_allowed
check stage_under_tmp_is_shared
check build_tree_under_tmp_used_in_place_says_how
check profile_reaches_the_guest
[ "$failed" -eq 0 ]
