#!/bin/bash
# Line and branch coverage of the library, the plugins and the tools by every non-VM suite
# (gcovr), with three gates (docs/quality.md lists the figures and what only the VM reaches):
#   - libusbipcore/ and plugins/ together: at least COV_MIN_ALL % of lines (default 90)
#   - each pure-logic file (PURE below): at least COV_MIN_PURE % of lines (default 95)
#   - the codec and domain types (CODEC below) together: at least COV_MIN_LINE % (default 90)
#
#   scripts/coverage.sh            build, run the suites, report, check the gates
#   scripts/coverage.sh --report   report and check from the counters of the last run
#
# Build: build-cov (override with COV_BUILD), gcc with -Db_coverage=true. Reports:
# $BUILD/coverage.txt (per file, lines), $BUILD/coverage.json (summary, lines and branches per
# file) and $BUILD/coverage/index.html (lines and branches, per line). g_return_* precondition lines are not counted
# (they guard against programming errors, not inputs). When the VM suite ran in this build
# dir, its guest wrote its counters here too and they are counted.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${COV_BUILD:-build-cov}
MIN_LINE=${COV_MIN_LINE:-90}
MIN_ALL=${COV_MIN_ALL:-90}
MIN_PURE=${COV_MIN_PURE:-95}
# the codec and domain types (the first gate this script had)
CODEC="usbip-proto.c usbip-deframer.c usbip-urb-tracker.c usbip-busid.c usbip-remote.c usbip-speed.c
usbip-error.c usbip-device-info.c usbip-port-info.c"
# pure logic: no syscall, no main loop; every line is reachable from a unit test. FILE=N sets
# a lower floor N for a file below the gate today (docs/quality.md lists each gap; raise the
# floor as tests close it, remove it at 95)
PURE="libusbipcore/usbip-proto.c libusbipcore/usbip-deframer.c libusbipcore/usbip-urb-tracker.c
libusbipcore/usbip-busid.c libusbipcore/usbip-remote.c
libusbipcore/usbip-speed.c libusbipcore/usbip-device-info.c libusbipcore/usbip-port-info.c
libusbipcore/usbip-backoff.c libusbipcore/usbip-policy.c libusbipcore/usbip-text.c
libusbipcore/trace/usbip-tcp-segment.c=89 libusbipcore/trace/usbip-tcp-reassembler.c
libusbipcore/trace/usbip-pcap.c=87 libusbipcore/trace/usbip-trace-decoder.c=89 plugins/backend-vhci/usbip-vhci-status.c=87
plugins/metrics/usbip-metrics-text.c"
# suites the counters come from: every one but vm (qemu), install (a staged tree outside this
# build), packaging (man pages, completion: no C) and abi (it reads the exported symbols, and
# --coverage exports gcov's own)
SUITES_EXCLUDED="vm install packaging abi"

command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing: run scripts/install-deps.sh" >&2; exit 1; }

if [ "${1:-}" != "--report" ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --werror -Db_coverage=true -Dvm_tests=false -Dtests=true || exit 1
  fi
  ninja -C "$BUILD" || exit 1
  # stale counters from an earlier run would count lines no test ran this time
  find "$BUILD" -name '*.gcda' -delete
  excl=()
  for s in $SUITES_EXCLUDED; do excl+=(--no-suite "$s"); done
  meson test -C "$BUILD" "${excl[@]}" --print-errorlogs --num-processes 2 || {
    echo "coverage.sh: the tests failed; fix them first" >&2; exit 1; }
fi

gcovr --root . --object-directory "$BUILD" \
  --filter 'libusbipcore/' --filter 'plugins/' --filter 'tools/' \
  --exclude-lines-by-pattern '.*g_return_.*' --exclude-unreachable-branches \
  --txt "$BUILD/coverage.txt" --json-summary "$BUILD/coverage.json" \
  --html-details "$(mkdir -p "$BUILD/coverage" && echo "$BUILD/coverage/index.html")" \
  "$BUILD" || { echo "coverage: FAILED: gcovr failed" >&2; exit 1; }
cat "$BUILD/coverage.txt"

/usr/bin/python3 - "$BUILD/coverage.json" "$MIN_ALL" "$MIN_PURE" "$MIN_LINE" "$PURE" "$CODEC" <<'EOF'
import json, sys
summary, min_all, min_pure, min_line, pure, codec = sys.argv[1:]
files = {f["filename"]: f for f in json.load(open(summary))["files"]}
def pct(names):
    sel = [files[n] for n in names if n in files]
    lt = sum(f["line_total"] for f in sel); lc = sum(f["line_covered"] for f in sel)
    bt = sum(f["branch_total"] for f in sel); bc = sum(f["branch_covered"] for f in sel)
    return (100.0 * lc / lt if lt else 100.0), (100.0 * bc / bt if bt else 100.0), lc, lt
ok = True
def gate(name, names, minimum):
    global ok
    line, branch, lc, lt = pct(names)
    good = line >= float(minimum)
    ok = ok and good
    print(f"coverage {name}: lines {line:.1f} % ({lc}/{lt}), branches {branch:.1f} % "
          f"(gate: lines >= {minimum} %){'' if good else ' FAILED'}")
lib = [n for n in files if n.startswith(("libusbipcore/", "plugins/"))]
gate("libusbipcore/ + plugins/", lib, min_all)
gate("tools/ (not gated)", [n for n in files if n.startswith("tools/")], 0)
gate("codec and domain types", ["libusbipcore/" + n for n in codec.split()], min_line)
for entry in pure.split():
    n, _, floor = entry.partition("=")
    if n not in files:
        print(f"coverage: FAILED: {n} has no counters (renamed? update PURE in scripts/coverage.sh)")
        ok = False
        continue
    gate(n + (f" (floor {floor} % until tested; gate {min_pure} %)" if floor else ""), [n], floor or min_pure)
print("coverage: ok" if ok else "coverage: FAILED (gates above)")
sys.exit(0 if ok else 1)
EOF
