#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The commands README.md and docs/ print, run as printed where this machine can run them.

Each entry names the document and the command exactly as it is printed there (the test fails
when the text is no longer in the document, so an edited command comes back here), and runs
it from the build tree through `meson devenv`, as README says, against a small fake kernel
(USBIP_SYSFS_ROOT). Placeholders are substituted: HOST becomes a running usbipcored, cap.pcap a
real capture. Commands that need real USB hardware, systemd as PID 1, root privileges over the
network or a whole build are listed in NOT_RUN with the reason (the VM suite and the other
suites cover what they do). Also checks that every test docs/architecture.md names exists.
Usage: test-doc-commands.py SRCDIR BUILDDIR. Prints TAP."""
import grp
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import check, run_tests, test  # noqa: E402

SRC, BUILD = (os.path.abspath(a) for a in sys.argv[1:3])
CAPTURE = os.path.join(SRC, "tests/conformance/captures/usbipcored-export.pcap")

# (document, command as printed, expected exit status)
RUN = [
    ("README.md", "meson devenv -C build usbipcored --version", 0),
    ("README.md", "meson devenv -C build usbip-tool version", 0),
    ("README.md", "usbip-tool list -r HOST", 0),
    ("README.md", "usbip-tool port", 0),
    ("README.md", "usbip-tool --json list -l", 0),
    ("README.md", "usbip-tool trace decode cap.pcap", 0),
    ("docs/troubleshooting.md", "usbip-tool trace decode\ncap.pcap", 0),
    ("docs/troubleshooting.md", "usbip-tool list -r H", 0),
    ("docs/troubleshooting.md", "usbip-tool port", 0),
    ("docs/configuration.md", "usbipcored --check-config [--config FILE]", 0),
    ("docs/virtual-devices.md", "usbipcored --virtual floppy", 2),
    ("docs/ops.md", "systemd-analyze security --offline=true build/contrib/systemd/usbipcored.service", 0),
]
NOT_RUN = {
    "./scripts/run.sh": "installs packages, then serves until Ctrl-C: the install-scripts test runs it",
    "./scripts/test.sh": "the whole suite",
    "usbip-tool attach -r HOST -b 1-1.2": "needs vhci-hcd and an exported device: vm scenarios 11, 12",
    "usbip-tool detach -p 0": "needs an attached port: vm scenarios 11, 12",
    "usbip-tool bind -b 1-1.2": "needs usbip-host and a device: vm scenario 16",
    "usbip-tool attach -r HOST -b 1-1.2 --auto-reconnect": "vm scenarios 21, 22",
    "usbip-tool events": "streams until stopped: the cli test",
    "usbipcored --listen 127.0.0.1:3240": "binds the well-known port; run as HOST above on a free port",
    "systemctl enable --now usbipcored.socket": "needs systemd as PID 1",
    "journalctl -u usbipcored\nUSBIP_OP=OP_REQ_IMPORT": "needs the daemon under systemd",
    "tcpdump -i any -w cap.pcap port 3240": "captures live traffic as root: the vm suite records captures",
    "usbip-tool attach -r 192.0.2.7 -b 1-1": "as a user through the installed service: the dbus test, vm scenario 30",
    "# cp /usr/share/doc/usbipcore/examples/50-usbipcore-usbip-group.rules /etc/polkit-1/rules.d/":
        "changes the system's polkit rules: vm scenario 30 installs a rule",
    "# groupadd -f usbip": "changes the system's users: vm scenario 30",
    "# usermod -aG usbip alice": "changes the system's users: vm scenario 30",
    "gdbus call --system --dest org.usbipcore.Usbip1": "needs the installed service on the system bus: the dbus test",
    "busctl monitor org.usbipcore.Usbip1": "needs the system bus: the dbus test watches the signals",
}


def doc_text(name):
    with open(os.path.join(SRC, name)) as f:
        return f.read()


def put(root, path, content=""):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(content)


ROOT = tempfile.mkdtemp(prefix="usbip-doc-")
for a in ("bind", "unbind", "rebind", "match_busid"):
    put(ROOT, "/sys/bus/usb/drivers/usbip-host/" + a)
os.makedirs(os.path.join(ROOT, "sys/bus/usb/devices"))
put(ROOT, "/sys/devices/platform/vhci_hcd.0/nports", "2\n")
put(ROOT, "/sys/devices/platform/vhci_hcd.0/status", "hub port sta spd dev      sockfd local_busid\n"
    "hs  0000 004 000 00000000 000000 0-0\nss  0001 004 000 00000000 000000 0-0\n")
put(ROOT, "/empty.conf", "")
ENV = dict(os.environ, USBIP_SYSFS_ROOT=ROOT, USBIP_VHCI_STATE_DIR=os.path.join(ROOT, "var/run/vhci_hcd"),
           USBIP_CONFIG=os.path.join(ROOT, "empty.conf"), LC_ALL="C")


def devenv(argv, cwd=None):
    return subprocess.run(["meson", "devenv", "-C", BUILD, *argv], capture_output=True, text=True, env=ENV,
                          cwd=cwd, timeout=60)


def start_daemon():
    """usbipcored from the build tree, socket-activated on a port the kernel picked."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)

    def as_fd3():
        os.dup2(lsock.fileno(), 3)
        os.set_inheritable(3, True)
    # not through meson devenv: it would not pass the SIGTERM on
    p = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0"',
                          os.path.join(BUILD, "tools/usbipcored/usbipcored")],
                         env=dict(ENV, USBIP_PLUGIN_DIR=os.path.join(BUILD, "plugins")),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=as_fd3, close_fds=False)
    port = lsock.getsockname()[1]
    lsock.close()
    return p, port


def make_case(doc, printed, want):
    def case():
        check(printed in doc_text(doc), f"{doc} no longer prints `{printed}`: update this test")
        argv = printed.split()
        cwd = SRC
        if argv[:2] == ["meson", "devenv"]:
            argv = argv[4:]
        if "[--config" in argv:  # the optional part, given
            argv = argv[:argv.index("[--config")] + ["--config", os.path.join(SRC, "contrib/usbipcore.conf")]
        argv = [CAPTURE if a == "cap.pcap" else a for a in argv]
        if argv[0] == "systemd-analyze":  # a path in the build printed as build/...
            argv = [os.path.join(BUILD, a[len("build/"):]) if a.startswith("build/") else a for a in argv]
        daemon = None
        if "HOST" in argv or "H" in argv:
            daemon, port = start_daemon()
            argv = [f"127.0.0.1:{port}" if a in ("HOST", "H") else a for a in argv]
        try:
            p = devenv(argv, cwd)
        finally:
            if daemon:
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(timeout=30)
        check(p.returncode == want, f"`{printed}` ran as {argv}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    case.__name__ = f"{doc}: {printed}".replace("\n", " ")
    return case


for entry in RUN:
    test(make_case(*entry))


@test
def not_run_commands_are_still_printed():
    text = "".join(doc_text(d) for d in ("README.md", "docs/ops.md", "docs/troubleshooting.md", "docs/desktop.md"))
    gone = [c for c in NOT_RUN if c not in text]
    check(not gone, f"no longer printed (remove from NOT_RUN): {gone}")


@test
def ops_install_reads_the_documented_config():
    """ops.md's install command configures the paths ops.md and configuration.md name."""
    text = doc_text("docs/ops.md")
    m = re.search(r"^    (meson setup build [^\n&]*?) &&", text, re.M)
    check(m, "ops.md prints no `meson setup build ...` command")
    d = tempfile.mkdtemp(prefix="usbip-ops-")
    try:
        argv = m.group(1).split()
        argv[2] = os.path.join(d, "build")
        p = subprocess.run(argv + ["-Dtests=false"], cwd=SRC, capture_output=True, text=True, timeout=300)
        check(p.returncode == 0, p.stdout + p.stderr)
        with open(os.path.join(d, "build/config.h")) as f:
            check('#define USBIP_DEFAULT_CONFIG "/etc/usbipcore/usbipcore.conf"' in f.read())
        p = subprocess.run(["meson", "introspect", "--installed", os.path.join(d, "build")],
                           capture_output=True, text=True, check=True)
        installed = set(json.loads(p.stdout).values())
        for path in ("/etc/usbipcore/usbipcore.conf", "/usr/local/sbin/usbipcored",
                     "/usr/local/share/doc/usbipcore/ops.md"):
            check(path in installed, f"{path} not installed by `{m.group(1)}`: {sorted(installed)}")
        for path in ("/etc/usbipcore/usbipcore.conf", "/usr/local/sbin", "/usr/local/share/doc/usbipcore"):
            check(path in text, f"ops.md does not say where `{m.group(1)}` installs {path}")
        check("/etc/usbipcore/usbipcore.conf" in doc_text("docs/configuration.md"))
    finally:
        shutil.rmtree(d)


# every usbip-tool and usbipcored line of a code block in README.md, docs/ (performance*.md
# print measurements, not instructions) and the man pages' EXAMPLES, parsed by the program
PRINTED_DOCS = ["README.md", "docs/man/usbip-tool.8.scd", "docs/man/usbipcored.8.scd"]
# (document, command as printed) that the document shows failing with a usage error (exit 2)
PRINTED_USAGE_ERRORS = {("docs/virtual-devices.md", "usbipcored --virtual floppy")}


def printed_commands():
    """(document, command, command with its optional flags given) for each usbip-tool or
    usbipcored line in a code block (indented, or between ``` fences), with `$ `/`# ` prompts,
    `\\` continuations and trailing comments handled; optional flags in brackets
    (`[--max-attempts N]`) given; synopses with alternatives (`|`) or repetition (`...`) left
    out."""
    docs = PRINTED_DOCS + sorted(os.path.join("docs", d) for d in os.listdir(os.path.join(SRC, "docs"))
                                 if d.endswith(".md") and not d.startswith("performance"))
    found = []
    for doc in docs:
        lines = doc_text(doc).splitlines()
        fenced = False
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if line.startswith("```"):
                fenced = not fenced
                continue
            m = re.match(r"^\s*(?:[$#] )?((?:usbip-tool|usbipcored)(?: .*)?)$", line)
            if not m or not (fenced or line.startswith("    ")):
                continue
            cmd = m.group(1)
            while cmd.endswith("\\") and i < len(lines):
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
                i += 1
            cmd = re.sub(r"\s+#.*$", "", cmd).strip()
            given = re.sub(r"\[(-[^][|]*)\]", r"\1", cmd)
            if not re.search(r"[][|]|\.\.\.", given):
                found.append((doc, cmd, given))
    return found


@test
def printed_commands_parse():
    """Each printed command, its placeholders filled, runs to an answer that is not a usage
    error: a flag the program lacks, a global option after the command, a missing argument
    fail here. usbip-tool runs against a kernel without the usbip modules and a host where
    nothing listens (so it fails fast, past its parser); usbipcored with --check-config."""
    cmds = printed_commands()
    work = tempfile.mkdtemp(prefix="usbip-printed-")
    try:
        os.makedirs(os.path.join(work, "sys"))
        put(work, "empty.conf")
        with open(os.path.join(work, "disk.img"), "wb") as f:
            f.truncate(1 << 20)
        env = dict(os.environ, USBIP_SYSFS_ROOT=os.path.join(work, "sys"), LC_ALL="C",
                   USBIP_VHCI_STATE_DIR=os.path.join(work, "vhci"), USBIP_CONFIG=os.path.join(work, "empty.conf"),
                   USBIP_PLUGIN_DIR=os.path.join(BUILD, "plugins"))
        programs = {"usbip-tool": os.path.join(BUILD, "tools/usbip-tool/usbip-tool"),
                    "usbipcored": os.path.join(BUILD, "tools/usbipcored/usbipcored")}
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))  # bound, never listening: connections to it are refused
            nobody = f"127.0.0.1:{closed.getsockname()[1]}"
            subst = {"HOST": nobody, "H": nobody, "ADDRESS": nobody, "BUSID": "1-1", "N": "3", "cap.pcap": CAPTURE,
                     "/etc/usbipcore/usbipcore.conf": os.path.join(SRC, "contrib/usbipcore.conf"),
                     "usbip": grp.getgrgid(os.getgid()).gr_name}  # the group transports.md has one make
            bad, ran = [], 0
            for doc, printed, given in cmds:
                argv = [subst.get(a, a) for a in given.split()]
                if any(re.fullmatch(r"[A-Z][A-Z_]+", a) for a in argv):
                    continue  # a placeholder of a synopsis (`--tcp-port PORT`) this test cannot fill
                # a remote given as an IP address (192.0.2.7): the closed port instead
                argv = [nobody if i and argv[i - 1] in ("-r", "--remote") and re.match(r"^[\d.]+$", a) else a
                        for i, a in enumerate(argv)]
                if argv[0] == "usbip-tool":
                    argv[1:1] = ["--timeout", "3000"]
                elif "--check-config" not in argv:
                    argv.append("--check-config")
                argv[0] = programs[argv[0]]
                p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=work, timeout=60)
                ran += 1
                want_usage = (doc, printed) in PRINTED_USAGE_ERRORS
                if (p.returncode == 2) != want_usage:
                    bad.append(f"{doc}: `{printed}` (ran {argv[1:]}): exit {p.returncode}: {p.stderr.strip()}")
            check(not bad, "\n".join(bad))
            check(ran >= 20, f"only {ran} printed commands could be run: the extraction broke")
            print(f"# {ran} printed commands run, {len(cmds) - ran} synopses with placeholders left out")
            unused = PRINTED_USAGE_ERRORS - {(d, c) for d, c, _ in cmds}
            check(not unused, f"no longer printed (remove from PRINTED_USAGE_ERRORS): {unused}")
    finally:
        shutil.rmtree(work)


@test
def architecture_names_only_tests_that_exist():
    text = doc_text("docs/architecture.md")
    section = text[text.index("## Tests"):]
    named = set(re.findall(r"`([a-z][a-z0-9-]*)`", section))
    p = subprocess.run(["meson", "introspect", "--tests", BUILD], capture_output=True, text=True, check=True)
    real = {t["name"] for t in json.loads(p.stdout)}
    if "vm" not in real:  # -Dvm_tests=false (the sanitizer build) registers neither
        named -= {"vm", "vm-harness"}
    missing = sorted(named - real)
    check(not missing, f"docs/architecture.md names tests that do not exist: {missing}")


run_tests(cleanup=lambda: shutil.rmtree(ROOT))
