"""How the KDBG is found: header, scan (header pointer zero) or option, as
each fixture's manifest states it, through `info` and `pools`."""
import glob
import os
import unittest

from common import FIXTURES, fixture, manifest, ntmem_json, run_ntmem


def x86_fixtures_with_kdbg():
    out = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*.dmp"))):
        name = os.path.basename(path)
        d = manifest(name).get("dump", {})
        if d.get("arch") == "x86" and d.get("kdbg_source") and d.get("type") != "triage":
            out.append((name, d))
    return out


class KdbgAsManifestsSay(unittest.TestCase):
    def test_info_and_pools_name_the_block_and_its_source(self):
        found = x86_fixtures_with_kdbg()
        if not found:
            self.skipTest("no x86 fixture with a KDBG generated yet")
        for name, d in found:
            with self.subTest(dump=name):
                info = ntmem_json("info", fixture(name))["dump"]
                self.assertEqual((info["kdbg"], info["kdbg_source"]), (d["kdbg"], d["kdbg_source"]))
                pools = ntmem_json("pools", fixture(name))
                self.assertEqual(pools["kdbg"]["va"], d["kdbg"])
                self.assertEqual(pools["kdbg"]["source"], d["kdbg_source"])

    def test_zero_header_pointer_is_found_by_scan(self):
        name = "xp-sp2-kdbg-zero.dmp"
        want = manifest(name)["dump"]
        self.assertEqual(want["kdbg_source"], "scan")
        doc = ntmem_json("pools", fixture(name))
        self.assertEqual(doc["kdbg"], {"va": want["kdbg"], "source": "scan", "size": 0x290})
        self.assertEqual(ntmem_json("modules", fixture(name))["complete"], True)


class KdbgOptions(unittest.TestCase):
    def test_forced_scan_agrees_with_header_on_every_version(self):
        for name in ("xp-sp2-seed-pae-kernel.dmp", "win2003-sp2-pae-full.dmp",
                     "win7-sp1-pae-full.dmp", "vista-sp2-pae-full.dmp"):
            with self.subTest(dump=name):
                want = manifest(name)["dump"]["kdbg"]
                doc = ntmem_json("--kdbg", "0", "pools", fixture(name))
                self.assertEqual(doc["kdbg"]["va"], want)
                self.assertEqual(doc["kdbg"]["source"], "scan")

    def test_block_that_fails_validation_is_refused_with_a_reason(self):
        path = fixture("xp-sp2-seed-full.dmp")
        good = int(manifest("xp-sp2-seed-full.dmp")["dump"]["kdbg"], 16)
        # Eight bytes further on there is no "KDBG" tag.
        rc, out, err = run_ntmem("--json", "--kdbg", hex(good + 8), "modules", path)
        self.assertEqual(rc, 3)
        self.assertIn("kdbg.OwnerTag", err)

    def test_memoryless_dumps_are_refused_in_one_line(self):
        rc, out, err = run_ntmem("pools", fixture("xp-sp2-triage.dmp"))
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertIn("triage", err)


if __name__ == "__main__":
    unittest.main()
