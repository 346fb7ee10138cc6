"""ntmem report: info, explain, pools and modules in one run, plus the carve
of every module with -o; each part is the part's own command output."""
import os
import shutil
import tempfile
import unittest

from common import FIXTURES, fixture, manifest, run_ntmem
import json

SEED = "xp-sp2-seed-full.dmp"
PARTS = ("info", "explain", "pools", "modules")


class Report(unittest.TestCase):
    def setUp(self):
        self.path = fixture(SEED)
        self.manifest = manifest(SEED)
        self.out = tempfile.mkdtemp(prefix="ntmem-report-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def run_json(self, *args):
        rc, out, err = run_ntmem("--json", "report", self.path, *args)
        doc = json.loads(out)
        self.assertEqual(doc["schema"], "ntmem/1")
        self.assertEqual(doc["command"], "report")
        unavailable = [p for p in PARTS if "unavailable" in doc.get(p, {"unavailable": 1})]
        # a part missing from the build is marked, not an error of the dump
        self.assertEqual(rc, 0, "exit %d; unavailable %s; %s" % (rc, unavailable, err))
        return doc, unavailable

    def test_json_parts_match_their_commands(self):
        doc, unavailable = self.run_json()
        want = self.manifest["dump"]
        for key in ("type", "dtb", "kdbg", "build", "bugcheck"):
            self.assertEqual(doc["info"]["dump"][key], want[key])
        if "pools" not in unavailable:
            self.assertIn("regions", doc["pools"])
        if "modules" not in unavailable:
            self.assertEqual([m["name"] for m in doc["modules"]["modules"]],
                             [m["name"] for m in self.manifest["modules"]])
        self.assertNotIn("carve", doc)

    def test_carves_every_module_with_o(self):
        doc, _ = self.run_json("-o", self.out)
        carved = doc["carve"]["modules"]
        self.assertEqual(sorted(m["base"] for m in carved),
                         sorted(c["base"] for c in self.manifest["carve"]))
        for m in carved:
            for f in m["files"].values():
                self.assertTrue(os.path.isfile(os.path.join(self.out, f)), f)

    def test_text_has_every_part_in_order(self):
        rc, out, err = run_ntmem("report", self.path, "-o", self.out)
        self.assertEqual(rc, 0, err)
        text = out.decode()
        heads = ["ntmem info", "ntmem explain", "ntmem pools", "ntmem modules", "ntmem carve"]
        pos = [text.find(h) for h in heads]
        self.assertTrue(all(p >= 0 for p in pos), pos)
        self.assertEqual(pos, sorted(pos))
        self.assertIn("srv.sys", text)

    def test_second_run_needs_force(self):
        self.assertEqual(run_ntmem("-q", "report", self.path, "-o", self.out)[0], 0)
        rc, _, err = run_ntmem("-q", "report", self.path, "-o", self.out)
        self.assertEqual(rc, 3)
        self.assertIn("--force", err)
        rc, _, err = run_ntmem("-q", "--json", "report", self.path, "-o", self.out, "--force")
        self.assertEqual(rc, 0, err)

    def test_report_json_in_the_folder_is_the_json_report(self):
        rc, out, err = run_ntmem("-q", "report", self.path, "-o", self.out)
        self.assertEqual(rc, 0, err)
        with open(os.path.join(self.out, "report.json")) as f:
            stored = json.load(f)
        doc, _ = self.run_json("-o", os.path.join(self.out, "again"))
        for part in PARTS + ("carve",):
            want, got = doc[part], stored[part]
            if part == "carve":
                want, got = dict(want, output_dir=None), dict(got, output_dir=None)
            self.assertEqual(got, want, part)
        self.assertEqual([f for f in os.listdir(self.out) if "partial" in f], [])
        # a second run keeps the stored report unless --force
        rc, _, err = run_ntmem("-q", "report", self.path, "-o", self.out)
        self.assertEqual(rc, 3)
        self.assertIn("report.json", err)

    def test_bad_argument_is_usage_error(self):
        self.assertEqual(run_ntmem("report", self.path, "--bogus")[0], 1)


ENVELOPE = ("schema", "command", "ntmem_version")


def without_envelope(doc):
    return {k: v for k, v in doc.items() if k not in ENVELOPE}


class ReportSaysWhatCommandsSay(unittest.TestCase):
    """The report renders each part from one open dump; each part must be
    exactly what the part's own command prints, on every fixture: x86 and
    x64, triage (no page tables), dumps without a KDBG, broken module
    lists. An unavailable part is allowed only where the command itself
    fails (exit 2), and the report's status is then partial."""

    def dumps(self):
        names = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".dmp"))
        self.assertGreater(len(names), 10)
        return names

    def test_every_part_equals_its_command(self):
        for name in self.dumps():
            path = os.path.join(FIXTURES, name)
            rc, out, err = run_ntmem("-q", "--json", "report", path)
            with self.subTest(dump=name):
                self.assertIn(rc, (0, 3), err)
                doc = json.loads(out)
                worst = 0
                for part in PARTS:
                    prc, pout, perr = run_ntmem("-q", "--json", part, path)
                    if prc == 2:
                        self.assertIn("unavailable", doc[part], part)
                        worst = 3
                        continue
                    worst = max(worst, prc)
                    self.assertEqual(doc[part], without_envelope(json.loads(pout)), part)
                self.assertEqual(rc, worst, "report's status is the worst of its parts'")

    def test_text_parts_equal_their_commands(self):
        for name in ("xp-sp2-seed-full.dmp", "win7-sp1-pae-full.dmp", "xp-sp2-triage.dmp",
                     "xp-sp2-kdbg-zero.dmp"):
            path = fixture(name)
            rc, out, err = run_ntmem("-q", "report", path)
            text = out.decode()
            with self.subTest(dump=name):
                for part in PARTS:
                    prc, pout, _ = run_ntmem("-q", part, path)
                    if prc != 2:
                        self.assertIn(pout.decode(), text, part)


if __name__ == "__main__":
    unittest.main()
