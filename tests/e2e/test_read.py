"""ntmem read: the bytes of every manifest page whose sha256 is known, and
the naming of the pages that cannot be read (exit 3)."""
import hashlib
import os
import shutil
import tempfile
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

DUMPS = ["xp-sp2-seed-full.dmp", "xp-sp2-seed-pae-full.dmp",
         "xp-sp2-seed-pae-kernel.dmp", "xp-sp2-seed-pae-bitmap.dmp"]


def page_of(va):
    return int(va, 16) & ~0xFFF


class ReadMatchesManifest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ntmem-read-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def check_dump(self, name):
        path = fixture(name)
        entries = manifest(name).get("pte", [])
        if not entries:
            self.skipTest("%s: manifest has no pte list" % name)
        out = os.path.join(self.dir, "page.bin")
        checked = 0
        for w in entries:
            if "sha256" not in w:
                continue
            va = "0x%x" % page_of(w["va"])
            with self.subTest(dump=name, va=va, state=w["state"]):
                if os.path.exists(out):
                    os.unlink(out)
                rc, _, err = run_ntmem("read", path, va, "0n4096", "-o", out)
                if w["sha256"] is None:
                    if w["state"] == "stale":
                        continue     # bytes exist; whether they are this page's is pfn's business
                    self.assertEqual(rc, 3, err)
                    self.assertIn(va[2:].rjust(8, "0"), err)
                    continue
                self.assertEqual(rc, 0, err)
                with open(out, "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(), w["sha256"])
                checked += 1
        self.assertGreater(checked, 0)

    def test_full(self):
        self.check_dump(DUMPS[0])

    def test_pae_full(self):
        self.check_dump(DUMPS[1])

    def test_pae_kernel(self):
        self.check_dump(DUMPS[2])

    def test_pae_bitmap(self):
        self.check_dump(DUMPS[3])

    def test_json_names_unreadable_pages(self):
        path = fixture(DUMPS[0])
        bad = [w for w in manifest(DUMPS[0])["pte"] if w["state"] == "pagefile"]
        if not bad:
            self.skipTest("no pagefile page in the manifest")
        va = page_of(bad[0]["va"])
        # 16 bytes before the page (maybe readable) and 16 in it (not).
        doc = ntmem_json("read", path, "0x%x" % (va - 16), "0x20", expect=3)
        self.assertEqual(doc["length"], 32)
        self.assertEqual(len(doc["data"]), 64)
        names = [u for u in doc["unreadable"] if u["start"] == "0x%x" % va]
        self.assertEqual(len(names), 1)
        self.assertEqual(names[0]["state"], "pagefile")
        self.assertEqual(names[0]["end"], "0x%x" % (va + 16))
        self.assertEqual(names[0]["pagefile"], bad[0]["pagefile"])

    def test_text_hexdump_marks_unknown_bytes(self):
        path = fixture(DUMPS[0])
        bad = [w for w in manifest(DUMPS[0])["pte"] if w["state"] == "pagefile"]
        if not bad:
            self.skipTest("no pagefile page in the manifest")
        va = page_of(bad[0]["va"])
        rc, out, err = run_ntmem("read", path, "0x%x" % va, "0x10")
        self.assertEqual(rc, 3, err)
        self.assertIn(b"??", out)
        self.assertIn("pagefile", err)

    def test_valid_page_text_hexdump(self):
        path = fixture(DUMPS[0])
        good = [w for w in manifest(DUMPS[0])["pte"] if w["state"] == "valid" and w.get("sha256")]
        va = page_of(good[0]["va"])
        rc, out, err = run_ntmem("read", path, "0x%x" % va, "0x20")
        self.assertEqual(rc, 0, err)
        lines = out.decode().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith("%08x " % va))
        self.assertNotIn("??", out.decode())

    def test_output_does_not_follow_symlinks(self):
        path = fixture(DUMPS[0])
        target = os.path.join(self.dir, "target")
        with open(target, "w") as f:
            f.write("keep")
        link = os.path.join(self.dir, "link")
        os.symlink(target, link)
        rc, _, _ = run_ntmem("read", path, "0x80000000", "0x10", "-o", link)
        self.assertNotEqual(rc, 0)
        with open(target) as f:
            self.assertEqual(f.read(), "keep")

    def test_usage_errors(self):
        path = fixture(DUMPS[0])
        self.assertEqual(run_ntmem("read", path, "0x80000000")[0], 1)
        self.assertEqual(run_ntmem("read", path, "0xfffffff0", "0x20")[0], 1)
        self.assertEqual(run_ntmem("read", path, "0x80000000", "0x10", "-o")[0], 1)


if __name__ == "__main__":
    unittest.main()
