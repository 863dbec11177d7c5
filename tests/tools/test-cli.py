#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""usbip-tool and usbipcored as a user runs them: golden human output, JSON Lines validated
against docs/usbip-tool.schema.json, exit codes, daemon flags, reload, drain, structured
logs and systemd socket activation. Runs both binaries against a fake sysfs tree
(USBIP_SYSFS_ROOT). Prints TAP."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jsonschema

TOOL, DAEMON, SRCDIR, SCHEMA = sys.argv[1:5]
GOLDEN = os.path.join(SRCDIR, "golden")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
results = []


def test(fn):
    results.append(fn)
    return fn


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def put(root, path, content=""):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(content)


def link(root, path, target):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(os.path.join(root, target.lstrip("/")), full)


def make_tree(root):
    """usbip-host loaded; 1-1 bound to it and available; 1-2 on its usual driver; one
    controller of vhci_hcd with port 0 used by an attachment recorded upstream's way."""
    for a in ("bind", "unbind", "rebind", "match_busid"):
        put(root, "/sys/bus/usb/drivers/usbip-host/" + a)
    devs = {"1-1": ("1d6b", "0104", "480", "usbip-host"), "1-2": ("0781", "5567", "5000", "usb-storage")}
    for busid, (vid, pid, speed, driver) in devs.items():
        d = "/sys/devices/pci0000:00/0000:00:14.0/usb1/" + busid
        attrs = dict(busnum="1", devnum=busid[-1], speed=speed, idVendor=vid, idProduct=pid, bcdDevice="0100",
                     bDeviceClass="00", bDeviceSubClass="00", bDeviceProtocol="00", bConfigurationValue="1",
                     bNumConfigurations="1", bNumInterfaces=" 1")
        if driver == "usbip-host":
            attrs.update(usbip_status="1", usbip_sockfd="", bConfigurationValue="", bNumInterfaces="")
        for k, v in attrs.items():
            put(root, f"{d}/{k}", v + "\n")
        for k, v in dict(bInterfaceClass="08", bInterfaceSubClass="06", bInterfaceProtocol="50").items():
            put(root, f"{d}/{busid}:1.0/{k}", v + "\n")
        link(root, "/sys/bus/usb/devices/" + busid, d)
        os.makedirs(os.path.join(root, "sys/bus/usb/drivers", driver), exist_ok=True)
        link(root, f"/sys/bus/usb/devices/{busid}/driver", "/sys/bus/usb/drivers/" + driver)
    vhci = "/sys/devices/platform/vhci_hcd.0"
    put(root, vhci + "/nports", "4\n")
    put(root, vhci + "/attach")
    put(root, vhci + "/detach")
    put(root, vhci + "/status",
        "hub port sta spd dev      sockfd local_busid\n"
        "hs  0000 006 003 00010002 000005 3-1\n"
        "hs  0001 004 000 00000000 000000 0-0\n"
        "ss  0002 004 000 00000000 000000 0-0\n"
        "ss  0003 004 000 00000000 000000 0-0\n")
    put(root, "/var/run/vhci_hcd/port0", "192.0.2.7 3240 1-1\n")
    for k, v in dict(idVendor="1d6b", idProduct="0104").items():
        put(root, f"/sys/devices/platform/vhci_hcd.0/usb3/3-1/{k}", v + "\n")
    link(root, "/sys/bus/usb/devices/3-1", "/sys/devices/platform/vhci_hcd.0/usb3/3-1")


ROOT = tempfile.mkdtemp(prefix="usbip-cli-")
make_tree(ROOT)
put(ROOT, "/none.conf", "# empty: defaults\n")
ENV = dict(os.environ, USBIP_SYSFS_ROOT=ROOT, USBIP_VHCI_STATE_DIR=os.path.join(ROOT, "var/run/vhci_hcd"),
           USBIP_USB_IDS=os.path.join(SRCDIR, "usb.ids"), USBIP_CONFIG=os.path.join(ROOT, "none.conf"),
           LC_ALL="C")
with open(SCHEMA) as f:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(f))


def tool(*args, env=None):
    p = subprocess.run([TOOL, *args], capture_output=True, text=True, env=env or ENV, timeout=30)
    return p.returncode, p.stdout.replace(ROOT, "<root>"), p.stderr.replace(ROOT, "<root>")


def json_lines(text):
    objs = [json.loads(line) for line in text.splitlines()]
    for o in objs:
        VALIDATOR.validate(o)
    return objs


def golden(name, text):
    path = os.path.join(GOLDEN, name)
    if UPDATE:
        with open(path, "w") as f:
            f.write(text)
    with open(path) as f:
        expected = f.read()
    assert text == expected, f"{name} differs:\n--- expected\n{expected}--- got\n{text}"


class Daemon:
    def __init__(self, *args, env=None, port=None):
        self.port = port or free_port()
        self.args = [DAEMON, "--listen", f"127.0.0.1:{self.port}", *args]
        self.p = subprocess.Popen(self.args, env=env or ENV, stderr=subprocess.PIPE, text=True)
        wait_listening(self.port)

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        _, err = self.p.communicate(timeout=20)
        return self.p.returncode, err


def wait_listening(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@test
def version():
    rc, out, _ = tool("version")
    assert rc == 0 and out.startswith("usbip-tool (usbipcore) "), out
    rc, out, _ = tool("--json", "version")
    assert rc == 0 and json_lines(out)[0]["type"] == "version"


@test
def usage_errors_exit_2():
    for args in (["frobnicate"], ["attach", "-r", "h"], ["detach", "-p", "x"], ["list"], ["--bogus"]):
        rc, _, err = tool(*args)
        assert rc == 2, (args, rc)
        assert "usbip-tool --help" in err, err


@test
def list_remote_golden_and_json():
    d = Daemon()
    try:
        rc, out, err = tool("--tcp-port", str(d.port), "list", "-r", "127.0.0.1")
        assert rc == 0, err
        golden("list-remote.txt", out)
        rc, out, _ = tool("--json", "--tcp-port", str(d.port), "list", "-r", "127.0.0.1")
        objs = json_lines(out)
        assert [o["busid"] for o in objs] == ["1-1"]  # 1-2 is not bound: not offered
        assert objs[0]["vendor_id"] == "1d6b" and objs[0]["speed"] == "high"
    finally:
        d.stop()


@test
def ipv6():
    port = free_port()
    d = Daemon(port=port)  # on 127.0.0.1
    d6 = subprocess.Popen([DAEMON, "--listen", f"[::1]:{port}"], env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        for host in (f"[::1]:{port}", "::1"):
            rc, out, err = tool("--json", "--tcp-port", str(port), "list", "-r", host)
            assert rc == 0 and json_lines(out)[0]["busid"] == "1-1", (host, err)
    finally:
        d.stop()
        d6.send_signal(signal.SIGTERM)
        d6.communicate(timeout=10)


@test
def list_local_forms():
    rc, out, _ = tool("list", "-l")
    assert rc == 0
    golden("list-local.txt", out)
    rc, out, _ = tool("list", "-l", "-p")
    assert rc == 0
    golden("list-local-parsable.txt", out)
    rc, out, _ = tool("--json", "list", "-l")
    # like upstream, devices imported through vhci (3-1) are local devices too
    assert [o["busid"] for o in json_lines(out)] == ["1-1", "1-2", "3-1"]


@test
def port_golden_and_json():
    rc, out, err = tool("port")
    assert rc == 0, err
    golden("port.txt", out)
    rc, out, _ = tool("--json", "port")
    objs = json_lines(out)
    assert len(objs) == 1 and objs[0]["remote_host"] == "192.0.2.7" and objs[0]["remote_busid"] == "1-1"


@test
def attach_errors_have_exit_codes():
    d = Daemon()
    try:
        rc, out, err = tool("--json", "--tcp-port", str(d.port), "attach", "-r", "127.0.0.1", "-b", "9-9")
        assert rc == 3, (rc, err)
        e = json_lines(out)[0]
        assert e["kind"] == "not-found" and "ST_NODEV" in e["message"], e
    finally:
        d.stop()
    rc, _, err = tool("--tcp-port", str(free_port()), "attach", "-r", "127.0.0.1", "-b", "1-1")
    assert rc == 8 and "connection refused" in err, err
    rc, _, err = tool("--tcp-port", str(free_port()), "list", "-r", "127.0.0.1")
    assert rc == 8, err


@test
def module_missing_exit_6():
    empty = tempfile.mkdtemp(prefix="usbip-empty-")
    env = dict(ENV, USBIP_SYSFS_ROOT=empty)
    rc, _, err = tool("port", env=env)
    assert rc == 6 and "modprobe vhci-hcd" in err, err
    rc, _, err = tool("bind", "-b", "1-1", env=env)
    assert rc == 6 and "modprobe usbip-host" in err, err
    rc, _, err = tool("list", "-l", env=env)  # no /sys/bus/usb at all: say why, not just ENOENT
    assert rc == 3 and "/sys/bus/usb/devices does not exist" in err and "mounted" in err, err
    shutil.rmtree(empty)


@test
def bind_unknown_busid_exit_3():
    rc, _, err = tool("bind", "-b", "7-7")
    assert rc == 3 and "7-7" in err, err


@test
def daemon_flags():
    p = subprocess.run([DAEMON, "--bogus"], capture_output=True, text=True, env=ENV)
    assert p.returncode == 2 and "--help" in p.stderr
    p = subprocess.run([DAEMON, "--version"], capture_output=True, text=True, env=ENV)
    assert p.returncode == 0 and p.stdout.startswith("usbipcored ")
    d = Daemon()
    try:  # the port is taken: exit 3 with the reason
        p = subprocess.run([DAEMON, "--listen", f"127.0.0.1:{d.port}"], capture_output=True, text=True, env=ENV,
                           timeout=10)
        assert p.returncode == 3 and "in use" in p.stderr, p.stderr
    finally:
        d.stop()


@test
def daemon_json_log_and_drain():
    d = Daemon("--log-format", "json", "--debug")
    tool("--tcp-port", str(d.port), "list", "-r", "127.0.0.1")
    rc, err = d.stop(signal.SIGTERM)
    assert rc == 0, err
    records = [json.loads(line) for line in err.splitlines()]
    assert all("ts" in r and "level" in r and "message" in r for r in records)
    sessions = [r for r in records if r.get("op") == "OP_REQ_DEVLIST" and "duration_ms" in r]
    assert sessions and sessions[0]["peer"].startswith("127.0.0.1:") and sessions[0]["status"] == 0, records
    assert any("drained" in r["message"] for r in records)


@test
def daemon_reload_applies_policy():
    conf = os.path.join(ROOT, "reload.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nallow-cidr=127.0.0.0/8\n")
    d = Daemon("--config", conf)
    try:
        rc, _, err = tool("--tcp-port", str(d.port), "list", "-r", "127.0.0.1")
        assert rc == 0, err
        with open(conf, "w") as f:
            f.write("[daemon]\nallow-cidr=10.0.0.0/8\n")
        d.p.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        rc, _, err = tool("--tcp-port", str(d.port), "list", "-r", "127.0.0.1")
        assert rc == 8 and "closed" in err, (rc, err)
    finally:
        rc, err = d.stop()
    assert "connection refused by rule allow-cidr" in err, err
    assert "configuration reloaded" in err


@test
def daemon_bad_config_exit_2():
    conf = os.path.join(ROOT, "bad.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nmax-sessions=lots\n")
    p = subprocess.run([DAEMON, "--check-config", "--config", conf], capture_output=True, text=True, env=ENV,
                       timeout=10)
    assert p.returncode == 2 and "[daemon] max-sessions" in p.stderr and "expected" in p.stderr, p.stderr


@test
def auto_reconnect_gives_up_with_events():
    port = free_port()  # nobody listens: every attempt is refused
    p = subprocess.run([TOOL, "--json", "--tcp-port", str(port), "attach", "-r", "127.0.0.1", "-b", "1-1",
                        "--auto-reconnect", "--max-attempts", "3"], capture_output=True, text=True, env=ENV,
                       timeout=60)
    events = json_lines(p.stdout)
    kinds = [e["event"] for e in events]
    assert kinds == ["reconnecting", "reconnecting", "gave-up"], kinds
    assert events[0]["attempt"] == 2 and events[1]["attempt"] == 3  # the attempt about to be made
    assert events[-1]["kind"] == "network" and "3 attempts" in events[-1]["message"]
    assert p.returncode == 8, p.returncode


@test
def events_stream_port_changes():
    p = subprocess.Popen([TOOL, "--json", "events", "--interval", "50"], stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        time.sleep(0.5)
        status = os.path.join(ROOT, "sys/devices/platform/vhci_hcd.0/status")
        with open(status) as f:
            original = f.read()
        # the kernel frees port 0 (its record stays: a lost connection)
        with open(status, "w") as f:
            f.write(original.replace("hs  0000 006 003 00010002 000005 3-1", "hs  0000 004 000 00000000 000000 0-0"))
        time.sleep(0.5)
        with open(status, "w") as f:
            f.write(original)
        time.sleep(0.5)
    finally:
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=10)
    events = json_lines(out)
    assert [e["event"] for e in events] == ["port-lost", "port-attached"], events
    assert events[0]["port"] == 0 and events[0]["remote_busid"] == "1-1"
    assert p.returncode == 0


@test
def daemon_sd_notify_protocol():
    sock_path = os.path.join(ROOT, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(5)
    env = dict(ENV, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="200000")
    d = Daemon(env=env)
    try:
        messages = []
        end = time.time() + 3
        while time.time() < end and sum("WATCHDOG=1" in m for m in messages) < 2:
            messages.append(sock.recv(4096).decode())
        assert any("READY=1" in m and "STATUS=serving on 127.0.0.1:" in m for m in messages), messages
        assert sum("WATCHDOG=1" in m for m in messages) >= 2, messages  # every WATCHDOG_USEC/2
        d.p.send_signal(signal.SIGHUP)
        reload_msgs = [sock.recv(4096).decode() for _ in range(6)]
        assert any("RELOADING=1" in m for m in reload_msgs), reload_msgs
    finally:
        rc, _ = d.stop()
    rest = []
    try:
        while True:
            rest.append(sock.recv(4096).decode())
    except socket.timeout:
        pass
    assert any("STOPPING=1" in m for m in rest), rest
    sock.close()


@test
def daemon_background_and_pid_file():
    pid_file = os.path.join(ROOT, "usbipcored.pid")
    port = free_port()
    p = subprocess.run([DAEMON, "-D", f"--pid={pid_file}", "--listen", f"127.0.0.1:{port}"], env=ENV,
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    wait_listening(port)
    with open(pid_file) as f:
        pid = int(f.read())
    os.kill(pid, 0)  # alive, in the background
    rc, _, err = tool("--tcp-port", str(port), "list", "-r", "127.0.0.1")
    assert rc == 0, err
    os.kill(pid, signal.SIGTERM)
    end = time.time() + 10
    while os.path.exists(pid_file) and time.time() < end:
        time.sleep(0.05)
    assert not os.path.exists(pid_file), "the pid file outlived the daemon"


@test
def shipped_example_config_is_valid():
    example = os.path.join(SRCDIR, "..", "..", "contrib", "usbipcore.conf")
    p = subprocess.run([DAEMON, "--check-config", "--config", example], capture_output=True, text=True, env=ENV)
    assert p.returncode == 0 and "valid" in p.stdout, p.stdout + p.stderr
    assert "unknown key" not in p.stderr, p.stderr  # every key in it is a real one


@test
def socket_activation():
    activate = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"
    assert os.path.exists(activate), "systemd-socket-activate missing: run scripts/install-deps.sh"
    port = free_port()
    # systemd-socket-activate clears the environment: pass ours on explicitly
    passenv = [f"-E{k}" for k in ENV if k.startswith("USBIP_") or k in ("LD_LIBRARY_PATH", "LC_ALL")]
    p = subprocess.Popen([activate, "-l", f"127.0.0.1:{port}", "--fdname=usbip", *passenv, DAEMON], env=ENV,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(port)
        rc, out, err = tool("--json", "--tcp-port", str(port), "list", "-r", "127.0.0.1")
        assert rc == 0 and json_lines(out)[0]["busid"] == "1-1", err
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
    assert "socket-activated" in err, err


def tool_bytes(*args, env=None):
    p = subprocess.run([TOOL, *args], capture_output=True, env=env or ENV, timeout=30)
    return p.returncode, p.stdout, p.stderr


class ScriptedPeer:
    """A TCP server that answers every connection with the same bytes (an exporter that is
    hostile, or no USB/IP server at all)."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.thread = __import__("threading").Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.recv(64)
                c.sendall(self.reply)

    def close(self):
        self.sock.close()


def devlist_reply(busid, path, interfaces, dev_class=(0, 0, 0)):
    """OP_REP_DEVLIST with one device (docs/protocol.md)."""
    import struct
    dev = path.ljust(256, b"\0") + busid.ljust(32, b"\0")
    dev += struct.pack(">III", 1, 4, 3) + struct.pack(">HHH", 0x0781, 0x5567, 0x0100)
    dev += bytes([*dev_class, 1, 1, len(interfaces)])
    for c in interfaces:
        dev += bytes([*c, 0])
    return struct.pack(">HHI", 0x0111, 0x0005, 0) + struct.pack(">I", 1) + dev


@test
def hostile_exporter_text_is_escaped():
    # ESC/OSC sequences and invalid UTF-8 from the exporter never reach the terminal raw
    busid = b"1-1\x1b]0;pwned\x07"
    path = b"/sys/devices/\x1b[2J\xff\xfe/1-1"
    peer = ScriptedPeer(devlist_reply(busid, path, [(8, 6, 80)]))
    try:
        rc, out, err = tool_bytes("--tcp-port", str(peer.port), "list", "-r", "127.0.0.1")
        assert rc == 0, err
        assert b"\x1b" not in out and b"\x07" not in out and b"\xff" not in out, out
        text = out.decode("utf-8")  # valid UTF-8
        assert "1-1\\x1b]0;pwned\\x07" in text and "\\x1b[2J\\xff\\xfe" in text, text
        # upstream's class names from usb.ids
        assert "           :  0 - Mass Storage / SCSI / Bulk-Only (08/06/50)\n" in text, text
        rc, out, err = tool_bytes("--json", "--tcp-port", str(peer.port), "list", "-r", "127.0.0.1")
        assert rc == 0, err
        objs = json_lines(out.decode("utf-8"))
        assert objs[0]["busid"] == "1-1\x1b]0;pwned\x07", objs  # JSON escapes control characters itself
        assert "\\xff\\xfe" in objs[0]["path"], objs
    finally:
        peer.close()


@test
def class_names_from_usb_ids():
    peer = ScriptedPeer(devlist_reply(b"1-1", b"/sys/devices/x/1-1", [(8, 6, 80), (8, 6, 98), (255, 1, 1)]))
    try:
        rc, out, err = tool("--tcp-port", str(peer.port), "list", "-r", "127.0.0.1")
        assert rc == 0, err
        assert ":  0 - Mass Storage / SCSI / Bulk-Only (08/06/50)" in out, out
        assert ":  1 - Mass Storage / SCSI / unknown protocol (08/06/62)" in out, out
        assert ":  2 - unknown class / unknown subclass / unknown protocol (ff/01/01)" in out, out
    finally:
        peer.close()


@test
def not_a_usbip_server_is_named():
    peer = ScriptedPeer(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    try:
        rc, _, err = tool("--tcp-port", str(peer.port), "list", "-r", "127.0.0.1")
        assert rc == 9 and "not a USB/IP server" in err and '"HTTP/1.1 400 Bad"' in err, (rc, err)
    finally:
        peer.close()


@test
def port_record_text_is_escaped():
    record = os.path.join(ROOT, "var/run/vhci_hcd/port0")
    with open(record) as f:
        original = f.read()
    try:
        with open(record, "w") as f:
            f.write("192.0.2.7\x1b[31m 3240 1-1\x1b]0;x\x07\n")
        rc, out, err = tool("port")
        assert rc == 0, err
        assert "\x1b" not in out and "usbip://192.0.2.7\\x1b[31m:3240/1-1\\x1b]0;x\\x07" in out, out
    finally:
        with open(record, "w") as f:
            f.write(original)


@test
def glib_quotes_print_in_the_locale():
    # setlocale: GLib's “quotes” print as such in a UTF-8 locale, not as '?'
    rc, _, err = tool("--timeout", "2000", "list", "-r", "host.invalid", env=dict(ENV, LC_ALL="C.UTF-8"))
    assert rc == 8, (rc, err)
    assert "\u201chost.invalid\u201d" in err, err


@test
def numeric_flags_and_stray_arguments_exit_2():
    for args, named in ((["-t", "70000", "port"], "--tcp-port 70000"), (["--timeout", "-5", "port"], "--timeout -5"),
                        (["--timeout", "99999999", "port"], "--timeout 99999999"),
                        (["attach", "-r", "h", "-b", "1-1", "--max-attempts", "-1"], "--max-attempts -1"),
                        (["events", "-i", "5"], "--interval 5"), (["port", "extra"], '"extra"'),
                        (["list", "-l", "stray"], '"stray"'), (["version", "x"], '"x"')):
        rc, _, err = tool(*args)
        assert rc == 2 and named in err, (args, rc, err)


@test
def help_verb_and_per_verb_help():
    rc, out, _ = tool("help")
    assert rc == 0, rc
    for verb in ("list", "attach", "detach", "port", "events", "bind", "unbind", "trace", "version", "help"):
        assert f"  {verb}" in out, (verb, out)
    for args in (["help", "attach"], ["attach", "--help"]):
        rc, out, _ = tool(*args)
        assert rc == 0 and "Import a remote device onto a free vhci port" in out and "--auto-reconnect" in out, out
    rc, _, err = tool("help", "frobnicate")
    assert rc == 2 and "frobnicate" in err, err


SHIPPED_CONF = os.path.join(SRCDIR, "..", "..", "contrib", "usbipcore.conf")


@test
def shipped_config_leaves_stderr_empty():
    # the shipped file has the daemon's [daemon] group: usbip-tool leaves it to usbipcored
    env = dict(ENV, USBIP_CONFIG=SHIPPED_CONF)
    d = Daemon()
    try:
        for args in (["version"], ["list", "-l"], ["list", "-l", "-p"], ["port"], ["--json", "port"],
                     ["--tcp-port", str(d.port), "list", "-r", "127.0.0.1"],
                     ["attach", "-r", "192.0.2.7", "-b", "1-1"]):
            rc, _, err = tool(*args, env=env)
            assert rc == 0 and err == "", (args, rc, err)
    finally:
        d.stop()


@test
def unknown_config_group_reported_once_in_tool_format():
    conf = os.path.join(ROOT, "unknown-group.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nmax-sessions=lots\n[frobnicator]\na=1\nb=2\n[plugins]\nenabledd=vhci\n")
    rc, _, err = tool("--config", conf, "port")
    assert rc == 0, err
    lines = err.splitlines()
    assert lines == [f"usbip-tool: warning: {conf.replace(ROOT, '<root>')}: unknown group [frobnicator] is ignored: "
                     "no usbipcore program or enabled plugin reads it (docs/configuration.md lists the groups)",
                     f"usbip-tool: warning: {conf.replace(ROOT, '<root>')}: unknown key [plugins] enabledd is "
                     "ignored (docs/configuration.md lists the keys)"], lines


@test
def allow_cidr_config_error_names_file_group_key():
    conf = os.path.join(ROOT, "bad-cidr.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nallow-cidr=10.0.0.0/33\n")
    p = subprocess.run([DAEMON, "--check-config", "--config", conf], capture_output=True, text=True, env=ENV,
                       timeout=10)
    assert p.returncode == 2 and f"{conf}: [daemon] allow-cidr: " in p.stderr, p.stderr
    p = subprocess.run([DAEMON, "--check-config", "--allow-cidr", "10.0.0.0/33"], capture_output=True, text=True,
                       env=ENV, timeout=10)
    assert p.returncode == 2 and "--allow-cidr: " in p.stderr, p.stderr


@test
def reattach_names_the_existing_port():
    # port 0 carries 1-1 from 192.0.2.7 (the tree's port record): upstream fails here
    rc, out, err = tool("attach", "-r", "192.0.2.7", "-b", "1-1")
    assert rc == 0 and out == "1-1 from 192.0.2.7 is already attached on port 0\n", (rc, out, err)
    rc, out, err = tool("--json", "attach", "-r", "192.0.2.7", "-b", "1-1")
    o = json_lines(out)[0]
    assert rc == 0 and o["type"] == "attached" and o["already_attached"] is True and o["port"] == 0, (o, err)


print(f"1..{len(results)}")
failed = 0
for i, fn in enumerate(results, 1):
    try:
        fn()
        print(f"ok {i} - {fn.__name__}")
    except Exception as e:  # noqa: BLE001 - report every failure as TAP
        failed += 1
        print(f"not ok {i} - {fn.__name__}")
        for line in str(e).splitlines() or [repr(e)]:
            print(f"# {line}")
shutil.rmtree(ROOT, ignore_errors=True)
sys.exit(1 if failed else 0)
