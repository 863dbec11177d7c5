#!/bin/sh
# Test wrapper of `meson test --setup valgrind` (tests/meson.build; scripts/valgrind.sh runs it): runs a test program under
# memcheck. A test that is a script (python3) is not itself run under valgrind; instead every
# argument that names a program built here (the tools, a test binary it drives) is replaced by
# a shim that runs that program under memcheck, so the tools run under valgrind exactly as
# the script calls them. Any memcheck error fails the program with exit code 99. A shimmed
# program's memcheck report goes to a file of its own, not to the stderr the script reads
# (scripts compare the tools' messages); every report with an error is printed at the end
# and fails the test (99), whatever the script made of the program's exit code.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
VALGRIND="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
  --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=yes
  --num-callers=30 --suppressions=/usr/share/glib-2.0/valgrind/glib.supp
  --suppressions=$here/valgrind.supp --gen-suppressions=all"
export G_SLICE=always-malloc G_DEBUG=gc-friendly

is_ours() {
  # programs of the system (python3, sh) are not ours; programs built here are ELF files
  # in the build tree, named by an absolute path or one relative to it (meson passes both)
  case $1 in /usr/*|/bin/*|/sbin/*|/lib*) return 1 ;; */*) ;; *) return 1 ;; esac
  [ -f "$1" ] && [ -x "$1" ] && head -c 4 "$1" 2>/dev/null | grep -q 'ELF'
}

if is_ours "$1"; then
  # shellcheck disable=SC2086
  exec $VALGRIND "$@"
fi
shims=$(mktemp -d "${TMPDIR:-/tmp}/usbip-valgrind.XXXXXX")
# a test may run a tool as another user (dbus: usbip-tool as nobody), who writes a report too
chmod 755 "$shims"
mkdir -m 1777 "$shims/reports"
prog=$1; shift
set -- "$@" END_OF_ARGS
while [ "$1" != END_OF_ARGS ]; do
  a=$1; shift
  if is_ours "$a"; then
    case $a in /*) ;; *) a=$PWD/$a ;; esac
    shim="$shims/$(basename "$a")"
    printf '#!/bin/sh\nexport G_SLICE=always-malloc G_DEBUG=gc-friendly\nexec %s --log-file=%s %s "$@"\n' \
      "$(echo $VALGRIND)" "$shims/reports/%p.log" "$a" > "$shim"
    chmod +x "$shim"
    a=$shim
  fi
  set -- "$@" "$a"
done
shift
rc=0
"$prog" "$@" || rc=$?
for report in "$shims"/reports/*.log; do
  [ -f "$report" ] || continue
  if grep 'ERROR SUMMARY' "$report" | grep -qv 'ERROR SUMMARY: 0 errors'; then
    echo "valgrind-wrapper: memcheck found errors in a program the test ran:" >&2
    cat "$report" >&2
    rc=99
  fi
done
rm -rf "$shims"
exit $rc
