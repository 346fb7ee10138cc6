"""Runs every tests/e2e/test_*.py (unittest) and ends with the plain line
'e2e: N passed, N failed, N skipped' that CI reads."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TextTestResult):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main():
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    runner = unittest.TextTestRunner(resultclass=Result, verbosity=2, stream=sys.stdout)
    res = runner.run(suite)
    for test, reason in res.skipped:
        print("skipped: %s: %s" % (test.id(), reason))
    failed = len(res.failures) + len(res.errors)
    print("e2e: %d passed, %d failed, %d skipped" % (res.passed, failed, len(res.skipped)))
    sys.exit(1 if failed or res.passed == 0 else 0)


if __name__ == "__main__":
    main()
