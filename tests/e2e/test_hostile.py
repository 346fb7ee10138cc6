"""Hostile files and hostile machines (issue 15): every case ends with a
contract status, never a signal or a hang, within a generous timeout and a
memory ceiling, and loses nothing silently.

The hostile files are made here from a generated fixture's header (never
from ntmem's output): a FIFO, a character device, a directory, a sparse file
whose header claims gigabytes, a file cut short while ntmem reads it, stdout
on /dev/full or closed, a file-size limit (`ulimit -f`) standing for a full
disk, an unusable -o DIR."""
import json
import os
import resource
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import unittest
import zlib

from common import NTMEM, WRAPPER, fixture

CONTRACT = {0, 2, 3}
# Generous: only a hang can take this long (the bound is 10 s;
# sanitizer and valgrind builds run the same cases several times slower).
SANITIZED = bool(WRAPPER) or "asan" in os.environ.get("BUILD", "")
HANG = 600 if WRAPPER else (60 if SANITIZED else 20)
# Peak resident memory of one run: the bound, checked where the
# figure is ntmem's own (not valgrind's; ASan's shadow memory costs more).
RSS_LIMIT = None if WRAPPER else ((1024 if SANITIZED else 256) << 20)
FULL = "xp-sp2-seed-full.dmp"
COMMANDS = {
    "info": [], "pte": ["80000000"], "read": ["804d7000", "0x100"], "pools": [],
    "modules": [], "pfn": ["0"], "explain": [], "report": [],
}


class _Popen(subprocess.Popen):
    """Popen that keeps the child's own resource usage (wait4)."""
    def _try_wait(self, wait_flags):
        pid, sts, ru = os.wait4(self.pid, wait_flags)
        if pid == self.pid:
            self.rusage = ru
        return pid, sts


def run_limited(test, args, stdout=subprocess.PIPE, file_size=None, env=None):
    """Runs ntmem ARGS; returns (status, stdout bytes, stderr text, peak RSS
    bytes). A signal, a hang past HANG seconds or more than RSS_LIMIT of
    memory fails TEST."""
    def limits():
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    argv = [a if isinstance(a, bytes) else str(a) for a in args]
    p = _Popen(WRAPPER + [NTMEM] + argv, stdout=stdout,
                         stderr=subprocess.PIPE, preexec_fn=limits, env=env)
    try:
        out, err = p.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        test.fail("ntmem %s: still running after %d s" % (" ".join(map(str, args)), HANG))
    rss = p.rusage.ru_maxrss * 1024 if getattr(p, "rusage", None) else 0
    test.assertGreaterEqual(p.returncode, 0, "ntmem %s: killed by signal %d"
                            % (" ".join(map(str, args)), -p.returncode))
    return p.returncode, out or b"", err.decode("utf-8", "replace"), rss


def one_line(test, err, *words):
    lines = [l for l in err.splitlines() if not l.startswith("ntmem: warning:")]
    test.assertEqual(len(lines), 1, err)
    test.assertTrue(lines[0].startswith("ntmem: "), lines[0])
    for w in words:
        test.assertIn(w, lines[0])
    return lines[0]


class Hostile(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ntmem-hostile-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def check_rss(self, rss, what):
        if RSS_LIMIT and rss:
            self.assertLess(rss, RSS_LIMIT, "%s: %d MiB resident" % (what, rss >> 20))


class NotARegularFile(Hostile):
    def test_fifo_as_dump_is_refused_at_once(self):
        fifo = self.path("dump.dmp")
        os.mkfifo(fifo)
        for cmd, args in COMMANDS.items():
            with self.subTest(command=cmd):
                rc, out, err, _ = run_limited(self, [cmd, fifo] + args)
                self.assertEqual(rc, 2, err)
                one_line(self, err, fifo, "FIFO")

    def test_character_device_and_directory(self):
        for path, kind in (("/dev/null", "character device"), (self.dir, "directory")):
            with self.subTest(path=path):
                rc, _, err, _ = run_limited(self, ["info", path])
                self.assertEqual(rc, 2, err)
                one_line(self, err, kind)

    def test_fifo_in_compare_folder_does_not_hang_carve(self):
        dump = fixture(FULL)
        cmp = self.path("originals")
        os.mkdir(cmp)
        os.mkfifo(os.path.join(cmp, "hal.dll"))
        rc, out, err, _ = run_limited(self, ["--json", "carve", dump, "-o", self.path("out"),
                                             "--module", "hal.dll", "--compare-with", cmp])
        self.assertIn(rc, CONTRACT, err)
        mod = json.loads(out)["modules"][0]
        self.assertIn("not a regular file", mod["compare"]["error"])


class SparseClaims(Hostile):
    def sparse_full_dump(self, pages):
        """A full dump header claiming PAGES pages in one run, the file
        extended (not written) to the size the claim needs."""
        with open(fixture(FULL), "rb") as f:
            h = bytearray(f.read(0x1000))
        struct.pack_into("<III", h, 0x64, 1, pages, 0)
        struct.pack_into("<I", h, 0x70, pages)
        path = self.path("sparse.dmp")
        with open(path, "wb") as f:
            f.write(h)
            f.truncate(0x1000 + pages * 4096)
        if os.stat(path).st_blocks * 512 > 1 << 20:
            self.skipTest("this file system does not keep files sparse")
        return path

    def test_info_costs_what_the_file_holds(self):
        for gib in (8, 60):
            with self.subTest(claim_gib=gib):
                path = self.sparse_full_dump(gib << 18)
                for cmd in ("info", "modules", "pools"):
                    rc, out, err, rss = run_limited(self, ["--json", cmd, path])
                    self.assertIn(rc, CONTRACT, err)
                    self.check_rss(rss, "%s on a %d GiB claim" % (cmd, gib))
                rc, out, err, _ = run_limited(self, ["--json", "info", path])
                if rc == 2 and "cannot map" in err and WRAPPER:
                    continue    # valgrind cannot reserve the claimed size
                self.assertEqual(rc, 0, err)
                self.assertEqual(json.loads(out)["dump"]["pages_in_dump"], gib << 18)


def gzip_member(data, level=6):
    c = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def bomb(head, filler, copies):
    """A gzip file: HEAD, then COPIES times the 64 MiB block FILLER, each a
    member of its own (members concatenate, RFC 1952 section 2.2), so that
    a few MiB inflate to gigabytes without compressing gigabytes here."""
    block = gzip_member(filler * (64 << 20))
    return gzip_member(head) + block * copies


class Bombs(Hostile):
    def write(self, name, data):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def expect(self, path, statuses, *words):
        for cmd in ("info", "modules"):
            with self.subTest(file=os.path.basename(path), command=cmd):
                rc, out, err, rss = run_limited(self, [cmd, path])
                self.assertIn(rc, statuses, err)
                self.check_rss(rss, cmd)
                if rc == 2:
                    one_line(self, err, path, *words)

    def test_gzip_of_something_else_is_refused_before_inflating(self):
        path = self.write("notadump.dmp.gz", bomb(b"MDMP" + b"\0" * 4092, b"\0", 128))
        self.assertLess(os.path.getsize(path), 16 << 20)
        self.expect(path, {2}, "header.Signature", "minidump")

    def test_gzip_inflates_only_what_the_header_needs(self):
        with open(fixture(FULL), "rb") as f:
            dump = f.read()
        # 4 GiB of 0xff after the dump: never inflated, never on disk.
        path = self.write("long.dmp.gz", gzip_member(dump) + gzip_member(b"\xff" * (64 << 20)) * 64)
        self.expect(path, CONTRACT)
        rc, out, err, _ = run_limited(self, ["--json", "info", path])
        self.assertEqual(json.loads(out)["dump"]["pages_in_dump"],
                         json.loads(run_limited(self, ["--json", "info", fixture(FULL)])[1])["dump"]["pages_in_dump"])

    def test_wrong_gzip_length_is_not_truncation(self):
        with open(fixture(FULL), "rb") as f:
            gz = bytearray(gzip_member(f.read()))
        gz[-4] ^= 1
        path = self.write("isize.dmp.gz", bytes(gz))
        rc, _, err, _ = run_limited(self, ["info", path])
        self.assertEqual(rc, 2, err)
        line = one_line(self, err, "ISIZE")
        self.assertNotIn("truncated", line)

    def bitmap_bomb(self, bits):
        with open(fixture("xp-sp2-seed-pae-bitmap.dmp"), "rb") as f:
            h = bytearray(f.read(0x2000))
        struct.pack_into("<Q", h, 0x1030, bits)
        return h

    def test_bitmap_bit_count_past_what_x86_addresses(self):
        h = self.bitmap_bomb(1 << 33)
        sparse = self.path("bitmap-bomb.dmp")
        with open(sparse, "wb") as f:
            f.write(h)
            f.truncate(0x1038 + (1 << 30) + 0x1000)
        self.expect(sparse, {2}, "bitmap.BitCount", "exceed")
        gz = self.write("bitmap-bomb.dmp.gz", bomb(bytes(h), b"\0", 16))
        self.expect(gz, {2}, "bitmap.BitCount", "exceed")


class NamesAreBytes(Hostile):
    """Paths come from the file system: bytes, not text."""

    def setUp(self):
        super().setUp()
        self.bdir = os.fsencode(self.dir)

    def test_dump_path_not_utf8(self):
        path = self.bdir + b"/dump\xff\xfe.dmp"
        shutil.copy(fixture(FULL), path)
        rc, out, err, _ = run_limited(self, ["--json", "info", path])
        self.assertEqual(rc, 0, err)
        dump = json.loads(out)["dump"]
        self.assertTrue(dump["path"].endswith("dump\ufffd\ufffd.dmp"), dump["path"])
        self.assertEqual(bytes.fromhex(dump["path_hex"]), path)
        self.assertIn("pages_in_dump", dump)

    def test_output_dir_not_utf8(self):
        outdir = self.bdir + b"/out\xc3("
        rc, out, err, _ = run_limited(self, ["--json", "carve", fixture(FULL), "-o", outdir,
                                             "--module", "hal.dll"])
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(bytes.fromhex(doc["output_dir_hex"]), outdir)
        self.assertIn("\ufffd", doc["output_dir"])
        self.assertEqual(len(os.listdir(outdir)), 3)

    def test_newline_in_a_name_keeps_one_line(self):
        path = self.bdir + b"/two\nlines\x1b[31m.dmp"
        with open(path, "wb") as f:
            f.write(b"MDMP" + b"\0" * 8188)
        for cmd in ("info", "modules"):
            rc, out, err, _ = run_limited(self, [cmd, path])
            self.assertEqual(rc, 2, err)
            line = one_line(self, err, "two?lines?[31m.dmp", "header.Signature")
        shutil.copy(fixture(FULL), path)
        rc, out, err, _ = run_limited(self, ["info", path])
        self.assertEqual(rc, 0, err)
        self.assertIn(b"two?lines?[31m.dmp", out)
        self.assertNotIn(b"\x1b", out)


class SparseElf(Hostile):
    def test_elf_core_claiming_8_gib_of_holes(self):
        """An ELF core (x86, no register note) whose one segment claims
        8 GiB that the file holds only as a hole: the KDBG scan (forced by
        --dtb) costs what the file holds."""
        size = 8 << 30
        eh = bytearray(64)
        eh[0:4] = b"\x7fELF"
        eh[4], eh[5], eh[6] = 2, 1, 1
        struct.pack_into("<HHI", eh, 16, 4, 3, 1)          # ET_CORE, EM_386
        struct.pack_into("<QQQ", eh, 24, 0, 64, 0)
        struct.pack_into("<IHHHHHH", eh, 48, 0, 64, 56, 1, 0, 0, 0)
        ph = struct.pack("<IIQQQQQQ", 1, 4, 0x1000, 0, 0, size, size, 0x1000)
        path = self.path("sparse.elf")
        with open(path, "wb") as f:
            f.write(eh + ph)
            f.truncate(0x1000 + size)
        if os.stat(path).st_blocks * 512 > 1 << 20:
            self.skipTest("this file system does not keep files sparse")
        for cmd in ("info", "modules"):
            rc, out, err, rss = run_limited(self, ["--dtb", "0x39000", cmd, path])
            self.assertIn(rc, CONTRACT, err)
            self.check_rss(rss, cmd)


class ShrinkingFile(Hostile):
    def test_file_cut_short_while_read(self):
        dump = self.path("shrinks.dmp")
        shutil.copy(fixture(FULL), dump)
        # read's hex dump fills the pipe and blocks mid-range with pages
        # still to read; the file is then cut to its header.
        p = subprocess.Popen(WRAPPER + [NTMEM, "read", dump, "804d7000", "0x200000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = p.stdout.read(4096)
        self.assertTrue(first)
        os.truncate(dump, 0x2000)
        try:
            out, err = p.communicate(timeout=HANG)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            self.fail("hang after the file shrank")
        err = err.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 2, err)
        line = one_line(self, err, dump, "changed while being read", "offset 0x")


class UnwritableOutput(Hostile):
    def test_stdout_on_dev_full(self):
        dump = fixture(FULL)
        with open("/dev/full", "wb") as full:
            for json_flag in ([], ["--json"]):
                for cmd, args in COMMANDS.items():
                    with self.subTest(command=cmd, json=bool(json_flag)):
                        rc, _, err, _ = run_limited(self, json_flag + [cmd, dump] + args, stdout=full)
                        self.assertNotIn(rc, (0, 1), err)
                        self.assertIn("ntmem: stdout: output: cannot write", err)

    def test_stdout_closed(self):
        dump = fixture(FULL)
        for cmd in ("info", "modules"):
            with self.subTest(command=cmd):
                p = subprocess.run(WRAPPER + [NTMEM, cmd, dump], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, timeout=HANG,
                                   preexec_fn=lambda: os.close(1))
                self.assertNotIn(p.returncode, (0, 1), p.stderr)
                self.assertIn(b"stdout", p.stderr)

    def test_carve_on_a_full_disk_leaves_only_complete_files(self):
        dump = fixture(FULL)
        whole = self.path("whole")
        rc, out, err, _ = run_limited(self, ["--json", "carve", dump, "-o", whole, "--all"])
        self.assertIn(rc, (0, 3), err)
        cut = self.path("cut")
        rc, out, err, _ = run_limited(self, ["--json", "carve", dump, "-o", cut, "--all"],
                                      file_size=300 << 10)
        self.assertNotIn(rc, (0, 1), err)
        self.assertIn("File too large", err)
        doc = json.loads(out)
        failed = [m for m in doc["modules"] if "error" in m]
        self.assertTrue(failed)
        names = os.listdir(cut)
        self.assertTrue(names, "some modules fit under the limit")
        for name in names:
            with open(os.path.join(cut, name), "rb") as a, open(os.path.join(whole, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), "%s is not the complete file" % name)

    def test_read_o_on_a_full_disk(self):
        dump = fixture(FULL)
        out_path = self.path("bytes.bin")
        rc, _, err, _ = run_limited(self, ["read", dump, "804d7000", "0x100000", "-o", out_path],
                                    file_size=64 << 10)
        self.assertEqual(rc, 2, err)
        self.assertIn("ntmem: %s: output: write failed: File too large" % out_path, err)
        self.assertEqual(os.listdir(self.dir), [], "nothing left behind")

    def test_read_o_replaces_only_when_complete(self):
        dump = fixture(FULL)
        out_path = self.path("bytes.bin")
        with open(out_path, "wb") as f:
            f.write(b"old")
        rc, _, err, _ = run_limited(self, ["read", dump, "804d7000", "0x100000", "-o", out_path],
                                    file_size=64 << 10)
        self.assertEqual(rc, 2, err)
        with open(out_path, "rb") as f:
            self.assertEqual(f.read(), b"old")
        rc, _, err, _ = run_limited(self, ["read", dump, "804d7000", "0x1000", "-o", out_path])
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.path.getsize(out_path), 0x1000)
        self.assertEqual(sorted(os.listdir(self.dir)), ["bytes.bin"])

    def test_unusable_output_dir(self):
        dump = fixture(FULL)
        blocker = self.path("file")
        with open(blocker, "w") as f:
            f.write("x")
        for outdir in (os.path.join(blocker, "sub"), "/proc/ntmem-none/x"):
            with self.subTest(outdir=outdir):
                rc, _, err, _ = run_limited(self, ["carve", dump, "-o", outdir, "--all"])
                self.assertEqual(rc, 2, err)
                one_line(self, err, outdir, "output")


if __name__ == "__main__":
    unittest.main()
