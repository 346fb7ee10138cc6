"""The command line itself: usage errors are exit 1, --version and --help 0."""
import unittest

from common import run_ntmem


class CliUsage(unittest.TestCase):
    def test_version(self):
        rc, out, _ = run_ntmem("--version")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith(b"ntmem "))

    def test_help_lists_every_command(self):
        rc, out, _ = run_ntmem("--help")
        self.assertEqual(rc, 0)
        for cmd in ("info", "pte", "read", "pools", "modules", "carve", "pfn", "explain", "report"):
            self.assertIn(("ntmem " + cmd).encode(), out)

    def test_unknown_command_is_usage_error(self):
        rc, _, err = run_ntmem("frobnicate", "x.dmp")
        self.assertEqual(rc, 1)
        self.assertIn("unknown command", err)

    def test_no_command_is_usage_error(self):
        rc, _, _ = run_ntmem()
        self.assertEqual(rc, 1)

    def test_bad_number_is_usage_error(self):
        rc, _, err = run_ntmem("--dtb", "0xzz", "info", "x.dmp")
        self.assertEqual(rc, 1)
        self.assertIn("--dtb", err)

    def test_missing_dump_is_usage_error(self):
        rc, _, _ = run_ntmem("info")
        self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()
