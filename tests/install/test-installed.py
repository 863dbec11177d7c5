#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The tools as a package installs them: runs the usbip-tool and usbipcored installed under
STAGE (a DESTDIR install of a --prefix=/usr --sysconfdir=/etc build, see stage.sh) with the
shipped /etc/usbipcore/usbipcore.conf, never the build tree. The only redirections are the
documented overrides (docs/configuration.md): USBIP_PLUGIN_DIR and USBIP_TOOL_MODULE_DIR (the
installed plugin and tool module dirs),
USBIP_CONFIG (the staged /etc file), USBIP_SYSFS_ROOT/USBIP_VHCI_STATE_DIR (a small fake
kernel: this machine may have no USB at all), and LD_LIBRARY_PATH for the staged library.
A verb that succeeds must print nothing on stderr. Prints TAP."""
import glob
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import check, run_tests, test  # noqa: E402

STAGE = os.path.abspath(sys.argv[1])


def staged(path):
    return os.path.join(STAGE, path.lstrip("/"))


TOOL = staged("/usr/bin/usbip-tool")
DAEMON = staged("/usr/sbin/usbipcored")
CONF = staged("/etc/usbipcore/usbipcore.conf")
PLUGIN_DIRS = glob.glob(staged("/usr/lib/*/usbipcore-1/plugins")) + glob.glob(staged("/usr/lib/usbipcore-1/plugins"))
LIBDIR = os.path.dirname(os.path.dirname(PLUGIN_DIRS[0])) if PLUGIN_DIRS else ""
TOOL_MODULE = os.path.join(os.path.dirname(PLUGIN_DIRS[0]), "tool", "usbip-tool-status.so") if PLUGIN_DIRS else ""
# every verb but the version: the executable loads it (tools/usbip-tool/usbip-tool-main.h)
MAIN_MODULE = os.path.join(os.path.dirname(TOOL_MODULE), "usbip-tool-main.so") if PLUGIN_DIRS else ""


def put(root, path, content=""):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(content)


def fake_kernel(root):
    """usbip-host loaded with 2-1 bound to it; vhci_hcd.0 with port 0 imported (upstream's record)."""
    for a in ("bind", "unbind", "rebind", "match_busid"):
        put(root, "/sys/bus/usb/drivers/usbip-host/" + a)
    dev = "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1"
    for k, v in dict(busnum="2", devnum="3", speed="480", idVendor="1d6b", idProduct="0104", bcdDevice="0100",
                     bDeviceClass="00", bDeviceSubClass="00", bDeviceProtocol="00", bConfigurationValue="",
                     bNumConfigurations="1", bNumInterfaces="", usbip_status="1", usbip_sockfd="").items():
        put(root, f"{dev}/{k}", v + "\n")
    os.makedirs(os.path.join(root, "sys/bus/usb/devices"))
    os.symlink(root + dev, os.path.join(root, "sys/bus/usb/devices/2-1"))
    os.symlink(os.path.join(root, "sys/bus/usb/drivers/usbip-host"), os.path.join(root + dev, "driver"))
    vhci = "/sys/devices/platform/vhci_hcd.0"
    put(root, vhci + "/nports", "2\n")
    put(root, vhci + "/attach")
    put(root, vhci + "/detach")
    put(root, vhci + "/status", "hub port sta spd dev      sockfd local_busid\n"
                                "hs  0000 006 003 00010002 000005 3-1\n"
                                "ss  0001 004 000 00000000 000000 0-0\n")
    put(root, "/var/run/vhci_hcd/port0", "192.0.2.7 3240 1-1\n")


ROOT = tempfile.mkdtemp(prefix="usbip-installed-")
fake_kernel(ROOT)
# a clean environment: nothing from the build tree or meson's devenv leaks in
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LD_LIBRARY_PATH": LIBDIR,
       "USBIP_PLUGIN_DIR": ":".join(PLUGIN_DIRS), "USBIP_TOOL_MODULE_DIR": os.path.dirname(TOOL_MODULE),
       "USBIP_CONFIG": CONF,
       "USBIP_SYSFS_ROOT": ROOT, "USBIP_VHCI_STATE_DIR": os.path.join(ROOT, "var/run/vhci_hcd")}


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True, env=ENV, timeout=30)
    return p.returncode, p.stdout, p.stderr


def succeeds_quietly(*args):
    rc, out, err = run(*args)
    check(rc == 0, f"{args} exited {rc}: {err}")
    check(err == "", f"{args} succeeded but wrote to stderr:\n{err}")
    return out


@test
def layout_is_a_packages():
    for path in (TOOL, DAEMON, CONF):
        check(os.path.isfile(path), f"{path} not installed")
    check(PLUGIN_DIRS, f"no usr/lib/*/usbipcore-1/plugins under {STAGE}")
    mods = sorted(os.listdir(PLUGIN_DIRS[0]))
    for name in ("vhci", "host", "vudc"):
        check(f"libusbip-plugin-{name}.so" in mods, mods)
    check(os.path.isfile(os.path.join(LIBDIR, "libusbipcore.so.1")), LIBDIR)
    check(os.path.isfile(TOOL_MODULE), f"{TOOL_MODULE} not installed")
    check(os.path.isfile(MAIN_MODULE), f"{MAIN_MODULE} not installed")


@test
def no_path_into_the_build_tree():
    # installed binaries carry no RPATH/RUNPATH: the library and plugins come from the stage only
    for path in [TOOL, DAEMON, TOOL_MODULE, MAIN_MODULE] + glob.glob(os.path.join(PLUGIN_DIRS[0], "*.so")):
        dyn = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
        check("RPATH" not in dyn and "RUNPATH" not in dyn, f"{path} has a run path:\n{dyn}")


@test
def introspection_from_the_installed_tree():
    # what `Done when` of the API asks: the typelib and library as installed, nothing else
    typelibs = glob.glob(staged("/usr/lib/*/girepository-1.0/Usbip-1.0.typelib")) + \
        glob.glob(staged("/usr/lib/girepository-1.0/Usbip-1.0.typelib"))
    check(typelibs, f"no Usbip-1.0.typelib installed under {STAGE}")
    check(os.path.isfile(staged("/usr/share/gir-1.0/Usbip-1.0.gir")), "Usbip-1.0.gir not installed")
    env = dict(ENV, GI_TYPELIB_PATH=os.path.dirname(typelibs[0]))
    # a sanitized build (scripts/sanitize.sh): python3 is not instrumented, so the sanitizer
    # runtimes the library needs come first; python's own allocations are not ours to judge
    ldd = subprocess.run(["ldd", os.path.join(LIBDIR, "libusbipcore.so.1")], capture_output=True, text=True,
                         env=env).stdout
    runtimes = re.findall(r"=> (\S*/lib(?:asan|ubsan)\.so[.\d]*)", ldd)
    if runtimes:
        env.update(LD_PRELOAD=" ".join(runtimes), ASAN_OPTIONS="detect_leaks=0")
    code = ("import gi; gi.require_version('Usbip', '1.0'); from gi.repository import Usbip; "
            "print(Usbip.remote_parse('192.0.2.7:3240', Usbip.DEFAULT_TCP_PORT).to_string(), "
            "Usbip.Importer.new(None, None).props.socket_options is not None)")
    p = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, env=env, timeout=30)
    check(p.returncode == 0 and p.stdout == "192.0.2.7:3240 True\n" and p.stderr == "", p.returncode, p.stdout,
          p.stderr)


@test
def installed_library_exports_only_the_api():
    lib = os.path.join(LIBDIR, "libusbipcore.so.1")
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    names = sorted(line.split()[-1] for line in out.splitlines() if line.split()[1] in "TDBRVW")
    # the trace stack, the sysfs seam's test hook and the vhci port records are not API
    leaked = [n for n in names if re.match(r"usbip_(pcap|tcp|trace|vhci_records)_|usbip_sysfs_set_write_hook", n)]
    check(not leaked, "internal symbols exported:", leaked)
    listed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "libusbipcore", "usbipcore.symbols")
    with open(listed) as f:
        want = sorted(line.strip() for line in f if line.strip())
    check(names == want, "exported symbols differ from libusbipcore/usbipcore.symbols:",
          sorted(set(names) ^ set(want)))


@test
def compiled_defaults_are_a_packages():
    rc, out, _ = run(DAEMON, "--help")
    check(rc == 0 and "(default /etc/usbipcore/usbipcore.conf)" in out, out)


@test
def version():
    check(succeeds_quietly(TOOL, "version").startswith("usbip-tool (usbipcore) "))
    check(succeeds_quietly(DAEMON, "--version").startswith("usbipcored "))


@test
def list_local():
    out = succeeds_quietly(TOOL, "list", "-l")
    check("busid 2-1 (1d6b:0104)" in out, out)


@test
def port():
    out = succeeds_quietly(TOOL, "port")
    check("Port 00: <Port in Use> at High Speed(480Mbps)" in out, out)
    check("usbip://192.0.2.7:3240/1-1" in out, out)


@test
def status_loads_its_module():
    # only `status` links libsoup, through its installed module: it loads and answers for
    # itself (no daemon here), while the tool's own start-up maps no libsoup
    rc, out, err = run(TOOL, "status", "--socket", os.path.join(ROOT, "no-daemon.sock"))
    check(rc == 8 and "cannot reach usbipcored's status socket" in err, rc, err)
    needed = subprocess.run(["readelf", "-d", TOOL], capture_output=True, text=True, check=True).stdout
    check("libsoup" not in needed, needed)


@test
def check_config_of_the_shipped_file():
    out = succeeds_quietly(DAEMON, "--check-config")
    check(CONF in out and "valid" in out, out)


@test
def daemon_serves_list_remote():
    # socket activation on a port the kernel picked: no port race, and the daemon's own start path
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]

    def as_fd3():
        os.dup2(lsock.fileno(), 3)
        os.set_inheritable(3, True)

    p = subprocess.Popen(["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=usbip exec "$0" "$@"',
                          DAEMON], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=as_fd3, close_fds=False)
    lsock.close()
    try:
        out = succeeds_quietly(TOOL, "list", "-r", f"127.0.0.1:{port}")
        check("2-1: " in out and "(1d6b:0104)" in out, out)
    finally:
        p.send_signal(signal.SIGTERM)
        dout, derr = p.communicate(timeout=30)
    check(p.returncode == 0, f"usbipcored exited {p.returncode}: {derr}")
    # stderr is the daemon's log: a clean start, serve and stop logs nothing above notice
    bad = [ln for ln in derr.splitlines() if not ln.startswith(("usbipcored: info: ", "usbipcored: notice: "))]
    check(not bad, f"usbipcored logged more than info/notice on a clean start, serve and stop:\n{derr}")


@test
def unit_points_at_installed_files():
    unit = staged("/usr/lib/systemd/system/usbipcored.service")
    with open(unit) as f:
        lines = f.read().splitlines()
    execs = [ln.split("=", 1)[1].split()[0] for ln in lines if ln.startswith("ExecStart=")]
    check(execs == ["/usr/sbin/usbipcored"], execs)
    docs = [u for ln in lines if ln.startswith("Documentation=") for u in ln.split("=", 1)[1].split()]
    check(docs, "the unit has no Documentation=")
    for u in docs:
        man = re.fullmatch(r"man:([\w.-]+)\((\d)\)", u)
        if man:  # a man page the install ships
            name, sec = man.groups()
            check(os.path.isfile(staged(f"/usr/share/man/man{sec}/{name}.{sec}")), f"Documentation={u} is not installed")
            continue
        check(u.startswith("file://"), u)
        check(os.path.isfile(staged(u[len("file://"):])), f"Documentation={u} is not installed")



@test
def installed_docs_links_resolve():
    # a link between the installed documents (cli.md -> transports.md, ops.md ->
    # virtual-devices.md) names a file installed beside it, as the man pages' pointers do
    docdir = staged("/usr/share/doc/usbipcore")
    missing = []
    for name in sorted(os.listdir(docdir)):
        if not name.endswith(".md"):
            continue
        with open(os.path.join(docdir, name)) as f:
            for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]*)?\)", f.read()):
                if not os.path.isfile(os.path.join(docdir, target)):
                    missing.append(f"{name} -> {target}")
    check(not missing, "links to documents not installed:", missing)



@test
def paths_the_docs_name_are_installed():
    # every /usr/... and /etc/... path README.md, docs/ (performance*.md: figures) and the man
    # pages print as code is where the package puts it; /usr/local (ops.md's install from
    # source) and the directories the administrator fills are not the package's
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    not_ours = ("/usr/local", "/etc/polkit-1/rules.d", "/etc/modules-load.d", "/usr/share/glib-2.0/valgrind")
    docs = ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=src))
    docs += sorted(glob.glob("docs/man/*.scd", root_dir=src))
    missing, named = [], 0
    for doc in docs:
        if os.path.basename(doc).startswith("performance"):
            continue
        with open(os.path.join(src, doc)) as f:
            text = f.read()
        for path in re.findall(r"[`_(](/(?:usr|etc)/[^`_ )*,;]*)", text):
            path = path.rstrip("/.")
            if "<" in path or path.startswith(not_ours):
                continue
            named += 1
            if not os.path.lexists(staged(path)):
                missing.append(f"{doc}: {path}")
    check(named >= 20, f"only {named} installed paths found in the docs: the pattern broke")
    check(not missing, "paths the docs name that the install does not have:", missing)


run_tests()
