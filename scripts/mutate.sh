#!/bin/sh
# Mutation testing of the protocol-critical files (codec, deframers and URB tracker, busid and
# remote parsers, policy, backoff and supervisor, config validation): scripts/mutate.py does
# the work with python3-clang; see `scripts/mutate.sh --help` and docs/quality.md.
#
#   scripts/mutate.sh --jobs 2              every mutant of every file (the full run; resumes)
#   scripts/mutate.sh --sample 3 --jobs 2   3 mutants per file, drawn with --seed 17 (CI)
#   scripts/mutate.sh --files libusbipcore/usbip-busid.c --list
set -eu
cd "$(dirname "$0")/.."
/usr/bin/python3 -c 'import clang.cindex' 2>/dev/null || {
  echo "mutate.sh: python3-clang is missing: run scripts/install-deps.sh" >&2; exit 1; }
exec nice -n 15 /usr/bin/python3 scripts/mutate.py "$@"
