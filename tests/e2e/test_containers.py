"""Containers (fixtures/containers.py): gzip-compressed dumps and ELF cores
give the same answers as the dumps they wrap, against the manifests; broken
containers are refused with exit 2 and one line."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from common import NTMEM, WRAPPER, fixture, manifest, ntmem_json, run_ntmem

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
        """With no cache folder to keep the index in, it goes to a temporary
        file; with neither, one line says so."""
        before = {k: os.environ.get(k) for k in ("TMPDIR", "XDG_CACHE_HOME", "HOME")}
        os.environ["TMPDIR"] = "/nonexistent-ntmem-dir"
        os.environ["XDG_CACHE_HOME"] = "/nonexistent-ntmem-dir/cache"
        os.environ["HOME"] = "/nonexistent-ntmem-dir"
        try:
            check_refused(self, C + "xp-sp2-seed-full.dmp.gz", "temporary file")
        finally:
            for k, v in before.items():
                if v is None:
                    del os.environ[k]
                else:
                    os.environ[k] = v


# Keys that name the input file or the run rather than the memory.
VOLATILE = {"dump", "path", "path_hex", "dump_path", "dump_path_hex", "output_dir", "output_dir_hex",
            "ntmem_version", "file"}


def normalised(doc):
    if isinstance(doc, dict):
        return {k: normalised(v) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [normalised(v) for v in doc]
    return doc


class FreshCache(unittest.TestCase):
    """XDG_CACHE_HOME pointed at a folder of the test's own."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ntmem-gzindex-")
        self.before = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = os.path.join(self.tmp, "cache")

    def tearDown(self):
        if self.before is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = self.before
        shutil.rmtree(self.tmp, ignore_errors=True)

    def index_files(self):
        d = os.path.join(self.tmp, "cache", "ntmem")
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith("gzidx-"))


# A gzip fixture and the uncompressed file holding the same bytes.
PAIRS = [(C + "xp-sp2-seed-full.dmp.gz", "xp-sp2-seed-full.dmp"),
         (C + "xp-sp2-seed-pae-kernel.dmp.gz", "xp-sp2-seed-pae-kernel.dmp"),
         (C + "xp-sp2-seed-pae-full.raw.gz", C + "xp-sp2-seed-pae-full.raw")]


class GzipReadInPlace(FreshCache):
    """docs/gzip-index.md: every command on a .gz answers what it answers on
    the uncompressed file, through an index kept in the cache and reused."""

    def same(self, gz, plain, *args):
        """Same exit status, JSON and diagnostics (the file's name aside)."""
        got = []
        for name in (gz, plain):
            rc, out, err = run_ntmem("--json", *args[:1], fixture(name), *args[1:])
            got.append((rc, normalised(json.loads(out)) if out else None,
                        err.replace(fixture(name), "FILE")))
        self.assertIn(got[0][0], (0, 3), got[0][2])
        self.assertEqual(got[0], got[1], "%s: %s" % (gz, args[0]))

    def test_every_command_equals_uncompressed(self):
        for gz, plain in PAIRS:
            with self.subTest(gz=gz):
                vas = [w["va"] for w in (manifest(plain).get("pte") or [])][:150]
                self.same(gz, plain, "info")
                self.same(gz, plain, "modules")
                self.same(gz, plain, "pools")
                self.same(gz, plain, "explain")
                if vas:
                    self.same(gz, plain, "pte", *vas)
                    self.same(gz, plain, "read", vas[0], "0n20000")
                self.same(gz, plain, "pfn", "0x0", "0x39", "0x1000")
                dirs = []
                for name in (gz, plain):
                    out = tempfile.mkdtemp(dir=self.tmp)
                    rc, doc, err = run_ntmem("--json", "carve", fixture(name), "-o", out, "--all")
                    self.assertIn(rc, (0, 3), err)
                    dirs.append((out, rc, normalised(json.loads(doc)), err.replace(fixture(name), "FILE")))
                self.assertEqual(dirs[0][1:], dirs[1][1:])
                self.assertEqual(sorted(os.listdir(dirs[0][0])), sorted(os.listdir(dirs[1][0])))
                for f in os.listdir(dirs[0][0]):
                    if f.endswith((".mem", ".pe")):
                        with open(os.path.join(dirs[0][0], f), "rb") as x, \
                                open(os.path.join(dirs[1][0], f), "rb") as y:
                            self.assertEqual(x.read(), y.read(), f)

    def test_index_is_kept_and_reused(self):
        gz, plain = PAIRS[0]
        first = ntmem_json("modules", fixture(gz))
        files = self.index_files()
        self.assertEqual(len(files), 1, files)
        st = os.stat(files[0])
        with open(files[0], "rb") as f:
            self.assertEqual(f.read(7), b"NTMGZIX", "magic")
        second = ntmem_json("modules", fixture(gz))
        self.assertEqual(normalised(first), normalised(second))
        self.assertEqual(self.index_files(), files)
        self.assertEqual(os.stat(files[0]).st_mtime_ns, st.st_mtime_ns, "the index was written again")
        self.assertEqual(os.stat(files[0]).st_ino, st.st_ino, "the index was replaced")

    def test_corrupt_index_is_rebuilt_not_trusted(self):
        gz, plain = PAIRS[0]
        want = normalised(ntmem_json("modules", fixture(plain)))
        ntmem_json("modules", fixture(gz))
        path = self.index_files()[0]
        with open(path, "rb") as f:
            good = f.read()
        bad = [good[:len(good) // 2],                       # cut short
               good[:100] + bytes([good[100] ^ 0x40]) + good[101:],   # one bit in a window
               good[:16] + b"\xff" * 8 + good[24:],        # a header field
               b"NTMGZIX2" + os.urandom(4096),              # garbage
               b""]
        for i, content in enumerate(bad):
            with self.subTest(case=i):
                with open(path, "wb") as f:
                    f.write(content)
                self.assertEqual(normalised(ntmem_json("modules", fixture(gz))), want)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), good, "the index was not built again")

    def test_changed_file_is_indexed_again(self):
        """The cache is keyed by identity: a file rewritten in place (same
        path) is not answered from the old index."""
        path = os.path.join(self.tmp, "dump.dmp.gz")
        shutil.copyfile(fixture(PAIRS[0][0]), path)
        self.assertEqual(normalised(ntmem_json("modules", path)),
                         normalised(ntmem_json("modules", fixture(PAIRS[0][1]))))
        shutil.copyfile(fixture(PAIRS[1][0]), path)
        self.assertEqual(normalised(ntmem_json("modules", path)),
                         normalised(ntmem_json("modules", fixture(PAIRS[1][1]))))
        self.assertEqual(len(self.index_files()), 2)

    def test_truncated_names_the_offset(self):
        rc, _, err = run_ntmem("info", fixture(C + "bad/truncated.dmp.gz"))
        self.assertEqual(rc, 2, err)
        self.assertRegex(err, r"gzip stream: truncated: .* at offset 0x[0-9a-f]+")
        self.assertEqual(self.index_files(), [], "a failed build left an index")

    def test_no_temporary_file_without_a_cache(self):
        """No cache folder: the index lives in an unlinked temporary file."""
        os.environ["XDG_CACHE_HOME"] = "/nonexistent-ntmem-dir/cache"
        home = os.environ.get("HOME")
        os.environ["HOME"] = "/nonexistent-ntmem-dir"
        tmpdir = os.path.join(self.tmp, "t")
        os.makedirs(tmpdir)
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = tmpdir
        try:
            gz, plain = PAIRS[0]
            self.assertEqual(normalised(ntmem_json("modules", fixture(gz))),
                             normalised(ntmem_json("modules", fixture(plain))))
            self.assertEqual(os.listdir(tmpdir), [])
        finally:
            os.environ["HOME"] = home if home is not None else ""
            if before is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = before


@unittest.skipIf(WRAPPER, "runs the plain binary on a pseudo-terminal")
class IndexingProgress(FreshCache):
    """The indexing line: on a terminal only, never with -q or into a pipe."""

    def env(self):
        return dict(os.environ, NTMEM_PROGRESS_DELAY_MS="0")

    def test_shown_on_a_terminal_while_indexing(self):
        from test_progress import on_terminal
        rc, seen = on_terminal(["info", fixture(PAIRS[0][0])], self.env())
        self.assertEqual(rc, 0, seen)
        self.assertIn(b"ntmem: indexing the gzip file: ", seen)
        rc, seen = on_terminal(["info", fixture(PAIRS[0][0])], self.env())
        self.assertNotIn(b"indexing", seen, "the index was built again")

    def test_dtb_scan_shown_on_a_terminal(self):
        """A raw image names no page-table root: the scan reports too
        (issue 14 item 6), and a second command reads the cache instead."""
        from test_progress import on_terminal
        raw = fixture(C + "xp-sp2-seed-pae-full.raw")
        rc, seen = on_terminal(["info", raw], self.env())
        self.assertEqual(rc, 0, seen)
        self.assertIn(b"ntmem: scanning for the page directory: ", seen)
        self.assertIn(b" pages", seen)
        self.assertTrue(seen.endswith(b"\r\x1b[K"), seen[-40:])
        rc, seen = on_terminal(["info", raw], self.env())
        self.assertNotIn(b"scanning", seen, "the scan ran again")
        rc, seen = on_terminal(["-q", "info", fixture(C + "xp-sp2-seed-pae-full.raw.gz")], self.env())
        self.assertNotIn(b"scanning", seen)

    def test_not_with_q_nor_into_a_pipe(self):
        from test_progress import on_terminal
        rc, seen = on_terminal(["-q", "info", fixture(PAIRS[0][0])], self.env())
        self.assertEqual(rc, 0)
        self.assertNotIn(b"indexing", seen)
        shutil.rmtree(os.path.join(self.tmp, "cache"))
        p = subprocess.run([NTMEM, "info", fixture(PAIRS[0][0])], capture_output=True, env=self.env(),
                           timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn(b"indexing", p.stderr)


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
    def test_signature_without_a_header_is_refused(self):
        # Read since kdpage (test_images.py KdumpFiles); a bare signature
        # is refused naming the header field.
        check_refused(self, C + "bad/header-only.kdump", "header.block_size")


if __name__ == "__main__":
    unittest.main()
