#!/bin/sh
# test-scripts.sh SRCDIR BUILDDIR: scripts/install-deps.sh and scripts/run.sh with apt-get,
# dpkg-query, debconf-set-selections and sudo as stubs on PATH (nothing is installed): waiting
# for an apt lock another apt-get holds, giving up after APT_LOCK_WAIT with a message, failing
# at once on other errors, and run.sh installing only the build-and-run packages. Prints TAP.
set -u
SRC=$1
BUILD=$2
T=$(mktemp -d /tmp/usbip-scripts-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin"
# apt-get: logs each call; answers "lock held" while $T/locked-N exists for call N
cat > "$T/bin/apt-get" <<STUB
#!/bin/sh
echo "\$*" >> "$T/apt-calls"
n=\$(wc -l < "$T/apt-calls")
if [ -e "$T/locked-\$n" ] || [ -e "$T/locked-always" ]; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
  echo "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?" >&2
  exit 100
fi
if [ -e "$T/broken" ]; then echo "E: Unable to locate package nosuch" >&2; exit 100; fi
exit 0
STUB
printf '#!/bin/sh\necho "deinstall ok config-files"\n' > "$T/bin/dpkg-query"   # nothing installed
printf '#!/bin/sh\ncat > /dev/null\n' > "$T/bin/debconf-set-selections"
printf '#!/bin/sh\nexec "$@"\n' > "$T/bin/sudo"
chmod +x "$T/bin/"*
export PATH="$T/bin:$PATH" APT_LOCK_POLL=1

n=0
failed=0
check() {
  n=$((n + 1))
  rm -f "$T"/apt-calls "$T"/locked-* "$T/broken"
  if ( "$@" ) > "$T/out" 2>&1; then echo "ok $n - $1"; else
    echo "not ok $n - $1"; failed=$((failed + 1)); sed 's/^/# /' "$T/out"
  fi
}
calls() { [ -e "$T/apt-calls" ] && wc -l < "$T/apt-calls" || echo 0; }

waits_for_the_apt_lock() {
  touch "$T/locked-1" "$T/locked-2"             # update waits twice, then runs; install runs
  "$SRC/scripts/install-deps.sh" --build 2> "$T/err" || { cat "$T/err"; echo "exited $?"; return 1; }
  grep -q 'another apt-get or dpkg holds the lock (held by process 4242 (apt-get)); waiting up to 600 s' "$T/err" ||
    { cat "$T/err"; return 1; }
  [ "$(grep -c waiting "$T/err")" -eq 1 ] || { echo "the message is repeated"; return 1; }
  [ "$(calls)" -eq 4 ] || { cat "$T/apt-calls"; return 1; }
}
gives_up_after_apt_lock_wait() {
  touch "$T/locked-always"
  rc=0
  APT_LOCK_WAIT=2 "$SRC/scripts/install-deps.sh" --build 2> "$T/err" || rc=$?
  [ $rc -eq 100 ] || { echo "exited $rc"; return 1; }
  grep -q 'the apt lock is still held after 2 s; let the other apt-get' "$T/err" || { cat "$T/err"; return 1; }
  [ "$(calls)" -eq 3 ] || { cat "$T/apt-calls"; return 1; }
}
other_apt_errors_fail_at_once() {
  touch "$T/broken"
  rc=0
  "$SRC/scripts/install-deps.sh" --build 2> "$T/err" || rc=$?
  [ $rc -eq 100 ] && grep -q 'Unable to locate package' "$T/err" && ! grep -q waiting "$T/err" &&
    [ "$(calls)" -eq 1 ] || { echo "exited $rc"; cat "$T/err"; return 1; }
}
all_adds_the_test_toolchain() {
  "$SRC/scripts/install-deps.sh" > /dev/null || return 1
  grep '^install' "$T/apt-calls" | grep -q ' qemu-system-x86 ' || { cat "$T/apt-calls"; return 1; }
}
run_sh_installs_only_build_and_run_packages() {
  # --version: usbipcored starts from the build tree and exits
  BUILD=$BUILD "$SRC/scripts/run.sh" --version > "$T/run.out" 2>&1 || { cat "$T/run.out"; return 1; }
  grep -q '^usbipcored ' "$T/run.out" || { cat "$T/run.out"; return 1; }
  inst=$(grep '^install' "$T/apt-calls")
  echo "$inst" | grep -q ' meson ' || { echo "no meson in: $inst"; return 1; }
  for p in qemu-system-x86 clang tshark valgrind gcovr; do
    case " $inst " in *" $p "*) echo "run.sh installs the test package $p: $inst"; return 1 ;; esac
  done
}

run_sh_serves_two_demo_devices() {
  # no arguments: the quick start serves a read-only demo disk and an echoing serial port,
  # emulated by the daemon (no usbip module needed); upstream `usbip list -r` shows both
  python3 - "$SRC" "$BUILD" "$T" <<'PY'
import os, signal, socket, subprocess, sys, threading, time
src, build, t = sys.argv[1:]
held = socket.socket()
held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
held.bind(("127.0.0.1", 0))  # kernel-chosen, held until the daemon listens
port = held.getsockname()[1]
p = subprocess.Popen([src + "/scripts/run.sh"], env=dict(os.environ, BUILD=build, LISTEN=f"127.0.0.1:{port}"),
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
lines = []
threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, "")), daemon=True).start()
end = time.monotonic() + 120  # bounded: a first run may still compile
while not any("serving" in line for line in lines):
    if p.poll() is not None or time.monotonic() > end:
        sys.exit("run.sh did not start serving:\n" + "".join(lines))
    time.sleep(0.05)
held.close()
try:
    out = subprocess.run(["usbip", "--tcp-port", str(port), "list", "-r", "127.0.0.1"], capture_output=True,
                         text=True, timeout=30).stdout
finally:
    os.killpg(p.pid, signal.SIGINT)
    p.wait(timeout=30)
for want in ("virtual-demo-disk:", "virtual-demo-serial:", "Mass Storage"):
    if want not in out:
        sys.exit(f"{want} not in usbip list -r:\n{out}\n" + "".join(lines))
PY
}

run_sh_ctrl_c_drains_quietly() {
  # Ctrl-C in a terminal signals the whole foreground process group: the daemon drains and
  # stops, run.sh exits 0, and nothing between them prints a traceback
  python3 - "$SRC" "$BUILD" "$T" <<'PY'
import os, signal, socket, subprocess, sys, threading, time
src, build, t = sys.argv[1:]
held = socket.socket()
held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
held.bind(("127.0.0.1", 0))  # kernel-chosen, held until the daemon listens
port = held.getsockname()[1]
p = subprocess.Popen([src + "/scripts/run.sh", "--listen", f"127.0.0.1:{port}", "--status-socket", t + "/st.sock"],
                     env=dict(os.environ, BUILD=build), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                     start_new_session=True)
lines = []
threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, "")), daemon=True).start()
end = time.monotonic() + 120  # bounded: a first run may still compile
while not any("serving" in line for line in lines):
    if p.poll() is not None or time.monotonic() > end:
        sys.exit("run.sh did not start serving:\n" + "".join(lines))
    time.sleep(0.05)
held.close()
os.killpg(p.pid, signal.SIGINT)
rc = p.wait(timeout=30)
time.sleep(0.2)  # allowed: let the reader thread take the last lines after exit
out = "".join(lines)
if rc != 0 or "Traceback" in out or "shutdown: drained" not in out:
    sys.exit(f"run.sh exited {rc} on Ctrl-C:\n{out}")
PY
}

echo "1..7"
check waits_for_the_apt_lock
check gives_up_after_apt_lock_wait
check other_apt_errors_fail_at_once
check all_adds_the_test_toolchain
check run_sh_installs_only_build_and_run_packages
check run_sh_serves_two_demo_devices
check run_sh_ctrl_c_drains_quietly
[ "$failed" -eq 0 ]
