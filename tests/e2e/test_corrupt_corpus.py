"""The corrupted-dump corpus (fixtures/corrupt.py): every command on every
hostile dump ends with an expected status, never a signal or a sanitizer or
valgrind report; exit 2 prints exactly one line 'ntmem: FILE: WHAT: WHY';
exits 0 and 3 print one valid JSON document; and nothing is written
anywhere but inside -o DIR, under safe names, within a size bound.

A command that is still a placeholder ("not implemented yet", exit 1) is
skipped with that reason; once it lands, exit 1 on a dump is a failure."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

from common import FIXTURES, NTMEM, WRAPPER

CORRUPT = os.path.abspath(os.path.join(FIXTURES, "corrupt"))
BINARY = os.path.abspath(NTMEM)     # the runs happen in a temporary directory
SANITIZED = "asan" in os.environ.get("BUILD", "") or bool(WRAPPER)
TIMEOUT = 900 if WRAPPER else 60
# A carve of any dump writes at most this much to disk (the largest real
# driver images are tens of MiB; holes are sparse); a single file past it
# gets SIGXFSZ.
MAX_OUTPUT = 256 << 20
MAX_ADDRESS_SPACE = 3 << 30
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._@-]{0,150}$")
ALARMS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
          "runtime error:", "Invalid read", "Invalid write", "uninitialised",
          "definitely lost", "Process terminating")
# Under valgrind each run is slow: a sample, one mutation of each layer on
# two bases, three commands (ASan runs the whole corpus).
VALGRIND_COMMANDS = ("info", "modules", "carve")
VALGRIND_BASES = ("mini-full", "mini-pae-full")
VALGRIND_MUTATIONS = ("intact", "trunc-0x64", "sig-PAGX", "nruns-87", "runs-overlap",
                      "pde-loop", "pte-transition-wild", "pte-prototype-wild", "kdbg-size-ffff",
                      "modules-cycle", "module-name-surrogates", "module-name-traversal",
                      "pe-sections-65535", "pe-relocs-block-size-0")


def limited(cmd):
    """CMD under the output-size (and, without ASan or valgrind, address
    space) limits; the shell's ulimit, as preexec_fn is unsafe in threads."""
    lim = "ulimit -c 0; ulimit -f %d; " % (MAX_OUTPUT // 512)
    if not SANITIZED:
        lim += "ulimit -v %d; " % (MAX_ADDRESS_SPACE // 1024)
    return ["sh", "-c", lim + 'exec "$@"', "sh"] + cmd


def load_corpus():
    if not os.path.isdir(CORRUPT):
        raise unittest.SkipTest("corrupted corpus not generated (%s)" % CORRUPT)
    out = []
    for f in sorted(os.listdir(CORRUPT)):
        if f.endswith(".dmp.json"):
            with open(os.path.join(CORRUPT, f)) as fh:
                man = json.load(fh)
            out.append((os.path.join(CORRUPT, f[:-5]), man))
    if not out:
        raise unittest.SkipTest("corrupted corpus is empty")
    if WRAPPER:
        out = [(p, m) for p, m in out
               if m.get("base") in VALGRIND_BASES and m.get("mutation") in VALGRIND_MUTATIONS]
    return out


def run_confined(dump, args):
    """Runs ntmem --json -q ARGS in a fresh directory; {OUT} is DIR/out.
    Returns (status, stdout, stderr, problems with what was written)."""
    top = tempfile.mkdtemp(prefix="ntmem-corrupt-")
    try:
        out = os.path.join(top, "out")
        os.mkdir(out)
        argv = [a.replace("{OUT}", out) for a in args]
        cmd = WRAPPER + [BINARY, "--json", "-q", argv[0], dump] + argv[1:]
        try:
            p = subprocess.run(limited(cmd), cwd=top, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, b"", "timed out after %d s" % TIMEOUT, []
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), written(top, out)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def written(top, out):
    problems = []
    extra = sorted(set(os.listdir(top)) - {"out"})
    if extra:
        problems.append("wrote outside -o DIR: %s" % extra)
    total = 0
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if os.path.islink(path) or not os.path.isfile(path):
            problems.append("%s in DIR is not a regular file" % name)
            continue
        if not SAFE_NAME.match(name):
            problems.append("unsafe output name %r" % name)
        total += os.stat(path).st_blocks * 512     # holes in sparse files cost nothing
    if total > MAX_OUTPUT:
        problems.append("wrote %d bytes" % total)
    return problems


def check_one(dump, man, args):
    """All that is wrong with one run, as a list of strings."""
    command = args[0]
    rc, out, err, problems = run_confined(dump, args)
    where = "%s: %s" % (os.path.basename(dump), " ".join(args))
    bad = ["%s: %s" % (where, p) for p in problems]
    if rc is None:
        return bad + ["%s: %s" % (where, err)]
    if rc < 0:
        return bad + ["%s: killed by signal %d; stderr: %s" % (where, -rc, err[-500:])]
    for alarm in ALARMS:
        if alarm in err:
            return bad + ["%s: checker report (%s): %s" % (where, alarm, err[-1500:])]
    allowed = man["expect_exit"].get(command, [0, 2, 3])
    allowed = allowed if isinstance(allowed, list) else [allowed]
    if rc not in allowed:
        bad.append("%s: exit %d, expected %s; stderr: %s" % (where, rc, allowed, err.strip()[:300]))
    if rc == 2:
        bad += ["%s: %s" % (where, p) for p in error_line_problems(dump, err, man)]
    elif rc in (0, 3):
        try:
            doc = json.loads(out)
            if doc.get("schema") != "ntmem/1" or doc.get("command") != command:
                bad.append("%s: JSON document lacks schema/command" % where)
        except ValueError as e:
            bad.append("%s: stdout is not one JSON document (%s)" % (where, e))
    return bad


def error_line_problems(dump, err, man):
    lines = err.splitlines()
    if len(lines) != 1:
        return ["exit 2 with %d stderr lines: %r" % (len(lines), err[:300])]
    prefix = "ntmem: %s: " % dump
    if not lines[0].startswith(prefix):
        return ["error line does not start with %r: %r" % (prefix, lines[0])]
    parts = lines[0][len(prefix):].split(": ", 1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        return ["error line is not 'WHAT: WHY': %r" % lines[0]]
    want = man.get("expect_error", {}).get("what")
    if want:
        want = want if isinstance(want, list) else [want]
        if not any(w.lower() in parts[0].lower() for w in want):
            return ["WHAT %r names none of %s" % (parts[0], want)]
    return []


def placeholder(command, corpus):
    """The reason to skip COMMAND when it is not implemented yet."""
    intact = [d for d, m in corpus if m.get("mutation") == "intact"]
    dump = intact[0] if intact else corpus[0][0]
    p = subprocess.run([BINARY, command, dump], capture_output=True, timeout=60)
    if p.returncode == 1 and b"not implemented" in p.stderr:
        return "ntmem %s is not implemented yet" % command
    return None


class CorruptCorpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.corpus = load_corpus()

    def run_command(self, command):
        if WRAPPER and command not in VALGRIND_COMMANDS:
            self.skipTest("under %s only %s run" % (WRAPPER[0], ", ".join(VALGRIND_COMMANDS)))
        reason = placeholder(command, self.corpus)
        if reason:
            self.skipTest(reason)
        jobs = []
        for dump, man in self.corpus:
            for args in man["commands"]:
                if args[0] == command:
                    jobs.append((dump, man, args))
        self.assertTrue(jobs, "no %s runs in the corpus" % command)
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = [p for bad in pool.map(lambda j: check_one(*j), jobs) for p in bad]
        if found:
            self.fail("%d problems in %d runs of %s:\n  %s" % (
                len(found), len(jobs), command, "\n  ".join(found[:40])))


def _add(command):
    setattr(CorruptCorpus, "test_" + command, lambda self: self.run_command(command))


for _c in ("info", "pte", "read", "pools", "modules", "carve", "pfn", "explain", "report"):
    _add(_c)


if __name__ == "__main__":
    unittest.main()
