"""The command line itself (docs/cli.md): getopt_long habits, numbers read as
WinDbg reads them, help per command from the one usage table, near-match
suggestions; usage errors are exit 1, --version and --help 0."""
import json
import os
import re
import shutil
import tempfile
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

SEED = "xp-sp2-seed-full.dmp"
PAE = "xp-sp2-seed-pae-full.dmp"
COMMANDS = ("info", "pte", "read", "pools", "modules", "carve", "pfn", "explain", "report")


class CliUsage(unittest.TestCase):
    def test_version(self):
        rc, out, _ = run_ntmem("--version")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith(b"ntmem "))

    def test_help_lists_every_command(self):
        rc, out, _ = run_ntmem("--help")
        self.assertEqual(rc, 0)
        for cmd in COMMANDS:
            self.assertIn(("ntmem " + cmd).encode(), out)

    def test_help_names_options_that_were_only_in_docs(self):
        _, out, _ = run_ntmem("--help")
        for opt in (b"--raw", b"--keep-stale", b"--compare-with", b"--dtb", b"--kdbg", b"--fill"):
            self.assertIn(opt, out)
        self.assertIn(b"0n4096", out)

    def test_unknown_command_is_usage_error(self):
        rc, _, err = run_ntmem("frobnicate", "x.dmp")
        self.assertEqual(rc, 1)
        self.assertIn("unknown command", err)
        self.assertNotIn("did you mean", err)

    def test_unknown_command_suggests_the_near_one(self):
        rc, _, err = run_ntmem("moduls", "x.dmp")
        self.assertEqual(rc, 1)
        self.assertIn("did you mean 'modules'", err)

    def test_unknown_option_suggests_the_near_one(self):
        rc, _, err = run_ntmem("carve", "x.dmp", "-o", "d", "--keep-stail")
        self.assertEqual(rc, 1)
        self.assertIn("--keep-stale", err)

    def test_option_of_another_command_is_usage_error(self):
        rc, _, err = run_ntmem("pte", "x.dmp", "--all", "0x80000000")
        self.assertEqual(rc, 1)
        self.assertIn("not an option of pte", err)

    def test_no_command_is_usage_error(self):
        rc, _, _ = run_ntmem()
        self.assertEqual(rc, 1)

    def test_bad_number_is_usage_error(self):
        rc, _, err = run_ntmem("--dtb", "0xzz", "info", "x.dmp")
        self.assertEqual(rc, 1)
        self.assertIn("--dtb", err)

    def test_missing_value_is_usage_error(self):
        rc, _, err = run_ntmem("info", "x.dmp", "--dtb")
        self.assertEqual(rc, 1)
        self.assertIn("--dtb", err)

    def test_missing_dump_is_usage_error(self):
        rc, _, _ = run_ntmem("info")
        self.assertEqual(rc, 1)


class CommandHelp(unittest.TestCase):
    """`ntmem help CMD` and `ntmem CMD --help` print CMD's own options and
    exit statuses, and nothing of other commands'."""

    def test_carve_help_lists_carves_options(self):
        rc, out, _ = run_ntmem("carve", "--help")
        self.assertEqual(rc, 0)
        text = out.decode()
        for opt in ("-o", "--module", "--base", "--all", "--fill", "--force", "--keep-stale", "--compare-with"):
            self.assertIn(opt, text)
        self.assertIn("exit status", text)
        for status in ("0", "1", "2", "3"):
            self.assertRegex(text, r"(?m)^  %s  " % status)
        self.assertNotIn("\n  ntmem pfn", text)

    def test_help_cmd_equals_cmd_help(self):
        for cmd in COMMANDS:
            with self.subTest(cmd=cmd):
                a = run_ntmem("help", cmd)
                b = run_ntmem(cmd, "--help")
                c = run_ntmem("-h", cmd)
                self.assertEqual(a[0], 0)
                self.assertEqual(a[1], b[1])
                self.assertEqual(a[1], c[1])
                self.assertIn(("ntmem [GLOBAL OPTIONS] %s" % cmd).encode(), a[1])

    def test_pte_help_has_no_carve_options(self):
        _, out, _ = run_ntmem("help", "pte")
        self.assertNotIn(b"--module", out)
        self.assertNotIn(b"--keep-stale", out)

    def test_help_unknown_command_suggests(self):
        rc, _, err = run_ntmem("help", "carv")
        self.assertEqual(rc, 1)
        self.assertIn("did you mean 'carve'", err)

    def test_man_page_comes_from_the_same_table(self):
        rc, out, _ = run_ntmem("--man")
        self.assertEqual(rc, 0)
        text = out.decode()
        self.assertTrue(text.startswith(".TH NTMEM 1"))
        for cmd in COMMANDS:
            self.assertIn(".B %s" % cmd, text)
        self.assertIn("compare\\-with", text)
        self.assertIn(".SH EXIT STATUS", text)


class DocsInStep(unittest.TestCase):
    """docs/cli.md describes what --help (the usage table) offers."""

    def test_every_option_and_command_is_in_docs(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "docs", "cli.md")) as f:
            doc = f.read()
        _, man, _ = run_ntmem("--man")
        longs = set(re.findall(r"--([a-z][a-z-]*[a-z])", man.decode().replace("\\-", "-")))
        self.assertIn("keep-stale", longs)
        for name in sorted(longs):
            with self.subTest(option=name):
                self.assertIn("--" + name, doc)
        for cmd in COMMANDS + ("help",):
            self.assertIn("`%s " % cmd, doc)


class WindbgNumbers(unittest.TestCase):
    """Numbers are hex by default, 0x accepted, 0n marks decimal."""

    def walk_va(self, *args):
        doc = ntmem_json("pte", fixture(SEED), *args)
        return [r["va"] for r in doc["results"]]

    def test_bare_digits_are_hex(self):
        self.assertEqual(self.walk_va("80800000"), ["0x80800000"])

    def test_0x_and_0n(self):
        self.assertEqual(self.walk_va("0x80800000", "0n4096", "f7e8b000", "0X1000"),
                         ["0x80800000", "0x1000", "0xf7e8b000", "0x1000"])

    def test_text_table_address_pastes_back(self):
        m = manifest(SEED)
        base = m["modules"][2]["base"]
        _, out, _ = run_ntmem("modules", fixture(SEED))
        shown = re.search(r"\b(?:0x)?0*(%s)\b" % base[2:], out.decode())
        self.assertIsNotNone(shown, "modules text does not print %s" % base)
        self.assertEqual(self.walk_va(shown.group(0)), [base])

    def test_bad_numbers(self):
        path = fixture(SEED)
        for bad in ("0n12ab", "-1", "+1", " 1", "0x", "0n", "0x0x10", "1g", ""):
            with self.subTest(number=bad):
                self.assertEqual(run_ntmem("pte", path, bad)[0], 1)

    def test_decimal_length(self):
        rc, out, _ = run_ntmem("--json", "read", fixture(SEED), "0x80800000", "0n16")
        self.assertIn(rc, (0, 3))
        self.assertEqual(json.loads(out)["length"], 16)


class GetoptHabits(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ntmem-cli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_dtb_with_equals(self):
        a = ntmem_json("--dtb=0x39000", "info", fixture(PAE))["dump"]
        b = ntmem_json("--dtb", "0x39000", "info", fixture(PAE))["dump"]
        self.assertEqual(a["dtb"], "0x39000")
        self.assertEqual(a, b)

    def test_global_option_after_command(self):
        a = ntmem_json("info", fixture(PAE), "--dtb=39000")["dump"]
        self.assertEqual(a["dtb"], "0x39000")

    def test_short_option_glued_value(self):
        m = manifest(SEED)
        name = m["modules"][2]["name"]
        out = os.path.join(self.dir, "o")
        rc, _, err = run_ntmem("-q", "carve", fixture(SEED), "-o" + out, "--module=" + name)
        self.assertIn(rc, (0, 3), err)
        self.assertTrue(any(f.startswith(name) for f in os.listdir(out)), os.listdir(out))

    def test_double_dash_ends_options(self):
        odd = os.path.join(self.dir, "-odd.dmp")
        shutil.copyfile(fixture(SEED), odd)
        rc, out, err = run_ntmem("--json", "info", "--", odd)
        self.assertEqual(rc, 0, err)
        rc, _, err = run_ntmem("info", "--", "--json")
        self.assertEqual(rc, 2)
        self.assertIn("--json", err)

    def test_module_without_extension_suggests(self):
        m = manifest(SEED)
        name = next(x["name"] for x in m["modules"] if x["name"] and x["name"].endswith(".sys"))
        rc, _, err = run_ntmem("carve", fixture(SEED), "-o", os.path.join(self.dir, "o"),
                               "--module", name[:-4])
        self.assertEqual(rc, 3)
        self.assertIn("did you mean '%s'" % name, err)


if __name__ == "__main__":
    unittest.main()
