#!/bin/bash
# Runs every libFuzzer target in its own build dir.
#
#   scripts/fuzz.sh [SECONDS]        every target SECONDS (default 60)
#   scripts/fuzz.sh --total SECONDS  the fuzzing takes about SECONDS of wall time in all:
#                                    each target gets SECONDS * FUZZ_JOBS / targets (at
#                                    least 10), e.g. CI's gate: --total 360
#
# Build: build-fuzz (override with FUZZ_BUILD), clang, -Dfuzzing=true, ASan + UBSan (UB
# aborts), the library coverage-instrumented for libFuzzer. Each target starts from its
# seed corpus tests/fuzz/corpus/<target>/ (read only) plus the crash regressions, and
# keeps what it learns in $FUZZ_BUILD/corpus/<target>/. Targets run FUZZ_JOBS at a time
# (default: the number of cores); FUZZ_TARGETS="a b" runs only those, FUZZ_SKIP="a b" all but those. On a crash the input is copied to
# tests/fuzz/crashes/<target>/ and the script fails; the replay test then runs it on every
# build (see tests/fuzz/crashes/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
TOTAL=
if [ "${1:-}" = "--total" ]; then
  TOTAL=${2:-}
  [[ "$TOTAL" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --total needs a number of seconds, e.g. --total 420" >&2; exit 2; }
else
  SECONDS_PER_TARGET=${1:-60}
  [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number, e.g. scripts/fuzz.sh 60 (or --total 420)" >&2; exit 2; }
fi
BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-$(nproc)}
TARGETS=$(sed -n "/^fuzz_target_names = \[/,/^\]/s/^ *'\([a-z_]*\)',*$/\1/p" tests/fuzz/meson.build)
[ -n "$TARGETS" ] || { echo "fuzz.sh: no targets found in tests/fuzz/meson.build" >&2; exit 1; }
# FUZZ_SKIP="a b": every target but those (a target with a known open finding; say why where it is set)
for t in ${FUZZ_SKIP:-}; do
  echo "$TARGETS" | grep -qx "$t" || { echo "fuzz.sh: unknown target '$t' in FUZZ_SKIP" >&2; exit 1; }
  TARGETS=$(echo "$TARGETS" | grep -vx "$t")
done
if [ -n "${FUZZ_TARGETS:-}" ]; then
  for t in $FUZZ_TARGETS; do
    echo "$TARGETS" | grep -qx "$t" || { echo "fuzz.sh: unknown target '$t'; targets: $(echo $TARGETS)" >&2; exit 1; }
  done
  TARGETS=$FUZZ_TARGETS
fi
if [ -n "$TOTAL" ]; then
  n=$(echo $TARGETS | wc -w)
  SECONDS_PER_TARGET=$(( TOTAL * JOBS / n ))
  [ "$SECONDS_PER_TARGET" -ge 10 ] || SECONDS_PER_TARGET=10
  echo "fuzz: $n targets, $JOBS at a time, ${SECONDS_PER_TARGET}s each (budget ${TOTAL}s)"
fi

command -v clang >/dev/null || { echo "fuzz.sh: clang is missing: run scripts/install-deps.sh" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang meson setup "$BUILD" --werror \
    -Dfuzzing=true -Dtests=true -Dvm_tests=false -Dintrospection=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
    -Dc_link_args="-fno-sanitize-recover=all" || exit 1
fi
ninja -C "$BUILD" $(for t in $TARGETS; do echo "tests/fuzz/fuzz-$t"; done) || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export G_DEBUG=fatal-criticals
LOGS="$BUILD/fuzz-logs"
mkdir -p "$LOGS"

run_target() {
  local t=$1 work="$BUILD/corpus/$t" art="$BUILD/artifacts/$t/"
  mkdir -p "$work" "$art" "tests/fuzz/crashes/$t"  # git keeps no empty dir
  rm -f "$art"/*
  "$BUILD/tests/fuzz/fuzz-$t" "$work" "tests/fuzz/corpus/$t" "tests/fuzz/crashes/$t" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$art" -print_final_stats=1 > "$LOGS/$t.log" 2>&1
  local rc=$?
  local runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOGS/$t.log" | grep -o '[0-9]*$')
  if [ $rc -ne 0 ]; then
    for f in "$art"*; do
      [ -f "$f" ] || continue
      # renamed: .gitignore ignores crash-*/leak-*/timeout-* (libFuzzer's names)
      local kept="tests/fuzz/crashes/$t/found-$(basename "$f")"
      cp "$f" "$kept"
      echo "fuzz $t: CRASH, input kept as $kept"
    done
    ls "$art" | grep -q . || echo "fuzz $t: the fuzzer wrote no crash file; see the log"
    echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} runs; log: $LOGS/$t.log"
    grep -m5 -E 'ERROR|runtime error|fuzz check failed|ERROR:' "$LOGS/$t.log" | sed 's/^/  /'
    return 1
  fi
  echo "fuzz $t: ok, ${runs:-?} runs in ${SECONDS_PER_TARGET}s, corpus $(ls "$work" | wc -l) files"
}

failed=0
pids=()
names=()
for t in $TARGETS; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  run_target "$t" &
  pids+=($!)
  names+=("$t")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=$((failed + 1))
done
if [ $failed -ne 0 ]; then
  echo "fuzz: $failed target(s) crashed"
  exit 1
fi
echo "fuzz: all $(echo $TARGETS | wc -w) targets ran ${SECONDS_PER_TARGET}s without a crash"
