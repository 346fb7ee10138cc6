"""Real third-party dumps from ../shared/real (skipped, with the reason
printed, when that folder is absent).

- rizin_triage_x64_19041.dmp: a Windows 10 x64 triage dump. `info` reports
  x64, build 19041, 16 processors and its bugcheck; `modules` lists the
  driver list, checked against values this test reads from the file's own
  bytes at the offsets written below (TRIAGE_DUMP64 at 0x2000).
- imhex_dmp64_fulldump_header16k.bin: the first 16 KiB of an x64 full dump.
  `info` reports its header; memory commands end with exit 2 naming the
  truncation.
"""
import os
import struct
import tempfile
import unittest

from common import ntmem_json, real_file, run_ntmem

IMHEX = "dumps/imhex_dmp64_fulldump_header16k.bin"
RIZIN = "dumps/rizin_triage_x64_19041.dmp"

# Offsets read by hand (xxd) from the triage dump, written here so that the
# test reads the file independently of ntmem:
TRIAGE64 = 0x2000             # TRIAGE_DUMP64 follows the 0x2000-byte header
DRIVER_LIST_OFFSET = 0x2030   # TRIAGE_DUMP64.DriverListOffset -> 0x10828
DRIVER_COUNT = 0x2034         # TRIAGE_DUMP64.DriverCount -> 151
ENTRY_SIZE = 0x90             # DUMP_DRIVER_ENTRY64
ENTRY_NAME = 0x00             # DriverNameOffset (absolute, a DUMP_STRING)
ENTRY_DLLBASE = 0x38          # LdrEntry.DllBase (8 bytes)
ENTRY_SIZEOFIMAGE = 0x48      # LdrEntry.SizeOfImage (4 bytes)


def le32(data, off):
    return struct.unpack_from("<I", data, off)[0]


def le64(data, off):
    return struct.unpack_from("<Q", data, off)[0]


def drivers_from_bytes(data):
    """(name, base, size) of each DUMP_DRIVER_ENTRY64, straight from the bytes."""
    first, count = le32(data, DRIVER_LIST_OFFSET), le32(data, DRIVER_COUNT)
    out = []
    for i in range(count):
        e = first + i * ENTRY_SIZE
        s = le32(data, e + ENTRY_NAME)
        n = le32(data, s)              # DUMP_STRING.Length, UTF-16 units
        path = data[s + 4:s + 4 + 2 * n].decode("utf-16-le")
        out.append((path.rsplit("\\", 1)[-1], path, le64(data, e + ENTRY_DLLBASE),
                    le32(data, e + ENTRY_SIZEOFIMAGE)))
    return out


class RealTriageDump(unittest.TestCase):
    def setUp(self):
        self.path = real_file(RIZIN)
        with open(self.path, "rb") as f:
            self.data = f.read()

    def test_info(self):
        d = ntmem_json("info", self.path)["dump"]
        self.assertEqual(d["arch"], "x64")
        self.assertEqual(d["type"], "triage")
        self.assertEqual(d["format"], "windows-crash-dump")
        self.assertEqual(d["build"], 19041)
        self.assertEqual(d["processors"], 16)
        # BugCheckCode at 0x38, parameters at 0x40..0x58 (8 bytes each)
        self.assertEqual(d["bugcheck"]["code"], "0x%x" % le32(self.data, 0x38))
        self.assertEqual(d["bugcheck"]["code"], "0x1000007e")
        self.assertEqual(d["bugcheck"]["params"],
                         ["0x%x" % le64(self.data, 0x40 + 8 * i) for i in range(4)])
        self.assertEqual(d["bugcheck"]["params"][0], "0xffffffffc0000005")
        self.assertEqual(d["system_time"], "2021-02-21T01:38:22.9877657Z")
        self.assertEqual(d["pages_in_dump"], 0)
        self.assertEqual(d["machine"], {"value": "0x8664", "name": "AMD64"})
        # x64 CONTEXT at 0x348: Rip at +0xF8, Rsp at +0x98
        self.assertEqual(d["context"]["rip"], "0x%x" % le64(self.data, 0x348 + 0xF8))
        self.assertEqual(d["context"]["rip"], "0xfffff8048b58334c")
        self.assertEqual(d["context"]["rsp"], "0x%x" % le64(self.data, 0x348 + 0x98))
        self.assertIsNone(d["truncated"])

    def test_info_text_names_bugcheck(self):
        rc, out, err = run_ntmem("info", self.path)
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("arch:          x64", text)
        self.assertIn("build:         19041", text)
        self.assertIn("processors:    16", text)
        self.assertIn("SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M", text)

    def test_modules_match_the_files_bytes(self):
        expected = drivers_from_bytes(self.data)
        self.assertEqual(len(expected), 151)
        # the first entries, read by hand at 0x10828 + i * 0x90
        self.assertEqual(expected[0][0], "ntoskrnl.exe")
        self.assertEqual(expected[0][2:], (0xfffff8047ba00000, 0x1046000))
        self.assertEqual(expected[1][0], "hal.dll")
        self.assertEqual(expected[1][2:], (0xfffff80479440000, 0x6000))
        doc = ntmem_json("modules", self.path)
        mods = doc["modules"]
        self.assertTrue(doc["complete"])
        self.assertEqual(len(mods), len(expected))
        for m, (name, path, base, size) in zip(mods, expected):
            self.assertEqual(m["name"], name)
            self.assertEqual(m["path"], path)
            self.assertEqual(m["base"], "0x%x" % base)
            self.assertEqual(m["size"], size)
            self.assertEqual(m["end"], "0x%x" % (base + size))
            self.assertEqual(m["region"], "unknown")
            self.assertIsNone(m["ldr_entry"])     # the triage copy has no list VA

    def test_modules_text(self):
        rc, out, err = run_ntmem("modules", self.path)
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("fffff8047ba00000 fffff8047ca46000 01046000 ntoskrnl.exe", text)
        self.assertIn("151 modules", text)

    def test_explain_places_rip_in_a_driver(self):
        doc = ntmem_json("explain", self.path, expect=3)
        rip = doc["context"]["rip"]
        self.assertEqual(rip["va"], "0xfffff8048b58334c")
        # the driver whose [base, base+size) holds RIP, from the bytes
        hits = [(n, b) for n, _, b, s in drivers_from_bytes(self.data)
                if b <= 0xfffff8048b58334c < b + s]
        self.assertEqual(len(hits), 1)
        self.assertEqual(rip["module"], hits[0][0])
        self.assertEqual(rip["offset"], "0x%x" % (0xfffff8048b58334c - hits[0][1]))

    def test_memory_commands_refuse_with_one_line(self):
        said = set()    # one message per problem: every command says the same
        for args in (["pte", self.path, "0x80000000"], ["read", self.path, "0x1000", "16"],
                     ["pools", self.path], ["pfn", self.path, "0"], ["carve", self.path, "-o",
                     os.path.join(tempfile.gettempdir(), "ntmem-never-made"), "--all"]):
            rc, out, err = run_ntmem(*args)
            self.assertEqual(rc, 2, "%s: %s" % (args[0], err))
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertTrue(lines[0].startswith("ntmem: %s: " % self.path), err)
            said.add(lines[0])
        self.assertEqual(len(said), 1, said)


class RealTruncatedFullDump(unittest.TestCase):
    def setUp(self):
        self.path = real_file(IMHEX)
        with open(self.path, "rb") as f:
            self.data = f.read()

    def test_info_reports_the_header(self):
        d = ntmem_json("info", self.path)["dump"]
        self.assertEqual(d["arch"], "x64")
        self.assertEqual(d["type"], "full")
        self.assertEqual(d["format"], "windows-crash-dump")
        self.assertEqual(d["build"], le32(self.data, 0x0C))
        self.assertEqual(d["build"], 19045)
        self.assertEqual(d["processors"], le32(self.data, 0x34))
        self.assertEqual(d["bugcheck"]["code"], "0x%x" % le32(self.data, 0x38))
        self.assertFalse(d["memory_usable"])
        # DirectoryTableBase at 0x10 is 0x1ad002: PCID 2 in the low bits
        self.assertEqual(le64(self.data, 0x10), 0x1ad002)
        self.assertEqual(d["dtb_raw"], "0x1ad002")
        self.assertEqual(d["dtb"], "0x1ad000")
        # The file is cut after 16 KiB: two pages follow the 8 KiB header.
        self.assertEqual(d["pages_in_dump"], 2)
        # run table: NumberOfRuns at 0x88, runs of (BasePage, PageCount) from 0x98
        runs = [(le64(self.data, 0x98 + 16 * i), le64(self.data, 0xA0 + 16 * i))
                for i in range(le32(self.data, 0x88))]
        self.assertEqual(d["physical_runs"], [{"start": "0x%x" % (b << 12), "end": "0x%x" % ((b + n) << 12)}
                                              for b, n in runs])
        self.assertEqual(d["physical_runs"][0], {"start": "0x2000", "end": "0xa0000"})
        self.assertEqual(d["kdbg"], "0xffffc509c480b080")
        self.assertEqual(d["kdbg_source"], "header")
        self.assertEqual(d["truncated"], {"size_needed": 0x2000 + 0x1000 * sum(n for _, n in runs),
                                          "file_size": 16384})

    def test_memory_commands_name_the_truncation(self):
        for args in (["pte", self.path, "0x80000000"], ["read", self.path, "0x1000", "16"],
                     ["pools", self.path], ["modules", self.path], ["pfn", self.path, "1"],
                     ["carve", self.path, "-o", "/nonexistent-ntmem-out", "--all"]):
            rc, out, err = run_ntmem(*args)
            self.assertEqual(rc, 2, "%s: %s" % (args[0], err))
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertTrue(lines[0].startswith("ntmem: %s: file: truncated" % self.path), err)


if __name__ == "__main__":
    unittest.main()
