"""Bad input ends with exit 2 and one stderr line `ntmem: FILE: WHAT: WHY`:
the generator's bad/ fixtures (with their expected exits and fields), and
files made here (empty, truncated, wrong signature, not a file)."""
import glob
import json
import os
import shutil
import tempfile
import unittest

from common import FIXTURES, fixture, run_ntmem

COMMAND_ARGS = {"info": [], "pte": ["0x80000000"], "read": ["0x80000000", "0x10"]}


def one_error_line(test, path, err):
    lines = err.strip().splitlines()
    test.assertEqual(len(lines), 1, "stderr: %r" % err)
    test.assertTrue(lines[0].startswith("ntmem: %s: " % path), lines[0])
    parts = lines[0][len("ntmem: %s: " % path):].split(": ", 1)
    test.assertEqual(len(parts), 2, lines[0])
    test.assertTrue(parts[0] and parts[1], lines[0])
    return lines[0]


class GeneratedBadDumps(unittest.TestCase):
    def test_every_bad_fixture(self):
        dumps = sorted(glob.glob(os.path.join(FIXTURES, "bad", "*.dmp")))
        if not dumps:
            raise unittest.SkipTest("no bad/ fixtures generated yet")
        for path in dumps:
            with open(path + ".json") as f:
                m = json.load(f)
            for cmd, code in sorted(m.get("expect_exit", {}).items()):
                if cmd not in COMMAND_ARGS:
                    continue
                with self.subTest(dump=os.path.basename(path), command=cmd):
                    rc, _, err = run_ntmem(cmd, path, *COMMAND_ARGS[cmd])
                    self.assertEqual(rc, code, err)
                    if code == 2:
                        line = one_error_line(self, path, err)
                        what = m.get("expect_error", {}).get("what")
                        if what:
                            self.assertIn(what, line)
            # A walk that fails part-way is a per-VA state, not an error.
            for w in m.get("pte", []):
                with self.subTest(dump=os.path.basename(path), va=w["va"]):
                    rc, out, err = run_ntmem("--json", "pte", path, w["va"])
                    self.assertEqual(rc, 0, err)
                    got = json.loads(out)["results"][0]
                    for key in ("state", "pa", "large_page", "entries"):
                        if key in w:
                            self.assertEqual(got.get(key), w[key], key)


class MadeHereBadFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ntmem-bad-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def expect_bad(self, path, what):
        for cmd, args in COMMAND_ARGS.items():
            rc, out, err = run_ntmem(cmd, path, *args)
            self.assertEqual(rc, 2, "%s: %s" % (cmd, err))
            self.assertIn(what, one_error_line(self, path, err))
            self.assertEqual(out, b"")

    def test_empty_file(self):
        self.expect_bad(self.write("empty.dmp", b""), "file")

    def test_missing_file(self):
        self.expect_bad(os.path.join(self.dir, "absent.dmp"), "file")

    def test_directory(self):
        self.expect_bad(self.dir, "not a regular file")

    def test_wrong_signature(self):
        self.expect_bad(self.write("mdmp.dmp", b"MDMP" + b"\0" * 8188), "header.Signature")

    def test_wrong_valid_dump(self):
        self.expect_bad(self.write("page.dmp", b"PAGEDUMX" + b"\0" * 8184), "header.ValidDump")

    def test_truncated_header(self):
        self.expect_bad(self.write("short.dmp", b"PAGEDUMP" + b"PAGE" * 100), "header")

    def test_truncated_copy_of_a_fixture(self):
        try:
            src = fixture("xp-sp2-seed-full.dmp")
        except unittest.SkipTest:
            raise
        with open(src, "rb") as f:
            data = f.read(0x1000 + 0x3000)
        self.expect_bad(self.write("cut.dmp", data), "past end of file")


if __name__ == "__main__":
    unittest.main()
