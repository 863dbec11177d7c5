#!/bin/bash
# Static analysis gate: clang-format, clang-tidy, cppcheck, scan-build and gcc -fanalyzer over
# the library, the plugins and the tools (clang-format over every C file in git). Fails on any
# finding; a finding that is not a bug is suppressed at its line with the reason
# (docs/quality.md says how).
#
#   scripts/lint.sh                      every check
#   scripts/lint.sh format tidy ...      only these (format tidy cppcheck scan-build fanalyzer)
#   scripts/lint.sh --fix-format         rewrite every C file with clang-format (.clang-format)
#
# Build: LINT_BUILD (default build; configured and built if missing): its compile_commands.json,
# cut to the analyzed files (build-lint-reports/cdb), drives tidy, scan-build (as analyze-build)
# and gcc -fanalyzer; its generated headers serve cppcheck. LINT_JOBS: parallel jobs (2).
# LINT_SOURCES: a regex of the files to analyze (default: every C file of those three dirs).
# The analyzers' reports go to build-lint-reports/.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${LINT_BUILD:-build}
REPORTS=build-lint-reports
JOBS=${LINT_JOBS:-2}
SOURCES_RE=${LINT_SOURCES:-'^(libusbipcore|plugins|tools)/.*\.c$'}

c_files() { git ls-files '*.c' '*.h'; }
analyzed_files() { git ls-files '*.c' | grep -E "$SOURCES_RE"; }

if [ "${1:-}" = "--fix-format" ]; then
  c_files | xargs clang-format -i
  echo "lint: reformatted $(c_files | wc -l) files with .clang-format"
  exit 0
fi
case "${1:-}" in -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

for tool in clang-format clang-tidy run-clang-tidy cppcheck gcc python3 meson ninja; do
  command -v "$tool" >/dev/null || {
    echo "lint.sh: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done

checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(format tidy cppcheck scan-build fanalyzer)
mkdir -p "$REPORTS"
failed=()

ensure_build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --werror -Dvm_tests=false || return 1
  fi
  # generated headers (config.h, the builtin plugin table) must exist for the analyzers
  ninja -C "$BUILD" >/dev/null || { echo "lint.sh: the build in $BUILD failed" >&2; return 1; }
}

run_format() {
  c_files | xargs clang-format --dry-run --Werror 2> "$REPORTS/format.txt"
  local rc=$?
  local n
  n=$(grep -c 'warning:\|error:' "$REPORTS/format.txt")
  [ "$rc" -eq 0 ] && { echo "format: ok"; return 0; }
  head -30 "$REPORTS/format.txt"
  echo "format: FAILED: $n places differ from .clang-format (scripts/lint.sh --fix-format rewrites them)"
  return 1
}

# the build's compile database cut to the analyzed files, one entry each: what tidy,
# scan-build and fanalyzer read (no second configure, no second build)
CDB=$REPORTS/cdb
prepare_cdb() {
  ensure_build || return 1
  scripts/lint-cdb.py filter "$BUILD" "$CDB" "$SOURCES_RE" >/dev/null
}

no_color() { sed 's/\x1b\[[0-9;]*m//g'; }

run_tidy() {
  prepare_cdb || return 1
  # the checks and their reasons are in .clang-tidy; run-clang-tidy reads it from the tree
  run-clang-tidy -quiet -p "$CDB" -j "$JOBS" 2>&1 | no_color > "$REPORTS/tidy.txt"
  local rc=$?
  local n
  n=$(grep -cE '(warning|error): .*\[[a-z0-9.,-]+\]$' "$REPORTS/tidy.txt")
  if [ "$rc" -eq 0 ] && [ "$n" -eq 0 ]; then echo "tidy: ok"; return 0; fi
  grep -E -A3 '(warning|error): ' "$REPORTS/tidy.txt" | head -60
  echo "tidy: FAILED: $n findings (full report: $REPORTS/tidy.txt)"
  return 1
}

run_cppcheck() {
  ensure_build || return 1
  # every check except style; the suppressions file says why each line is there
  cppcheck -q --std=c11 --library=gtk --library=posix --library=gnu \
    --enable=warning,performance,portability --inline-suppr \
    --suppressions-list=.cppcheck-suppressions \
    -D_GNU_SOURCE -D__GNUC__ -DUSBIP_COMPILATION -Ilibusbipcore -I"$BUILD" -Iplugins \
    -j "$JOBS" --error-exitcode=1 --template='{file}:{line}: {severity} [{id}] {message}' \
    $(analyzed_files) > "$REPORTS/cppcheck.txt" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ]; then echo "cppcheck: ok"; return 0; fi
  head -40 "$REPORTS/cppcheck.txt"
  echo "cppcheck: FAILED (full report: $REPORTS/cppcheck.txt)"
  return 1
}

# scan-build's compile-database form (analyze-build, from the same clang-tools): the clang
# static analyzer over each analyzed file, without compiling anything
run_scan_build() {
  prepare_cdb || return 1
  local analyze
  analyze=$(command -v analyze-build || ls /usr/bin/analyze-build-[0-9]* 2>/dev/null | head -1)
  [ -n "$analyze" ] || { echo "scan-build: analyze-build is missing (clang-tools)"; return 1; }
  rm -rf "$REPORTS/scan-build"
  mkdir -p "$REPORTS/scan-build"
  "$analyze" --cdb "$CDB/compile_commands.json" --status-bugs -o "$REPORTS/scan-build" \
    > "$REPORTS/scan-build.txt" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ]; then echo "scan-build: ok"; return 0; fi
  grep -E -A3 'warning: |error: ' "$REPORTS/scan-build.txt" | head -60
  tail -3 "$REPORTS/scan-build.txt"
  echo "scan-build: FAILED (report: $REPORTS/scan-build.txt and the HTML in $REPORTS/scan-build)"
  return 1
}

# gcc -fanalyzer over each analyzed file with its build flags (warnings are errors), at -O0
# (scripts/lint-cdb.py says why); the object code is discarded
run_fanalyzer() {
  prepare_cdb || return 1
  scripts/lint-cdb.py fanalyzer "$CDB/compile_commands.json" "$JOBS" > "$REPORTS/fanalyzer.txt" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ]; then echo "fanalyzer: ok"; return 0; fi
  grep -E -A6 'warning: |error: ' "$REPORTS/fanalyzer.txt" | head -60
  echo "fanalyzer: FAILED (full report: $REPORTS/fanalyzer.txt)"
  return 1
}

for c in "${checks[@]}"; do
  start=$(date +%s)
  case $c in
    format) run_format ;;
    tidy) run_tidy ;;
    cppcheck) run_cppcheck ;;
    scan-build) run_scan_build ;;
    fanalyzer) run_fanalyzer ;;
    *) echo "lint.sh: unknown check '$c' (format tidy cppcheck scan-build fanalyzer)" >&2; exit 2 ;;
  esac || failed+=("$c")
  echo "lint: $c took $(( $(date +%s) - start )) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: FAILED: ${failed[*]}"
  exit 1
fi
echo "lint: ok (${checks[*]})"
