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
# Build dirs: LINT_BUILD (default build; configured if missing, used for compile_commands.json
# and the generated headers), build-scan (scan-build) and build-fanalyzer (gcc -fanalyzer).
# The analyzers' reports go to build-lint-reports/.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${LINT_BUILD:-build}
REPORTS=build-lint-reports
JOBS=${LINT_JOBS:-2}
SOURCES_RE='^(libusbipcore|plugins|tools)/.*\.c$'

c_files() { git ls-files '*.c' '*.h'; }
analyzed_files() { git ls-files '*.c' | grep -E "$SOURCES_RE"; }

if [ "${1:-}" = "--fix-format" ]; then
  c_files | xargs clang-format -i
  echo "lint: reformatted $(c_files | wc -l) files with .clang-format"
  exit 0
fi
case "${1:-}" in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

for tool in clang-format clang-tidy run-clang-tidy cppcheck scan-build gcc meson ninja; do
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

run_tidy() {
  ensure_build || return 1
  # the checks and their reasons are in .clang-tidy; run-clang-tidy reads it from the tree
  # run-clang-tidy matches the regex against absolute paths: anchor it at the source tree
  # (generated sources in the build dir are not ours to lint)
  run-clang-tidy -quiet -p "$BUILD" -j "$JOBS" "^$PWD/${SOURCES_RE#^}" > "$REPORTS/tidy.txt" 2>&1
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

run_scan_build() {
  local dir=build-scan
  if [ ! -f "$dir/build.ninja" ]; then
    scan-build meson setup "$dir" -Dtests=false -Dvm_tests=false -Dintrospection=disabled \
      -Dman=disabled > "$REPORTS/scan-build-setup.txt" 2>&1 || {
      cat "$REPORTS/scan-build-setup.txt"; echo "scan-build: FAILED to configure $dir"; return 1; }
  fi
  # a clean build: scan-build only sees what it compiles
  ninja -C "$dir" -t clean >/dev/null
  scan-build --status-bugs -o "$REPORTS/scan-build" ninja -C "$dir" -j "$JOBS" \
    > "$REPORTS/scan-build.txt" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ]; then echo "scan-build: ok"; return 0; fi
  grep -E -A3 'warning: ' "$REPORTS/scan-build.txt" | head -60
  tail -3 "$REPORTS/scan-build.txt"
  echo "scan-build: FAILED (report: $REPORTS/scan-build.txt and the HTML in $REPORTS/scan-build)"
  return 1
}

run_fanalyzer() {
  local dir=build-fanalyzer
  if [ ! -f "$dir/build.ninja" ]; then
    CC=gcc meson setup "$dir" --werror -Dc_args=-fanalyzer -Dtests=false -Dvm_tests=false \
      -Dintrospection=disabled -Dman=disabled > "$REPORTS/fanalyzer-setup.txt" 2>&1 || {
      cat "$REPORTS/fanalyzer-setup.txt"; echo "fanalyzer: FAILED to configure $dir"; return 1; }
  fi
  ninja -C "$dir" -t clean >/dev/null
  ninja -C "$dir" -j "$JOBS" > "$REPORTS/fanalyzer.txt" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ] && ! grep -q -- '-Wanalyzer' "$REPORTS/fanalyzer.txt"; then
    echo "fanalyzer: ok"; return 0
  fi
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
