#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What usbipcored leaves behind when it only checks: `--check-config` with virtual devices,
a status socket, a pid file and Unix listeners configured creates, opens and binds nothing
(the files in its directory, and under strace the system calls), and a bad device fails
with the message of a real start. Prints TAP."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import TIME_SCALE, check, run_tests, test  # noqa: E402

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
    if STRACE:
        argv = [STRACE, "-f", "-qq", "-o", trace, "-e",
                "trace=open,openat,mknod,mknodat,mkdir,mkdirat,bind,listen"] + argv
    rc, out, err = run(*argv)
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


run_tests(lambda: shutil.rmtree(ROOT, ignore_errors=True))
