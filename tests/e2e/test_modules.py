"""modules --json against the fixture manifests (list order, every field,
region of each image), and the exit status of lists that cannot be walked."""
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
]
FIELDS = ("name", "path", "base", "end", "size", "entry", "region")


class ModulesMatchManifests(unittest.TestCase):
    def check(self, name):
        m = manifest(name)
        if "modules" not in m:
            raise unittest.SkipTest("%s: manifest has no modules section" % name)
        expect = m.get("expect_exit", {}).get("modules", 0)
        doc = ntmem_json("modules", fixture(name), expect=expect)
        got = doc["modules"]
        self.assertEqual(len(got), len(m["modules"]), name)
        for g, w in zip(got, m["modules"]):
            for f in FIELDS:
                if f in w:
                    self.assertEqual(g.get(f), w[f], "%s: %s of %s" % (name, f, w.get("name")))
            if w.get("name") is None and "name_state" in w:
                self.assertEqual(g.get("name_state"), w["name_state"], name)
        self.assertEqual(doc["complete"], expect == 0, name)

    def test_each_fixture(self):
        check_each_fixture(self, DUMPS, self.check, "modules")


class SeedThreadDrivers(unittest.TestCase):
    def test_thread_drivers_are_in_system_pte_space(self):
        doc = ntmem_json("modules", fixture("xp-sp2-seed-full.dmp"))
        by_name = {m["name"]: m for m in doc["modules"]}
        for drv, base in (("srv.sys", "0xf7e8b000"), ("mrxdav.sys", "0xf7fca000"),
                          ("hgfs.sys", "0xf7ff5000"), ("afd.sys", "0xf8149000"),
                          ("dump_atapi.sys", "0xf82aa000")):
            self.assertEqual(by_name[drv]["base"], base)
            self.assertEqual(by_name[drv]["region"], "system_ptes")
        self.assertEqual(doc["modules"][0]["name"], "ntoskrnl.exe")

    def test_text_is_lm_like(self):
        rc, out, err = run_ntmem("modules", fixture("xp-sp2-seed-full.dmp"))
        self.assertEqual(rc, 0, err)
        lines = out.decode().splitlines()
        self.assertTrue(lines[0].startswith("start    end"))
        self.assertTrue(any(l.startswith("f7e8b000 f7ed9a00") and "srv.sys" in l for l in lines))

    def test_module_list_cycle_is_partial(self):
        path = fixture("xp-sp2-module-cycle.dmp")
        rc, out, err = run_ntmem("modules", path)
        self.assertEqual(rc, 3)
        self.assertIn("cycle", out.decode() + err)


if __name__ == "__main__":
    unittest.main()
