"""Many dumps (docs/batch.md): --jsonl writes one compact object per dump
per line, with the dump's exit status and the tool version, and exits with
the worst status; the GNU parallel recipe over the fixtures gives the same
lines as per-dump runs; a folder with one corrupt dump gives one error line
and the rest intact."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from common import FIXTURES, NTMEM, WRAPPER, fixture, run_ntmem, ntmem_json


def dumps():
    found = sorted(glob.glob(os.path.join(FIXTURES, "*.dmp")))
    if not found:
        raise unittest.SkipTest("no fixtures generated")
    return found


def lines(out):
    text = out.decode("utf-8")
    assert text.endswith("\n"), "the last line ends with a newline"
    rows = text.split("\n")[:-1]
    for r in rows:
        assert "\n" not in r and r.startswith("{"), r
    return [json.loads(r) for r in rows]


class JsonLines(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ntmem-batch-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_one_line_per_dump_equal_to_its_own_json(self):
        paths = dumps()
        rc, out, err = run_ntmem("-q", "--jsonl", "info", *paths)
        got = lines(out)
        self.assertEqual([g["file"] for g in got], paths)
        statuses = []
        for path, line in zip(paths, got):
            with self.subTest(dump=os.path.basename(path)):
                rc1, out1, _ = run_ntmem("--json", "info", path)
                statuses.append(rc1)
                self.assertEqual(line["exit"], rc1)
                self.assertIn("ntmem_version", line)
                if rc1 in (0, 3):
                    doc = json.loads(out1)
                    self.assertEqual({k: v for k, v in line.items() if k not in ("file", "exit", "ntmem_version")},
                                     {k: v for k, v in doc.items() if k != "ntmem_version"})
        self.assertEqual(rc, max(statuses))

    def test_corrupt_dump_is_one_error_line_and_the_rest_intact(self):
        folder = os.path.join(self.tmp, "dumps")
        os.mkdir(folder)
        good = [fixture("xp-sp2-seed-full.dmp"), fixture("win7-sp1-pae-full.dmp")]
        for g in good:
            os.symlink(os.path.abspath(g), os.path.join(folder, os.path.basename(g)))
        bad = os.path.join(folder, "corrupt.dmp")
        with open(good[0], "rb") as f:
            head = bytearray(f.read(8192))
        head[0:4] = b"XXXX"
        with open(bad, "wb") as f:
            f.write(head)
        paths = sorted(glob.glob(os.path.join(folder, "*.dmp")))
        rc, out, err = run_ntmem("--jsonl", "modules", *paths)
        got = {g["file"]: g for g in lines(out)}
        self.assertEqual(sorted(got), paths)
        self.assertEqual(rc, 2)
        self.assertEqual(got[bad]["exit"], 2)
        self.assertTrue(got[bad]["error"].startswith("ntmem: %s: " % bad), got[bad])
        self.assertNotIn("modules", got[bad])
        self.assertIn(got[bad]["error"], err, "the error still reaches stderr")
        for g in paths:
            if g != bad:
                want = ntmem_json("modules", g)
                self.assertEqual(got[g]["exit"], 0)
                self.assertEqual(got[g]["modules"], want["modules"])

    def test_commands_with_arguments_take_one_dump(self):
        rc, out, err = run_ntmem("--jsonl", "pte", fixture("xp-sp2-seed-full.dmp"), "0x804d7000")
        self.assertEqual(rc, 0, err)
        (line,) = lines(out)
        self.assertEqual(line["results"][0]["va"], "0x804d7000")

    @unittest.skipIf(WRAPPER, "GNU parallel runs the plain binary (not under the wrapper)")
    def test_gnu_parallel_recipe(self):
        if not shutil.which("parallel"):
            self.skipTest("GNU parallel is not installed (Debian package parallel; make deps-test installs it)")
        paths = dumps()
        find = subprocess.Popen(["find", FIXTURES, "-maxdepth", "1", "-name", "*.dmp", "-print0"],
                                stdout=subprocess.PIPE)
        p = subprocess.run(["parallel", "-0", "-X", "-j", "2", "-n", "3", os.path.abspath(NTMEM), "-q", "--jsonl",
                            "info"], stdin=find.stdout, capture_output=True, timeout=600,
                           env=dict(os.environ, HOME=self.tmp))
        find.wait()
        merged = lines(p.stdout)
        self.assertEqual(sorted(m["file"] for m in merged), paths)
        for m in merged:
            with self.subTest(dump=os.path.basename(m["file"])):
                rc, out, _ = run_ntmem("-q", "--jsonl", "info", m["file"])
                self.assertEqual(lines(out), [m])
        # parallel's status counts the jobs (batches of up to 3 dumps) that failed
        if any(m["exit"] != 0 for m in merged):
            self.assertGreater(p.returncode, 0)
        else:
            self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()
