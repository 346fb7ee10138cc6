"""Memory images (fixtures/containers.py): raw images and ELF cores with and
without QEMU's register note, 32- and 64-bit class, PAE and not, and gzip of
a raw image. Without --dtb, pte, pools, modules and carve on each give what
they give on the Windows dump the image was made from (apart from the `dump`
block and the KDBG's source: an image has no header pointer); info reports
the DTB the scan found and how the format was decided."""
import glob
import json
import os
import shutil
import tempfile
import unittest

from common import FIXTURES, fixture, manifest, ntmem_json, run_ntmem

C = "containers/"


def images():
    """Image fixtures that name the dump they were made from."""
    names = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "containers", "*.json"))):
        name = C + os.path.basename(path)[:-len(".json")]
        with open(path) as f:
            if "original" in json.load(f):
                names.append(name)
    return names


def without_dump_block(doc):
    doc = dict(doc)
    doc.pop("dump", None)
    doc.pop("kdbg_source", None)     # an image has no header pointer: found by scan
    if isinstance(doc.get("kdbg"), dict):
        doc["kdbg"] = {k: v for k, v in doc["kdbg"].items() if k != "source"}
    return doc


def each_image(test, check):
    names = images()
    if not names:
        test.skipTest("no image fixture generated")
    for name in names:
        with test.subTest(image=name):
            check(name, manifest(name))


class ScratchCache:
    """XDG_CACHE_HOME pointed at a fresh folder for the duration."""

    def __enter__(self):
        self.before = os.environ.get("XDG_CACHE_HOME")
        self.dir = tempfile.mkdtemp(prefix="ntmem-cache-")
        os.environ["XDG_CACHE_HOME"] = self.dir
        return self.dir

    def __exit__(self, *exc):
        if self.before is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = self.before
        shutil.rmtree(self.dir, ignore_errors=True)


class ImagesEqualTheirDumps(unittest.TestCase):
    def test_info_reports_the_scanned_dtb(self):
        def check(name, m):
            got = ntmem_json("info", fixture(name))["dump"]
            for key in ("format", "type", "pae", "dtb", "dtb_source", "compression",
                        "pages_in_dump", "physical_runs"):
                if key in m["dump"]:
                    self.assertEqual(got.get(key), m["dump"][key], key)
            self.assertIn(got["format_basis"], ("content", "name", "size"))
        each_image(self, check)

    def test_pte_equals_the_dump(self):
        def check(name, m):
            vas = [w["va"] for w in m["pte"]]
            orig = fixture(m["original"])
            a = ntmem_json("pte", orig, *vas)
            b = ntmem_json("pte", fixture(name), *vas)
            self.assertEqual(without_dump_block(a), without_dump_block(b))
        each_image(self, check)

    def test_modules_and_pools_equal_the_dump(self):
        def check(name, m):
            orig = fixture(m["original"])
            for cmd in ("modules", "pools"):
                a = ntmem_json(cmd, orig)
                b = ntmem_json(cmd, fixture(name))
                self.assertEqual(without_dump_block(a), without_dump_block(b), cmd)
        each_image(self, check)

    def test_carve_equals_the_dump(self):
        """Every carved file is byte for byte the dump's, except that a raw
        image holds a (zero) page where the dump has none: a raw image's
        hole maps may only differ there."""
        def check(name, m):
            tmp = tempfile.mkdtemp(prefix="ntmem-images-")
            try:
                a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
                ntmem_json("carve", fixture(m["original"]), "-o", a, "--all")
                ntmem_json("carve", fixture(name), "-o", b, "--all")
                self.assertEqual(sorted(os.listdir(a)), sorted(os.listdir(b)))
                raw = m["dump"]["format"] == "raw"
                for f in sorted(os.listdir(a)):
                    with open(os.path.join(a, f), "rb") as x, open(os.path.join(b, f), "rb") as y:
                        da, db = x.read(), y.read()
                    if da == db:
                        continue
                    self.assertTrue(raw and f.endswith(".holes.json"), f)
                    self.assert_only_missing_pages_differ(json.loads(da), json.loads(db), f)
            finally:
                shutil.rmtree(tmp)
        each_image(self, check)

    def assert_only_missing_pages_differ(self, a, b, f):
        pa, pb = a.get("pages", []), b.get("pages", [])
        self.assertEqual(len(pa), len(pb), f)
        for x, y in zip(pa, pb):
            if x != y:
                self.assertEqual(x.get("state"), "not_in_dump", (f, x, y))


class KdumpFiles(unittest.TestCase):
    """kdump-compressed files (fixtures/containers.py writes one per wrapped
    dump, zlib pages) are read through libkdumpfile; ImagesEqualTheirDumps
    compares their pte/pools/modules/carve with the dump's. Damaged ones are
    exit 2 with one line naming the file and the field."""

    def test_kdump_images_exist_and_say_so(self):
        names = [n for n in images() if n.endswith(".kdump")]
        if not names:
            self.skipTest("no kdump fixture generated")
        for name in names:
            with self.subTest(image=name):
                d = ntmem_json("info", fixture(name))["dump"]
                self.assertEqual((d["format"], d["format_basis"], d["dtb_source"]), ("kdump", "content", "scan"))
                self.assertEqual(d["dtb"], manifest(manifest(name)["original"])["dump"]["dtb"])

    def test_damaged_files_name_the_field(self):
        bad = sorted(glob.glob(os.path.join(FIXTURES, "containers", "bad", "*.kdump")))
        if len(bad) < 2:
            self.skipTest("no damaged kdump fixtures generated")
        for path in bad:
            with open(path + ".json") as f:
                what = json.load(f)["expect_error"]["what"]
            for cmd in (["info"], ["pte", "0x80000000"], ["modules"]):
                with self.subTest(file=os.path.basename(path), cmd=cmd[0]):
                    rc, out, err = run_ntmem(cmd[0], path, *cmd[1:])
                    self.assertEqual(rc, 2, err)
                    lines = err.strip().splitlines()
                    self.assertEqual(len(lines), 1, err)
                    self.assertTrue(lines[0].startswith("ntmem: %s: " % path), err)
                    self.assertIn(what, lines[0].split(": ")[2], err)

    def test_flattened_stream_is_refused_saying_what_to_do(self):
        tmp = tempfile.mkdtemp(prefix="ntmem-kdump-")
        try:
            path = os.path.join(tmp, "stream.kdump")
            with open(path, "wb") as f:
                f.write(b"makedumpfile".ljust(16, b"\0") + bytes(4080))
            rc, _, err = run_ntmem("info", path)
            self.assertEqual(rc, 2, err)
            self.assertIn("makedumpfile -R", err)
        finally:
            shutil.rmtree(tmp)


class MemoryFacts(unittest.TestCase):
    """Build, processors and bugcheck of a headerless image come from kernel
    memory (docs/memory-facts.md); the generated kernels never bugchecked in
    memory (KiBugCheckData is clear), so bugcheck is null, not 0x0."""

    def test_headerless_images_read_memory(self):
        def check(name, m):
            got = ntmem_json("info", fixture(name))
            d = got["dump"]
            if m["dump"]["format"] == "windows-crash-dump":
                return
            orig = manifest(m["original"])["dump"]
            self.assertEqual(d["facts_source"], "memory")
            self.assertEqual(d["build"], orig["build"])
            self.assertTrue(d["memory"]["build_lab"].startswith("%d." % orig["build"]))
            self.assertEqual(d["processors"], orig["processors"])
            self.assertIsNone(d["bugcheck"])
            self.assertEqual(d["memory"]["bugcheck"], "none")
            self.assertIsNone(got["bugcheck"])
            want = m.get("kernel_exports", {}).get("NtBuildNumber")
            if want:    # ntoskrnl's export, found by name in its export directory
                self.assertEqual(d["memory"]["nt_build_number"]["value"], want["value"])
                self.assertEqual(d["memory"]["nt_build_number"]["build"], orig["build"])
                self.assertEqual(d["memory"]["nt_build_number"]["kind"], "free")
        each_image(self, check)

    def test_build_from_the_export_when_the_build_string_is_gone(self):
        """NtBuildLab overwritten in the image: the build comes from the
        NtBuildNumber export alone."""
        name = C + "win7-sp1-pae-full.raw"
        m = manifest(name)
        lab = m.get("kernel_exports") and manifest(m["original"])["dump"]["build"]
        if not lab:
            self.skipTest("no kernel_exports in the manifest")
        with open(fixture(name), "rb") as f:
            data = bytearray(f.read())
        needle = b"%d.17514.x86fre" % lab
        self.assertIn(needle, data)
        data = data.replace(needle, b"?" * len(needle))
        tmp = tempfile.mkdtemp(prefix="ntmem-nolab-")
        try:
            path = os.path.join(tmp, "nolab.raw")
            with open(path, "wb") as f:
                f.write(data)
            d = ntmem_json("info", path)["dump"]
            self.assertIsNone(d["memory"]["build_lab"])
            self.assertEqual(d["build"], lab)
            self.assertEqual(d["memory"]["nt_build_number"]["value"], m["kernel_exports"]["NtBuildNumber"]["value"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_text_says_none(self):
        rc, out, err = run_ntmem("info", fixture(C + "xp-sp2-seed-full.raw"))
        self.assertEqual(rc, 0, err)
        self.assertIn("bugcheck:      none (KiBugCheckData is clear)", out.decode())
        self.assertNotIn("0x0 (0x0", out.decode())

    def test_crash_dump_keeps_its_header(self):
        d = ntmem_json("info", fixture("xp-sp2-seed-full.dmp"))["dump"]
        self.assertEqual(d["facts_source"], "header")
        self.assertEqual(d["bugcheck"]["code"], manifest("xp-sp2-seed-full.dmp")["dump"]["bugcheck"]["code"])


class DtbScan(unittest.TestCase):
    def test_decoys_are_rejected_for_their_reasons(self):
        name = C + "xp-sp2-seed-full-decoys.raw"
        m = manifest(name)
        scan = ntmem_json("info", fixture(name))["dump"]["dtb_scan"]
        self.assertEqual(scan["candidates"], m["dtb_scan"]["candidates"])
        self.assertEqual(scan["rejected"], m["dtb_scan"]["candidates"] - 1)
        verdicts = {c["dtb"]: c["verdict"] for c in scan["listed"]}
        self.assertEqual(verdicts.pop(m["dump"]["dtb"]), "chosen")
        self.assertEqual(verdicts, m["dtb_scan"]["verdicts"])

    def test_verbose_lists_candidates(self):
        name = C + "xp-sp2-seed-full-decoys.raw"
        rc, out, err = run_ntmem("-v", "info", fixture(name))
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("no KDBG found through it", text)
        self.assertIn("maps no kernel space", text)
        rc, out, err = run_ntmem("info", fixture(name))
        self.assertNotIn("no KDBG found through it", out.decode())

    def test_second_command_reads_the_cache(self):
        name = C + "xp-sp2-seed-pae-full.raw"
        with ScratchCache() as cache:
            first = ntmem_json("info", fixture(name))["dump"]
            self.assertFalse(first["dtb_scan"]["cached"])
            self.assertEqual(len(os.listdir(os.path.join(cache, "ntmem"))), 1)
            second = ntmem_json("info", fixture(name))["dump"]
            self.assertTrue(second["dtb_scan"]["cached"])
            self.assertEqual(first["dtb"], second["dtb"])
            self.assertEqual(first["pae"], second["pae"])

    def test_a_damaged_cache_entry_is_scanned_again(self):
        name = C + "xp-sp2-seed-pae-full.raw"
        with ScratchCache() as cache:
            ntmem_json("info", fixture(name))
            entry = glob.glob(os.path.join(cache, "ntmem", "*"))[0]
            with open(entry, "w") as f:
                f.write("ntmem-dtb-scan 1\npages x\n")
            got = ntmem_json("info", fixture(name))["dump"]
            self.assertFalse(got["dtb_scan"]["cached"])
            self.assertEqual(got["dtb"], manifest(name)["dump"]["dtb"])

    def test_unwritable_cache_is_no_error(self):
        name = C + "xp-sp2-seed-full.raw"
        with ScratchCache() as cache:
            blocker = os.path.join(cache, "file")
            open(blocker, "w").close()
            os.environ["XDG_CACHE_HOME"] = blocker      # a file, not a folder
            got = ntmem_json("info", fixture(name))["dump"]
            self.assertEqual(got["dtb"], manifest(name)["dump"]["dtb"])

    def test_memory_without_a_directory_is_one_line(self):
        tmp = tempfile.mkdtemp(prefix="ntmem-images-")
        try:
            path = os.path.join(tmp, "empty.raw")
            with open(path, "wb") as f:
                f.truncate(64 * 4096)
            rc, _, err = run_ntmem("modules", path)
            self.assertEqual(rc, 2, err)
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertIn("dtb: no page directory", lines[0])
            self.assertIn("--dtb", lines[0])
        finally:
            shutil.rmtree(tmp)


class Recognition(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ntmem-images-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def copy(self, src, name, extra=b""):
        path = os.path.join(self.tmp, name)
        shutil.copyfile(src, path)
        with open(path, "ab") as f:
            f.write(extra)
        return path

    def info(self, path, *opts):
        return ntmem_json(*opts, "info", path)["dump"]

    def test_by_name_then_by_size(self):
        raw = fixture(C + "xp-sp2-seed-full.raw")
        got = self.info(raw)
        self.assertEqual((got["format"], got["format_basis"]), ("raw", "name"))
        got = self.info(self.copy(raw, "memory.data"))
        self.assertEqual((got["format"], got["format_basis"]), ("raw", "size"))
        self.assertIn("whole number of pages", got["format_why"])

    def test_a_raw_name_reads_an_odd_size(self):
        got = self.info(self.copy(fixture(C + "xp-sp2-seed-full.raw"), "image.mem", b"x" * 5))
        self.assertEqual((got["format"], got["format_basis"]), ("raw", "name"))

    def test_an_odd_size_without_a_name_is_refused(self):
        path = self.copy(fixture(C + "xp-sp2-seed-full.raw"), "image.data", b"x" * 5)
        rc, _, err = run_ntmem("info", path)
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("header.Signature", err)
        self.assertIn("--format raw", err)

    def test_content_wins_over_the_name(self):
        got = self.info(self.copy(fixture("xp-sp2-seed-full.dmp"), "looks.raw"))
        self.assertEqual((got["format"], got["format_basis"]), ("windows-crash-dump", "content"))
        got = self.info(self.copy(fixture(C + "xp-sp2-seed-full.elf"), "core.dmp"))
        self.assertEqual((got["format"], got["format_basis"]), ("elf", "content"))

    def test_forced_format(self):
        got = self.info(fixture("xp-sp2-seed-full.dmp"), "--raw")
        self.assertEqual((got["format"], got["format_basis"], got["format_why"]),
                         ("raw", "option", "--format raw"))

    def test_format_option(self):
        got = self.info(fixture(C + "xp-sp2-seed-full.raw"), "--format", "raw")
        self.assertEqual((got["format"], got["format_basis"]), ("raw", "option"))
        rc, _, err = run_ntmem("--format", "elf", "info", fixture("xp-sp2-seed-full.dmp"))
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("elf.e_ident", err)
        rc, _, err = run_ntmem("--format=bogus", "info", fixture("xp-sp2-seed-full.dmp"))
        self.assertEqual(rc, 1, err)
        self.assertIn("raw, elf, kdump, dmp", err)
        # gzip stays a container: the format applies to what it holds.
        got = self.info(fixture(C + "xp-sp2-seed-pae-full.raw.gz"), "--format", "raw")
        self.assertEqual((got["format"], got["compression"]), ("raw", "gzip"))

    def test_damaged_dump_signature_is_not_a_raw_image(self):
        data = bytearray(open(fixture("xp-sp2-seed-full.dmp"), "rb").read(1 << 16))
        data[0:4] = b"PAGX"
        path = os.path.join(self.tmp, "damaged.bin")
        with open(path, "wb") as f:
            f.write(data)
        rc, _, err = run_ntmem("info", path)
        self.assertEqual(rc, 2, err)
        self.assertIn("header.Signature", err)


if __name__ == "__main__":
    unittest.main()
