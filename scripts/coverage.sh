#!/bin/bash
# Line and branch coverage of the library, the plugins and the tools by every non-VM suite
# (gcovr), with three gates (docs/quality.md lists the figures and what only the VM reaches):
#   - libusbipcore/ and plugins/ together: at least COV_MIN_ALL % of lines (default 90)
#   - each pure-logic file (PURE below): at least COV_MIN_PURE % of lines (default 95)
#   - the codec and domain types (CODEC below) together: at least COV_MIN_LINE % (default 90)
#
#   scripts/coverage.sh            build, run the suites, report, check the gates
#   scripts/coverage.sh --report   report and check from the counters of the last run
#   scripts/coverage.sh --report --vm RESULTS
#                                  also merge the counters a VM run of this build wrote:
#                                  `meson test -C build-cov --suite vm` (RESULTS is then
#                                  build-cov/tests/vm/results; the guest runs the coverage
#                                  build's --prefix=/usr stage, tests/install/usr-build) or
#                                  tests/vm/run-vm.sh --coverage --build build-cov --results
#                                  RESULTS ...: figures with and without them; the gates are
#                                  always on the non-VM figures
#
# Build: build-cov (override with COV_BUILD), gcc with -Db_coverage=true. Reports:
# $BUILD/coverage.txt (per file, lines), $BUILD/coverage.json (summary, lines and branches per
# file) and $BUILD/coverage/index.html (lines and branches, per line); with --vm also
# coverage-with-vm.txt, coverage-with-vm.json and coverage-with-vm/index.html. g_return_*
# precondition lines are not counted (they guard against programming errors, not inputs).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${COV_BUILD:-build-cov}
MIN_LINE=${COV_MIN_LINE:-90}
MIN_ALL=${COV_MIN_ALL:-90}
MIN_PURE=${COV_MIN_PURE:-95}
# the codec and domain types (the first gate this script had)
CODEC="usbip-proto.c usbip-deframer.c usbip-urb-tracker.c usbip-busid.c usbip-remote.c usbip-speed.c
usbip-error.c usbip-device-info.c usbip-port-info.c"
# pure logic: no syscall, no main loop, no I/O but the bytes or text they are given; every
# line is reachable from a unit test (docs/quality.md lists them and why the rest is not)
PURE="libusbipcore/usbip-proto.c libusbipcore/usbip-deframer.c libusbipcore/usbip-urb-tracker.c
libusbipcore/usbip-busid.c libusbipcore/usbip-remote.c libusbipcore/usbip-speed.c
libusbipcore/usbip-device-info.c libusbipcore/usbip-port-info.c libusbipcore/usbip-error.c
libusbipcore/usbip-backoff.c libusbipcore/usbip-policy.c libusbipcore/usbip-text.c libusbipcore/usbip-config.c
libusbipcore/trace/usbip-tcp-segment.c libusbipcore/trace/usbip-tcp-reassembler.c
libusbipcore/trace/usbip-pcap.c libusbipcore/trace/usbip-trace-decoder.c plugins/backend-vhci/usbip-vhci-status.c
plugins/metrics/usbip-metrics-text.c"
# suites the counters come from: every one but vm (qemu; its counters come with --vm), install
# and harness (a staged tree built in its own dir, tests/install/usr-build), packaging (man
# pages, completion: no C) and abi (it reads the exported symbols, and --coverage exports
# gcov's own)
SUITES_EXCLUDED="vm install harness packaging abi"
# the stage's own build inside BUILD (tests/install/stage.sh) and the VM suite's results (the
# guest's counters under gcov/): not counters of the non-VM run; only --vm reads them
STAGE_BUILD=tests/install/usr-build
VM_RESULTS=tests/vm/results
NOT_OURS=(--exclude-directories ".*/$STAGE_BUILD\$" --exclude-directories ".*/$VM_RESULTS\$")

command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing: run scripts/install-deps.sh" >&2; exit 1; }

REPORT_ONLY=0
VM=
while [ $# -gt 0 ]; do
  case $1 in
    --report) REPORT_ONLY=1; shift ;;
    --vm) VM=${2:?--vm takes the results dir of a run-vm.sh --coverage run}; shift 2
      VM=$(cd "$VM" && pwd) || { echo "coverage.sh: --vm: no such directory" >&2; exit 2; } ;;
    *) echo "coverage.sh: unknown argument $1 (--report, --vm RESULTS)" >&2; exit 2 ;;
  esac
done

if [ "$REPORT_ONLY" = 0 ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --werror -Db_coverage=true -Dtests=true || exit 1
  fi
  ninja -C "$BUILD" || exit 1
  # stale counters from an earlier run would count lines no test ran this time: each object's
  # counter file starts empty, and writable by every user (tests/dbus runs usbip-tool as
  # nobody, which cannot create files in the build dir; libgcov's "Cannot open" would land
  # in the output the test compares). Files still empty after the run are removed.
  find "$BUILD" \( -path "$BUILD/$STAGE_BUILD" -o -path "$BUILD/$VM_RESULTS" \) -prune -o -name '*.gcda' -exec rm -f {} +
  find "$BUILD" \( -path "$BUILD/$STAGE_BUILD" -o -path "$BUILD/$VM_RESULTS" \) -prune -o -name '*.gcno' -exec sh -c 'for f; do : > "${f%.gcno}.gcda"; chmod 666 "${f%.gcno}.gcda"; done' sh {} +
  excl=()
  for s in $SUITES_EXCLUDED; do excl+=(--no-suite "$s"); done
  meson test -C "$BUILD" "${excl[@]}" --print-errorlogs --num-processes 2 || {
    echo "coverage.sh: the tests failed; fix them first" >&2; exit 1; }
  find "$BUILD" \( -path "$BUILD/$STAGE_BUILD" -o -path "$BUILD/$VM_RESULTS" \) -prune -o -name '*.gcda' -empty -exec rm -f {} +
fi

# notes (.gcno) of objects this build no longer makes (a source moved or removed) would be
# reported too, under their old lines
stale=$(comm -13 <(ninja -C "$BUILD" -t targets all | sed -n 's/^\(.*\.o\): .*/\1/p' | sort) \
  <(cd "$BUILD" && find . \( -path "./$STAGE_BUILD" -o -path "./$VM_RESULTS" \) -prune -o -name '*.gcno' -print | sed 's|^\./||; s|\.gcno$|.o|' | sort))
for o in $stale; do rm -f "$BUILD/${o%.o}.gcno" "$BUILD/${o%.o}.gcda"; done

GCOVR=(gcovr --root . --filter 'libusbipcore/' --filter 'plugins/' --filter 'tools/'
  --exclude-lines-by-pattern '.*g_return_.*' --exclude-unreachable-branches)
mkdir -p "$BUILD/coverage"
"${GCOVR[@]}" "${NOT_OURS[@]}" --object-directory "$BUILD" --json "$BUILD/coverage-tracefile.json" \
  --txt "$BUILD/coverage.txt" --json-summary "$BUILD/coverage.json" \
  --html-details "$BUILD/coverage/index.html" "$BUILD" || { echo "coverage: FAILED: gcovr failed" >&2; exit 1; }
cat "$BUILD/coverage.txt"

if [ -n "$VM" ]; then
  # the guest wrote each counter file under RESULTS/gcov + its full host path (GCOV_PREFIX):
  # of BUILD's objects (run-vm.sh --build BUILD) or of its stage build's (meson test --suite
  # vm). gcov wants the notes (.gcno) beside them, and runs in the real build dir (the notes
  # name the sources relative to it)
  traces=(--add-tracefile "$BUILD/coverage-tracefile.json")
  for dir in "$BUILD" "$BUILD/$STAGE_BUILD"; do
    abs=$(cd "$dir" 2>/dev/null && pwd) || continue
    tree=$VM/gcov$abs
    [ -n "$(find "$tree" -path "$tree/$STAGE_BUILD" -prune -o -name '*.gcda' -print -quit 2>/dev/null)" ] || continue
    (cd "$dir" && find . \( -path "./$STAGE_BUILD" -o -path "./$VM_RESULTS" \) -prune -o -name '*.gcno' -exec cp --parents -t "$tree/" {} +) ||
      { echo "coverage: FAILED: cannot copy the notes of $dir beside the VM counters" >&2; exit 1; }
    n=${#traces[@]}
    "${GCOVR[@]}" "${NOT_OURS[@]}" --object-directory "$dir" \
      --json "$BUILD/coverage-vm-tracefile-$n.json" "$tree" ||
      { echo "coverage: FAILED: gcovr failed on the VM counters of $dir" >&2; exit 1; }
    traces+=(--add-tracefile "$BUILD/coverage-vm-tracefile-$n.json")
  done
  [ ${#traces[@]} -gt 2 ] || { echo "coverage: FAILED: no counters of $BUILD under $VM/gcov: run \`meson test -C $BUILD --suite vm\` (its results dir is $BUILD/tests/vm/results) or tests/vm/run-vm.sh --coverage --build $BUILD" >&2; exit 1; }
  mkdir -p "$BUILD/coverage-with-vm"
  "${GCOVR[@]}" "${traces[@]}" \
    --txt "$BUILD/coverage-with-vm.txt" --json-summary "$BUILD/coverage-with-vm.json" \
    --html-details "$BUILD/coverage-with-vm/index.html" || { echo "coverage: FAILED: gcovr could not merge" >&2; exit 1; }
fi

/usr/bin/python3 - "$BUILD/coverage.json" "$MIN_ALL" "$MIN_PURE" "$MIN_LINE" "$PURE" "$CODEC" \
  "${VM:+$BUILD/coverage-with-vm.json}" <<'EOF'
import json, sys
summary, min_all, min_pure, min_line, pure, codec, with_vm = sys.argv[1:]
def load(path):
    return {f["filename"]: f for f in json.load(open(path))["files"]}
files = load(summary)
def pct(files, names):
    sel = [files[n] for n in names if n in files]
    lt = sum(f["line_total"] for f in sel); lc = sum(f["line_covered"] for f in sel)
    bt = sum(f["branch_total"] for f in sel); bc = sum(f["branch_covered"] for f in sel)
    return (100.0 * lc / lt if lt else 100.0), (100.0 * bc / bt if bt else 100.0), lc, lt, bc, bt
ok = True
def gate(name, names, minimum, files=files):
    global ok
    line, branch, lc, lt, bc, bt = pct(files, names)
    good = minimum is None or line >= float(minimum)
    ok = ok and good
    print(f"coverage {name}: lines {line:.1f} % ({lc}/{lt}), branches {branch:.1f} % ({bc}/{bt})"
          + (f" (gate: lines >= {minimum} %)" if minimum is not None else "") + ("" if good else " FAILED"))
lib = lambda fs: [n for n in fs if n.startswith(("libusbipcore/", "plugins/"))]
tools = lambda fs: [n for n in fs if n.startswith("tools/")]
gate("libusbipcore/ + plugins/", lib(files), min_all)
gate("tools/ (not gated)", tools(files), None)
gate("codec and domain types", ["libusbipcore/" + n for n in codec.split()], min_line)
for n in pure.split():
    if n not in files:
        print(f"coverage: FAILED: {n} has no counters (renamed? update PURE in scripts/coverage.sh)")
        ok = False
        continue
    gate(n, [n], min_pure)
if with_vm:
    vm = load(with_vm)
    print("with the VM suite's counters (not gated):")
    gate("libusbipcore/ + plugins/ with VM", lib(vm), None, vm)
    gate("tools/ with VM", tools(vm), None, vm)
    for n in sorted(vm):
        a, b = pct(files, [n]), pct(vm, [n])
        if b[2] > a[2]:
            print(f"  {n}: lines {a[0]:.1f} % -> {b[0]:.1f} % with VM")
print("coverage: ok" if ok else "coverage: FAILED (gates above)")
sys.exit(0 if ok else 1)
EOF
