"""ntmem pfn --json against the manifests' `pfn` lists (list, counts,
PteAddress, VA, owner module/section/offset or region), and the per-item
states of PFNs that cannot be read."""
import json
import os
import shutil
import struct
import tempfile
import unittest

from common import FIXTURES, fixture, manifest, ntmem_json, run_ntmem

CRASH_DUMPS = ["xp-sp2-crash-4e.dmp", "xp-sp2-crash-50.dmp"]
SEED = "xp-sp2-seed-full.dmp"
READABLE = ("valid", "transition", "demand_zero")
# Keys of a pfn result whose values the manifest states exactly.
RESULT_KEYS = ["pfn", "pa", "entry_address", "entry_state", "list", "reference_count",
               "share_count", "pte_address", "va", "original_pte"]
OWNER_KEYS = ["module", "section", "offset", "region"]


def expected_exit(man, results):
    if "pfn" in man.get("expect_exit", {}):
        return man["expect_exit"]["pfn"]
    return 0 if all(r.get("entry_state") in READABLE for r in results) else 3


def compare_result(test, got, want, where):
    for key in RESULT_KEYS:
        if key in want:
            test.assertIn(key, got, "%s: pfn result lacks %s" % (where, key))
            test.assertEqual(got[key], want[key], "%s: %s" % (where, key))
    if "owner" not in want:
        return
    if want["owner"] is None:
        test.assertIsNone(got.get("owner"), "%s: owner" % where)
        return
    test.assertIsNotNone(got.get("owner"), "%s: owner is null, expected %r" % (where, want["owner"]))
    for key in OWNER_KEYS:
        if key in want["owner"]:
            test.assertEqual(got["owner"].get(key), want["owner"][key], "%s: owner.%s" % (where, key))


class PfnMatchesManifest(unittest.TestCase):
    def check_dump(self, name):
        path = fixture(name)
        man = manifest(name)
        want = man.get("pfn")
        if not want:
            self.skipTest("%s: manifest has no pfn list" % name)
        args = [w["pfn"] for w in want]
        doc = ntmem_json("pfn", path, *args, expect=expected_exit(man, want))
        self.assertEqual(doc["command"], "pfn")
        self.assertEqual(len(doc["results"]), len(want))
        for got, w in zip(doc["results"], want):
            compare_result(self, got, w, "%s pfn %s" % (name, w["pfn"]))

    def test_crash_4e(self):
        self.check_dump(CRASH_DUMPS[0])

    def test_crash_50(self):
        self.check_dump(CRASH_DUMPS[1])

    def test_seed(self):
        self.check_dump(SEED)

    def test_every_fixture_with_a_pfn_list(self):
        """Other versions' layouts (2003 order, Windows 7, PAE) as the generator adds them."""
        if not os.path.isdir(FIXTURES):
            self.skipTest("no fixtures generated")
        names = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".dmp"))
        checked = 0
        for name in names:
            if name in CRASH_DUMPS or name == SEED or not manifest(name).get("pfn"):
                continue
            with self.subTest(dump=name):
                self.check_dump(name)
            checked += 1
        if not checked:
            self.skipTest("no other fixture has a pfn list")


class PfnPerItemStates(unittest.TestCase):
    def test_beyond_the_database_is_out_of_range_and_partial(self):
        path = fixture(SEED)
        highest = 0x3fff    # MmHighestPhysicalPage of the seed machine (fixtures/README.md)
        doc = ntmem_json("pfn", path, hex(highest + 1), "0xffffffff", expect=3)
        for r in doc["results"]:
            self.assertEqual(r["entry_state"], "out_of_range")
            self.assertNotIn("list", r)
        self.assertEqual(doc["results"][0]["pfn"], "0x%x" % (highest + 1))
        self.assertEqual(doc["results"][1]["pa"], "0xffffffff000")

    def test_huge_pfn_does_not_wrap(self):
        # 0x100000000000 * 0x18 wraps a 32-bit multiply back into the database.
        doc = ntmem_json("pfn", fixture(SEED), "0x100000000000", expect=3)
        self.assertEqual(doc["results"][0]["entry_state"], "out_of_range")

    def test_bad_number_is_usage_error(self):
        rc, _, err = run_ntmem("pfn", fixture(SEED), "12zz")
        self.assertEqual(rc, 1)
        self.assertIn("12zz", err)

    def test_no_pfn_is_usage_error(self):
        rc, _, _ = run_ntmem("pfn", fixture(SEED))
        self.assertEqual(rc, 1)

    def test_text_output_names_list_and_owner(self):
        path = fixture(CRASH_DUMPS[0])
        want = manifest(CRASH_DUMPS[0]).get("pfn") or []
        active = [w for w in want if w.get("list") == "active" and w.get("owner")]
        if not active:
            self.skipTest("no active PFN with an owner in the manifest")
        rc, out, err = run_ntmem("pfn", path, active[0]["pfn"])
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("list active", text)
        owner = active[0]["owner"]
        self.assertIn(owner.get("module") or owner.get("region"), text)

    def test_json_is_one_document(self):
        rc, out, _ = run_ntmem("--json", "pfn", fixture(SEED), "0x100")
        self.assertIn(rc, (0, 3))
        doc = json.loads(out)
        self.assertEqual(doc["schema"], "ntmem/1")


RUNS = 0x64            # DUMP_HEADER32.PhysicalMemoryBlock: NumberOfRuns, NumberOfPages, runs
PFN_DATABASE_PA = 0xc00000      # MmPfnDatabase 0x80c00000 under the boot large page (fixtures/README.md)
XP_ENTRY = 0x18


class DamagedDatabase(unittest.TestCase):
    """A full dump edited on disk: the page of the database that holds the
    entry of SEED_PFN removed from the runs, or that entry's PteAddress
    pointed nowhere. Each gives a per-item state and exit 3, never a crash."""
    SEED_PFN = 0x1402       # srv.sys .text+0x1000 in the crash fixtures

    def setUp(self):
        self.src = fixture(CRASH_DUMPS[0])
        self.tmp = tempfile.mkdtemp(prefix="ntmem-pfn-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def read_runs(self, data):
        n, pages = struct.unpack_from("<II", data, RUNS)
        return [struct.unpack_from("<II", data, RUNS + 8 + 8 * i) for i in range(n)], pages

    def file_offset(self, runs, pfn):
        before = 0
        for base, count in runs:
            if base <= pfn < base + count:
                return 0x1000 + (before + pfn - base) * 0x1000
            before += count
        raise AssertionError("PFN %#x not in the dump" % pfn)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_database_page_missing(self):
        data = bytearray(open(self.src, "rb").read())
        runs, pages = self.read_runs(data)
        entry_pa = PFN_DATABASE_PA + self.SEED_PFN * XP_ENTRY
        gone = entry_pa >> 12
        off = self.file_offset(runs, gone)
        del data[off:off + 0x1000]
        split = []
        for base, count in runs:
            if base <= gone < base + count:
                split += [(base, gone - base), (gone + 1, base + count - gone - 1)]
            else:
                split.append((base, count))
        split = [(b, c) for b, c in split if c]
        struct.pack_into("<II", data, RUNS, len(split), pages - 1)
        for i, (b, c) in enumerate(split):
            struct.pack_into("<II", data, RUNS + 8 + 8 * i, b, c)
        struct.pack_into("<Q", data, 0xFA0, len(data))      # RequiredDumpSpace
        path = self.write("database-page-missing.dmp", bytes(data))
        doc = ntmem_json("pfn", path, hex(self.SEED_PFN), "0x100", expect=3)
        missing, other = doc["results"]
        self.assertEqual(missing["entry_state"], "not_in_dump")
        self.assertEqual(missing["entry_address"], "0x%x" % (0x80000000 + entry_pa))
        self.assertNotIn("list", missing)
        self.assertIn(other["entry_state"], READABLE)

    def test_pte_address_pointing_nowhere(self):
        data = bytearray(open(self.src, "rb").read())
        runs, _ = self.read_runs(data)
        entry_pa = PFN_DATABASE_PA + self.SEED_PFN * XP_ENTRY
        off = self.file_offset(runs, entry_pa >> 12) + (entry_pa & 0xfff)
        struct.pack_into("<I", data, off + 4, 0x12345678)    # PteAddress: unmapped user VA
        path = self.write("pte-address-nowhere.dmp", bytes(data))
        doc = ntmem_json("pfn", path, hex(self.SEED_PFN), expect=3)
        r = doc["results"][0]
        self.assertEqual(r["entry_state"], "valid")
        self.assertEqual(r["list"], "active")
        self.assertEqual(r["pte_address"], "0x12345678")
        self.assertIsNone(r["va"])
        self.assertIsNone(r["owner"])
        self.assertEqual(r["pte_link"], "nowhere")
        # explain on the same dump (0x4E/7 on that PFN) says so, and is partial.
        doc = ntmem_json("explain", path, expect=3)
        self.assertIsNone(doc["bugcheck"]["params"][1]["resolved"]["owner"])


if __name__ == "__main__":
    unittest.main()
