"""--expect STORED.json: the same analysis passes with the command's own
status; a changed one exits 4 with one line per difference naming the JSON
path, the stored value and this run's; keys that change from run to run
(the dump's path, the output folder, the version) are not compared.
report -o DIR writes DIR/report.json, ready to be stored."""
import json
import os
import shutil
import tempfile
import unittest

from common import fixture, run_ntmem, ntmem_json

SEED = "xp-sp2-seed-full.dmp"


class Expect(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ntmem-expect-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def store(self, doc, name="stored.json"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def test_every_command_passes_on_its_own_output(self):
        dump = fixture(SEED)
        for args in (["info"], ["pools"], ["modules"], ["explain"], ["pte", "0x804d7000"], ["pfn", "0x100"],
                     ["report"]):
            with self.subTest(command=args[0]):
                rc, out, err = run_ntmem("--json", args[0], dump, *args[1:])
                stored = self.store(json.loads(out))
                rc2, out2, err2 = run_ntmem("--expect", stored, args[0], dump, *args[1:])
                self.assertEqual(rc2, rc, err2)
                self.assertEqual(out2, b"", "without --json nothing but the verdict")
                self.assertNotIn("expect:", err2)
                rc3, out3, _ = run_ntmem("--json", "--expect", stored, args[0], dump, *args[1:])
                self.assertEqual(rc3, rc)
                self.assertEqual(json.loads(out3), json.loads(out))

    def test_a_changed_value_is_exit_4_with_a_pointed_line(self):
        dump = fixture(SEED)
        doc = ntmem_json("modules", dump)
        doc["modules"][1]["base"] = "0x12345000"
        del doc["modules"][2]["entry"]
        doc["extra"] = True
        rc, out, err = run_ntmem("--expect", self.store(doc), "modules", dump)
        self.assertEqual(rc, 4, err)
        got = ntmem_json("modules", dump)
        lines = [l for l in err.splitlines() if l.startswith("ntmem: expect: ")]
        self.assertEqual(len(lines), 3, err)
        self.assertIn('ntmem: expect: .modules[1].base: expected "0x12345000", got "%s"'
                      % got["modules"][1]["base"], lines)
        self.assertIn('ntmem: expect: .modules[2].entry: expected (absent), got "%s"'
                      % got["modules"][2]["entry"], lines)
        self.assertIn("ntmem: expect: .extra: expected true, got (absent)", lines)

    def test_volatile_keys_are_ignored(self):
        dump = fixture(SEED)
        doc = ntmem_json("info", dump)
        doc["dump"]["path"] = "/elsewhere/copy.dmp"
        doc["ntmem_version"] = "9.9.9"
        rc, _, err = run_ntmem("--expect", self.store(doc), "info", dump)
        self.assertEqual(rc, 0, err)
        doc["dump"]["build"] = 1234
        rc, _, err = run_ntmem("--expect", self.store(doc), "info", dump)
        self.assertEqual(rc, 4)
        self.assertIn("ntmem: expect: .dump.build: expected 1234, got ", err)

    def test_report_json_is_stored_and_checked(self):
        dump = fixture(SEED)
        out = os.path.join(self.tmp, "out")
        rc, _, err = run_ntmem("-q", "report", dump, "-o", out)
        self.assertEqual(rc, 0, err)
        with open(os.path.join(out, "report.json")) as f:
            stored = json.load(f)
        self.assertEqual(stored["command"], "report")
        self.assertEqual(len(stored["carve"]["modules"]), len(ntmem_json("modules", dump)["modules"]))
        # the stored report passes against a run into another folder
        rc, _, err = run_ntmem("-q", "--expect", os.path.join(out, "report.json"), "report", dump,
                               "-o", os.path.join(self.tmp, "out2"))
        self.assertEqual(rc, 0, err)
        self.assertNotIn("expect:", err)
        stored["carve"]["modules"][0]["bytes_missing"] += 4096
        rc, _, err = run_ntmem("-q", "--expect", self.store(stored), "report", dump)
        self.assertEqual(rc, 4)
        self.assertIn("ntmem: expect: .carve: expected {", err)

    def test_stored_file_that_is_not_json(self):
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write("{ not json")
        rc, _, err = run_ntmem("--expect", bad, "info", fixture(SEED))
        self.assertEqual(rc, 2)
        self.assertIn("bad.json", err)

    def test_bad_dump_keeps_its_status(self):
        empty = os.path.join(self.tmp, "empty.dmp")
        open(empty, "wb").close()
        rc, _, err = run_ntmem("--expect", self.store({"schema": "ntmem/1"}), "info", empty)
        self.assertEqual(rc, 2, err)


if __name__ == "__main__":
    unittest.main()
