#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`usbip-tool --json trace decode` as a user runs it, every line validated against
docs/usbip-tool.schema.json (the mechanism of tests/tools/test-cli.py): the captures are
the ones the trace tests synthesize (test-trace writes each into USBIP_TRACE_CAPTURE_DIR),
plus the failures (a directory, a missing file, a file that is no capture, a bad option,
the wrong --port). A failing run ends with an error object whose exit_code is the exit
status. Prints TAP."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from taptest import check, run_tests, test  # noqa: E402

import jsonschema


TEST_TRACE, TOOL, SCHEMA = sys.argv[1:4]
with open(SCHEMA) as f:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(f))
ENV = dict(os.environ, LC_ALL="C")


def decode(*args):
    """runs the tool; returns (exit status, parsed lines, stderr); every line must validate"""
    p = subprocess.run([TOOL, "--json", "trace", "decode", *args], capture_output=True, text=True,
                       env=ENV, timeout=60)
    objs = [json.loads(line) for line in p.stdout.splitlines()]
    for o in objs:
        VALIDATOR.validate(o)
    if p.returncode != 0:
        if not objs or objs[-1]["type"] != "error" or objs[-1]["exit_code"] != p.returncode:
            raise AssertionError(f"exit {p.returncode} without a matching error object last: {objs[-1:]}")
    return p.returncode, objs, p.stderr


WORK = tempfile.mkdtemp(prefix="usbip-trace-json-")
p = subprocess.run([TEST_TRACE], env=dict(ENV, USBIP_TRACE_CAPTURE_DIR=WORK), capture_output=True, text=True)
if p.returncode != 0:
    raise SystemExit(f"test-trace failed while writing the captures:\n{p.stdout}{p.stderr}")
CAPTURES = sorted(os.listdir(WORK))


@test
def every_trace_capture_validates():
    """each capture of the trace tests, decoded by the tool: every line is a schema object"""
    check(len(CAPTURES) >= 20, f"only {len(CAPTURES)} captures written by test-trace")
    seen = set()
    for name in CAPTURES:
        port = name.split("-port-")[1].split(".")[0]
        rc, objs, err = decode("--port", port, os.path.join(WORK, name))
        check(rc in (0, 1, 9), f"{name}: exit {rc}: {err}")
        summaries = [o for o in objs if o["type"] == "usbip-trace-summary"]
        check(len(summaries) == 1, f"{name}: {len(summaries)} summary lines")
        seen.update(o["type"] for o in objs)
        seen.update(o["message"] for o in objs if o["type"] == "usbip-message")
        seen.update("note:" + o["kind"] for o in objs if o["type"] == "usbip-note")
    # the captures cover every message and every kind of object the decoder writes
    for want in ("usbip-message", "usbip-note", "usbip-trace-summary", "error", "OP_REQ_DEVLIST",
                 "OP_REP_DEVLIST", "OP_REQ_IMPORT", "OP_REP_IMPORT", "USBIP_CMD_SUBMIT",
                 "USBIP_RET_SUBMIT", "USBIP_CMD_UNLINK", "USBIP_RET_UNLINK", "note:info",
                 "note:truncated", "note:protocol-error", "note:damaged"):
        check(want in seen, f"no {want} in any capture")


@test
def directory_is_a_clear_error():
    rc, objs, err = decode(WORK)
    check(rc == 2, rc)
    check(objs[-1]["kind"] == "usage")
    check("is a directory: give a capture file" in objs[-1]["message"], objs[-1])
    check("mmap" not in err and "is a directory" in err, err)


@test
def missing_file_is_not_found():
    rc, objs, _ = decode(os.path.join(WORK, "nothing-here.pcap"))
    check(rc == 3 and objs[-1]["kind"] == "not-found", objs)


@test
def not_a_capture_is_a_failure():
    junk = os.path.join(WORK, "junk.txt")
    with open(junk, "w") as f:
        f.write("hello, this is no capture\n")
    rc, objs, _ = decode(junk)
    check(rc == 1 and objs[-1]["kind"] == "failure", objs)
    check("not a pcap or pcapng capture" in objs[-1]["message"], objs[-1])


@test
def bad_option_is_a_usage_error():
    rc, objs, _ = decode("--no-such-option", os.path.join(WORK, CAPTURES[0]))
    check(rc == 2 and objs[-1]["kind"] == "usage", objs)
    rc, objs, _ = decode("--port", "70000", os.path.join(WORK, CAPTURES[0]))
    check(rc == 2 and "--port must be 1..65535" in objs[-1]["message"], objs)


@test
def wrong_port_names_the_ports_with_traffic():
    """a capture whose USB/IP traffic is on 3240, decoded with --port 80"""
    name = next(n for n in CAPTURES if n.endswith("-port-3240.pcap"))
    rc, objs, _ = decode("--port", "80", os.path.join(WORK, name))
    check(rc == 0, rc)
    notes = [o["note"] for o in objs if o["type"] == "usbip-note"]
    check(any("no USB/IP traffic found on port 80" in n and "port 3240 (" in n
               and "--port 3240" in n for n in notes), notes)
    # the same in text form
    p = subprocess.run([TOOL, "trace", "decode", "--port", "80", os.path.join(WORK, name)],
                       capture_output=True, text=True, env=ENV, timeout=60)
    check("no USB/IP traffic found on port 80" in p.stdout, p.stdout)


run_tests(cleanup=lambda: subprocess.run(["rm", "-rf", WORK]))
