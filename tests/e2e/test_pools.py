"""pools --json against the fixture manifests: variables, regions (name,
start, end), overlaps and dynamic_va; and the seed thread's answer in text."""
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

DUMPS = [
    "xp-sp2-seed-full.dmp",
    "xp-sp2-seed-pae-full.dmp",
    "xp-sp2-seed-pae-kernel.dmp",
    "xp-sp2-seed-pae-bitmap.dmp",
    "win2003-sp2-pae-full.dmp",
    "win7-sp1-pae-full.dmp",
    "xp-sp2-kdbg-zero.dmp",
    "xp-sp2-module-cycle.dmp",
    "xp-sp2-name-paged-out.dmp",
]


def expected_pools(name):
    m = manifest(name)
    if "pools" not in m:
        raise unittest.SkipTest("%s: manifest has no pools section" % name)
    return m, m["pools"]


class PoolsMatchManifests(unittest.TestCase):
    def check(self, name):
        m, want = expected_pools(name)
        doc = ntmem_json("pools", fixture(name), expect=m.get("expect_exit", {}).get("pools", 0))
        for var, value in want["variables"].items():
            self.assertEqual(doc["variables"].get(var), value, "%s: %s" % (name, var))
        # An absent key means "not checked for this dump" (manifest schema).
        if "regions" in want:
            got = [(r["name"], r["start"], r["end"]) for r in doc["regions"]]
            self.assertEqual(got, [(r["name"], r["start"], r["end"]) for r in want["regions"]],
                             name)
        if "overlaps" in want:
            self.assertEqual([(o["a"], o["b"], o["start"], o["end"]) for o in doc["overlaps"]],
                             [(o["a"], o["b"], o["start"], o["end"]) for o in want["overlaps"]])
        if "dynamic_va" in want:
            self.assertEqual(doc["dynamic_va"], want["dynamic_va"], name)
        if doc["dynamic_va"]:
            self.assertTrue(all(l["source"].startswith("limit") for l in doc["limits"]))
        starts = [int(r["start"], 16) for r in doc["regions"]]
        self.assertEqual(starts, sorted(starts))

    def test_each_fixture(self):
        ran = 0
        for name in DUMPS:
            with self.subTest(dump=name):
                try:
                    self.check(name)
                    ran += 1
                except unittest.SkipTest as e:
                    print("skipped %s: %s" % (name, e))
        if ran == 0:
            self.skipTest("no pools fixture generated yet")


class SeedThreadAnswer(unittest.TestCase):
    def test_text_map_answers_the_thread(self):
        rc, out, err = run_ntmem("pools", fixture("xp-sp2-seed-full.dmp"))
        self.assertEqual(rc, 0, err)
        text = out.decode()
        for name in ("nonpaged_pool_initial", "nonpaged_pool_expansion", "paged_pool",
                     "system_ptes", "(gap)", "MmPagedPoolEnd", "edbfffff"):
            self.assertIn(name, text)
        self.assertIn("do not overlap", text)
        self.assertIn("system PTE space", text)
        # Sorted map: the initial pool comes before paged pool, which comes
        # before the expansion pool.
        self.assertLess(text.index("nonpaged_pool_initial"), text.index("paged_pool  "))
        self.assertLess(text.index("paged_pool  "), text.index("nonpaged_pool_expansion"))

    def test_paged_pool_end_is_normalised_and_raw_value_kept(self):
        doc = ntmem_json("pools", fixture("xp-sp2-seed-full.dmp"))
        pp = [r for r in doc["regions"] if r["name"] == "paged_pool"][0]
        self.assertEqual(pp["end"], "0xedc00000")
        self.assertEqual(doc["variables"]["MmPagedPoolEnd"], "0xedbfffff")
        self.assertEqual(doc["overlaps"], [])
        self.assertEqual(doc["kdbg"]["source"], "header")
        self.assertEqual(doc["unreadable_variables"], {})


class KdbgChoice(unittest.TestCase):
    def test_kdbg_zero_option_forces_the_scan_to_the_same_block(self):
        path = fixture("xp-sp2-seed-full.dmp")
        a = ntmem_json("pools", path)
        b = ntmem_json("--kdbg", "0", "pools", path)
        self.assertEqual(b["kdbg"]["source"], "scan")
        self.assertEqual(b["kdbg"]["va"], a["kdbg"]["va"])
        self.assertEqual(b["regions"], a["regions"])

    def test_kdbg_option_is_validated(self):
        path = fixture("xp-sp2-seed-full.dmp")
        good = ntmem_json("pools", path)["kdbg"]["va"]
        doc = ntmem_json("--kdbg", good, "pools", path)
        self.assertEqual(doc["kdbg"]["source"], "option")
        rc, out, err = run_ntmem("--json", "--kdbg", "0x80400000", "pools", path)
        self.assertEqual(rc, 3)
        self.assertIn("--kdbg", err)


if __name__ == "__main__":
    unittest.main()
