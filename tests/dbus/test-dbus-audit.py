#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real usbipcore-dbusd on a private system bus (the shipped bus policy, python-dbusmock
playing polkitd and allowing nothing), called as an unprivileged user would, with hostile
arguments: every call ends with an error that names its cause (polkit's action for what
needs one), and the service keeps serving. Its methods that need no authorization must not
lend the service's root to a caller: listing a Unix-socket exporter only root may reach is
polkit's decision, as attaching from it is. Prints TAP."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import TIME_SCALE, check, run_tests, test, wait_until  # noqa: E402
from privatebus import start_bus, write_config  # noqa: E402

DBUSD, DAEMON, SRC = sys.argv[1:4]
NAME = "org.usbipcore.Usbip1"
MANAGER = "/org/usbipcore/Usbip1/Manager"
ERR = "org.usbipcore.Usbip1.Error."

TMP = tempfile.mkdtemp(prefix="usbip-dbus-audit-")
os.chmod(TMP, 0o755)  # user nobody reaches the bus socket
SOCK = os.path.join(TMP, "bus")
ADDRESS = "unix:path=" + SOCK
BUS_CONF = write_config(TMP, ADDRESS, SRC)
ENV = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=ADDRESS, LC_ALL="C.UTF-8")
procs = []


def start(argv, **kw):
    p = subprocess.Popen(argv, env=ENV, **kw)
    procs.append(p)
    return p


def call(method, *args, user=None):
    """gdbus call of a Manager method (as USER when given); (exit code, output)"""
    argv = ["gdbus", "call", "--system", "--dest", NAME, "--object-path", MANAGER,
            "--method", f"{NAME}.Manager.{method}", *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *argv]
    p = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=30 * TIME_SCALE)
    return p.returncode, p.stdout + p.stderr


def name_has_owner(name=NAME):
    p = subprocess.run(["gdbus", "call", "--system", "--dest", "org.freedesktop.DBus", "--object-path",
                        "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner", name],
                       env=ENV, capture_output=True, text=True)
    return p.returncode == 0 and "true" in p.stdout


start_bus(start, BUS_CONF, ADDRESS)
start(["/usr/bin/python3", "-m", "dbusmock", "--system", "-t", "polkitd"], stdout=subprocess.DEVNULL)
wait_until(lambda: name_has_owner("org.freedesktop.PolicyKit1"), "the polkitd mock on the bus")
with open(os.path.join(TMP, "defaults.conf"), "w") as f:
    f.write("")  # the defaults: the unix transport enabled
service = start([DBUSD, "--idle-timeout", "0", "--config", os.path.join(TMP, "defaults.conf")])
wait_until(name_has_owner, "usbipcore-dbusd to own its name")

# an exporter only root reaches: its socket in a 0700 directory, and allow-uid root
PRIVATE = os.path.join(TMP, "private")
os.mkdir(PRIVATE, 0o700)
UNIX = f"unix:{PRIVATE}/usbip.sock"
exporter = start([DAEMON, "--status-socket", "", "--listen", UNIX, "--allow-uid", "root",
                  "--virtual", "cdc-acm:mode=loopback,name=secret"], stderr=subprocess.DEVNULL)
wait_until(lambda: os.path.exists(f"{PRIVATE}/usbip.sock"), "usbipcored to listen on its socket")


@test
def unix_exporter_root_reaches_is_not_listed_for_a_user():
    rc, out = call("ListRemoteDevices", UNIX, "{}", user="nobody")
    check(rc != 0 and ERR + "Permission" in out and "org.usbipcore.Usbip1.attach" in out
          and "virtual-secret" not in out, rc, out)
    # polkit decides: once it allows the action, the same call lists the device
    subprocess.run(["gdbus", "call", "--system", "--dest", "org.freedesktop.PolicyKit1", "--object-path",
                    "/org/freedesktop/PolicyKit1/Authority", "--method", "org.freedesktop.DBus.Mock.SetAllowed",
                    "['org.usbipcore.Usbip1.attach']"], env=ENV, check=True, capture_output=True)
    try:
        rc, out = call("ListRemoteDevices", UNIX, "{}", user="nobody")
        check(rc == 0 and "virtual-secret" in out, rc, out)
    finally:
        subprocess.run(["gdbus", "call", "--system", "--dest", "org.freedesktop.PolicyKit1", "--object-path",
                        "/org/freedesktop/PolicyKit1/Authority", "--method", "org.freedesktop.DBus.Mock.SetAllowed",
                        "@as []"], env=ENV, check=True, capture_output=True)


@test
def hostile_arguments_get_named_errors():
    long_busid = "a" * 300
    cases = (
        # (method, args, as root: expected error)
        ("ListRemoteDevices", ("''", "{}"), "InvalidArgument: empty remote"),
        ("ListRemoteDevices", ("'127.0.0.1'", "{'tcp-port': <uint16 0>}"), "tcp-port\" must be 1 to 65535"),
        ("ListRemoteDevices", ("'127.0.0.1'", "{'tcp-port': <int32 5>}"), "takes type \"q\""),
        ("ListRemoteDevices", ("'[::1]:99999'", "{}"), "not a number from 1 to 65535"),
        ("ListRemoteDevices", ("'unix:'", "{}"), "give an absolute socket path"),
        ("ListRemoteDevices", ("'vsock:x:y'", "{}"), "vsock CID 'x'"),
        ("ListRemoteDevices", ("'127.0.0.1'", "{'bogus': <5>}"), "unknown option \"bogus\""),
        ("ListLocalDevices", ("{'backend': <'../x'>}",), "\"host\" or \"vudc\""),
    )
    for method, args, expected in cases:
        for user in (None, "nobody"):
            rc, out = call(method, *args, user=user)
            check(rc != 0 and ERR in out and expected in out, method, args, user, rc, out)
    # what needs polkit is refused for a user whatever its arguments, naming the action
    for method, args, action in (("Attach", ("'127.0.0.1'", "'../../x'", "{}"), "attach"),
                                 ("Attach", ("'127.0.0.1'", f"'{long_busid}'", "{}"), "attach"),
                                 ("Bind", ("'../../x'",), "bind"), ("Unbind", ("''",), "bind"),
                                 ("DetachPort", ("4294967295",), "attach")):
        rc, out = call(method, *args, user="nobody")
        check(rc != 0 and ERR + "Permission" in out and f"(polkit action org.usbipcore.Usbip1.{action})" in out,
              method, args, rc, out)
    check(service.poll() is None and name_has_owner(), "the service went away")


def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    shutil.rmtree(TMP, ignore_errors=True)


run_tests(cleanup=cleanup)
