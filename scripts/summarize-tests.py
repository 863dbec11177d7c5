#!/usr/bin/env python3
"""Print 'N passed, N failed' from meson's testlog.json.

A TAP test counts each of its `ok`/`not ok` lines (subtests); a test that produced no TAP
lines counts once, by its meson result. A TAP test that meson marked failed without any
failing subtest (crash, timeout) counts one extra failure.
"""
import json
import re
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        res = t.get("result")
        out = t.get("stdout", "") or ""
        oks = nots = skips = 0
        for l in out.splitlines():
            if re.match(r"^ok\b", l):
                if re.search(r"#\s*SKIP", l, re.I):
                    skips += 1
                else:
                    oks += 1
            elif re.match(r"^not ok\b", l):
                if re.search(r"#\s*TODO", l, re.I):
                    skips += 1
                else:
                    nots += 1
        if oks + nots + skips == 0:
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                skipped += 1
            else:
                failed += 1
            continue
        passed += oks
        failed += nots
        skipped += skips
        if res not in ("OK", "EXPECTEDFAIL", "SKIP") and nots == 0:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
