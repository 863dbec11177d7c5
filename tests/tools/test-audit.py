#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What an operator or an attacker tries on usbipcored's start: hostile values in the
configuration file or the flags, a bad --virtual beside a bad file group; and flags of
usbip-tool that a verb would quietly ignore. Every error is
one line naming its cause (control characters in a value arrive escaped, so a value cannot
forge a log line) and is blamed on what is bad. Prints TAP."""
import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import TIME_SCALE, Lines, check, run_tests, test, wait_until  # noqa: E402

DAEMON, TOOL, DBUSD = sys.argv[1:4]
ROOT = tempfile.mkdtemp(prefix="usbip-audit-")
ENV = dict(os.environ, LC_ALL="C.UTF-8")
FORGED = "usbipcored: notice: forged"


def conf(name, text):
    path = os.path.join(ROOT, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def daemon(*args):
    p = subprocess.run([DAEMON, "--status-socket", "", *args], capture_output=True, text=True, env=ENV, timeout=20)
    return p.returncode, p.stdout, p.stderr


@test
def start_up_errors_escape_hostile_values():
    # GKeyFile turns \n in a value into a newline: each must reach the terminal as \n
    cases = (("[daemon]\nallow-cidr=1.2.3.4/99\\nusbipcored: notice: forged\n", "allow-cidr"),
             ("[daemon]\nlisten=bad\\nusbipcored: notice: forged:1\n", "listen address"),
             ("[daemon]\nallow-cidr=10.0.0.0/8\x1b[2J\n", "allow-cidr"),  # a raw escape byte
             ("[daemon]\nallow-cidr=10.0.0.0/8\\x1b[2J\n", "allow-cidr"))  # an escape GKeyFile refuses
    for i, (text, what) in enumerate(cases):
        path = conf(f"hostile{i}.conf", text)
        for args in (["--check-config"], []):
            rc, _, err = daemon("--config", path, "--listen", "127.0.0.1:1", *args) if what != "listen address" \
                else daemon("--config", path, *args)
            lines = [line for line in err.splitlines() if not line.startswith("usbipcored: warning: usbip-host")]
            check(rc in (2, 3) and len(lines) == 1 and what in lines[0] and "\x1b" not in err
                  and not any(line.startswith(FORGED) for line in err.splitlines()), args, rc, repr(err))
    # a stray argument and a flag value are the user's, shown escaped too
    rc, _, err = daemon("--check-config", "stray\nusbipcored: notice: forged")
    check(rc == 2 and "stray\\nusbipcored" in err and FORGED not in err.splitlines(), repr(err))
    rc, _, err = daemon("--check-config", "--allow-cidr", "1.2.3.4/99\nusbipcored: notice: forged")
    check(rc == 2 and FORGED not in err.splitlines() and "\\n" in err, repr(err))


@test
def bad_virtual_device_blamed_on_its_source():
    # the file's group is bad, the --virtual is good: the file is named, not the flag, even
    # when the file's message happens to contain the flag's group name
    path = conf("virtual.conf", "[plugins]\nenabled=host;virtual\n[virtual-device disk]\ntype=mass-storage\n"
                "image=/nonexistent/[virtual-device 1]/disk.img\n")
    rc, _, err = daemon("--config", path, "--check-config", "--virtual", "cdc-acm:mode=loopback")
    check(rc == 2 and err.startswith(f"usbipcored: virtual devices: {path}: ") and "--virtual" not in err, repr(err))
    # the flag is bad, the file good: the flag is named
    good = conf("good.conf", "[plugins]\nenabled=host;virtual\n[virtual-device tty]\ntype=cdc-acm\nmode=loopback\n")
    rc, _, err = daemon("--config", good, "--check-config", "--virtual", "cdc-acm:mode=loopback",
                        "--virtual", "cdc-acm:mode=bogus,name=two")
    check(rc == 2 and err.startswith("usbipcored: --virtual cdc-acm:mode=bogus,name=two: ")
          and "expected pty or loopback" in err, repr(err))
    # the same at start, not only under --check-config
    rc, _, err = daemon("--config", path, "--listen", "127.0.0.1:1", "--virtual", "cdc-acm:mode=loopback")
    check(rc == 2 and f"usbipcored: virtual devices: {path}: " in err and "--virtual" not in err, repr(err))


@test
def malformed_listen_address_is_a_usage_error():
    # at start as under --check-config: exit 2 naming the address (3 is for a bind that fails)
    for args in (["--listen", "127.0.0.1:99999"], ["--check-config", "--listen", "127.0.0.1:99999"]):
        rc, _, err = daemon(*args)
        check(rc == 2 and "usbipcored: listen address: " in err and "99999" in err, args, rc, repr(err))


@test
def attach_flags_without_auto_reconnect_are_usage_errors():
    # a one-shot attach would ignore them: exit 2 naming the flag before anything is tried
    # (no exporter, no vhci_hcd needed to be told)
    for flag in (["--max-attempts", "3"], ["--max-attempts", "0"], ["--metrics", "127.0.0.1:1"]):
        p = subprocess.run([TOOL, "--json", "attach", "-r", "127.0.0.1:1", "-b", "1-1", *flag], capture_output=True,
                           text=True, env=ENV, timeout=20)
        check(p.returncode == 2 and f"{flag[0]} needs --auto-reconnect" in p.stderr
              and '"kind":"usage"' in p.stdout, flag, p.returncode, p.stdout, p.stderr)


@test
def list_modes_are_exclusive():
    # list -r HOST -l listed the remote and ignored -l: one mode at a time, or a usage error
    for modes in (["-r", "127.0.0.1:1", "-l"], ["-l", "-d"], ["-r", "127.0.0.1:1", "-d"]):
        p = subprocess.run([TOOL, "--json", "list", *modes], capture_output=True, text=True, env=ENV, timeout=20)
        check(p.returncode == 2 and "give one of -r HOST, -l or -d" in p.stderr and '"kind":"usage"' in p.stdout,
              modes, p.returncode, p.stdout, p.stderr)


@test
def export_backend_left_out_is_a_configuration_error():
    # a typo in [plugins] enabled: --check-config must not call it valid, the start exits 2
    path = conf("typo.conf", "[plugins]\nenabled=vhci;hots\n")
    for args in (["--check-config"], ["--listen", "127.0.0.1:1"]):
        rc, out, err = daemon("--config", path, *args)
        check(rc == 2 and "the host plugin is not in [plugins] enabled of " + path in err and "valid" not in out,
              args, rc, out, err)
    rc, out, err = daemon("--config", path, "-e", "--check-config")
    check(rc == 2 and "the vudc plugin is not in [plugins] enabled" in err, rc, out, err)


@test
def unknown_plugin_in_enabled_is_a_configuration_error():
    # a typo (virtaul) was ignored without a word: usbipcored refuses the file, naming the name,
    # the file and the plugins there are; usbip-tool, which reads the same file, warns
    path = conf("unknown.conf", "[plugins]\nenabled=host;vhci;virtaul\n")
    for args in (["--check-config"], ["--listen", "127.0.0.1:1"]):
        rc, out, err = daemon("--config", path, *args)
        check(rc == 2 and len(err.splitlines()) == 1 and "valid" not in out
              and f"unknown plugin virtaul in [plugins] enabled of {path}: the plugins are " in err
              and all(name in err.split("the plugins are ")[1] for name in ("host", "vhci", "virtual")),
              args, rc, out, err)
    good = conf("known.conf", "[plugins]\nenabled=host;vhci;vsock\n")
    rc, out, err = daemon("--config", good, "--check-config")
    check(rc == 0 and "valid" in out and err == "", rc, out, err)
    runs = [subprocess.run([TOOL, "--config", c, "port"], capture_output=True, text=True, env=ENV, timeout=20)
            for c in (good, path)]
    warning = f"usbip-tool: warning: unknown plugin virtaul in [plugins] enabled of {path}"
    check(runs[1].returncode == runs[0].returncode and runs[1].stdout == runs[0].stdout
          and warning in runs[1].stderr and "unknown plugin" not in runs[0].stderr,
          [(r.returncode, r.stdout, r.stderr) for r in runs])


def directory_opens(path, argv, env):
    """how many times running ARGV opens the directory PATH itself (inotify IN_OPEN|IN_ISDIR
    on PATH, not on a file in it). Its closes are watched too: two opens in a row with
    nothing between would reach us as one event (inotify merges identical ones)"""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    check(fd >= 0 and libc.inotify_add_watch(fd, path.encode(), 0x30) >= 0, "inotify", ctypes.get_errno())
    try:
        subprocess.run(argv, capture_output=True, text=True, env=env, timeout=20)
        data, opens = b"", 0
        try:
            while chunk := os.read(fd, 65536):
                data += chunk
        except BlockingIOError:
            pass
        while data:
            _, mask, _, length = struct.unpack_from("iIII", data)
            opens += bool(mask & 0x20 and mask & 0x40000000 and length == 0)
            data = data[16 + length:]
        return opens
    finally:
        os.close(fd)


@test
def unknown_plugin_check_takes_no_second_look_at_the_plugin_directory():
    # the names come from the registry that loads the verb's plugin: one pass over the plugin
    # directory per run, as without the check (a throwaway registry made a second)
    # a directory of our own (links to the built plugins): other tests running beside this one
    # open the build's plugin directories too
    plugin_dir = os.path.join(ROOT, "plugins-once")
    os.makedirs(plugin_dir)
    for d in ENV["USBIP_PLUGIN_DIR"].split(":"):
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.startswith("libusbip-plugin-") and name.endswith(".so"):
                os.symlink(os.path.join(d, name), os.path.join(plugin_dir, name))
    env = dict(ENV, USBIP_PLUGIN_DIR=plugin_dir)
    path = conf("unknown-once.conf", "[plugins]\nenabled=host;vhci;virtaul\n")
    for args in (["port"], ["list", "-l"], ["list", "-r", "127.0.0.1:1"]):
        opens = directory_opens(plugin_dir, [TOOL, "--config", path, *args], env)
        check(opens == 1, args, opens)


@test
def unknown_plugin_in_enabled_is_a_warning_of_the_dbus_service():
    # D-Bus starts usbipcore-dbusd for a caller: refusing to start would fail every call with
    # no cause the caller sees, over a name it may not even need; it warns in its log (the
    # journal) and goes on, as usbip-tool does. No system bus here: it stops at the bus (1)
    env = dict(ENV, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + os.path.join(ROOT, "no-such-bus"))
    runs = [subprocess.run([DBUSD, "--config", conf(name, text)], capture_output=True, text=True, env=env, timeout=20)
            for name, text in (("dbusd-good.conf", "[plugins]\nenabled=vhci;host\n"),
                               ("dbusd-unknown.conf", "[plugins]\nenabled=vhci;virtaul\n"))]
    warning = ("usbipcore-dbusd: warning: unknown plugin virtaul in [plugins] enabled of "
               + os.path.join(ROOT, "dbusd-unknown.conf") + ": the plugins are ")
    check(all(r.returncode == 1 and "usbipcore-dbusd: error: " in r.stderr for r in runs)
          and warning in runs[1].stderr and "unknown plugin" not in runs[0].stderr,
          [(r.returncode, r.stderr) for r in runs])


@test
def dbus_service_without_a_system_bus_names_the_bus():
    # run by hand where no dbus-daemon runs: GLib's bare "Could not connect: No such file or
    # directory" named neither the bus nor the fix
    bus = os.path.join(ROOT, "no-such-bus")
    r = subprocess.run([DBUSD, "--config", conf("dbusd-nobus.conf", "")], capture_output=True, text=True,
                       env=dict(ENV, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + bus), timeout=20)
    check(r.returncode == 1 and r.stderr.startswith("usbipcore-dbusd: error: cannot reach the system bus")
          and "systemctl status dbus" in r.stderr and r.stderr.count("\n") == 1, (r.returncode, r.stderr))


@test
def help_stays_human_text_under_json():
    # help is the one output --json leaves human (docs/json-schema.md says so): each form of it
    # prints the same text as without --json; a usage error in it is still a JSON error
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "json-schema.md")) as f:
        doc = " ".join(f.read().split())
    check("The one exception is help" in doc and "`usbip-tool --json COMMAND --help`" in doc, "json-schema.md")
    for args in (["help"], ["help", "attach"], ["--help"], ["attach", "--help"], ["trace", "--help"]):
        runs = [subprocess.run([TOOL, *j, *args], capture_output=True, text=True, env=ENV, timeout=20)
                for j in ([], ["--json"])]
        check(all(r.returncode == 0 and r.stdout.startswith("Usage:") for r in runs)
              and runs[0].stdout == runs[1].stdout, args, [(r.returncode, r.stdout[:80], r.stderr) for r in runs])
    p = subprocess.run([TOOL, "--json", "help", "frobnicate"], capture_output=True, text=True, env=ENV, timeout=20)
    check(p.returncode == 2 and p.stdout.startswith('{"schema":1,"type":"error"'), p.returncode, p.stdout)


@test
def trace_usage_line_names_trace():
    for args in (["trace", "--help"], ["help", "trace"]):
        p = subprocess.run([TOOL, *args], capture_output=True, text=True, env=ENV, timeout=20)
        check(p.returncode == 0 and "usbip-tool [OPTION…] trace decode FILE" in p.stdout, args, p.stdout)


@test
def one_device_exportable_is_singular():
    # the start's count of exportable devices: 1 virtual device (and none bound to usbip-host
    # here) is "1 device", 2 are "devices"
    for n in (1, 2):
        reserved = socket.socket()
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reserved.bind(("127.0.0.1", 0))
        virtual = [a for i in range(n) for a in ("--virtual", f"cdc-acm:mode=loopback,name=a{i}")]
        p = subprocess.Popen([DAEMON, "--status-socket", "", "--listen", f"127.0.0.1:{reserved.getsockname()[1]}",
                              *virtual], env=ENV, stderr=subprocess.PIPE, text=True)
        try:
            err = Lines(p.stderr, "usbipcored")
            err.until(lambda line: "serving" in line, "its serving line")
            lines = err.lines
        finally:
            reserved.close()
            p.send_signal(signal.SIGTERM)
            p.communicate(timeout=30)
        said = [line.split("info: ")[1].split() for line in lines if line.endswith(" exportable")]
        check(len(said) == 1 and said[0][1] == ("device" if said[0][0] == "1" else "devices"), n, lines)


def held_open(timeout_ms):
    """Whether usbipcored --handshake-timeout TIMEOUT_MS still holds a client that sent one
    byte of its request 1.5 s (scaled) later."""
    reserved = socket.socket()
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reserved.bind(("127.0.0.1", 0))
    port = reserved.getsockname()[1]
    p = subprocess.Popen([DAEMON, "--status-socket", "", "--listen", f"127.0.0.1:{port}", "--handshake-timeout",
                          str(timeout_ms)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def connect():
            try:
                return socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                return None
        s = wait_until(connect, "usbipcored to listen")
        s.sendall(b"\x01")
        s.settimeout(1.5 * TIME_SCALE)
        try:
            return s.recv(1) != b""
        except socket.timeout:
            return True
        finally:
            s.close()
    finally:
        reserved.close()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)


@test
def handshake_timeout_zero_means_no_limit():
    # as usbipcored(8) and usbipcore.conf(5) say: 0 lets a slow client stay, 500 ms does not
    check(held_open(0), "--handshake-timeout 0 closed a client that was still sending")
    check(not held_open(500), "--handshake-timeout 500 kept a client past 1.5 s")


run_tests(cleanup=lambda: shutil.rmtree(ROOT, ignore_errors=True))
