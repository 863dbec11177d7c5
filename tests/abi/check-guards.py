#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every exported function of libusbipcore checks its arguments before it uses them.

Usage: check-guards.py SYMBOLS SRCDIR [ALLOW]

SYMBOLS is the exported-symbol list (libusbipcore/usbipcore.symbols, which the abi-symbols
test holds equal to `nm -D`), SRCDIR the library's sources. For each exported function the
definition is found in SRCDIR/*.c and its body read: after the local declarations (whose
initialisers must not use a pointer parameter), the first statement must be a
g_return_if_fail / g_return_val_if_fail precondition. Exempt without listing:
  - functions whose parameters hold no pointer (nothing a caller can pass that crashes them;
    enums and integers are range-checked where it matters, by their own errors);
  - G_DEFINE_*-generated `_get_type` and `_quark` functions (no arguments).
Anything else exempt is named in ALLOW (one `symbol  reason` a line). Prints what fails."""
import os
import re
import sys

symbols_path, srcdir = sys.argv[1:3]
allow_path = sys.argv[3] if len(sys.argv) > 3 else None

symbols = [s.strip() for s in open(symbols_path) if s.strip()]
allow = {}
if allow_path:
    for line in open(allow_path):
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit(f"check-guards: {allow_path}: {name} has no reason")
            allow[name] = reason.strip()

sources = {}
for name in sorted(os.listdir(srcdir)):
    if name.endswith(".c"):
        with open(os.path.join(srcdir, name)) as f:
            text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)  # comments out
            sources[name] = re.sub(r"=\s*\{[^{};]*\}", "= INIT", text)  # initialiser lists are no blocks

DECL = re.compile(
    r"^(static\s+)?(const\s+)?(g_autoptr\s*\(\w+\)|g_autofree\s+(const\s+)?\w+|g_auto\s*\(\w+\)|struct\s+\w+|unsigned\s+\w+|"
    r"[A-Z]\w*|g\w+|int|char|double|float|long|\w+_t|va_list)"
    r"(\s+|\s*\*[\s*]*(const\s+)?)\w+(\s*\[[^\]]*\])?\s*(=|;|,)"
)
GUARD = re.compile(r"^g_return_(val_)?if_fail\s*\(")


def definition(sym):
    pat = re.compile(r"^" + re.escape(sym) + r"\s*\(([^)]*)\)\s*\{", re.M)
    for text in sources.values():
        m = pat.search(text)
        if m:
            return m.group(1), text, m.end()
    return None


def statements(text, start):
    """The top-level statements of the body opening at text[start-1] == '{'."""
    depth, cur, out = 0, "", []
    for ch in text[start:]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                break
            depth -= 1
        cur += ch
        if depth == 0 and ch in ";}":
            out.append(" ".join(cur.split()))
            cur = ""
    return out


def pointer_params(params):
    names = []
    for p in params.split(","):
        if "*" not in p:
            continue
        m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", p.strip())
        if m and p.strip() not in ("void", "..."):
            names.append(m.group(1))
    return names


failures, guarded, exempt_scalar, exempt_listed = [], 0, 0, 0
for sym in symbols:
    found = definition(sym)
    if found is None:
        if sym.endswith("_get_type") or sym.endswith("_quark"):
            continue  # G_DEFINE_TYPE / G_DEFINE_BOXED_TYPE / G_DEFINE_QUARK
        failures.append(f"{sym}: exported but no definition found in {srcdir}/*.c")
        continue
    params, text, start = found
    if sym in allow:
        exempt_listed += 1
        continue
    if "*" not in params:
        exempt_scalar += 1
        continue
    pointers = pointer_params(params)
    body = statements(text, start)
    first = None
    for st in body:
        if DECL.match(st) and not GUARD.match(st):
            init = st.split("=", 1)[1] if "=" in st else ""
            init = re.sub(r"\b\w+\s*[!=]=\s*NULL", "", init)  # `explicit = path != NULL` checks nothing
            reached = [n for n in pointers if re.search(r"\b" + n + r"\b", init)]
            if reached:
                failures.append(f"{sym}: a declaration uses {reached[0]} before any check: {st}")
                first = "bad"
                break
            continue
        first = st
        break
    if first == "bad":
        continue
    if first is None or not GUARD.match(first):
        failures.append(f"{sym}: first statement is not g_return_(val_)if_fail: {first}")
        continue
    guarded += 1

stale = sorted(set(allow) - set(symbols))
for s in stale:
    failures.append(f"{s}: in {allow_path} but not exported (remove it)")
for f in failures:
    print("check-guards: " + f)
print(f"check-guards: {guarded} guarded, {exempt_scalar} without pointer arguments, "
      f"{exempt_listed} allowed by list, {len(failures)} failing")
sys.exit(1 if failures else 0)
