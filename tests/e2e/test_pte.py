"""ntmem pte --json against the manifests' `pte` lists: state, physical
address, large page, every entry (level, address, value) and the page-file
location, for non-PAE and PAE full, kernel and bitmap dumps."""
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

DUMPS = ["xp-sp2-seed-full.dmp", "xp-sp2-seed-pae-full.dmp",
         "xp-sp2-seed-pae-kernel.dmp", "xp-sp2-seed-pae-bitmap.dmp"]
BATCH = 200   # VAs per ntmem run (the command line takes at most 256 arguments)


def pte_results(path, vas):
    out = []
    for i in range(0, len(vas), BATCH):
        doc = ntmem_json("pte", path, *vas[i:i + BATCH])
        out.append(doc)
    return out


class PteMatchesManifest(unittest.TestCase):
    def check_dump(self, name):
        path = fixture(name)
        want = manifest(name).get("pte")
        if not want:
            self.skipTest("%s: manifest has no pte list" % name)
        docs = pte_results(path, [w["va"] for w in want])
        got = [r for d in docs for r in d["results"]]
        # The seed dumps have a KDBG, so the PFN database check (stale) runs.
        self.assertTrue(all(d.get("pfn_checked") for d in docs), "pfn_checked")
        self.assertEqual(len(got), len(want))
        states = set()
        for w, g in zip(want, got):
            with self.subTest(dump=name, va=w["va"]):
                self.assertEqual(g["va"], w["va"])
                states.add(w["state"])
                self.assertEqual(g["state"], w["state"])
                for key in ("pa", "large_page", "entries", "pagefile"):
                    if key in w:
                        self.assertEqual(g.get(key), w[key], key)
        return states

    def test_full(self):
        states = self.check_dump(DUMPS[0])
        for s in ("valid", "transition", "pagefile", "demand_zero", "prototype", "not_mapped"):
            self.assertIn(s, states, "the fixture should exercise %s" % s)

    def test_pae_full(self):
        self.check_dump(DUMPS[1])

    def test_pae_kernel(self):
        states = self.check_dump(DUMPS[2])
        self.assertIn("not_in_dump", states)

    def test_pae_bitmap(self):
        self.check_dump(DUMPS[3])

    def test_text_output_lists_entries(self):
        path = fixture(DUMPS[0])
        w = manifest(DUMPS[0])["pte"][0]
        rc, out, err = run_ntmem("pte", path, w["va"])
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn(w["state"], text)
        for e in w["entries"]:
            self.assertIn(e["value"], text)

    def test_dtb_outside_memory_is_bad_input(self):
        path = fixture(DUMPS[0])
        rc, out, err = run_ntmem("--dtb", "0xfffff000", "pte", path, "0x80000000")
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertIn("DirectoryTableBase", err)

    def test_dtb_override_changes_the_walk(self):
        path = fixture(DUMPS[0])
        d = manifest(DUMPS[0])["dump"]
        doc = ntmem_json("--dtb", d["dtb"], "pte", path, "0x80000000")
        first = doc["results"][0]["entries"][0]
        self.assertEqual(int(first["address"], 16) & ~0xFFF, int(d["dtb"], 16))

    def test_bad_va_is_usage_error(self):
        path = fixture(DUMPS[0])
        self.assertEqual(run_ntmem("pte", path, "0x100000000")[0], 1)
        self.assertEqual(run_ntmem("pte", path, "nonsense")[0], 1)
        self.assertEqual(run_ntmem("pte", path)[0], 1)


if __name__ == "__main__":
    unittest.main()
