"""pools --json against the fixture manifests: variables, regions (name,
start, end), overlaps and dynamic_va; and the seed thread's answer in text."""
import unittest

from common import check_each_fixture, fixture, manifest, ntmem_json, run_ntmem

DUMPS = [
    "xp-sp2-seed-full.dmp",
    "xp-sp2-seed-pae-full.dmp",
    "xp-sp2-seed-pae-kernel.dmp",
    "xp-sp2-seed-pae-bitmap.dmp",
    "win2003-sp2-pae-full.dmp",
    "win7-sp1-pae-full.dmp",
    "vista-sp2-pae-full.dmp",
    "xp-sp2-kdbg-zero.dmp",
    "xp-sp2-module-cycle.dmp",
    "xp-sp2-name-paged-out.dmp",
    "xp-sp2-pool-partly-mapped.dmp",
    "xp-sp2-pool-large-slush.dmp",
    "xp-sp2-pool-kernel-sparse.dmp",
    "win7-sp1-no-vatype-pae-full.dmp",
]

# Dumps whose initial non-paged pool is not mapped exactly to its end.
POOL_SPLIT = ["xp-sp2-pool-partly-mapped.dmp", "xp-sp2-pool-large-slush.dmp",
              "xp-sp2-pool-kernel-sparse.dmp"]


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
            got = [(r["name"], r["start"], r["end"], r.get("bound")) for r in doc["regions"]]
            self.assertEqual(got, [(r["name"], r["start"], r["end"], r.get("bound"))
                                   for r in want["regions"]], name)
        if "overlaps" in want:
            self.assertEqual([(o["a"], o["b"], o["start"], o["end"]) for o in doc["overlaps"]],
                             [(o["a"], o["b"], o["start"], o["end"]) for o in want["overlaps"]])
        if "dynamic_va" in want:
            self.assertEqual(doc["dynamic_va"], want["dynamic_va"], name)
        if doc["dynamic_va"]:
            self.assertTrue(all(l["source"].startswith("limit") for l in doc["limits"]))
        if "system_va_type" in want:
            got = doc["system_va_type"]
            self.assertTrue(got["found"], "%s: %s" % (name, got.get("why")))
            self.assertEqual((got["address"], got["entries"]),
                             (want["system_va_type"]["address"], want["system_va_type"]["entries"]), name)
        starts = [int(r["start"], 16) for r in doc["regions"]]
        self.assertEqual(starts, sorted(starts))

    def test_each_fixture(self):
        check_each_fixture(self, DUMPS, self.check, "pools")


class DynamicVaMap(unittest.TestCase):
    def test_text_names_the_kernels_own_map(self):
        rc, out, err = run_ntmem("pools", fixture("win7-sp1-pae-full.dmp"))
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("the kernel's own map: MiSystemVaType at", text)
        for name in ("boot_images", "pfn_database", "nonpaged_pool", "paged_pool", "driver_images",
                     "= 12 DriverImages", "Limits"):
            self.assertIn(name, text)

    def test_modules_are_placed_by_the_map(self):
        doc = ntmem_json("modules", fixture("win7-sp1-pae-full.dmp"))
        want = {m["name"]: m["region"] for m in manifest("win7-sp1-pae-full.dmp")["modules"]}
        self.assertEqual({m["name"]: m["region"] for m in doc["modules"]}, want)
        self.assertIn("driver_images", want.values())


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


class PoolSplitFromKernelRecords(unittest.TestCase):
    """NT 5.x: the expansion pool begins where the kernel registered it
    (MmSystemPtesStart[1], one guard page above), not where the mappings after
    MmNonPagedPoolStart happen to end."""

    def test_split_overlaps_and_text_agree(self):
        for name in POOL_SPLIT:
            with self.subTest(dump=name):
                want = manifest(name)["pools"]
                doc = ntmem_json("pools", fixture(name))
                self.assertEqual(doc["overlaps"], [])
                self.assertIn("MmSystemPtesStart[1]", doc["variables"])
                self.assertEqual(doc["variables"]["MmSystemPtesStart[1]"],
                                 want["variables"]["MmSystemPtesStart[1]"])
                initial = [r for r in doc["regions"] if r["name"] == "nonpaged_pool_initial"][0]
                size = int(initial["end"], 16) - int(initial["start"], 16)
                self.assertEqual(hex(size), want["derived"]["MmSizeOfNonPagedPoolInBytes"])
                self.assertEqual(doc["initial_pool_check"]["initial_size"], size)
                rc, out, err = run_ntmem("pools", fixture(name))
                self.assertEqual(rc, 0, err)
                text = out.decode()
                self.assertNotIn("OVERLAP", text)
                self.assertIn("No two regions overlap", text)
                self.assertNotIn("values overlap", text)

    def test_disagreeing_mappings_are_only_a_cross_check(self):
        doc = ntmem_json("pools", fixture("xp-sp2-pool-partly-mapped.dmp"))
        check = doc["initial_pool_check"]
        self.assertFalse(check["agrees"])
        self.assertLess(check["mapped_from_start"], check["initial_size"])
        text = run_ntmem("pools", fixture("xp-sp2-pool-partly-mapped.dmp"))[1].decode()
        self.assertIn("Cross-check", text)
        slush = ntmem_json("pools", fixture("xp-sp2-pool-large-slush.dmp"))["initial_pool_check"]
        self.assertFalse(slush["agrees"])
        self.assertGreater(slush["mapped_from_start"], slush["initial_size"])
        seed = ntmem_json("pools", fixture("xp-sp2-seed-full.dmp"))
        self.assertTrue(seed["initial_pool_check"]["agrees"])
        self.assertNotIn("Cross-check", run_ntmem("pools", fixture("xp-sp2-seed-full.dmp"))[1].decode())


class LimitsInRegions(unittest.TestCase):
    """Vista and later without MiSystemVaType: a script looking up paged_pool
    in `regions` finds it, marked as a limit; `limits` is unchanged."""

    def test_paged_pool_is_a_limit_region(self):
        doc = ntmem_json("pools", fixture("win7-sp1-no-vatype-pae-full.dmp"))
        self.assertFalse(doc["system_va_type"]["found"])
        byname = {r["name"]: r for r in doc["regions"]}
        for name in ("paged_pool", "nonpaged_pool"):
            self.assertEqual(byname[name]["bound"], "limit")
            lim = [l for l in doc["limits"] if l["name"] == name][0]
            self.assertEqual((byname[name]["start"], byname[name]["end"]), (lim["start"], lim["end"]))
        self.assertNotIn("bound", byname["page_tables"])
        self.assertEqual(doc["overlaps"], [])
        # A limit places nothing: the gaps are those between placed regions.
        self.assertEqual([(g["start"], g["end"]) for g in doc["gaps"]], [("0x8fc00000", "0xc0000000")])
        # With the kernel's own map found, no region is a limit.
        found = ntmem_json("pools", fixture("win7-sp1-pae-full.dmp"))
        self.assertTrue(found["system_va_type"]["found"])
        self.assertFalse([r for r in found["regions"] if "bound" in r])


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


def drop_page(src, dst, pfn):
    """Copies the kernel (summary, DumpType 2) dump SRC to DST without the
    page of PFN: its bitmap bit cleared, its 4 KiB removed, Pages lowered
    (summary layout: HeaderSize 0x100C, BitmapSize 0x1010, Pages 0x1014,
    bits at 0x1020, reference §2.2)."""
    import struct
    with open(src, "rb") as f:
        d = bytearray(f.read())
    assert d[0x1000:0x1004] == b"SDMP"
    first, bits, pages = struct.unpack_from("<III", d, 0x100C)
    bitmap = d[0x1020:0x1020 + (bits + 7) // 8]
    assert bitmap[pfn // 8] & (1 << (pfn % 8)), "PFN %#x is not in the dump" % pfn
    rank = sum(bin(b).count("1") for b in bitmap[:pfn // 8]) + \
        bin(bitmap[pfn // 8] & ((1 << (pfn % 8)) - 1)).count("1")
    del d[first + rank * 4096:first + (rank + 1) * 4096]
    d[0x1020 + pfn // 8] &= ~(1 << (pfn % 8)) & 0xFF
    struct.pack_into("<I", d, 0x1014, pages - 1)
    with open(dst, "wb") as f:
        f.write(d)


class UnreadableVariable(unittest.TestCase):
    def test_missing_variable_page_is_reported_and_the_rest_printed(self):
        import tempfile, os
        name = "xp-sp2-seed-pae-kernel.dmp"
        full = ntmem_json("pools", fixture(name))
        addr = int(full["variable_addresses"]["MmMaximumNonPagedPoolInBytes"], 16)
        # The kernel area is mapped by large pages from PA 0 (fixtures/README.md).
        pfn = (addr - 0x80000000) >> 12
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "no-variables-page.dmp")
            drop_page(fixture(name), path, pfn)
            doc = ntmem_json("pools", path, expect=3)
            rc, out, err = run_ntmem("pools", path)
        self.assertEqual(rc, 3)
        self.assertIsNone(doc["variables"]["MmMaximumNonPagedPoolInBytes"])
        self.assertEqual(doc["unreadable_variables"]["MmMaximumNonPagedPoolInBytes"], "not_in_dump")
        self.assertEqual(doc["variables"]["MmPagedPoolEnd"], full["variables"]["MmPagedPoolEnd"])
        names = [r["name"] for r in doc["regions"]]
        self.assertIn("paged_pool", names)
        # The initial pool's size needs the maximum; the expansion needs only
        # the kernel's record of where it begins (MmSystemPtesStart[1]).
        self.assertNotIn("nonpaged_pool_initial", names)
        self.assertEqual("nonpaged_pool_expansion" in names,
                         doc["variables"].get("MmSystemPtesStart[1]") is not None)
        self.assertIn("pool_split_note", doc)
        self.assertIn("not split", out.decode())
        self.assertIn("unreadable (not_in_dump)", out.decode())
        self.assertIn("MmMaximumNonPagedPoolInBytes", err)
