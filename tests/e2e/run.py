"""Runs every tests/e2e/test_*.py (unittest) and ends with the plain line
'e2e: N passed, N failed, N skipped' that CI reads.

    run.py [PATTERN] [--dir DIR] [--label NAME]

PATTERN picks test files (default test_*.py); --dir runs another folder of
unittest files the same way (make check runs the generator's self-test with
it, label "fixtures"). When $NTMEM_COUNTS is set the counts also go there
for make check's last line (tests/check_counts.py)."""
import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from check_counts import record  # noqa: E402


class Result(unittest.TextTestResult):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pattern", nargs="?", default="test_*.py")
    ap.add_argument("--dir", default=HERE)
    ap.add_argument("--label", default="e2e")
    a = ap.parse_args()
    folder = os.path.abspath(a.dir)
    sys.path.insert(0, folder)
    suite = unittest.defaultTestLoader.discover(folder, pattern=a.pattern, top_level_dir=folder)
    runner = unittest.TextTestRunner(resultclass=Result, verbosity=2, stream=sys.stdout)
    res = runner.run(suite)
    for test, reason in res.skipped:
        print("skipped: %s: %s" % (test.id(), reason))
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    record(a.label, res.passed, failed, len(res.skipped))
    print("%s: %d passed, %d failed, %d skipped" % (a.label, res.passed, failed, len(res.skipped)))
    sys.exit(1 if failed or res.passed == 0 else 0)


if __name__ == "__main__":
    main()
