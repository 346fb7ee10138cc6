"""Containers (fixtures/containers.py): gzip-compressed dumps and ELF cores
give the same answers as the dumps they wrap, against the manifests; broken
containers are refused with exit 2 and one line."""
import hashlib
import json
import os
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

C = "containers/"
CONTRACT_KEYS = ["format", "type", "arch", "pae", "dtb", "kdbg", "kdbg_source", "build",
                 "bugcheck", "processors", "system_time", "pages_in_dump", "physical_runs",
                 "compression"]
BATCH = 200


def check_info(test, name, *opts):
    path = fixture(name)
    want = manifest(name)["dump"]
    got = ntmem_json(*opts, "info", path)["dump"]
    for key in CONTRACT_KEYS:
        if key in want:
            test.assertEqual(got.get(key), want[key], "%s: dump.%s" % (name, key))
    return got


def check_pte(test, name, *opts):
    path = fixture(name)
    want = manifest(name).get("pte")
    test.assertTrue(want, "%s: manifest has no pte list" % name)
    got = []
    for i in range(0, len(want), BATCH):
        doc = ntmem_json(*opts, "pte", path, *[w["va"] for w in want[i:i + BATCH]])
        got += doc["results"]
    test.assertEqual(len(got), len(want))
    for w, g in zip(want, got):
        with test.subTest(dump=name, va=w["va"]):
            test.assertEqual(g["va"], w["va"])
            # Without the PFN database a stale page reads as valid.
            if w["state"] != "stale" or g["state"] != "valid":
                test.assertEqual(g["state"], w["state"])
            for key in ("pa", "large_page", "entries", "pagefile"):
                if key in w:
                    test.assertEqual(g.get(key), w[key], key)


def check_read(test, name, *opts):
    """Every readable page the manifest hashes reads back with that hash."""
    path = fixture(name)
    pages = [w for w in manifest(name)["pte"] if w.get("sha256") and w["state"] == "valid"]
    test.assertTrue(pages)
    for w in pages[:12]:
        va = int(w["va"], 16) & ~0xFFF
        out = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ntmem-containers-%d.bin" % os.getpid())
        try:
            rc, _, err = run_ntmem(*opts, "read", path, "0x%x" % va, "0n4096", "-o", out)
            test.assertEqual(rc, 0, err)
            with open(out, "rb") as f:
                test.assertEqual(hashlib.sha256(f.read()).hexdigest(), w["sha256"], w["va"])
        finally:
            if os.path.exists(out):
                os.unlink(out)


def check_modules(test, name, *opts):
    want = manifest(name).get("modules")
    rc, out, err = run_ntmem("--json", *opts, "modules", fixture(name))
    if rc != 0 and ("kernel layer" in err or "not implemented" in err):
        test.skipTest("this build cannot list modules yet: %s" % err.strip())
    test.assertEqual(rc, 0, err)
    got = json.loads(out)["modules"]
    test.assertEqual([(m["name"], m["base"], m["size"]) for m in got],
                     [(m["name"], m["base"], m["size"]) for m in want])


def check_refused(test, name, what):
    rc, out, err = run_ntmem("info", fixture(name))
    test.assertEqual(rc, 2, err)
    lines = err.strip().splitlines()
    test.assertEqual(len(lines), 1, err)
    test.assertTrue(lines[0].startswith("ntmem: %s: " % fixture(name)), lines[0])
    test.assertIn(what, lines[0])


class GzipDumps(unittest.TestCase):
    def test_info_full(self):
        got = check_info(self, C + "xp-sp2-seed-full.dmp.gz")
        self.assertEqual(got["compression"], "gzip")
        self.assertEqual(got["format"], "windows-crash-dump")

    def test_info_pae_and_kernel(self):
        check_info(self, C + "xp-sp2-seed-pae-full.dmp.gz")
        check_info(self, C + "xp-sp2-seed-pae-kernel.dmp.gz")

    def test_info_triage(self):
        check_info(self, C + "xp-sp2-triage.dmp.gz")

    def test_uncompressed_dump_says_none(self):
        got = ntmem_json("info", fixture("xp-sp2-seed-full.dmp"))["dump"]
        self.assertIsNone(got["compression"])

    def test_text_info_names_compression(self):
        rc, out, err = run_ntmem("info", fixture(C + "xp-sp2-seed-full.dmp.gz"))
        self.assertEqual(rc, 0, err)
        self.assertIn("compressed with gzip", out.decode())

    def test_pte(self):
        check_pte(self, C + "xp-sp2-seed-full.dmp.gz")
        check_pte(self, C + "xp-sp2-seed-pae-kernel.dmp.gz")

    def test_read(self):
        check_read(self, C + "xp-sp2-seed-full.dmp.gz")

    def test_modules(self):
        check_modules(self, C + "xp-sp2-seed-full.dmp.gz")

    def test_truncated_is_refused(self):
        check_refused(self, C + "bad/truncated.dmp.gz", "gzip stream: truncated")

    def test_bad_crc_is_refused(self):
        check_refused(self, C + "bad/bad-crc.dmp.gz", "gzip trailer.CRC32")

    def test_no_temporary_file_is_left(self):
        tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ntmem-containers-tmp-%d" % os.getpid())
        os.makedirs(tmp)
        try:
            env_before = os.environ.get("TMPDIR")
            os.environ["TMPDIR"] = tmp
            rc, _, err = run_ntmem("info", fixture(C + "xp-sp2-seed-full.dmp.gz"))
            self.assertEqual(rc, 0, err)
            self.assertEqual(os.listdir(tmp), [])
        finally:
            if env_before is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = env_before
            os.rmdir(tmp)

    def test_unwritable_tmpdir_is_one_line(self):
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = "/nonexistent-ntmem-dir"
        try:
            check_refused(self, C + "xp-sp2-seed-full.dmp.gz", "temporary file")
        finally:
            if before is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = before


def dtb_opts(name):
    """--dtb for an ELF core that names no page-table root."""
    m = manifest(name)
    return ["--dtb", m["dtb_option"]] if "dtb_option" in m else []


ELF32 = C + "xp-sp2-seed-full.elf"
ELF64 = C + "xp-sp2-seed-pae-full-elf64.elf"


class ElfCores(unittest.TestCase):
    def test_info_elf32(self):
        got = check_info(self, ELF32)
        self.assertEqual(got["format"], "elf")
        self.assertIsNone(got["compression"])

    def test_info_elf64_with_qemu_note(self):
        got = check_info(self, ELF64)
        self.assertEqual(got["pae"], True)

    def test_pte_with_dtb_option(self):
        check_pte(self, ELF32, *dtb_opts(ELF32))

    def test_pte_from_qemu_note(self):
        self.assertEqual(dtb_opts(ELF64), [])
        check_pte(self, ELF64)

    def test_read(self):
        check_read(self, ELF32, *dtb_opts(ELF32))
        check_read(self, ELF64)

    def test_modules(self):
        check_modules(self, ELF32, *dtb_opts(ELF32))
        check_modules(self, ELF64)

    def test_same_pages_as_the_dump(self):
        """Physical reads through the ELF equal those of the Windows dump."""
        m = manifest(ELF32)
        vas = [w["va"] for w in m["pte"] if w["state"] == "valid"][:20]
        a = ntmem_json("pte", fixture("xp-sp2-seed-full.dmp"), *vas)["results"]
        b = ntmem_json(*dtb_opts(ELF32), "pte", fixture(ELF32), *vas)["results"]
        self.assertEqual(a, b)

    def test_no_note_means_the_dtb_is_scanned(self):
        got = ntmem_json("info", fixture(ELF32))["dump"]
        self.assertEqual((got["dtb"], got["dtb_source"]), (manifest(ELF32)["dump"]["dtb"], "scan"))
        got = ntmem_json("info", fixture(ELF64))["dump"]
        self.assertEqual(got["dtb_source"], "elf_note")

    def test_truncated_is_refused(self):
        check_refused(self, C + "bad/truncated.elf", "elf.PT_LOAD")
        for cmd in (["pte", "0x80000000"], ["modules"]):
            rc, _, err = run_ntmem("--dtb", "0x39000", cmd[0], fixture(C + "bad/truncated.elf"), *cmd[1:])
            self.assertEqual(rc, 2, err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)


class RealFileGzipped(unittest.TestCase):
    def test_real_triage_dump_gzipped_reads_the_same(self):
        """A third-party 64-bit triage dump, gzipped here: info is unchanged
        but for the path and the compression."""
        import gzip
        import shutil
        import tempfile
        from common import real_file
        src = real_file("dumps/rizin_triage_x64_19041.dmp")
        tmp = tempfile.mkdtemp(prefix="ntmem-containers-")
        try:
            gz = os.path.join(tmp, "triage.dmp.gz")
            with open(src, "rb") as fi, gzip.open(gz, "wb") as fo:
                shutil.copyfileobj(fi, fo)
            a = ntmem_json("info", src)["dump"]
            b = ntmem_json("info", gz)["dump"]
            self.assertEqual(b.pop("compression"), "gzip")
            self.assertIsNone(a.pop("compression"))
            a.pop("path")
            b.pop("path")
            self.assertEqual(a, b)
        finally:
            shutil.rmtree(tmp)


class KdumpCompressed(unittest.TestCase):
    def test_recognised_and_refused(self):
        check_refused(self, C + "bad/header-only.kdump", "format: kdump-compressed")


if __name__ == "__main__":
    unittest.main()
