#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The man pages say what the programs do: every option that `--help` (and `usbip-tool VERB
--help`) prints is described in the page, in the right section, and the page describes no
option the program lacks; every usbip-tool command has its subsection; every configuration
key the code registers is described in usbipcore.conf(5) under its group, and no other.
Reads the scdoc sources (docs/man/*.scd), so it runs without scdoc. Prints TAP.

    tests/packaging/check-man.py TOOL DAEMON MANDIR SOURCE_ROOT [DBUSD]"""
import glob
import os
import re
import subprocess
import sys

TOOL, DAEMON, MANDIR, ROOT = sys.argv[1:5]
DBUSD = sys.argv[5] if len(sys.argv) > 5 else None
FLAG = r"--?[A-Za-z0-9][A-Za-z0-9-]*"
results = []


def run_help(*args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def help_flags(text):
    """Flags of the option lines of a GOption help text ("  -t, --tcp-port=PORT   ...")."""
    flags = set()
    for line in text.splitlines():
        m = re.match(r"^\s+(-\S.*?)(?:\s{2,}|$)", line)
        if m:
            flags.update(re.findall(r"(?<![\w-])" + FLAG, m.group(1)))
    return flags


def help_commands(text):
    """First word of each line under "Commands:" in the global help."""
    verbs, inside = [], False
    for line in text.splitlines():
        if line.startswith("Commands:"):
            inside = True
        elif inside and not line.strip():
            break
        elif inside and line.startswith("  "):
            v = line.split()[0]
            if v not in verbs:
                verbs.append(v)
    return verbs


def page_sections(path):
    """{(section, subsection): [flags defined there]} from definition lines ("*-t*, *--x*=...")
    and every flag the page names on its own in bold (*--x*) anywhere."""
    defined, anywhere, sec, sub = {}, set(), None, None
    with open(path) as f:
        for line in f:
            if line.startswith("# "):
                sec, sub = line[2:].strip(), None
            elif line.startswith("## "):
                sub = line[3:].strip()
                defined.setdefault((sec, sub), set())
            elif line.startswith("*-"):
                defined.setdefault((sec, sub), set()).update(re.findall(r"\*(" + FLAG + r")\*", line))
            anywhere.update(re.findall(r"\*(" + FLAG + r")\*", line))
    return defined, anywhere


def compare(name, in_help, in_page):
    missing, extra = sorted(in_help - in_page), sorted(in_page - in_help)
    msg = []
    if missing:
        msg.append(f"in --help but not described in the page: {' '.join(missing)}")
    if extra:
        msg.append(f"described in the page but not in --help: {' '.join(extra)}")
    results.append((name, msg))


def page(name):
    return os.path.join(MANDIR, name + ".scd")


# usbip-tool(8): global OPTIONS, one COMMANDS subsection per verb with exactly its flags
tool_help = run_help(TOOL, "--help")
defined, anywhere = page_sections(page("usbip-tool.8"))
compare("usbip-tool(8) OPTIONS match usbip-tool --help", help_flags(tool_help),
        defined.get(("OPTIONS", None), set()))
every = set(help_flags(tool_help))
subsections = {sub.split()[0]: flags for (sec, sub), flags in defined.items() if sec == "COMMANDS" and sub}
verbs = help_commands(tool_help)
results.append(("usbip-tool --help lists commands", [] if verbs else ["no Commands: section found"]))
for verb in verbs:
    flags = help_flags(run_help(TOOL, verb, "--help")) - {"-h", "--help"}
    every |= flags
    if verb not in subsections:
        results.append((f"usbip-tool(8) documents command {verb}", [f"no '## {verb}' subsection under COMMANDS"]))
        continue
    compare(f"usbip-tool(8) '## {verb}' matches usbip-tool {verb} --help", flags, subsections[verb])
stale = sorted(set(subsections) - set(verbs))
results.append(("usbip-tool(8) documents no command the tool lacks",
                [f"subsections for commands not in --help: {' '.join(stale)}"] if stale else []))
compare("every option usbip-tool(8) mentions exists", every, anywhere | every)

# usbipcored(8)
daemon_help = run_help(DAEMON, "--help")
defined, anywhere = page_sections(page("usbipcored.8"))
compare("usbipcored(8) OPTIONS match usbipcored --help", help_flags(daemon_help),
        defined.get(("OPTIONS", None), set()))
compare("every option usbipcored(8) mentions exists", help_flags(daemon_help),
        anywhere | help_flags(daemon_help))

# usbipcore-dbusd(8)
if DBUSD:
    dbusd_help = run_help(DBUSD, "--help")
    defined, anywhere = page_sections(page("usbipcore-dbusd.8"))
    compare("usbipcore-dbusd(8) OPTIONS match usbipcore-dbusd --help", help_flags(dbusd_help),
            defined.get(("OPTIONS", None), set()))
    compare("every option usbipcore-dbusd(8) mentions exists", help_flags(dbusd_help),
            anywhere | help_flags(dbusd_help))

# usbipcore.conf(5): the keys registered in the code, group by group
registered = set()
with open(os.path.join(ROOT, "tools", "common", "usbip-tools-socket.c")) as f:
    socket_keys = re.findall(r'^\s*TUNABLE\s*\(\s*"([a-z-]+)"|usbip_config_register_key\s*\(\s*config,\s*group,\s*"([a-z-]+)"', f.read(), re.M)
    socket_keys = [a or b for a, b in socket_keys]
for src in glob.glob(os.path.join(ROOT, "libusbipcore", "*.c")) + glob.glob(os.path.join(ROOT, "tools", "*", "*.c")) \
        + glob.glob(os.path.join(ROOT, "plugins", "**", "*.c"), recursive=True):
    with open(src) as f:
        text = f.read()
        registered.update(re.findall(r'usbip_config_register_key\s*\(\s*\w+\s*,\s*"([^"]+)"\s*,\s*"([^"]+)"', text))
        # the socket tunables a tool registers into one of its groups
        for g in re.findall(r'usbip_tools_socket_register_keys\s*\(\s*[\w.]+\s*,\s*"([^"]+)"', text):
            registered.update((g, k) for k in socket_keys)
        # a plugin's own group is named after the plugin (plugins/<kind-><name>/)
        plugin = os.path.relpath(src, os.path.join(ROOT, "plugins")).split(os.sep)[0].split("-")[-1]
        registered.update((plugin, k) for k in re.findall(r'usbip_plugin_context_register_key\s*\(\s*\w+\s*,\s*"([^"]+)"', text))
        # the keys of named groups a plugin reads itself ([virtual-device NAME]): its key tables
        if plugin == "virtual":
            for table in re.findall(r'keys\[\] = \{([^}]*)\}', text):
                registered.update(("virtual-device", k) for k in re.findall(r'"([\w-]+)"', table))
        # keys registered from a table: rows of { "group", "key", USBIP_CONFIG_TYPE_... }
        registered.update(re.findall(r'\{\s*"([\w-]+)"\s*,\s*"([\w-]+)"\s*,\s*USBIP_CONFIG_TYPE_', text))
documented, group = set(), None
with open(page("usbipcore.conf.5")) as f:
    for line in f:
        m = re.match(r"^## \[([\w-]+)(?: NAME)?\]", line)
        if m:
            group = m.group(1)
        m = re.match(r"^\*([\w-]+)\*=", line)
        if m and group:
            documented.add((group, m.group(1)))
fmt = lambda keys: " ".join(f"[{g}]{k}" for g, k in sorted(keys))
results.append(("the code registers configuration keys", [] if registered else ["no usbip_config_register_key calls found"]))
msg = []
if registered - documented:
    msg.append("registered in the code but not in usbipcore.conf(5): " + fmt(registered - documented))
if documented - registered:
    msg.append("in usbipcore.conf(5) but registered nowhere: " + fmt(documented - registered))
results.append(("usbipcore.conf(5) keys match the keys the code registers", msg))

# and the shipped default file uses only keys the page documents
shipped = set()
with open(os.path.join(ROOT, "contrib", "usbipcore.conf")) as f:
    for line in f:
        m = re.match(r"^#?\[([\w-]+)(?: [\w-]+)?\]", line)  # a commented-out example group too
        if m:
            group = m.group(1)
        m = re.match(r"^#?([\w-]+)=", line)
        if m:
            shipped.add((group, m.group(1)))
results.append(("contrib/usbipcore.conf uses only documented keys",
                ["undocumented: " + fmt(shipped - documented)] if shipped - documented else []))

print(f"1..{len(results)}")
for i, (name, msg) in enumerate(results, 1):
    print(f"{'not ok' if msg else 'ok'} {i} - {name}")
    for m in msg:
        print(f"# {m}")
sys.exit(1 if any(m for _, m in results) else 0)
