"""The command line on 64-bit dumps, against the generator's x64 manifests:
--kdbg takes a 64-bit VA; modules and info print 64-bit addresses and
bugcheck parameters at 16 hex digits (x86 text keeps 8); explain resolves
the x64 context record's RIP and RSP through memory on full and bitmap dumps."""
import json
import unittest

from common import check_each_fixture, fixture, manifest, ntmem_json, run_ntmem

X64_DUMPS = ["win7-x64-full.dmp", "win7-x64-kernel-bitmap.dmp", "win10-x64-full.dmp",
             "win10-x64-kernel-bitmap.dmp", "win10-x64-full-bitmap.dmp"]


class Kdbg64(unittest.TestCase):
    def test_kdbg_option_takes_a_64bit_va(self):
        def check(name):
            va = manifest(name)["kdbg"]["va"]
            d = ntmem_json("--kdbg", va, "info", fixture(name))["dump"]
            self.assertEqual((d["kdbg"], d["kdbg_source"]), (va, "option"))
            mods = ntmem_json("--kdbg", va, "modules", fixture(name))["modules"]
            self.assertEqual([m["base"] for m in mods], [m["base"] for m in manifest(name)["modules"]])
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_kdbg_option_past_32_bits_on_x86_names_it(self):
        rc, out, err = run_ntmem("--kdbg", "0x1fffff000", "modules", fixture("xp-sp2-seed-full.dmp"))
        self.assertEqual(rc, 3, err)
        self.assertIn("0x1fffff000", err)


class Columns64(unittest.TestCase):
    def test_modules_text_has_16_digit_addresses(self):
        def check(name):
            rc, out, err = run_ntmem("modules", fixture(name))
            self.assertEqual(rc, 0, err)
            lines = out.decode().splitlines()
            self.assertTrue(lines[0].startswith("start            end              size     region"))
            for m in manifest(name)["modules"]:
                row = "%016x %016x %08x " % (int(m["base"], 16), int(m["end"], 16), m["size"])
                self.assertTrue(any(line.startswith(row) for line in lines), row)
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_modules_text_on_x86_keeps_8_digits(self):
        name = "xp-sp2-seed-full.dmp"
        rc, out, err = run_ntmem("modules", fixture(name))
        lines = out.decode().splitlines()
        self.assertTrue(lines[0].startswith("start    end      size     region"))
        m = manifest(name)["modules"][0]
        self.assertTrue(lines[1].startswith("%08x %08x %08x " % (int(m["base"], 16), int(m["end"], 16), m["size"])))

    def test_bugcheck_parameters_at_16_digits(self):
        def check(name):
            params = manifest(name)["dump"]["bugcheck"]["params"]
            for cmd in ("info", "explain"):
                rc, out, err = run_ntmem(cmd, fixture(name))
                text = out.decode()
                for i, p in enumerate(params):
                    self.assertIn("Arg%d: 0x%016x" % (i + 1, int(p, 16)), text, cmd)
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_bugcheck_parameters_on_x86_keep_8_digits(self):
        rc, out, err = run_ntmem("info", fixture("xp-sp2-seed-full.dmp"))
        p = manifest("xp-sp2-seed-full.dmp")["dump"]["bugcheck"]["params"][0]
        self.assertIn("Arg1: 0x%08x " % int(p, 16), out.decode())


class Explain64(unittest.TestCase):
    def test_rip_and_rsp_resolved_through_memory(self):
        def check(name):
            m = manifest(name)
            rip, rsp = m["x64"]["context"]["rip"], m["x64"]["context"]["rsp"]
            rc, out, err = run_ntmem("--json", "explain", fixture(name))
            self.assertIn(rc, (0, 3), err)
            ctx = json.loads(out)["context"]
            self.assertEqual((ctx["rip"]["va"], ctx["rsp"]["va"]), (rip, rsp))
            holder = [d for d in m["modules"] if int(d["base"], 16) <= int(rip, 16) < int(d["end"], 16)][0]
            self.assertEqual(ctx["rip"]["module"], holder["name"])
            self.assertEqual(ctx["rip"]["offset"], "0x%x" % (int(rip, 16) - int(holder["base"], 16)))
            want = [p for p in m["pte"] if p["va"] == "0x%x" % (int(rip, 16) & ~0xFFF)]
            if want:
                self.assertEqual(ctx["rip"]["state"], want[0]["state"])
            rc, out, err = run_ntmem("explain", fixture(name))
            self.assertIn("RIP 0x%016x" % int(rip, 16), out.decode())
        check_each_fixture(self, X64_DUMPS, check, "x64")
