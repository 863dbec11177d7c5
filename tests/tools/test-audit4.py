#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Flags and device specs that were quietly accepted: an empty --socket of `usbip-tool
status`, a key given twice in one --virtual spec. Each is a usage error (exit 2) naming
what is wrong. And an attach without vhci_hcd that imported the device first (the exporter
handed it over, the client dropped it). Prints TAP."""
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import check, run_tests, test  # noqa: E402

DAEMON, TOOL = sys.argv[1:3]
ROOT = tempfile.mkdtemp(prefix="usbip-audit4-")
ENV = dict(os.environ, LC_ALL="C.UTF-8")


def run(*argv):
    p = subprocess.run(list(argv), capture_output=True, text=True, env=ENV, timeout=20)
    return p.returncode, p.stdout, p.stderr


@test
def status_empty_socket_is_a_usage_error():
    # an empty path used to reach the connection attempt (exit 1, "cannot reach ...")
    for flag in (["--socket", ""], ["--socket="], ["-s", ""]):
        rc, out, err = run(TOOL, "status", *flag)
        check(rc == 2 and "status: --socket" in err and "cannot reach" not in err, flag, rc, repr(err))
    rc, out, err = run(TOOL, "--json", "status", "--socket", "")
    check(rc == 2 and '"kind":"usage"' in out, rc, out, err)


@test
def repeated_key_in_a_virtual_spec_is_a_usage_error():
    # mode=loopback,mode=pty was accepted, the last one winning
    for spec, key in (("cdc-acm:mode=loopback,mode=pty", "mode"),
                      ("cdc-acm:name=a,mode=loopback,name=b", "name"),
                      ("cdc-acm:vendor-id=0x1234,mode=loopback,vendor-id=0x5678", "vendor-id")):
        for extra in (["--check-config"], ["--listen", "127.0.0.1:1"]):
            rc, _, err = run(DAEMON, "--status-socket", "", "--virtual", spec, *extra)
            check(rc == 2 and f"--virtual {spec}: " in err and f"{key} is given twice" in err
                  and "other end" not in err, spec, extra, rc, repr(err))
    # the same key in two specs is no repetition
    rc, _, err = run(DAEMON, "--status-socket", "", "--check-config", "--virtual", "cdc-acm:mode=loopback,name=a",
                     "--virtual", "cdc-acm:mode=loopback,name=b")
    check(rc == 0, rc, repr(err))


@test
def attach_without_vhci_sends_no_import():
    # a sysfs tree without vhci_hcd.0; the exporter is a listener that counts connections
    # (an OP_REQ_IMPORT needs one): the module's error, exit 6, and no connection, on the
    # libc-only quick path (root), the module's path (USBIP_TOOL_QUICK=0) and the supervisor's
    root = os.path.join(ROOT, "no-vhci")
    os.makedirs(os.path.join(root, "sys/devices/platform"), exist_ok=True)
    open(os.path.join(root, "none.conf"), "w").close()
    env = dict(ENV, USBIP_SYSFS_ROOT=root, USBIP_VHCI_STATE_DIR=os.path.join(root, "var/run/vhci_hcd"),
               USBIP_CONFIG=os.path.join(root, "none.conf"))
    exporter = socket.socket()
    exporter.bind(("127.0.0.1", 0))
    exporter.listen(16)
    exporter.setblocking(False)
    remote = "127.0.0.1:%d" % exporter.getsockname()[1]
    cases = ((["attach"], {}), (["attach"], {"USBIP_TOOL_QUICK": "0"}),
             (["attach", "--auto-reconnect", "--max-attempts", "2"], {}))
    for verb, extra in cases:
        p = subprocess.run([TOOL, *verb, "-r", remote, "-b", "1-1"], capture_output=True, text=True,
                           env=dict(env, **extra), timeout=30)
        try:
            conn, _ = exporter.accept()
            conn.close()
            connected = True
        except BlockingIOError:
            connected = False
        check(p.returncode == 6 and "vhci_hcd is not loaded: run `modprobe vhci-hcd`" in p.stderr + p.stdout
              and not connected,
              verb, extra, p.returncode, connected, repr(p.stdout), repr(p.stderr))
    exporter.close()


@test
def bad_id_of_a_virtual_serial_port_opens_no_pty():
    # vendor-id=zz was read after the pty was made: its notice came twice (the start, then the
    # search for the bad flag), then the error
    for extra in (["--check-config"], ["--listen", "127.0.0.1:1"]):
        rc, _, err = run(DAEMON, "--status-socket", "", "--virtual", "cdc-acm:vendor-id=zz", *extra)
        check(rc == 2 and "vendor-id=zz: expected a 16-bit hexadecimal id" in err and "other end" not in err,
              extra, rc, repr(err))


@test
def repeated_key_in_a_configuration_group_is_an_error():
    # GKeyFile keeps the last of two lines silently; a group given twice merges, so its key repeats too
    for i, text in enumerate(("[virtual-device tty]\ntype=cdc-acm\nmode=loopback\nmode=pty\n",
                              "[virtual-device tty]\ntype=cdc-acm\nmode=loopback\n[daemon]\n"
                              "[virtual-device tty]\nmode=pty\n")):
        path = os.path.join(ROOT, f"twice{i}.conf")
        with open(path, "w") as f:
            f.write("[plugins]\nenabled=host;virtual\n" + text)
        rc, _, err = run(DAEMON, "--status-socket", "", "--config", path, "--check-config")
        check(rc == 2 and f"{path}: [virtual-device tty] mode is given twice" in err and "other end" not in err,
              i, rc, repr(err))


run_tests()
