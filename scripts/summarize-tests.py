#!/usr/bin/env python3
"""Print 'N passed, N failed, N skipped' from meson's testlog.json.

A TAP test counts each of its `ok`/`not ok` lines (subtests); a test that produced no TAP
lines counts once, by its meson result. A TAP test that meson marked failed without any
failing subtest (crash, timeout) counts one extra failure.

Every skip is listed by name. Under USBIPCORE_STRICT=1 (what .ci/run sets) a skip counts as
a failure unless it matches a line of the allowed-skips list (.ci/allowed-skips, or the file
named by --allowed): `GLOB reason...`, GLOB (fnmatch) against `TEST: SUBTEST`. That list is
the budget of skips CI accepts; it is checked in and empty unless a skip is intended.
"""
import fnmatch
import json
import os
import re
import sys

args = sys.argv[1:]
allowed_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".ci", "allowed-skips")
if len(args) >= 2 and args[0] == "--allowed":
    allowed_file = args[1]
    args = args[2:]
strict = os.environ.get("USBIPCORE_STRICT") == "1"
allowed = []
if os.path.exists(allowed_file):
    with open(allowed_file) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                glob, _, reason = line.partition(" ")
                allowed.append((glob, reason.strip()))

passed = failed = skipped = 0
skips = []
with open(args[0]) as f:
    for line in f:
        t = json.loads(line)
        res = t.get("result")
        out = t.get("stdout", "") or ""
        oks = nots = 0
        here = []
        for l in out.splitlines():
            if re.match(r"^ok\b", l):
                if re.search(r"#\s*SKIP", l, re.I):
                    here.append(l)
                else:
                    oks += 1
            elif re.match(r"^not ok\b", l):
                if re.search(r"#\s*TODO", l, re.I):
                    here.append(l)
                else:
                    nots += 1
            elif re.match(r"^1\.\.0\b", l):  # a whole TAP test skipped (plan of zero)
                here.append(l)
        if oks + nots + len(here) == 0:
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                skips.append(f"{t['name']}: (whole test)")
            else:
                failed += 1
            continue
        passed += oks
        failed += nots
        skips += [f"{t['name']}: {l}" for l in here]
        if res not in ("OK", "EXPECTEDFAIL", "SKIP") and nots == 0:
            failed += 1

for s in skips:
    why = next((r for g, r in allowed if fnmatch.fnmatchcase(s, g)), None)
    if why is not None:
        skipped += 1
        print(f"skipped (allowed: {why}): {s}")
    elif strict:
        failed += 1
        print(f"FAILED: skipped, and not in {os.path.relpath(allowed_file)}: {s}")
    else:
        skipped += 1
        print(f"skipped: {s}")
if strict and skipped > len(allowed):
    failed += 1
    print(f"FAILED: {skipped} skips, the budget in {os.path.relpath(allowed_file)} is {len(allowed)}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
