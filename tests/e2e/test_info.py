"""ntmem info --json against the generator's manifests (every key the
manifest's `dump` object gives must match)."""
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

DUMPS = ["xp-sp2-seed-full.dmp", "xp-sp2-seed-pae-full.dmp",
         "xp-sp2-seed-pae-kernel.dmp", "xp-sp2-seed-pae-bitmap.dmp"]

# Keys of the contract's dump object that the manifest may state.
CONTRACT_KEYS = ["format", "type", "arch", "pae", "dtb", "kdbg", "kdbg_source", "build",
                 "bugcheck", "processors", "system_time", "pages_in_dump", "physical_runs"]


class InfoMatchesManifest(unittest.TestCase):
    def check_dump(self, name):
        path = fixture(name)
        want = manifest(name)["dump"]
        got = ntmem_json("info", path)["dump"]
        self.assertEqual(got["path"], path)
        for key in CONTRACT_KEYS:
            self.assertIn(key, got, "info lacks %s" % key)
            if key in want:
                self.assertEqual(got[key], want[key], "%s: dump.%s" % (name, key))

    def test_full(self):
        self.check_dump(DUMPS[0])

    def test_pae_full(self):
        self.check_dump(DUMPS[1])

    def test_pae_kernel(self):
        self.check_dump(DUMPS[2])

    def test_pae_bitmap(self):
        self.check_dump(DUMPS[3])

    def test_text_output_names_type_and_arch(self):
        path = fixture(DUMPS[0])
        rc, out, err = run_ntmem("info", path)
        self.assertEqual(rc, 0, err)
        text = out.decode()
        want = manifest(DUMPS[0])["dump"]
        self.assertIn("type:          %s" % want.get("type", "full"), text)
        self.assertIn("dtb:           %s" % want["dtb"], text)

    def test_dtb_option_overrides_header(self):
        path = fixture(DUMPS[0])
        got = ntmem_json("--dtb", "0x12345000", "info", path)["dump"]
        self.assertEqual(got["dtb"], "0x12345000")

    def test_kdbg_option_is_reported_as_option(self):
        path = fixture(DUMPS[0])
        got = ntmem_json("info", path, "--kdbg", "0x80545ae0")["dump"]
        self.assertEqual(got["kdbg"], "0x80545ae0")
        self.assertEqual(got["kdbg_source"], "option")

    def test_extra_argument_is_usage_error(self):
        rc, _, _ = run_ntmem("info", fixture(DUMPS[0]), "extra")
        self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()


class PagingModeInUse(unittest.TestCase):
    """A raw image names no paging mode: `pae` is the mode the walks use with
    the DTB given, guessed from its alignment (a PAE root is 32-byte aligned,
    a non-PAE one page aligned), so that `pae` and `dtb` go together."""

    def test_raw_image_pae_follows_the_dtb(self):
        path = fixture("xp-sp2-seed-pae-full.dmp")
        for dtb, pae in (("0x319020", True), ("0x39000", False)):
            got = ntmem_json("--raw", "--dtb", dtb, "info", path)["dump"]
            self.assertEqual((got["format"], got["dtb"], got["pae"]), ("raw", dtb, pae))
        rc, out, err = run_ntmem("--raw", "--dtb", "0x319020", "info", path)
        self.assertEqual(rc, 0, err)
        self.assertIn("PAE (paging mode guessed from the DTB)", out.decode())

    def test_header_mode_is_kept(self):
        got = ntmem_json("--dtb", "0x39000", "info", fixture("xp-sp2-seed-pae-full.dmp"))["dump"]
        self.assertTrue(got["pae"])
