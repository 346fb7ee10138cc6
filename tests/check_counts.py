#!/usr/bin/env python3
"""The counts behind `make check`'s last line.

Every stage of make check (fixtures self-test, cmocka unit tests, e2e, the
same under ASan+UBSan, fuzz runs, valgrind) records how many of its tests
passed, failed and were skipped in a file under $NTMEM_COUNTS; `summary`
adds them up and prints the one line CI reads:

    check: N passed, N failed, N skipped

    check_counts.py unit LABEL BINARY...     run cmocka binaries, record their counts
    check_counts.py summary DIR STAGE=STATUS...
        per-stage lines, then the total; a stage whose make exited non-zero
        without recording a failure (a build error) counts as one failure.
"""
import os
import re
import subprocess
import sys


def record(label, passed, failed, skipped):
    """Adds a line to $NTMEM_COUNTS/LABEL (nothing when it is not set)."""
    folder = os.environ.get("NTMEM_COUNTS")
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    stage = os.environ.get("NTMEM_STAGE", "")
    name = (stage + "-" if stage else "") + label
    with open(os.path.join(folder, name), "a") as f:
        f.write("%d %d %d\n" % (passed, failed, skipped))


def cmocka_counts(output, status):
    """(passed, failed, skipped) from cmocka's default output."""
    def count(tag):
        m = re.search(r"^\[\s*%s\s*\] (\d+) test" % tag, output, re.M)
        return int(m.group(1)) if m else 0
    passed, failed, skipped = count("PASSED"), count("FAILED"), count("SKIPPED")
    failed += count("ERROR")
    if status != 0 and failed == 0:
        failed = 1          # crashed or exited early: it did not pass
    return passed, failed, skipped


def run_unit(label, binaries):
    totals = [0, 0, 0]
    for b in binaries:
        p = subprocess.run([b], capture_output=True, text=True, errors="replace")
        sys.stdout.write(p.stdout)
        sys.stdout.write(p.stderr)
        for i, n in enumerate(cmocka_counts(p.stdout + p.stderr, p.returncode)):
            totals[i] += n
    record(label, *totals)
    print("%s: %d passed, %d failed, %d skipped" % (label, *totals))
    return 1 if totals[1] else 0


def summary(folder, stages):
    total = [0, 0, 0]
    by_label = {}
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name)) as f:
                for line in f:
                    n = [int(x) for x in line.split()]
                    c = by_label.setdefault(name, [0, 0, 0])
                    for i in range(3):
                        c[i] += n[i]
    for name, c in by_label.items():
        print("  %-22s %d passed, %d failed, %d skipped" % (name + ":", *c))
        for i in range(3):
            total[i] += c[i]
    for arg in stages:
        stage, _, status = arg.partition("=")
        recorded_failure = any(c[1] for n, c in by_label.items() if n.startswith(stage_prefix(stage)))
        if status != "0" and not recorded_failure:
            print("  %-22s exit %s with no test failure recorded: counted as 1 failed" % (stage + ":", status))
            total[1] += 1
    print("check: %d passed, %d failed, %d skipped" % tuple(total))
    return 1 if total[1] else 0


def stage_prefix(stage):
    """The count-file names a make stage writes (see the Makefile's check)."""
    return {"check-fixtures": "fixtures", "unit": "unit", "e2e": "e2e", "check-sanitize": "asan",
            "check-fuzz": "fuzz", "check-valgrind": "valgrind"}.get(stage, stage)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "unit":
        return run_unit(sys.argv[2], sys.argv[3:])
    if len(sys.argv) >= 3 and sys.argv[1] == "summary":
        return summary(sys.argv[2], sys.argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
