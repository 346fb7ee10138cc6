"""Helpers for the end-to-end tests: run the ntmem binary, load manifests.

Environment (set by the Makefile): NTMEM (the binary), FIXTURES (folder of
generated dumps and their .json manifests), NTMEM_WRAPPER (optional command
prefix such as valgrind).
"""
import json
import os
import shlex
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NTMEM = os.environ.get("NTMEM", os.path.join(ROOT, "build", "ntmem"))
FIXTURES = os.environ.get("FIXTURES", os.path.join(ROOT, "build", "fixtures"))
WRAPPER = shlex.split(os.environ.get("NTMEM_WRAPPER", ""))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
REAL = os.path.join(SHARED, "real")
TIMEOUT = 600 if WRAPPER else 120


def run_ntmem(*args, stdin=None):
    """Runs ntmem with ARGS; returns (exit status, stdout bytes, stderr text)."""
    p = subprocess.run(WRAPPER + [NTMEM] + [str(a) for a in args],
                       input=stdin, capture_output=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def ntmem_json(*args, expect=0):
    """Runs ntmem --json ARGS, checks the exit status, returns the document."""
    rc, out, err = run_ntmem("--json", *args)
    if rc != expect:
        raise AssertionError("ntmem %s: exit %d, expected %d; stderr: %s"
                             % (" ".join(map(str, args)), rc, expect, err.strip()))
    doc = json.loads(out)
    if doc.get("schema") != "ntmem/1":
        raise AssertionError("schema is %r" % doc.get("schema"))
    return doc


def fixture(name):
    """Path of a generated dump; the test is skipped when it was not made."""
    path = os.path.join(FIXTURES, name)
    if not os.path.exists(path):
        raise unittest.SkipTest("fixture %s not generated" % name)
    return path


def manifest(name):
    """The ground-truth manifest written beside dump NAME."""
    with open(fixture(name) + ".json") as f:
        return json.load(f)


def real_file(relpath):
    """A third-party sample from ../shared/real, or a skip with the reason."""
    path = os.path.join(REAL, relpath)
    if not os.path.exists(path):
        raise unittest.SkipTest("../shared/real/%s is absent" % relpath)
    return path


def hexs(v):
    """The contract's address spelling: lowercase 0x hex."""
    return "0x%x" % v


def check_each_fixture(test, dumps, check, what):
    """Runs CHECK(name) on each of DUMPS as a subtest; a fixture not generated
    is reported and passed over, and the test is skipped when none was."""
    ran = 0
    for name in dumps:
        with test.subTest(dump=name):
            try:
                check(name)
                ran += 1
            except unittest.SkipTest as e:
                print("skipped %s: %s" % (name, e))
    if ran == 0:
        test.skipTest("no %s fixture generated yet" % what)
