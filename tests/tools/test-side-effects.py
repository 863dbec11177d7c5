#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What usbipcored leaves behind when it only checks: `--check-config` with virtual devices,
a status socket, a pid file and Unix listeners configured creates, opens and binds nothing
(the files in its directory, and under strace the system calls), and a bad device fails
with the message of a real start. A Unix listener in a missing directory is refused as the
status socket is, no directory made. Prints TAP."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import TIME_SCALE, Lines, check, run_tests, test  # noqa: E402

DAEMON, TOOL = sys.argv[1:3]
ROOT = tempfile.mkdtemp(prefix="usbip-sidefx-")
ENV = dict(os.environ, LC_ALL="C.UTF-8")
STRACE = shutil.which("strace")


def run(*argv, env=None):
    p = subprocess.run(list(argv), capture_output=True, text=True, env=env or ENV, timeout=30 * TIME_SCALE)
    return p.returncode, p.stdout, p.stderr


def tree(top):
    """Every path under TOP (directories too)."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            found.add(os.path.relpath(os.path.join(dirpath, name), top))
    return found


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def virtual_config(top, extra=""):
    img = os.path.join(top, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 16)
    return write(os.path.join(top, "virtual.conf"),
                 "[plugins]\nenabled=host;virtual;unix;metrics\n[metrics]\nlisten=127.0.0.1:9\n"
                 f"[daemon]\nstatus-socket={top}/run/status.sock\nlisten=unix:{top}/run/listen.sock\n"
                 "[virtual-device serial]\ntype=cdc-acm\n"
                 f"[virtual-device keys]\ntype=hid-keyboard\ninput={top}/keys.fifo\n"
                 f"[virtual-device disk]\ntype=mass-storage\nimage={img}\n{extra}")


@test
def check_config_creates_nothing():
    top = os.path.join(ROOT, "nothing")
    os.makedirs(os.path.join(top, "run"))
    conf = virtual_config(top)
    before = tree(top)
    argv = [DAEMON, "--check-config", "--config", conf, f"--pid={top}/run/usbipcored.pid",
            "--virtual", f"hid-mouse:input={top}/mouse.fifo,name=mouse"]
    trace = os.path.join(ROOT, "strace.log")
    env = ENV
    if STRACE:
        argv = [STRACE, "-f", "-qq", "-o", trace, "-e",
                "trace=open,openat,mknod,mknodat,mkdir,mkdirat,bind,listen"] + argv
        # LeakSanitizer cannot run under ptrace (the sanitize gate's build aborted with -6);
        # the other cases here still run the daemon with its leak check
        asan = os.environ.get("ASAN_OPTIONS")
        env = dict(ENV, ASAN_OPTIONS=(asan + ":" if asan else "") + "detect_leaks=0")
    rc, out, err = run(*argv, env=env)
    check(rc == 0 and "valid" in out, rc, out, err)
    check(tree(top) == before, "new files:", sorted(tree(top) - before))
    # the pty's notice comes from opening it
    check("other end is" not in err, repr(err))
    if STRACE:
        with open(trace) as f:
            calls = f.read().splitlines()
        made = [c for c in calls if "/dev/ptmx" in c or "mknod" in c or "mkdir" in c or " bind(" in c
                or " listen(" in c or top in c and "open" in c and conf not in c]
        check(not made, "system calls with side effects:", made)
    else:
        print("# strace not installed: the system calls are not checked, only the files")


@test
def check_config_fails_as_the_start_does():
    # each bad device fails --check-config with the start's message, and neither leaves anything
    top = os.path.join(ROOT, "bad")
    os.makedirs(os.path.join(top, "run"))
    write(os.path.join(top, "plain"), "not a FIFO\n")
    for group, text in (
            (f"type=hid-keyboard\ninput={top}/missing/keys.fifo\n",
             f"input={top}/missing/keys.fifo: cannot create the FIFO: No such file or directory"),
            (f"type=hid-mouse\ninput={top}/plain\n", f"input={top}/plain: exists and is not a FIFO"),
            ("type=mass-storage\nimage=/nonexistent.img\nread-only=true\n", "cannot open for reading"),
            ("type=cdc-acm\nmode=serial\n", "mode=serial: expected pty or loopback")):
        conf = write(os.path.join(top, "bad.conf"), f"[plugins]\nenabled=host;virtual\n[virtual-device bad]\n{group}")
        before = tree(top)
        rc, out, err = run(DAEMON, "--check-config", "--config", conf)
        check(rc == 2 and text in err and err.count(text) == 1, group, rc, out, err)
        check(tree(top) == before, group, "new files:", sorted(tree(top) - before))
        start = run(DAEMON, "--config", conf, "--listen", "127.0.0.1:1", "--status-socket", "")
        check(start[0] == 2 and start[2] == err, group, start, err)


def start_and_wait(*argv):
    """Runs usbipcored until it exits; one still serving after 15 s is stopped and fails."""
    p = subprocess.Popen([DAEMON, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        out, err = p.communicate(timeout=15 * TIME_SCALE)
    except subprocess.TimeoutExpired:
        p.terminate()
        out, err = p.communicate()
        raise AssertionError(f"usbipcored {argv} started instead of refusing: {err}")
    return p.returncode, out, err


@test
def unix_listener_in_a_missing_directory_is_refused():
    # as the status socket: a missing directory is a configuration error (exit 2) that names
    # it and the fix, and no directory is made (a typo in a path made a tree, as root)
    top = os.path.join(ROOT, "unix")
    os.makedirs(top)
    conf = write(os.path.join(top, "unix.conf"), "[plugins]\nenabled=host;unix\n")
    missing = os.path.join(top, "typo", "dir")
    rc, out, err = start_and_wait("--config", conf, "--status-socket", "", "--listen",
                                  f"unix:{missing}/usbip.sock")
    check(rc == 2 and f"unix:{missing}/usbip.sock" in err and f"no directory {missing}" in err
          and "create it" in err and "RuntimeDirectory=" in err, rc, repr(err))
    check(not os.path.exists(os.path.join(top, "typo")), "usbipcored made the directories")
    # the status socket's refusal says the same fix
    rc, out, err = start_and_wait("--config", conf, "--listen", "127.0.0.1:1", "--status-socket",
                                  f"{missing}/status.sock")
    check(rc == 2 and f"no directory {missing}" in err and "RuntimeDirectory=" in err, rc, repr(err))
    check(not os.path.exists(os.path.join(top, "typo")), "usbipcored made the directories")


@test
def metrics_address_in_use_names_its_source():
    # the hint named `[metrics] listen` for usbip-tool's --metrics too
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    addr = f"127.0.0.1:{taken.getsockname()[1]}"
    try:
        rc, out, err = run(TOOL, "attach", "-r", "127.0.0.1:1", "-b", "1-1", "--auto-reconnect", "--metrics", addr)
        check(rc != 0 and f"--metrics {addr}" in err and "in use" in err and "[metrics]" not in err, rc, repr(err))
        conf = write(os.path.join(ROOT, "metrics.conf"), f"[plugins]\nenabled=host;metrics\n[metrics]\nlisten={addr}\n")
        rc, out, err = start_and_wait("--config", conf, "--status-socket", "", "--listen", "127.0.0.1:1")
        check(rc != 0 and f"[metrics] listen in {conf}" in err and "in use" in err and "--metrics" not in err,
              rc, repr(err))
    finally:
        taken.close()


def directory_reads(err):
    """How often each plugin directory was read, from the --debug log."""
    counts = {}
    for line in err.splitlines():
        if "reading the plugin directory " in line:
            d = line.split("reading the plugin directory ", 1)[1]
            counts[d] = counts.get(d, 0) + 1
    return counts


@test
def plugin_directory_read_once_per_start():
    # usbipcored loads one kind at a time (the names, its backend, the virtual devices, the
    # observers, the unix transport): each directory of the search path is read once
    dirs = [d for d in ENV["USBIP_PLUGIN_DIR"].split(":") if d]
    top = os.path.join(ROOT, "scan")
    os.makedirs(top)
    img = os.path.join(top, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 16)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    taken.close()
    conf = write(os.path.join(top, "scan.conf"), "[plugins]\nenabled=host;virtual;unix;metrics\n"
                 f"[metrics]\nlisten=127.0.0.1:{port}\n[virtual-device disk]\ntype=mass-storage\nimage={img}\n")
    rc, out, err = run(DAEMON, "--debug", "--check-config", "--config", conf)
    check(rc == 0 and directory_reads(err) == {d: 1 for d in dirs}, rc, directory_reads(err), err)
    p = subprocess.Popen([DAEMON, "--debug", "--config", conf, "--status-socket", "", "--listen",
                          f"unix:{top}/usbip.sock"], stderr=subprocess.PIPE, env=ENV)
    try:
        log = Lines(p.stderr, "usbipcored")
        log.until(lambda line: "serving usbip-" in line, "its serving line")
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30 * TIME_SCALE)
        while not log.eof:
            try:
                log.readline("the rest of its log")
            except AssertionError:
                break
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    reads = directory_reads(log.printed())
    check(reads == {d: 1 for d in dirs}, reads, log.printed())


run_tests(lambda: shutil.rmtree(ROOT, ignore_errors=True))
