# SPDX-License-Identifier: GPL-2.0-or-later
"""libusbipcore from Python through GObject introspection (Usbip-1.0.typelib from the build
tree): lists devices from a running usbipcored, runs an exporter in-process and imports from
it with Usbip.Importer, follows a supervisor's signals and state, reads properties and their
notify, and catches Usbip.Error codes. The kernel is a fake sysfs tree (USBIP_SYSFS_ROOT):
attributes are plain files, so the vhci `attach` write lands in a file this test reads.
The examples (examples/) run here too, against the same fake kernel: each C program (built in
EXAMPLES-BUILD-DIR) and its Python twin, with the same checks.
Usage: test-gi.py USBIPCORED EXAMPLES-BUILD-DIR EXAMPLES-DIR. Prints TAP."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import Lines, check, run_tests, test, wait_until  # noqa: E402

DAEMON, EXAMPLES_BUILD, EXAMPLES = sys.argv[1:4]


def example(name):
    """The argv of example NAME in C and in Python."""
    return [[os.path.join(EXAMPLES_BUILD, name)], [sys.executable, os.path.join(EXAMPLES, name + ".py")]]
ROOT = tempfile.mkdtemp(prefix="usbip-gi-")


def put(path, content=""):
    full = os.path.join(ROOT, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(content)


def link(path, target):
    full = os.path.join(ROOT, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(os.path.join(ROOT, target.lstrip("/")), full)


def make_tree():
    """usbip-host with 1-1 bound and available (as after `usbip-tool bind`); one vhci_hcd
    controller with one free high-speed port and one free SuperSpeed port."""
    for a in ("bind", "unbind", "rebind", "match_busid"):
        put("/sys/bus/usb/drivers/usbip-host/" + a)
    d = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1"
    for k, v in dict(busnum="1", devnum="2", speed="480", idVendor="1d6b", idProduct="0104", bcdDevice="0100",
                     bDeviceClass="00", bDeviceSubClass="00", bDeviceProtocol="00", bConfigurationValue="",
                     bNumConfigurations="1", bNumInterfaces="", usbip_status="1", usbip_sockfd="").items():
        put(f"{d}/{k}", v + "\n")
    link("/sys/bus/usb/devices/1-1", d)
    link("/sys/bus/usb/devices/1-1/driver", "/sys/bus/usb/drivers/usbip-host")
    vhci = "/sys/devices/platform/vhci_hcd.0"
    put(vhci + "/nports", "2\n")
    put(vhci + "/attach")
    put(vhci + "/detach")
    put(vhci + "/status", "hub port sta spd dev      sockfd local_busid\n"
                          "hs  0000 004 000 00000000 000000 0-0\n"
                          "ss  0001 004 000 00000000 000000 0-0\n")
    put("/none.conf", "# empty: defaults\n")


make_tree()
os.environ.update(USBIP_SYSFS_ROOT=ROOT, USBIP_VHCI_STATE_DIR=os.path.join(ROOT, "var/run/vhci_hcd"),
                  USBIP_CONFIG=os.path.join(ROOT, "none.conf"))

import gi  # noqa: E402

gi.require_version("Usbip", "1.0")
from gi.repository import GLib, Usbip  # noqa: E402

CTX = GLib.MainContext.default()


def spin_until(pred, what, timeout=10):
    """Runs the main context until PRED holds (a bounded wait, no sleep)."""
    end = GLib.get_monotonic_time() + timeout * 1000000
    tick = GLib.timeout_add(50, lambda: True)  # wakes the blocking iteration to check the deadline
    try:
        while not pred():
            if GLib.get_monotonic_time() > end:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            CTX.iteration(True)
    finally:
        GLib.source_remove(tick)
    return pred()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def registry():
    reg = Usbip.PluginRegistry.new(None, None)
    check(reg.load(), "plugins did not load")
    return reg


REG = registry()
HOST = REG.get_export_backend("host")
VHCI = REG.get_import_backend("vhci")


def call_async(start, finish, *args):
    """Runs START(*args, None, callback) and returns FINISH(result) once the callback ran."""
    box = {}
    start(*args, None, lambda obj, res: box.setdefault("res", res))
    spin_until(lambda: "res" in box, start.__name__)
    return finish(box["res"])


def exporter_on(port):
    exp = Usbip.Exporter.new(HOST)
    check(exp.listen(Usbip.TransportTcp.new(), f"127.0.0.1:{port}"), "listen failed")
    exp.start()
    return exp


@test
def error_domain_and_codes():
    check(Usbip.Error.NOT_FOUND != Usbip.Error.DENIED)
    try:
        Usbip.remote_parse("[::1", Usbip.DEFAULT_TCP_PORT)
    except GLib.Error as e:
        check(e.matches(Usbip.error_quark(), Usbip.Error.INVALID_ARGUMENT), e.domain, e.code, e.message)
        check(e.domain == "usbip-error-quark", e.domain)
    else:
        raise AssertionError("a malformed remote was accepted")
    try:
        REG.get_import_backend("nosuchplugin")
    except GLib.Error as e:
        check(e.matches(Usbip.error_quark(), Usbip.Error.PLUGIN), e.code, e.message)
        check("nosuchplugin" in e.message, e.message)
    else:
        raise AssertionError("an unknown plugin was found")


@test
def enums_are_gtypes():
    check(Usbip.Speed.SUPER.value_nick == "super", Usbip.Speed.SUPER.value_nick)
    check(Usbip.SupervisorState.ATTACHED.value_nick == "attached")
    check(Usbip.speed_to_nick(Usbip.Speed.HIGH) == "high")


def start_daemon():
    """(process, port): usbipcored on the fake kernel"""
    port = free_port()
    p = subprocess.Popen([DAEMON, "--listen", f"127.0.0.1:{port}", "--status-socket",
                          os.path.join(ROOT, f"status-{port}.sock")], stderr=subprocess.PIPE, text=True)
    return p, port


@test
def lists_devices_from_a_running_usbipcored():
    p, port = start_daemon()
    try:
        importer = Usbip.Importer.new(VHCI, None)
        remote = Usbip.remote_parse(f"127.0.0.1:{port}", Usbip.DEFAULT_TCP_PORT)

        def listed():
            try:
                return call_async(importer.list_devices_async, importer.list_devices_finish, remote)
            except GLib.Error as e:  # not listening yet
                check(e.matches(Usbip.error_quark(), Usbip.Error.CONNECTION), e.message)
                check(p.poll() is None, "usbipcored exited:", p.stderr.read() if p.poll() is not None else "")
                return None
        devices = wait_until(listed, "usbipcored to answer OP_REQ_DEVLIST")
        check([d.get_busid() for d in devices] == ["1-1"], [d.get_busid() for d in devices])
        check(devices[0].idVendor == 0x1d6b and devices[0].speed == Usbip.Speed.HIGH)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)


@test
def exporter_in_process_and_import():
    port = free_port()
    exp = exporter_on(port)
    seen = {"n": [], "exported": []}
    exp.connect("notify::n-sessions", lambda o, _p: seen["n"].append(o.props.n_sessions))
    exp.connect("device-exported", lambda _o, busid, peer: seen["exported"].append(busid))
    importer = Usbip.Importer.new(VHCI, None)
    remote = Usbip.remote_parse(f"127.0.0.1:{port}", Usbip.DEFAULT_TCP_PORT)
    info = call_async(importer.attach_async, importer.attach_finish, remote, "1-1", None)
    check(isinstance(info, Usbip.PortInfo), info)
    check(info.port == 0, "a high-speed device goes to the hs port", info.port)
    check(info.remote_busid == "1-1" and isinstance(info.get_local_busid(), str), info.remote_busid)
    spin_until(lambda: seen["exported"] == ["1-1"], "device-exported")
    spin_until(lambda: seen["n"][-1:] == [0], "the session to close", 5)
    check(1 in seen["n"], "n-sessions notified while the handshake ran", seen["n"])
    # what the importer wrote to vhci's attach: "<port> <sockfd> <devid> <speed>"
    with open(os.path.join(ROOT, "sys/devices/platform/vhci_hcd.0/attach")) as f:
        fields = f.read().split()
    check(fields[0] == "0" and fields[2] == str(0x10002) and fields[3] == "3", fields)
    with open(os.path.join(ROOT, "var/run/vhci_hcd/port0")) as f:
        check(f.read() == f"127.0.0.1 {port} 1-1\n")
    # the exporter wrote the accepted socket's number to usbip-host's usbip_sockfd
    with open(os.path.join(ROOT, "sys/bus/usb/devices/1-1/usbip_sockfd")) as f:
        check(f.read().strip().isdigit())
    os.unlink(os.path.join(ROOT, "var/run/vhci_hcd/port0"))
    drained = []
    exp.connect("notify::draining", lambda o, _p: drained.append(o.props.draining))
    n = call_async(lambda *a: exp.shutdown_async(0, *a), exp.shutdown_finish)
    check(drained == [True], drained)
    check(n == (True, 0), n)


@test
def importer_socket_options_property():
    importer = Usbip.Importer.new(VHCI, None)
    notified = []
    importer.connect("notify::socket-options", lambda o, _p: notified.append(o.props.socket_options.nodelay))
    opts = Usbip.SocketOptions.new()
    opts.nodelay = False
    importer.props.socket_options = opts
    check(notified == [False], notified)
    check(importer.get_socket_options().nodelay is False)


@test
def supervisor_signals_and_state():
    port = free_port()
    exp = exporter_on(port)
    importer = Usbip.Importer.new(VHCI, None)
    sup = Usbip.Supervisor.new(importer, Usbip.remote_parse(f"127.0.0.1:{port}", Usbip.DEFAULT_TCP_PORT), "1-1")
    states, attached = [], []
    sup.connect("notify::state", lambda o, _p: states.append(o.props.state))
    sup.connect("attached", lambda _o, info: attached.append(info.port))
    check(sup.props.state == Usbip.SupervisorState.IDLE)
    check(sup.start())
    spin_until(lambda: attached, "attached")
    check(attached == [0], attached)
    check(states[:2] == [Usbip.SupervisorState.CONNECTING, Usbip.SupervisorState.ATTACHED], states)
    sup.stop()
    check(sup.props.state == Usbip.SupervisorState.IDLE, sup.props.state)
    call_async(lambda *a: exp.shutdown_async(0, *a), exp.shutdown_finish)


@test
def examples_run():
    p, port = start_daemon()
    try:
        def listed(argv):
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return r if r.returncode == 0 and r.stdout else None
        for argv in example("list-remote"):
            argv = argv + [f"127.0.0.1:{port}"]
            r = wait_until(lambda: listed(argv), f"{argv[-2]} to list the devices")
            check(r.stdout == "1-1 1d6b:0104 high\n", argv, r.stdout, r.stderr)
        for argv in example("attach-reconnect"):
            a = subprocess.Popen(argv + [f"127.0.0.1:{port}", "1-1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            try:
                out = Lines(a.stdout, argv[-1])
                lines = [out.readline(f"its line {i + 1} of 3") for i in range(3)]
                check(lines == ["state connecting", "state attached", "attached on port 0"], argv, lines)
            finally:
                a.send_signal(signal.SIGINT)
                a.wait(timeout=20)
            # the port as the fake kernel leaves it: free again, its record gone
            os.unlink(os.path.join(ROOT, "var/run/vhci_hcd/port0"))
            with open(os.path.join(ROOT, "sys/devices/platform/vhci_hcd.0/attach")) as f:
                check(f.read().split()[0] == "0", "the attach write", argv)
            put("/sys/devices/platform/vhci_hcd.0/attach")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)


@test
def example_serve_policy():
    for argv in example("serve-policy"):
        port = free_port()
        a = subprocess.Popen(argv + [f"127.0.0.1:{port}", "127.0.0.0/8"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            out = Lines(a.stdout, argv[-1])
            check(out.readline("serving on") == f"serving on 127.0.0.1:{port}", argv)
            importer = Usbip.Importer.new(None, None)
            remote = Usbip.remote_parse(f"127.0.0.1:{port}", Usbip.DEFAULT_TCP_PORT)
            devices = call_async(importer.list_devices_async, importer.list_devices_finish, remote)
            check([d.get_busid() for d in devices] == ["1-1"], argv)
            check(out.readline("connected").startswith("connected 127.0.0.1:"), argv)
        finally:
            a.send_signal(signal.SIGINT)
            a.wait(timeout=20)
        # a policy that admits nobody here: the connection is refused and the rule printed
        port = free_port()
        a = subprocess.Popen(argv + [f"127.0.0.1:{port}", "192.0.2.0/24"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            out = Lines(a.stdout, argv[-1])
            check(out.readline("serving on") == f"serving on 127.0.0.1:{port}", argv)
            importer = Usbip.Importer.new(None, None)
            remote = Usbip.remote_parse(f"127.0.0.1:{port}", Usbip.DEFAULT_TCP_PORT)
            try:
                call_async(importer.list_devices_async, importer.list_devices_finish, remote)
                check(False, "a refused client listed devices", argv)
            except GLib.Error:
                pass
            line = out.readline("refused")
            check(line.startswith("refused 127.0.0.1:") and " by " in line, argv, line)
        finally:
            a.send_signal(signal.SIGINT)
            a.wait(timeout=20)


@test
def example_watch_ports():
    status = os.path.join(ROOT, "sys/devices/platform/vhci_hcd.0/status")
    with open(status) as f:
        free = f.read()
    for argv in example("watch-ports"):
        a = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out = Lines(a.stdout, argv[-1])
            check(out.readline("watching") == "watching the vhci ports", argv)  # its first look is taken
            put("/var/run/vhci_hcd/port0", "10.0.0.1 3240 2-2\n")
            put("/sys/devices/platform/vhci_hcd.0/status", free.replace("hs  0000 004 000 00000000 000000 0-0",
                                                                        "hs  0000 006 003 00020002 000005 3-1"))
            check(out.readline("port 0 attached") == "port 0: 10.0.0.1:3240 2-2", argv)
            put("/sys/devices/platform/vhci_hcd.0/status", free)
            os.unlink(os.path.join(ROOT, "var/run/vhci_hcd/port0"))
            check(out.readline("port 0 released") == "port 0: released", argv)
        finally:
            a.send_signal(signal.SIGINT)
            a.wait(timeout=20)
            put("/sys/devices/platform/vhci_hcd.0/status", free)


def scrape(address):
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as r:
            return r.read().decode()
    except OSError:
        return None


def sample(text, name):
    """The value of the unlabelled sample NAME in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


@test
def example_serve_metrics():
    for argv in example("serve-metrics"):
        port, mport = free_port(), free_port()
        a = subprocess.Popen(argv + [f"127.0.0.1:{port}", f"127.0.0.1:{mport}"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            try:
                line = Lines(a.stdout, argv[-1]).readline("its serving line")
            except AssertionError as e:
                a.kill()
                raise AssertionError(f"{e}\nits stderr: {a.stderr.read()}") from None
            check(line == f"serving on 127.0.0.1:{port}, metrics at http://127.0.0.1:{mport}/metrics", argv, line)
            before = scrape(f"127.0.0.1:{mport}")
            check(before is not None and sample(before, "usbip_exporter_sessions") == 0, argv, before)
            importer = Usbip.Importer.new(None, None)
            remote = Usbip.remote_parse(f"127.0.0.1:{port}", Usbip.DEFAULT_TCP_PORT)
            devices = call_async(importer.list_devices_async, importer.list_devices_finish, remote)
            check([d.get_busid() for d in devices] == ["1-1"], argv)
            counted = 'usbip_exporter_handshakes_total{op="devlist",status="ST_OK"} 1\n'
            wait_until(lambda: counted in (scrape(f"127.0.0.1:{mport}") or ""), "the handshake counted")
        finally:
            a.send_signal(signal.SIGINT)
            a.wait(timeout=20)


run_tests(lambda: shutil.rmtree(ROOT, ignore_errors=True))
