"""ntmem carve against the generator's manifests: every .holes.json equals the
manifest's page map, every readable byte of .mem equals the generator's page,
every .pe opens in readpe and objdump with the expected sections, and
--compare-with finds exactly the bytes the generator patched."""
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

from common import FIXTURES, fixture, manifest, ntmem_json, real_file, run_ntmem

SEED = "xp-sp2-seed-full.dmp"
REAL_SEED = "xp-sp2-real-drivers.dmp"    # made only when ../shared/real/drivers is there
PAGE_KEYS = ("rva", "state", "section", "reason")
HOLE_KEYS = ("rva_start", "rva_end", "state", "section", "reason")
SECTION_KEYS = ("name", "va", "size", "characteristics", "kind", "bytes_recovered", "bytes_missing")


def carve_manifests():
    """Names of generated dumps whose manifest has a carve section."""
    names = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*.dmp.json"))):
        with open(path) as f:
            m = json.load(f)
        if m.get("carve"):
            names.append(os.path.basename(path)[:-len(".json")])
    return names


def tool(name):
    return shutil.which(name)


class CarvedDump:
    """Carves every module of NAME once into a temporary directory."""

    def __init__(self, name):
        self.name = name
        self.path = fixture(name)
        self.manifest = manifest(name)
        self.dir = tempfile.mkdtemp(prefix="ntmem-carve-")
        expect = self.manifest.get("expect_exit", {}).get("carve", 0)
        self.doc = ntmem_json("carve", self.path, "-o", self.dir, "--all", expect=expect)
        self.by_base = {m["base"]: m for m in self.doc["modules"]}

    def module(self, want):
        got = self.by_base.get(want["base"])
        if got is None:
            raise AssertionError("%s: no carved module at %s" % (self.name, want["base"]))
        return got

    def read(self, fname, mode="rb"):
        with open(os.path.join(self.dir, fname), mode) as f:
            return f.read()

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class CarveMatchesManifest(unittest.TestCase):
    def each_carve(self, check):
        names = carve_manifests()
        if not names:
            self.skipTest("no generated fixture has a carve manifest")
        for name in names:
            dump = CarvedDump(name)
            try:
                for want in dump.manifest["carve"]:
                    with self.subTest(dump=name, module=want["name"]):
                        check(dump, want, dump.module(want))
            finally:
                dump.close()

    def test_module_objects(self):
        def check(dump, want, got):
            self.assertEqual(got["name"], want["name"])
            self.assertEqual(got["size"], want["size"])
            pages = {}
            for p in want["pages"]:
                pages[p["state"]] = pages.get(p["state"], 0) + 1
            self.assertEqual(got["pages"], pages)
            self.assertEqual([{k: s[k] for k in SECTION_KEYS} for s in got["sections"]],
                             [{k: s[k] for k in SECTION_KEYS} for s in want["sections"]])
            self.assertEqual(sorted(got["files"]), ["holes", "mem", "pe"])
        self.each_carve(check)

    def test_holes_json_equals_page_map(self):
        def check(dump, want, got):
            holes = json.loads(dump.read(got["files"]["holes"], "r"))
            self.assertEqual(holes["name"], want["name"])
            self.assertEqual(holes["base"], want["base"])
            self.assertEqual(holes["size"], want["size"])
            self.assertEqual([{k: p[k] for k in PAGE_KEYS} for p in holes["pages"]],
                             [{k: p[k] for k in PAGE_KEYS} for p in want["pages"]])
            self.assertEqual([{k: h[k] for k in HOLE_KEYS} for h in holes["holes"]],
                             [{k: h[k] for k in HOLE_KEYS} for h in want["holes"]])
            self.assertEqual(got["holes"], holes["holes"])
        self.each_carve(check)

    def test_mem_bytes_equal_generator_pages(self):
        def check(dump, want, got):
            mem = dump.read(got["files"]["mem"])
            self.assertEqual(len(mem), want["size"])
            for p in want["pages"]:
                rva = int(p["rva"], 16)
                chunk = mem[rva:rva + 4096]
                if p["sha256"] is None:
                    self.assertEqual(chunk, bytes(len(chunk)), "hole at %s not filled" % p["rva"])
                else:
                    padded = chunk + bytes(4096 - len(chunk))
                    self.assertEqual(hashlib.sha256(padded).hexdigest(), p["sha256"],
                                     "page %s of %s" % (p["rva"], want["name"]))
        self.each_carve(check)

    def test_pe_opens_in_readpe_and_objdump(self):
        tools = [t for t in ("readpe", "i686-w64-mingw32-objdump") if tool(t)]
        if not tools:
            self.skipTest("neither readpe (pev) nor i686-w64-mingw32-objdump is installed")

        def check(dump, want, got):
            pe = os.path.join(dump.dir, got["files"]["pe"])
            names = [s["name"] for s in want["sections"]] or ["carved"]
            for t in tools:
                args = [t, "-S", pe] if t == "readpe" else [t, "-x", pe]
                p = subprocess.run(args, capture_output=True, text=True, errors="replace")
                self.assertEqual(p.returncode, 0, "%s %s: %s" % (t, pe, p.stderr))
                for n in names:
                    self.assertIn(n, p.stdout, "%s does not list %s" % (t, n))
                if t != "readpe":
                    self.assertIn("ImageBase\t\t%08x" % int(want["base"], 16), p.stdout)
        self.each_carve(check)


def original_of(want):
    """The file --compare-with reads for a manifest's carve entry: the
    generator's stand-in in FIXTURES/originals, or a real driver of
    ../shared/real (skipped, saying so, when absent)."""
    path = want["original_file"]
    if os.path.exists(path):
        return path
    return real_file(os.path.join("drivers", os.path.basename(path)))


class CompareWithOriginals(unittest.TestCase):
    def check_finds_exactly_the_patched_bytes(self, name):
        m = manifest(name)
        path = fixture(name)
        checked = 0
        for want in m["carve"]:
            if not want.get("original_file"):
                continue
            original = original_of(want)
            with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as orig:
                # the file is looked up by the module name, case-insensitively
                os.symlink(original, os.path.join(orig, want["name"].upper()))
                doc = ntmem_json("carve", path, "-o", out, "--module", want["name"],
                                 "--compare-with", orig)
                cmp = doc["modules"][0]["compare"]
                self.assertEqual(cmp["file"], want["name"].upper())
                self.assertTrue(cmp["relocations_applied"] > 0)
                self.assertEqual([{"rva_start": r["rva_start"], "rva_end": r["rva_end"]}
                                  for r in cmp["modified"]], want["patched"], want["name"])
                checked += 1
        self.assertEqual(checked, 3, "%s: the manifest should name three original driver files" % name)

    def test_finds_exactly_the_patched_bytes(self):
        self.check_finds_exactly_the_patched_bytes(SEED)

    def test_finds_exactly_the_patched_bytes_in_real_drivers(self):
        real_file("drivers")     # skips, saying so, without ../shared
        self.check_finds_exactly_the_patched_bytes(REAL_SEED)

    def check_versioned_file_names_match_by_stem(self, name):
        want = [c for c in manifest(name)["carve"] if c.get("original_file") and c["patched"]]
        self.assertTrue(want, "no patched module with an original file in the %s manifest" % name)
        drivers = os.path.dirname(original_of(want[0]))
        with tempfile.TemporaryDirectory() as out:
            doc = ntmem_json("carve", fixture(name), "-o", out, "--module", want[0]["name"],
                             "--compare-with", drivers)
        cmp = doc["modules"][0]["compare"]
        self.assertEqual(cmp["file"], os.path.basename(want[0]["original_file"]))
        self.assertEqual([{"rva_start": r["rva_start"], "rva_end": r["rva_end"]} for r in cmp["modified"]],
                         want[0]["patched"])

    def test_versioned_file_names_match_by_stem(self):
        self.check_versioned_file_names_match_by_stem(SEED)

    def test_versioned_real_file_names_match_by_stem(self):
        real_file("drivers")
        self.check_versioned_file_names_match_by_stem(REAL_SEED)

    def test_missing_original_is_reported(self):
        path = fixture(SEED)
        with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as orig:
            doc = ntmem_json("-q", "carve", path, "-o", out, "--module", "srv.sys", "--compare-with", orig)
            self.assertIsNone(doc["modules"][0]["compare"]["file"])


class HostileModuleNames(unittest.TestCase):
    """Module names come from the dump: a copy of the seed dump whose name
    strings (UTF-16, same length) are replaced by path tricks and control
    bytes must still give safe files inside DIR and valid JSON."""
    NAMES = {"srv.sys": "..\\..\\x", "afd.sys": "/etc/pw", "hgfs.sys": "\x01\x1b[2J\n\t."}

    def test_names_from_the_dump_cannot_escape(self):
        src = fixture(SEED)
        with open(src, "rb") as f:
            data = f.read()
        for old, new in self.NAMES.items():
            self.assertEqual(len(old), len(new))
            self.assertGreater(data.count(old.encode("utf-16-le")), 0, old)
            data = data.replace(old.encode("utf-16-le"), new.encode("utf-16-le"))
        with tempfile.TemporaryDirectory() as top:
            dump = os.path.join(top, "hostile.dmp")
            with open(dump, "wb") as f:
                f.write(data)
            out = os.path.join(top, "out")
            doc = ntmem_json("carve", dump, "-o", out, "--all")
            self.assertEqual(sorted(os.listdir(top)), ["hostile.dmp", "out"])
            names = {m["name"]: m for m in doc["modules"]}
            for new in self.NAMES.values():
                self.assertIn(new, names)
                for fname in names[new]["files"].values():
                    self.assertRegex(fname, r"^[A-Za-z0-9_-][A-Za-z0-9._-]*@0x[0-9a-f]+\.(mem|pe|holes\.json)$")
                    self.assertLessEqual(len(fname), 100)
                    self.assertTrue(os.path.isfile(os.path.join(out, fname)))
            self.assertEqual(names["..\\..\\x"]["files"]["mem"], "_._.._x@0xf7e8b000.mem")
            with open(os.path.join(out, names["/etc/pw"]["files"]["holes"])) as f:
                self.assertEqual(json.load(f)["name"], "/etc/pw")
            self.assertEqual(len(os.listdir(out)), 3 * len(doc["modules"]))


class CarveOptionsAndSafety(unittest.TestCase):
    def setUp(self):
        self.path = fixture(SEED)
        self.out = tempfile.mkdtemp(prefix="ntmem-carve-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def test_fill_byte_and_selection_by_base(self):
        want = [c for c in manifest(SEED)["carve"] if c["holes"]][0]
        doc = ntmem_json("carve", self.path, "-o", self.out, "--base", want["base"][2:], "--fill", "0xcc")
        self.assertEqual([m["name"] for m in doc["modules"]], [want["name"]])
        with open(os.path.join(self.out, doc["modules"][0]["files"]["mem"]), "rb") as f:
            mem = f.read()
        h = want["holes"][0]
        start, end = int(h["rva_start"], 16), int(h["rva_end"], 16)
        self.assertEqual(mem[start:end], b"\xcc" * (end - start))

    def test_file_names_are_name_at_base(self):
        doc = ntmem_json("carve", self.path, "-o", self.out, "--module", "SRV.SYS")
        self.assertEqual(doc["modules"][0]["files"],
                         {"mem": "srv.sys@0xf7e8b000.mem", "pe": "srv.sys@0xf7e8b000.pe",
                          "holes": "srv.sys@0xf7e8b000.holes.json"})

    def test_existing_files_need_force_and_links_are_never_followed(self):
        victim = os.path.join(self.out, "victim")
        with open(victim, "w") as f:
            f.write("keep")
        os.symlink(victim, os.path.join(self.out, "srv.sys@0xf7e8b000.mem"))
        rc, _, err = run_ntmem("carve", self.path, "-o", self.out, "--module", "srv.sys")
        self.assertEqual(rc, 3, err)
        rc, _, err = run_ntmem("carve", self.path, "-o", self.out, "--module", "srv.sys", "--force")
        self.assertEqual(rc, 3, err)
        self.assertIn("not a regular file", err)
        with open(victim) as f:
            self.assertEqual(f.read(), "keep")
        os.unlink(os.path.join(self.out, "srv.sys@0xf7e8b000.mem"))
        rc, _, err = run_ntmem("carve", self.path, "-o", self.out, "--module", "srv.sys")
        self.assertEqual(rc, 0, err)
        rc, _, err = run_ntmem("carve", self.path, "-o", self.out, "--module", "srv.sys")
        self.assertEqual(rc, 3, "the files of the previous run exist: %s" % err)
        self.assertIn("--force", err)
        rc, _, err = run_ntmem("carve", self.path, "-o", self.out, "--module", "srv.sys", "--force")
        self.assertEqual(rc, 0, err)

    def test_keep_stale_writes_the_reused_bytes(self):
        stale = [(c, p) for c in manifest(SEED)["carve"] for p in c["pages"] if p["state"] == "stale"]
        if not stale:
            self.skipTest("the seed dump has no stale page")
        c, p = stale[0]
        doc = ntmem_json("carve", self.path, "-o", self.out, "--base", c["base"], "--keep-stale",
                         "--fill", "0xcc")
        with open(os.path.join(self.out, doc["modules"][0]["files"]["mem"]), "rb") as f:
            mem = f.read()
        rva = int(p["rva"], 16)
        self.assertNotEqual(mem[rva:rva + 4096], b"\xcc" * 4096)
        holes = json.load(open(os.path.join(self.out, doc["modules"][0]["files"]["holes"])))
        self.assertEqual(holes["pages"][rva // 4096]["reason"], "stale")

    def test_text_summary(self):
        rc, out, err = run_ntmem("carve", self.path, "-o", self.out, "--module", "srv.sys")
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("srv.sys", text)
        self.assertIn("paged_out", text)
        self.assertIn("discarded", text)
        self.assertIn("pageable", text)

    def test_usage_errors(self):
        self.assertEqual(run_ntmem("carve", self.path, "--all")[0], 1)
        self.assertEqual(run_ntmem("carve", self.path, "-o", self.out)[0], 1)
        self.assertEqual(run_ntmem("carve", self.path, "-o", self.out, "--all", "--fill", "0n256")[0], 1)
        self.assertEqual(run_ntmem("carve", self.path, "-o", self.out, "--bogus")[0], 1)

    def test_unknown_module_is_partial(self):
        rc, out, err = run_ntmem("--json", "carve", self.path, "-o", self.out, "--module", "nosuch.sys",
                                 "--module", "srv.sys")
        self.assertEqual(rc, 3)
        self.assertIn("nosuch.sys", err)
        self.assertEqual([m["name"] for m in json.loads(out)["modules"]], ["srv.sys"])

    def test_unlisted_image_at_base(self):
        """An image no list entry names (its LDR entry's DllBase is patched
        away in a copy of the dump) is still carved from its own header."""
        npf = [m for m in manifest(SEED)["modules"] if m["name"] == "npf.sys"]
        self.assertEqual(len(npf), 1)
        base, entry, size = (int(npf[0][k], 16) if k != "size" else npf[0][k] for k in ("base", "entry", "size"))
        with open(self.path, "rb") as f:
            data = f.read()
        ldr = struct.pack("<III", base, entry, size)
        self.assertEqual(data.count(ldr), 1)
        data = data.replace(ldr, struct.pack("<III", 0x1000, entry, size))
        dump = os.path.join(self.out, "unlinked.dmp")
        with open(dump, "wb") as f:
            f.write(data)
        doc = ntmem_json("carve", dump, "-o", os.path.join(self.out, "o"), "--base", npf[0]["base"])
        m = doc["modules"][0]
        self.assertEqual((m["name"], m["base"], m["size"]), ("unlisted", npf[0]["base"], size))
        self.assertEqual([s["name"] for s in m["sections"]],
                         [s["name"] for s in manifest(SEED)["carve"][[c["name"] for c in manifest(SEED)["carve"]].index("npf.sys")]["sections"]])

    def test_incomplete_list_fails_only_all(self):
        path = fixture("xp-sp2-module-cycle.dmp")
        rc, _, err = run_ntmem("-q", "carve", path, "-o", os.path.join(self.out, "a"), "--all")
        self.assertEqual(rc, 3, err)
        rc, _, err = run_ntmem("-q", "carve", path, "-o", os.path.join(self.out, "b"), "--module", "npf.sys")
        self.assertEqual(rc, 0, err)

    def test_base_without_image_is_partial(self):
        rc, _, err = run_ntmem("carve", self.path, "-o", self.out, "--base", "0x1000")
        self.assertEqual(rc, 3)
        self.assertIn("0x1000", err)


if __name__ == "__main__":
    unittest.main()
