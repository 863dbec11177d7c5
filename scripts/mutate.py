#!/usr/bin/python3
# Mutation testing of the protocol-critical code (scripts/mutate.sh is the entry point; its
# --help and docs/quality.md say how to run it). Reads each file's AST with libclang
# (python3-clang), makes one small change at a time (a mutant), rebuilds the tests that cover
# the file in a private copy of the tree and runs them with a timeout: a mutant is killed when
# a test fails or hangs, survives when every test passes, and is stillborn when it does not
# compile (not counted). Prints the kill rate per file and every survivor; a survivor listed in
# tests/mutation-equivalent.txt (with the reason it cannot change behaviour) is excused.
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

import clang.cindex as ci

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# file -> the meson tests that exercise it (names as in `meson test --list`)
TARGETS = {
    "libusbipcore/usbip-proto.c": ["codec", "conformance", "fuzz-replay"],
    "libusbipcore/usbip-deframer.c": ["codec", "conformance", "fuzz-replay"],
    "libusbipcore/usbip-urb-tracker.c": ["codec", "conformance", "fuzz-replay"],
    "libusbipcore/usbip-busid.c": ["core", "fuzz-replay"],
    "libusbipcore/usbip-remote.c": ["core", "fuzz-replay"],
    "libusbipcore/usbip-policy.c": ["exporter", "hostile", "fuzz-replay"],
    "libusbipcore/usbip-backoff.c": ["reconnect"],
    "libusbipcore/usbip-supervisor.c": ["reconnect"],
    "libusbipcore/usbip-config.c": ["platform", "fuzz-replay"],
}

EQUIVALENT = os.path.join(SRC, "tests", "mutation-equivalent.txt")

SWAP = {
    "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==",
    "&&": "||", "||": "&&", "+": "-", "-": "+", "*": "/", "/": "*", "%": "*",
    "&": "|", "|": "&", "^": "|", "<<": ">>", ">>": "<<",
    "+=": "-=", "-=": "+=", "|=": "&=", "&=": "|=",
}
# calls whose removal only leaks or changes a log line: memory is valgrind's gate, logs are
# not behaviour the protocol tests observe
SKIP_CALL = re.compile(r"^(g_(free|clear_\w+|ptr_array_unref|byte_array_unref|bytes_unref|object_unref|"
                       r"hash_table_unref|error_free|strfreev|source_remove|string_free|debug|info|message|"
                       r"warning|critical|log|log_structured|printerr|assert\w*)|\w+_(free|unref|clear))$")
SKIP_LINE = re.compile(r"g_return_|g_assert|G_STATIC_ASSERT|g_debug|g_warning|g_message|g_info|g_critical")


class Mutant:
    def __init__(self, path, start, end, repl, desc, line, text, func):
        self.path, self.start, self.end, self.repl = path, start, end, repl
        self.desc, self.line, self.text, self.func = desc, line, text, func
        self.result = None

    def key(self):
        # stable across edits elsewhere in the file: file, function, the line's text, the change
        return f"{os.path.basename(self.path)}|{self.func}|{self.text}|{self.desc}"


def compile_args(build, path):
    with open(os.path.join(build, "compile_commands.json")) as f:
        db = json.load(f)
    for e in db:
        if os.path.normpath(os.path.join(e["directory"], e["file"])) == path:
            args = e["command"].split()[1:]
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ("-o", "-MF", "-MQ", "-c"):
                    skip = a != "-c"
                    continue
                if a.endswith(".c") or a.startswith("-fdiagnostics") or a == "-Werror":
                    continue
                out.append(a)
            return e["directory"], out
    raise SystemExit(f"mutate: {path} is not in {build}/compile_commands.json (is it still built?)")


def generate(build, path):
    directory, args = compile_args(build, path)
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        tu = ci.Index.create().parse(path, args=args)
    finally:
        os.chdir(cwd)
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise SystemExit(f"mutate: libclang cannot parse {path}: {errors[0]}")
    with open(path, "rb") as f:
        data = f.read()
    lines = data.decode().split("\n")
    mutants = []
    seen = set()

    def in_file(ext):
        return (ext.start.file is not None and os.path.normpath(ext.start.file.name) == path
                and ext.end.file is not None and os.path.normpath(ext.end.file.name) == path)

    def add(start, end, repl, desc, line, func):
        text = lines[line - 1].strip()
        if SKIP_LINE.search(text) or (start, end, repl) in seen:
            return
        # a token that comes out of a macro expansion has an offset that does not hold it
        seen.add((start, end, repl))
        mutants.append(Mutant(path, start, end, repl, desc, line, text, func))

    def tok_ok(t):
        return in_file(t.extent) and data[t.extent.start.offset:t.extent.end.offset].decode() == t.spelling

    def walk(c, parent, func):
        k = c.kind
        if k == ci.CursorKind.FUNCTION_DECL and c.is_definition():
            func = c.spelling
        if func is not None and in_file(c.extent):
            kids = list(c.get_children())
            if k in (ci.CursorKind.BINARY_OPERATOR, ci.CursorKind.COMPOUND_ASSIGNMENT_OPERATOR) and len(kids) == 2:
                lo, hi = kids[0].extent.end.offset, kids[1].extent.start.offset
                for t in c.get_tokens():
                    o = t.extent.start.offset
                    if lo <= o < hi and t.kind == ci.TokenKind.PUNCTUATION and tok_ok(t):
                        if t.spelling in SWAP:
                            add(o, t.extent.end.offset, SWAP[t.spelling], f"'{t.spelling}' -> '{SWAP[t.spelling]}'",
                                t.location.line, func)
                        break
            elif k == ci.CursorKind.UNARY_OPERATOR:
                toks = list(c.get_tokens())
                if toks and toks[0].spelling == "!" and tok_ok(toks[0]):
                    t = toks[0]
                    add(t.extent.start.offset, t.extent.end.offset, "", "'!' removed", t.location.line, func)
            elif k == ci.CursorKind.INTEGER_LITERAL:
                toks = list(c.get_tokens())
                if len(toks) == 1 and tok_ok(toks[0]):
                    t = toks[0]
                    m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)", t.spelling)
                    if m:
                        v = int(m.group(1), 0)
                        for nv in (v + 1, v - 1):
                            if nv >= 0:
                                add(t.extent.start.offset, t.extent.end.offset, f"{nv}{m.group(2)}",
                                    f"{t.spelling} -> {nv}", t.location.line, func)
            elif k == ci.CursorKind.IF_STMT and kids:
                cond = kids[0]
                if in_file(cond.extent):
                    s, e = cond.extent.start.offset, cond.extent.end.offset
                    ctext = data[s:e].decode()
                    add(s, e, f"!({ctext})", "condition negated", cond.location.line, func)
                    add(s, e, "0", "condition removed (never true)", cond.location.line, func)
            elif (k == ci.CursorKind.CALL_EXPR and parent is not None
                  and parent.kind == ci.CursorKind.COMPOUND_STMT and not SKIP_CALL.match(c.spelling)):
                add(c.extent.start.offset, c.extent.end.offset, "(void) 0", f"call to {c.spelling}() removed",
                    c.location.line, func)
            elif k == ci.CursorKind.RETURN_STMT:
                toks = list(c.get_tokens())
                if len(toks) >= 2 and toks[1].spelling in ("TRUE", "FALSE") and tok_ok(toks[1]):
                    t = toks[1]
                    other = "FALSE" if t.spelling == "TRUE" else "TRUE"
                    add(t.extent.start.offset, t.extent.end.offset, other, f"return {t.spelling} -> {other}",
                        t.location.line, func)
        for ch in c.get_children():
            walk(ch, c, func)

    for c in tu.cursor.get_children():
        if c.location.file is not None and os.path.normpath(c.location.file.name) == path:
            walk(c, None, None)
    mutants.sort(key=lambda m: (m.start, m.end, m.repl))
    return data, mutants


def sh(cmd, timeout=None, cwd=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, "timeout"


def prepare(work):
    """A private copy of the tree (so mutants never touch the worktree) and its build."""
    copy = os.path.join(work, "src")
    build = os.path.join(copy, "_build")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=SRC, stdout=subprocess.PIPE, check=True).stdout
    for rel in files.decode().split("\0"):
        if not rel or not os.path.isfile(os.path.join(SRC, rel)):
            continue
        dst = os.path.join(copy, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        src = os.path.join(SRC, rel)
        if not os.path.exists(dst) or open(src, "rb").read() != open(dst, "rb").read():
            shutil.copy2(src, dst)
    if not os.path.exists(os.path.join(build, "build.ninja")):
        rc, out = sh(["meson", "setup", build, "-Dvm_tests=false", "-Dintrospection=disabled", "-Dman=disabled",
                      "--buildtype=debug"], cwd=copy)
        if rc != 0:
            raise SystemExit("mutate: meson setup failed:\n" + out)
    return copy, build


def test_targets(build, names):
    with open(os.path.join(build, "meson-info", "intro-tests.json")) as f:
        tests = json.load(f)
    targets = set()
    for t in tests:
        if t["name"] in names:
            for a in t["cmd"]:
                if a.startswith(build + "/") and os.path.isfile(a):
                    targets.add(os.path.relpath(a, build))
    return sorted(targets)


def run_tests(build, names, targets, timeout):
    rc, out = sh(["ninja", "-C", build, *targets], timeout=600)
    if rc != 0:
        return "stillborn", out
    rc, out = sh(["meson", "test", "-C", build, "--no-rebuild", "--num-processes", "2", *names], timeout=timeout)
    if rc is None:
        return "killed", "timeout"
    return ("survived" if rc == 0 else "killed"), out


def main():
    ap = argparse.ArgumentParser(prog="scripts/mutate.sh", description=__doc__)
    ap.add_argument("--sample", type=int, default=0, help="mutants per file, drawn with --seed (0 = all)")
    ap.add_argument("--seed", type=int, default=17, help="seed of the sample (default 17)")
    ap.add_argument("--files", default="", help="comma-separated files (default: every protocol-critical file)")
    ap.add_argument("--work", default=os.path.join(SRC, "build-mutate"), help="work directory")
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    ap.add_argument("--report", default="", help="also write the report (markdown) to this file")
    a = ap.parse_args()

    files = [f.strip() for f in a.files.split(",") if f.strip()] or list(TARGETS)
    for f in files:
        if f not in TARGETS:
            raise SystemExit(f"mutate: no tests are mapped to {f}; add it to TARGETS in scripts/mutate.py")
    equivalent = set()
    if os.path.exists(EQUIVALENT):
        for line in open(EQUIVALENT):
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                equivalent.add(line.split(" # ")[0].strip())

    copy, build = prepare(a.work)
    rc, out = sh(["ninja", "-C", build])
    if rc != 0:
        raise SystemExit("mutate: the unmutated tree does not build:\n" + out[-3000:])
    results = {}
    t0 = time.monotonic()
    for rel in files:
        path = os.path.join(copy, rel)
        data, mutants = generate(build, path)
        total = len(mutants)
        if a.sample and a.sample < total:
            mutants = sorted(random.Random(f"{a.seed}:{rel}").sample(mutants, a.sample), key=lambda m: m.start)
        if a.list:
            for m in mutants:
                print(f"{rel}:{m.line}: {m.desc}: {m.text}")
            continue
        names = TARGETS[rel]
        targets = test_targets(build, names)
        b0 = time.monotonic()
        verdict, out = run_tests(build, names, targets, 1200)
        if verdict != "survived":
            raise SystemExit(f"mutate: the tests of {rel} fail without any mutant:\n{out[-3000:]}")
        timeout = max(30, 4 * (time.monotonic() - b0))
        counts = {"killed": 0, "survived": 0, "stillborn": 0, "excused": 0}
        survivors = []
        try:
            for i, m in enumerate(mutants):
                with open(path, "wb") as f:
                    f.write(data[:m.start] + m.repl.encode() + data[m.end:])
                verdict, _ = run_tests(build, names, targets, timeout)
                if verdict == "survived" and m.key() in equivalent:
                    verdict = "excused"
                counts[verdict] += 1
                if verdict == "survived":
                    survivors.append(m)
                print(f"[{rel} {i + 1}/{len(mutants)}] {verdict}: line {m.line}: {m.desc}", flush=True)
        finally:
            with open(path, "wb") as f:
                f.write(data)
        results[rel] = (total, len(mutants), counts, survivors)
    if a.list:
        return 0
    sh(["ninja", "-C", build])
    report = ["| file | mutants (of all) | killed | survived | equivalent | stillborn | kill rate |",
              "|---|---|---|---|---|---|---|"]
    bad = False
    for rel, (total, n, c, surv) in results.items():
        counted = c["killed"] + c["survived"]
        rate = 100.0 * c["killed"] / counted if counted else 100.0
        report.append(f"| {rel} | {n} ({total}) | {c['killed']} | {c['survived']} | {c['excused']} | "
                      f"{c['stillborn']} | {rate:.1f} % |")
        bad = bad or bool(surv)
    report.append("")
    report.append(f"seed {a.seed}, sample {a.sample or 'all'}, {time.monotonic() - t0:.0f} s; kill rate = killed / "
                  "(killed + survived); equivalent mutants are listed in tests/mutation-equivalent.txt")
    surv_lines = []
    for rel, (_, _, _, surv) in results.items():
        for m in surv:
            surv_lines.append(f"{rel}:{m.line}: {m.desc}: `{m.text}`\n    key: {m.key()}")
    print("\n".join(report))
    if surv_lines:
        print("\nsurvivors (kill each with a test, or list its key in tests/mutation-equivalent.txt with the "
              "reason it cannot change behaviour):")
        print("\n".join(surv_lines))
    if a.report:
        with open(a.report, "w") as f:
            f.write("\n".join(report) + "\n")
            if surv_lines:
                f.write("\nSurvivors:\n\n" + "\n".join("    " + s for s in surv_lines) + "\n")
    print("mutate: FAILED: unexplained survivors" if bad else "mutate: ok, every mutant killed or explained")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
