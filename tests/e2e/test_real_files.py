"""Real third-party dumps from ../shared/real: 64-bit files are recognised and
reported (arch x64, the right type), and commands that need x86 memory refuse
them with one clear line."""
import unittest

from common import ntmem_json, real_file, run_ntmem

IMHEX = "dumps/imhex_dmp64_fulldump_header16k.bin"
RIZIN = "dumps/rizin_triage_x64_19041.dmp"


class RealDumps(unittest.TestCase):
    def test_imhex_truncated_full_dump_is_x64_full(self):
        d = ntmem_json("info", real_file(IMHEX))["dump"]
        self.assertEqual(d["arch"], "x64")
        self.assertEqual(d["type"], "full")
        self.assertEqual(d["format"], "windows-crash-dump")
        self.assertEqual(d["build"], 19045)
        self.assertFalse(d["memory_usable"])
        # The file is cut after 16 KiB: two pages follow the 8 KiB header.
        self.assertEqual(d["pages_in_dump"], 2)
        self.assertEqual(d["physical_runs"][0], {"start": "0x2000", "end": "0xa0000"})
        self.assertEqual(d["kdbg"], "0xffffc509c480b080")
        self.assertEqual(d["kdbg_source"], "header")

    def test_rizin_triage_is_x64_triage(self):
        d = ntmem_json("info", real_file(RIZIN))["dump"]
        self.assertEqual(d["arch"], "x64")
        self.assertEqual(d["type"], "triage")
        self.assertEqual(d["build"], 19041)
        self.assertEqual(d["processors"], 16)
        self.assertEqual(d["bugcheck"]["code"], "0x1000007e")
        self.assertEqual(d["bugcheck"]["params"][0], "0xffffffffc0000005")
        self.assertEqual(d["system_time"], "2021-02-21T01:38:22.9877657Z")
        self.assertEqual(d["pages_in_dump"], 0)

    def test_memory_commands_refuse_x64_with_one_line(self):
        for rel in (IMHEX, RIZIN):
            path = real_file(rel)
            for args in (["pte", path, "0x80000000"], ["read", path, "0x1000", "16"]):
                rc, out, err = run_ntmem(*args)
                self.assertEqual(rc, 2, "%s %s: %s" % (args[0], rel, err))
                lines = err.strip().splitlines()
                self.assertEqual(len(lines), 1, err)
                self.assertTrue(lines[0].startswith("ntmem: %s: " % path), err)
                self.assertIn("no physical memory this command can use", lines[0])


if __name__ == "__main__":
    unittest.main()
