"""Issue 11, item 7: one idea, one spelling (old keys kept beside the added
ones), ntmem_version in every document, and one name for a module whose
BaseDllName page is paged out (docs/cli.md, JSON)."""
import json
import os
import shutil
import tempfile
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

SEED = "xp-sp2-seed-full.dmp"
CRASH = "xp-sp2-crash-50.dmp"
PAGED_NAME = "xp-sp2-name-paged-out.dmp"


class JsonKeys(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ntmem-keys-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_every_document_carries_the_version(self):
        _, out, _ = run_ntmem("--version")
        version = out.decode().split()[1]
        path = fixture(SEED)
        for args in (["info"], ["pte", "0x80000000"], ["read", "0x80000000", "0x10"], ["pools"],
                     ["modules"], ["carve", "-o", os.path.join(self.dir, "c"), "--module", "srv.sys"],
                     ["pfn", "0x100"], ["explain"], ["report"]):
            with self.subTest(command=args[0]):
                rc, out, err = run_ntmem("--json", args[0], path, *args[1:])
                self.assertIn(rc, (0, 3), err)
                doc = json.loads(out)
                self.assertEqual(doc["ntmem_version"], version)
                self.assertEqual(doc["command"], args[0])

    def test_pfn_checked_and_stale_checked(self):
        path = fixture(SEED)
        pte = ntmem_json("pte", path, "0x80000000")
        carve = ntmem_json("carve", path, "-o", self.dir, "--module", "srv.sys")
        for doc in (pte, carve):
            self.assertIs(doc["pfn_checked"], True)
            self.assertEqual(doc["pfn_checked"], doc["stale_checked"])

    def test_stack_candidates_have_va(self):
        doc = ntmem_json("explain", fixture(CRASH))
        cands = doc["stack_candidates"]
        self.assertTrue(cands)
        for c in cands:
            self.assertEqual(c["va"], c["address"])

    def test_kdbg_spelled_alike_in_info_and_pools(self):
        path = fixture(SEED)
        want = manifest(SEED)["dump"]["kdbg"]
        info = ntmem_json("info", path)["dump"]
        pools = ntmem_json("pools", path)
        self.assertEqual(info["kdbg"], want)
        self.assertEqual(info["kdbg_va"], want)
        self.assertEqual(pools["kdbg"]["va"], want)
        self.assertEqual(pools["kdbg_va"], want)
        self.assertEqual(pools["kdbg_source"], info["kdbg_source"])
        self.assertEqual(pools["kdbg_source"], pools["kdbg"]["source"])


class NameFromFullDllName(unittest.TestCase):
    """afd.sys's BaseDllName buffer is paged out in this fixture: the module
    is afd.sys in modules text and JSON and in carve's files."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ntmem-name-")
        self.path = fixture(PAGED_NAME)
        self.want = next(m for m in manifest(PAGED_NAME)["modules"] if m.get("name_state"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_json_names_it_and_says_why(self):
        got = {m["base"]: m for m in ntmem_json("modules", self.path)["modules"]}[self.want["base"]]
        self.assertEqual(got["name"], self.want["name"])
        self.assertEqual(got["name_state"], "pagefile")
        self.assertEqual(got["name_source"], "full_dll_name")
        self.assertEqual(got["path"], self.want["path"])

    def test_text_and_carve_use_the_same_name(self):
        name = self.want["name"]
        rc, out, err = run_ntmem("modules", self.path)
        self.assertEqual(rc, 0, err)
        row = [l for l in out.decode().splitlines() if l.startswith(self.want["base"][2:])]
        self.assertEqual(len(row), 1)
        self.assertIn(" %s " % name, row[0])
        doc = ntmem_json("carve", self.path, "-o", self.dir, "--module", name)
        self.assertEqual(doc["modules"][0]["name"], name)
        files = sorted(os.listdir(self.dir))
        self.assertTrue(files and all(f.startswith(name + "@") for f in files), files)


if __name__ == "__main__":
    unittest.main()
