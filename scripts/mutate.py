#!/usr/bin/python3
# Mutation testing of the protocol-critical code (scripts/mutate.sh is the entry point; its
# --help and docs/quality.md say how to run it). Reads each file's AST with libclang
# (python3-clang) and makes one small change at a time (a mutant). In a private copy of the
# tree (one per job) it rebuilds only the mutated object and the test binaries of the file's
# stages (TARGETS), and runs the stages fastest first, each with a timeout: a mutant is killed
# at the first stage that fails or hangs, survives when every stage passes, and is stillborn
# when it does not compile (not counted). Results are kept in WORK/results.jsonl, so an
# interrupted or repeated run resumes (killed and stillborn mutants are not tested again).
# Prints the kill rate per file and every survivor; a survivor listed in
# tests/mutation-equivalent.txt (with the reason it cannot change behaviour) is excused.
import argparse
import fcntl
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import clang.cindex as ci

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# file -> the stages that test it, fastest first: (meson test name, extra arguments). A mutant
# is built and run stage by stage and is killed at the first stage that fails or hangs, so the
# slow stages (conformance, the whole exporter, the 1000-cycle leak test) run only for the
# mutants the fast ones miss.
CODEC = [("codec", []), ("fuzz-replay", []), ("conformance", [])]
TARGETS = {
    "libusbipcore/usbip-proto.c": CODEC,
    "libusbipcore/usbip-deframer.c": CODEC,
    "libusbipcore/usbip-urb-tracker.c": CODEC,
    "libusbipcore/usbip-busid.c": [("core", []), ("fuzz-replay", [])],
    "libusbipcore/usbip-remote.c": [("core", []), ("fuzz-replay", [])],
    "libusbipcore/usbip-policy.c": [("exporter", ["-p", "/policy"]), ("transports", []), ("fuzz-replay", []),
                                    ("exporter", []), ("hostile", [])],
    "libusbipcore/usbip-backoff.c": [("reconnect", ["-p", "/backoff"]), ("reconnect", [])],
    "libusbipcore/usbip-supervisor.c": [("reconnect", ["-s", "/supervisor/no-leaks-1000-cycles"]),
                                        ("reconnect", [])],
    "libusbipcore/usbip-config.c": [("platform", []), ("fuzz-replay", [])],
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
                       r"hash_table_unref|error_free|strfreev|source_remove|string_free|queue_clear_full|queue_free_full|list_free_full|list_free_1|debug|info|message|"
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
                # the size of a declared array only makes a buffer larger or smaller than it
                # needs to be: not a behaviour, and the compiler or ASan sees the smaller one
                size = (parent is not None and parent.kind in (ci.CursorKind.VAR_DECL, ci.CursorKind.FIELD_DECL)
                        and data[:c.extent.start.offset].rstrip().endswith(b"["))
                if len(toks) == 1 and tok_ok(toks[0]) and not size:
                    t = toks[0]
                    m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)", t.spelling)
                    if m:
                        v = int(m.group(1), 0)
                        # one more element of g_new/g_new0 only allocates more: memory, not behaviour
                        count = re.search(r"\bg_new0? \([^(),]+, " + re.escape(t.spelling) + r"\)",
                                          lines[t.location.line - 1])
                        for nv in (v + 1, v - 1):
                            if nv >= 0 and not (count and nv > v):
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


def sh(cmd, timeout=None, cwd=None, env=None):
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        # the test and anything it started (a daemon, a peer) go with it
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, "timeout"


class Worker:
    """One private copy of the tree and its build: mutants never touch the worktree, and two
    workers (--jobs 2) never touch each other's files."""

    def __init__(self, work, n):
        self.copy = os.path.join(work, "src" if n == 0 else f"src{n}")
        self.build = os.path.join(self.copy, "_build")
        self.tests = None

    def prepare(self):
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=SRC,
                               stdout=subprocess.PIPE, check=True).stdout
        for rel in files.decode().split("\0"):
            if not rel or not os.path.isfile(os.path.join(SRC, rel)):
                continue
            dst = os.path.join(self.copy, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            src = os.path.join(SRC, rel)
            if not os.path.exists(dst) or open(src, "rb").read() != open(dst, "rb").read():
                shutil.copy(src, dst)  # a new mtime: ninja rebuilds what a mutant left
        if not os.path.exists(os.path.join(self.build, "build.ninja")):
            rc, out = sh(["meson", "setup", self.build, "-Dvm_tests=false", "-Dintrospection=disabled",
                          "-Dman=disabled", "--buildtype=debug"], cwd=self.copy)
            if rc != 0:
                raise SystemExit("mutate: meson setup failed:\n" + out)
        # the AST of a file that includes a generated header (usbip-enum-types.h) needs it built
        rc, out = sh(["ninja", "-C", self.build, "libusbipcore/usbip-enum-types.h"])
        if rc != 0:
            raise SystemExit("mutate: building the generated headers failed:\n" + out)
        with open(os.path.join(self.build, "meson-info", "intro-tests.json")) as f:
            self.tests = {t["name"]: t for t in json.load(f)}
        with open(os.path.join(self.build, "meson-info", "intro-targets.json")) as f:
            self.outputs = {t["id"]: t["filename"] for t in json.load(f)}

    def stage(self, name, extra):
        """The ninja targets a stage needs and its command line and environment."""
        t = self.tests.get(name)
        if t is None:
            raise SystemExit(f"mutate: no meson test named {name} (TARGETS in scripts/mutate.py)")
        # what the test runs and what it depends on (the plugins a test loads are not on its
        # command line: a fresh work dir would run it without them)
        files = [a for a in t["cmd"] if a.startswith(self.build + "/")]
        files += [f for d in t.get("depends", []) for f in self.outputs.get(d, [])]
        targets = sorted({os.path.relpath(f, self.build) for f in files})
        env = dict(os.environ, **t.get("env", {}))
        env.setdefault("G_DEBUG", "fatal-criticals")
        return targets, t["cmd"] + extra, env, t.get("workdir") or self.build

    def run(self, stages, timeouts):
        """killed (with the stage that failed), survived, or stillborn (does not compile)."""
        for i, (name, extra) in enumerate(stages):
            targets, cmd, env, cwd = self.stage(name, extra)
            rc, out = sh(["ninja", "-C", self.build, *targets], timeout=900)
            if rc != 0:
                return ("stillborn", "", None) if i == 0 else ("killed", f"{name} (build)", (name, tuple(extra)))
            limit = timeouts.get((name, tuple(extra))) or self.tests[name].get("timeout") or 120
            rc, out = sh(cmd, timeout=limit, cwd=cwd, env=env)
            if rc != 0:
                return "killed", " ".join([name, *extra]) + (" (timeout)" if rc is None else ""), (name, tuple(extra))
        return "survived", "", None

    def baseline(self, stage, timeouts):
        """Runs a stage without a mutant: it must pass (else the run would count every mutant
        as killed); 4 x its time becomes its timeout."""
        t0 = time.monotonic()
        verdict, where, _ = self.run([stage], {})
        if verdict != "survived":
            raise SystemExit(f"mutate: test {' '.join([stage[0], *stage[1]])} fails without any mutant ({verdict}): "
                             "fix the tree or the TARGETS table first")
        timeouts[(stage[0], tuple(stage[1]))] = max(20.0, 4 * (time.monotonic() - t0))


def mutated(data, m):
    return data[:m.start] + m.repl.encode() + data[m.end:]


def cache_key(rel, data, m):
    # the mutated file's text: a result stays valid while the file (and so the mutant) is the same
    return rel + ":" + hashlib.sha1(mutated(data, m)).hexdigest()


def main():
    ap = argparse.ArgumentParser(prog="scripts/mutate.sh", description=__doc__)
    ap.add_argument("--sample", type=int, default=0, help="mutants per file, drawn with --seed (0 = all)")
    ap.add_argument("--seed", type=int, default=17, help="seed of the sample (default 17)")
    ap.add_argument("--files", default="", help="comma-separated files (default: every protocol-critical file)")
    ap.add_argument("--work", default=os.path.join(SRC, "build-mutate"), help="work directory (default build-mutate)")
    ap.add_argument("--jobs", type=int, default=1, choices=(1, 2), help="mutants tested at once (default 1)")
    ap.add_argument("--fresh", action="store_true",
                    help="forget the results of earlier runs (WORK/results.jsonl); by default a run resumes: "
                         "killed and stillborn mutants are not tested again, survivors are")
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    ap.add_argument("--report", default="", help="also write the report (markdown) to this file")
    a = ap.parse_args()
    a.work = os.path.abspath(a.work)  # the builds run in the copies: a relative path would move

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

    os.makedirs(a.work, exist_ok=True)
    lock_file = open(os.path.join(a.work, "lock"), "w")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"mutate: another run uses {a.work}: wait for it, or give this one another --work")
    workers = [Worker(a.work, n) for n in range(a.jobs)]
    for w in workers:
        w.prepare()
    store = os.path.join(a.work, "results.jsonl")
    if a.fresh and os.path.exists(store):
        os.unlink(store)
    cache = {}
    if os.path.exists(store):
        for line in open(store):
            try:
                r = json.loads(line)
                cache[r["id"]] = r
            except (ValueError, KeyError):
                pass  # a line cut short by an interrupted run
    timeouts = {}
    killers = set()
    lock = threading.Lock()
    out = open(store, "a")

    results = {}
    t0 = time.monotonic()
    for rel in files:
        path0 = os.path.join(workers[0].copy, rel)
        # compile_commands.json exists from the meson setup on; the AST needs no build
        data, mutants = generate(workers[0].build, path0)
        total = len(mutants)
        if a.sample and a.sample < total:
            mutants = sorted(random.Random(f"{a.seed}:{rel}").sample(mutants, a.sample), key=lambda m: m.start)
        if a.list:
            for m in mutants:
                print(f"{rel}:{m.line}: {m.desc}: {m.text}")
            continue
        stages = TARGETS[rel]
        todo = []
        counts = {"killed": 0, "survived": 0, "stillborn": 0, "excused": 0}
        survivors = []
        for m in mutants:
            r = cache.get(cache_key(rel, data, m))
            if r and (r["verdict"] in ("killed", "stillborn") or (r["verdict"] == "survived" and m.key() in equivalent)):
                m.result = r["verdict"]
            else:
                todo.append(m)
        # only the first (fast) stage is timed up front; a later stage is checked once it
        # has killed a mutant (below) and runs with meson's timeout
        if todo and (stages[0][0], tuple(stages[0][1])) not in timeouts:
            workers[0].baseline(stages[0], timeouts)
        done = [len(mutants) - len(todo)]
        queue = list(todo)

        def work(w):
            path = os.path.join(w.copy, rel)
            try:
                while True:
                    with lock:
                        if not queue:
                            return
                        m = queue.pop(0)
                    with open(path, "wb") as f:
                        f.write(mutated(data, m))
                    verdict, where, killer = w.run(stages, timeouts)
                    m.result = verdict
                    with lock:
                        if killer is not None:
                            killers.add(killer)
                        done[0] += 1
                        out.write(json.dumps({"id": cache_key(rel, data, m), "key": m.key(), "verdict": verdict,
                                              "stage": where}) + "\n")
                        out.flush()
                        print(f"[{rel} {done[0]}/{len(mutants)}] {verdict}{' by ' + where if where else ''}: "
                              f"line {m.line}: {m.desc}", flush=True)
            finally:
                with open(path, "wb") as f:
                    f.write(data)

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for m in mutants:
            verdict = m.result
            if verdict is None:
                raise SystemExit("mutate: a worker stopped early (see above)")
            if verdict == "survived" and m.key() in equivalent:
                verdict = "excused"
            counts[verdict] += 1
            if verdict == "survived":
                survivors.append(m)
        results[rel] = (total, len(mutants), counts, survivors)
    if a.list:
        return 0
    # a stage that killed mutants must pass without one (the sources are restored by now)
    for stage in sorted(killers):
        if stage not in timeouts:
            workers[0].baseline((stage[0], list(stage[1])), timeouts)
    for w in workers[1:]:
        sh(["ninja", "-C", w.build, "libusbipcore/libusbipcore-internal.a"])
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
                  "(killed + survived), equivalent mutants (tests/mutation-equivalent.txt) not counted")
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
