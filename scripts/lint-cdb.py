#!/usr/bin/env python3
"""Compile-database helper of scripts/lint.sh (one build, one database for every analyzer).

  lint-cdb.py filter BUILD OUTDIR REGEX   write OUTDIR/compile_commands.json: BUILD's entries for
                                          the source files matching REGEX (paths relative to the
                                          source tree), one entry per file
  lint-cdb.py fanalyzer CDB JOBS          compile each entry of CDB with gcc -fanalyzer (output
                                          discarded), JOBS at a time; print the diagnostics and
                                          exit 1 if any file failed or drew an analyzer warning
"""
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys


def filter_cdb(build, outdir, regex):
    top = os.path.abspath(os.path.join(build, os.pardir))
    pattern = re.compile(regex)
    with open(os.path.join(build, "compile_commands.json"), encoding="utf-8") as f:
        entries = json.load(f)
    seen = set()
    kept = []
    for e in entries:
        path = os.path.normpath(os.path.join(e["directory"], e["file"]))
        rel = os.path.relpath(path, top)
        # generated sources live in the build dir, not ours to lint; a file built into two
        # targets (the internal archive and the shared library) is analyzed once
        if rel.startswith(os.pardir) or not pattern.search(rel) or rel in seen:
            continue
        seen.add(rel)
        # the diagnostics are read by a script, not a terminal
        command = e["command"].replace(" -fdiagnostics-color=always", "")
        e = dict(e, file=path, command=command)
        kept.append(e)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "compile_commands.json"), "w", encoding="utf-8") as f:
        json.dump(kept, f, indent=1)
    print(f"{len(kept)} files")


def analyzer_argv(entry):
    argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out = ["gcc", "-fanalyzer", "-fdiagnostics-color=never"]
    skip = False
    for a in argv[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-MD", "-MMD") or a.startswith("-fdiagnostics-color"):
            continue
        # gcc 12's analyzer is meant for unoptimized code: from -O1 on it reports a
        # g_autofree pointer initialised to NULL as uninitialized in its cleanup (a false
        # positive, seen in usbip-importer.c); -O0 is also faster
        if re.fullmatch(r"-O[0-9sgz]?", a):
            a = "-O0"
        out.append(a)
    return out + ["-o", os.devnull]


def fanalyzer(cdb, jobs):
    with open(cdb, encoding="utf-8") as f:
        entries = json.load(f)

    def run(e):
        p = subprocess.run(analyzer_argv(e), cwd=e["directory"], capture_output=True, text=True)
        return e["file"], p.returncode, p.stderr

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for path, rc, err in pool.map(run, entries):
            if rc != 0 or "-Wanalyzer" in err:
                failed += 1
                sys.stdout.write(err)
    print(f"fanalyzer: {len(entries)} files, {failed} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "filter":
        filter_cdb(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "fanalyzer":
        sys.exit(fanalyzer(sys.argv[2], int(sys.argv[3])))
    else:
        sys.exit(__doc__)
