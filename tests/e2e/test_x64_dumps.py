"""x64 and other-machine dumps from the generator (fixtures/ntdump/x64.py)
against their manifests: the x64 twins of the x86 e2e checks.

- info on every x64 dump (full, kernel bitmap SDMP, full bitmap FDMP; Windows 7
  and Windows 10 software-PTE layouts): the contract's dump object, the raw
  DTB with its PCID bits and the masked root.
- triage dumps of x64, ARM64 and 32-bit ARM: modules lists the driver list;
  explain places the x64 RIP in it.
- ARM64: info names the machine; commands that need page tables refuse with one line.
- pte, read, modules, carve, pools, kdbg on the x64 full and bitmap dumps.
  These need ntmem's x64 walks; while a build refuses 64-bit page tables the
  class is skipped with that reason printed.
- carve of PE32+ images (the twin of test_carve.py): holes, page bytes,
  sections, the .pe as PE32+ in objdump/readpe, --compare-with finding
  exactly the generator's hook through DIR64 relocations; the PFN check
  (pfn_checked, stale pages, MMPFN PteAddress at +0x10 Win7 / +0x08 Win10);
  the text table's 64-bit base column and the unchanged x86 one.
"""
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest

from common import check_each_fixture, fixture, manifest, ntmem_json, run_ntmem

LAYOUTS = ("win7", "win10")
X64_DUMPS = ["win7-x64-full.dmp", "win7-x64-kernel-bitmap.dmp", "win10-x64-full.dmp",
             "win10-x64-kernel-bitmap.dmp", "win10-x64-full-bitmap.dmp"]
TRIAGES = ["win10-x64-triage.dmp", "arm64-triage.dmp", "arm-triage.dmp"]
CONTRACT_KEYS = ["format", "type", "arch", "pae", "dtb", "kdbg", "kdbg_source", "build",
                 "bugcheck", "processors", "system_time", "pages_in_dump", "physical_runs"]
BATCH = 200


def check_dump_object(test, name):
    want = manifest(name)["dump"]
    got = ntmem_json("info", fixture(name))["dump"]
    for key in CONTRACT_KEYS:
        if key in want:
            test.assertEqual(got[key], want[key], "%s: dump.%s" % (name, key))
    return got


class X64Info(unittest.TestCase):
    def test_info_matches_manifest(self):
        def check(name):
            got = check_dump_object(self, name)
            x = manifest(name)["x64"]
            self.assertEqual(got["dtb_raw"], x["dtb_raw"])
            self.assertEqual(got["context"]["rip"], x["context"]["rip"])
            self.assertEqual(got["context"]["rsp"], x["context"]["rsp"])
            self.assertEqual(got["machine"]["value"], "0x8664")
            self.assertIsNone(got["truncated"])
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_win10_dtb_has_pcid_bits_masked(self):
        x = manifest("win10-x64-full.dmp")["x64"]
        self.assertNotEqual(x["pcid"], 0, "the fixture should carry a PCID")
        got = ntmem_json("info", fixture("win10-x64-full.dmp"))["dump"]
        self.assertEqual(int(got["dtb"], 16), int(x["dtb_raw"], 16) & ~0xFFF)

    def test_truncated_copy_is_reported_and_refused(self):
        src = fixture("win7-x64-full.dmp")
        tmp = tempfile.mkdtemp(prefix="ntmem-x64-")
        try:
            cut = os.path.join(tmp, "cut.dmp")
            with open(src, "rb") as f, open(cut, "wb") as g:
                g.write(f.read(0x2000 + 0x10 * 0x1000))
            d = ntmem_json("info", cut)["dump"]
            self.assertEqual(d["pages_in_dump"], 0x10)
            self.assertEqual(d["truncated"]["file_size"], 0x12000)
            rc, _, err = run_ntmem("read", cut, "0x1000", "0x10")
            self.assertEqual(rc, 2, err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertIn("file: truncated", err)
        finally:
            shutil.rmtree(tmp)


class Triage(unittest.TestCase):
    def test_info_and_modules(self):
        def check(name):
            want = manifest(name)
            got = ntmem_json("info", fixture(name))["dump"]
            for key in ("type", "arch", "build", "bugcheck", "processors", "pages_in_dump"):
                if key in want["dump"]:
                    self.assertEqual(got[key], want["dump"][key], "%s: %s" % (name, key))
            self.assertEqual(got["machine"]["value"], want["machine"]["value"])
            doc = ntmem_json("modules", fixture(name))
            self.assertTrue(doc["complete"])
            self.assertEqual(doc["source"], "triage_driver_list")
            self.assertEqual(len(doc["modules"]), len(want["modules"]))
            for g, w in zip(doc["modules"], want["modules"]):
                for key in ("name", "path", "base", "end", "size"):
                    self.assertEqual(g[key], w[key], "%s %s: %s" % (name, w["name"], key))
                self.assertIsNone(g["ldr_entry"])
        check_each_fixture(self, TRIAGES, check, "triage")

    def test_explain_places_rip(self):
        name = "win10-x64-triage.dmp"
        want = manifest(name)["context"]
        doc = ntmem_json("explain", fixture(name), expect=3)
        self.assertEqual(doc["context"]["rip"]["va"], want["rip"]["va"])
        self.assertEqual(doc["context"]["rip"]["module"], want["rip"]["module"])
        self.assertEqual(doc["context"]["rip"]["offset"], want["rip"]["offset"])
        self.assertEqual(doc["context"]["rsp"]["va"], want["rsp"]["va"])

    def test_memory_commands_refuse(self):
        path = fixture("win10-x64-triage.dmp")
        rc, _, err = run_ntmem("pte", path, "0x1000")
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)


class OtherMachines(unittest.TestCase):
    def test_arm64_full_info_names_the_machine(self):
        name = "arm64-full.dmp"
        got = check_dump_object(self, name)
        self.assertEqual(got["machine"], {"value": "0xaa64", "name": "ARM64"})
        self.assertFalse(got["page_tables_walked"])
        rc, out, err = run_ntmem("info", fixture(name))
        self.assertEqual(rc, 0, err)
        self.assertIn("ARM64 (0xaa64)", out.decode())

    def test_page_table_commands_refuse_naming_the_machine(self):
        for name, machine in (("arm64-full.dmp", "ARM64 (0xaa64)"), ("arm64-triage.dmp", "ARM64 (0xaa64)"),
                              ("arm-triage.dmp", "ARMNT")):
            path = fixture(name)
            for args in (["pte", path, "0x1000"], ["read", path, "0x1000", "0x10"], ["pools", path],
                         ["pfn", path, "1"], ["carve", path, "-o", "/nonexistent-ntmem", "--all"]):
                with self.subTest(dump=name, command=args[0]):
                    rc, _, err = run_ntmem(*args)
                    self.assertEqual(rc, 2, err)
                    lines = err.strip().splitlines()
                    self.assertEqual(len(lines), 1, err)
                    self.assertTrue(lines[0].startswith("ntmem: %s: header.MachineImageType: " % path), err)
                    self.assertIn(machine, lines[0])
        rc, _, err = run_ntmem("modules", fixture("arm64-full.dmp"))
        self.assertEqual(rc, 2, err)
        self.assertIn("ARM64", err)


def walks_available():
    """x64 walks exist in this build when pte answers on an x64 full dump."""
    path = fixture("win7-x64-full.dmp")
    va = manifest("win7-x64-full.dmp")["pte"][0]["va"]
    rc, _, err = run_ntmem("--json", "pte", path, va)
    if rc != 0:
        raise unittest.SkipTest("this build does not walk x64 page tables yet: %s" % err.strip())


def skip_if_not_built_yet(rc, err, what):
    """A build that refuses a command on x64 with "... not ... yet" (a part
    not written yet) skips that twin with its words; anything else is judged."""
    if rc == 2 and "not" in err and "yet" in err and "x64" in err:
        raise unittest.SkipTest("%s: %s" % (what, err.strip()))


class X64Walks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        walks_available()

    def test_pte(self):
        def check(name):
            want = manifest(name)["pte"]
            got = []
            checked = True
            vas = [w["va"] for w in want]
            for i in range(0, len(vas), BATCH):
                doc = ntmem_json("pte", fixture(name), *vas[i:i + BATCH])
                got += doc["results"]
                checked = checked and doc.get("pfn_checked", False)
            states = set()
            for w, g in zip(want, got):
                if w["state"] == "stale" and not checked:
                    # stale needs the PFN database check; the document says it did not run
                    print("%s %s: stale not judged (pfn_checked false)" % (name, w["va"]))
                    continue
                with self.subTest(dump=name, va=w["va"]):
                    self.assertEqual(g["va"], w["va"])
                    self.assertEqual(g["state"], w["state"])
                    states.add(w["state"])
                    for key in ("pa", "large_page", "entries", "pagefile"):
                        if key in w:
                            self.assertEqual(g.get(key), w[key], key)
            return states
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_pte_exercises_every_state(self):
        want = {w["state"] for w in manifest("win10-x64-kernel-bitmap.dmp")["pte"]}
        for s in ("valid", "transition", "pagefile", "demand_zero", "prototype", "not_mapped",
                  "not_in_dump", "stale"):
            self.assertIn(s, want)

    def test_read_gives_the_page_bytes(self):
        def check(name):
            tmp = tempfile.mkdtemp(prefix="ntmem-x64-read-")
            try:
                for w in manifest(name)["pte"]:
                    if w.get("sha256") is None or w["state"] == "stale":
                        continue
                    va = int(w["va"], 16) & ~0xFFF
                    out = os.path.join(tmp, "%x.bin" % va)
                    rc, _, err = run_ntmem("read", fixture(name), hex(va), "0x1000", "-o", out)
                    self.assertEqual(rc, 0, "%s %s: %s" % (name, w["va"], err))
                    with open(out, "rb") as f:
                        self.assertEqual(hashlib.sha256(f.read()).hexdigest(), w["sha256"], w["va"])
            finally:
                shutil.rmtree(tmp)
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_modules(self):
        def check(name):
            want = manifest(name)["modules"]
            got = ntmem_json("modules", fixture(name))["modules"]
            self.assertEqual(len(got), len(want))
            for g, w in zip(got, want):
                for key in ("name", "path", "base", "end", "size", "entry", "ldr_entry"):
                    self.assertEqual(g[key], w[key], "%s %s: %s" % (name, w["name"], key))
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_kdbg_from_header(self):
        def check(name):
            d = ntmem_json("info", fixture(name))["dump"]
            self.assertEqual(d["kdbg"], manifest(name)["kdbg"]["va"])
            self.assertEqual(d["kdbg_source"], "header")
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_pools_variables(self):
        def check(name):
            want = manifest(name)["pools"]["variables"]
            rc, out, err = run_ntmem("--json", "pools", fixture(name))
            skip_if_not_built_yet(rc, err, "pools")
            self.assertEqual(rc, 0, err)
            got = json.loads(out)
            self.assertTrue(got["dynamic_va"])
            # every variable the generator wrote, at its width (PFN_COUNT is 4 bytes)
            self.assertEqual(got["variables"], want)
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_pools_regions(self):
        """The map the build defines: Windows 7's fixed windows and variable-placed
        regions exactly; Windows 10's variables as limits; never a boundary
        from the last mapped page (the PFN database is mapped only in part)."""
        def check(name):
            want = manifest(name)["pools"]
            rc, out, err = run_ntmem("--json", "pools", fixture(name))
            skip_if_not_built_yet(rc, err, "pools")
            self.assertEqual(rc, 0, err)
            got = json.loads(out)
            key = lambda r: (r["name"], r["start"], r["end"], r.get("bound"))
            self.assertEqual([key(r) for r in got["regions"]], [key(r) for r in want["regions"]])
            self.assertEqual([key(r) for r in got["limits"]], [key(r) for r in want["limits"]])
            self.assertEqual(got["overlaps"], want["overlaps"])
            pfn = [r for r in got["regions"] if r["name"] == "pfn_database"][0]
            self.assertGreater(int(pfn["end"], 16), int(want["pfn_database_last_mapped_page"], 16) + 0x1000)
            self.assertEqual(got["system_va_type"]["found"], False)
            self.assertIn("x64", got["x64_layout"] + got["system_va_type"]["why"])
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_pools_text_has_64bit_columns(self):
        name = "win7-x64-full.dmp"
        rc, out, err = run_ntmem("pools", fixture(name))
        skip_if_not_built_yet(rc, err, "pools")
        self.assertEqual(rc, 0, err)
        text = out.decode()
        for r in manifest(name)["pools"]["regions"]:
            self.assertIn("%016x %016x" % (int(r["start"], 16), int(r["end"], 16)), text)
        self.assertIn("Vista/7 x64 fixed layout", text)
        rc, out, err = run_ntmem("pools", fixture("win10-x64-full.dmp"))
        self.assertEqual(rc, 0, err)
        self.assertIn("Limits", out.decode())

PAGE_KEYS = ("rva", "state", "section", "reason")
HOLE_KEYS = ("rva_start", "rva_end", "state", "section", "reason")
SECTION_KEYS = ("name", "va", "size", "characteristics", "kind", "bytes_recovered", "bytes_missing")


def judged(want, stale_checked):
    """The manifest's page map as a reader without the PFN check can know
    it: a stale page is then an ordinary valid one (the bytes are there, the
    reuse is not seen); with the check, as written."""
    if stale_checked:
        return want
    return [dict(p, state="valid", reason=None) if p["state"] == "stale" else p for p in want]


def judged_sections(want, stale_checked):
    """The manifest's sections, with the bytes of stale pages counted as
    recovered when the reader could not see the reuse (as judged() says)."""
    if stale_checked:
        return want["sections"]
    stale = {int(p["rva"], 16) for p in want["pages"] if p["state"] == "stale"}
    out = []
    for s in want["sections"]:
        s = dict(s)
        va = int(s["va"], 16) - int(want["base"], 16)
        end = min(va + s["size"], want["size"])
        for rva in stale:
            n = max(0, min(rva + 0x1000, end) - max(rva, va))
            s["bytes_recovered"] += n
            s["bytes_missing"] -= n
        out.append(s)
    return out


class X64Carve(unittest.TestCase):
    """The x64 twin of test_carve.py: PE32+ images carved from every x64
    fixture, checked against the generator's x64_carve manifest."""

    @classmethod
    def setUpClass(cls):
        walks_available()
        cls.carves = {}
        cls.tmp = tempfile.mkdtemp(prefix="ntmem-x64-carve-")
        for name in X64_DUMPS:
            if not os.path.exists(fixture(name)):
                continue
            out = os.path.join(cls.tmp, name)
            rc, stdout, err = run_ntmem("--json", "carve", fixture(name), "-o", out, "--all")
            cls.carves[name] = (rc, stdout, err, out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def each(self, check):
        if not self.carves:
            self.skipTest("no x64 fixture generated")
        for name, (rc, stdout, err, out) in self.carves.items():
            self.assertEqual(rc, 0, "%s: %s" % (name, err))
            doc = json.loads(stdout)
            got = {m["base"]: m for m in doc["modules"]}
            for want in manifest(name)["x64_carve"]:
                with self.subTest(dump=name, module=want["name"]):
                    check(name, doc, want, got[want["base"]], out)

    def test_module_objects(self):
        def check(name, doc, want, got, out):
            pages = {}
            for p in judged(want["pages"], doc["pfn_checked"]):
                pages[p["state"]] = pages.get(p["state"], 0) + 1
            self.assertEqual(got["name"], want["name"])
            self.assertEqual(got["size"], want["size"])
            self.assertEqual(got["pages"], pages)
            self.assertEqual(got["headers"], want["headers"])
            self.assertEqual([{k: s[k] for k in SECTION_KEYS} for s in got["sections"]],
                             [{k: s[k] for k in SECTION_KEYS} for s in judged_sections(want, doc["pfn_checked"])])
            self.assertEqual(got["pe_headers"], "rebuilt" if want["headers"] == "ok" else "synthesized")
            self.assertEqual(got["files"]["mem"], "%s@%s.mem" % (want["name"], want["base"]))
        self.each(check)

    def test_holes_json_equals_page_map(self):
        def check(name, doc, want, got, out):
            with open(os.path.join(out, got["files"]["holes"])) as f:
                holes = json.load(f)
            self.assertEqual((holes["name"], holes["base"], holes["size"]),
                             (want["name"], want["base"], want["size"]))
            pages = judged(want["pages"], holes["stale_checked"])
            self.assertEqual([{k: p[k] for k in PAGE_KEYS} for p in holes["pages"]],
                             [{k: p[k] for k in PAGE_KEYS} for p in pages])
            if holes["stale_checked"]:
                self.assertEqual([{k: h[k] for k in HOLE_KEYS} for h in holes["holes"]],
                                 [{k: h[k] for k in HOLE_KEYS} for h in want["holes"]])
            self.assertEqual(got["holes"], holes["holes"])
        self.each(check)

    def test_mem_bytes_equal_generator_pages(self):
        def check(name, doc, want, got, out):
            with open(os.path.join(out, got["files"]["mem"]), "rb") as f:
                mem = f.read()
            self.assertEqual(len(mem), want["size"])
            for p in want["pages"]:
                rva = int(p["rva"], 16)
                chunk = mem[rva:rva + 0x1000]
                if p["sha256"] is None and not (p["state"] == "stale" and not doc["pfn_checked"]):
                    self.assertEqual(chunk, bytes(len(chunk)), "hole at %s not filled" % p["rva"])
                elif p["sha256"] is not None:
                    self.assertEqual(hashlib.sha256(chunk).hexdigest(), p["sha256"],
                                     "%s %s+%s" % (name, want["name"], p["rva"]))
        self.each(check)

    def test_pe_opens_as_pe32plus(self):
        tools = [t for t in ("readpe", "x86_64-w64-mingw32-objdump") if shutil.which(t)]
        if not tools:
            self.skipTest("neither readpe (pev) nor x86_64-w64-mingw32-objdump is installed")

        def check(name, doc, want, got, out):
            pe = os.path.join(out, got["files"]["pe"])
            with open(pe, "rb") as f:
                data = f.read()
            nt = struct.unpack_from("<I", data, 0x3C)[0]
            self.assertEqual(struct.unpack_from("<H", data, nt + 4)[0], 0x8664)      # Machine AMD64
            self.assertEqual(struct.unpack_from("<H", data, nt + 0x18)[0], 0x20B)   # PE32+
            # ImageBase: 8 bytes at optional header +0x18 (docs/pe-loader.md)
            self.assertEqual(struct.unpack_from("<Q", data, nt + 0x18 + 0x18)[0], int(want["base"], 16))
            names = [s["name"] for s in want["sections"]] or ["carved"]
            for t in tools:
                args = [t, "-S", pe] if t == "readpe" else [t, "-x", pe]
                p = subprocess.run(args, capture_output=True, text=True, errors="replace")
                self.assertEqual(p.returncode, 0, "%s %s: %s" % (t, pe, p.stderr))
                for n in names:
                    self.assertIn(n, p.stdout, "%s does not list %s" % (t, n))
                if t != "readpe":
                    self.assertIn("pei-x86-64", p.stdout)
                    self.assertIn("ImageBase\t\t%016x" % int(want["base"], 16), p.stdout)
        self.each(check)

    def test_the_cases_exist(self):
        """The fixtures hold every hole reason an x64 carve can give."""
        reasons = set()
        for name in X64_DUMPS:
            for want in manifest(name)["x64_carve"]:
                reasons |= {p["reason"] for p in want["pages"]}
        for r in ("discarded", "paged_out", "not_in_dump", "headers_missing", "stale", "not_mapped"):
            self.assertIn(r, reasons)


class X64CarveOptions(unittest.TestCase):
    """--base with 64-bit VAs, an unlisted PE32+ image, --keep-stale and
    --fill on x64."""

    def setUp(self):
        walks_available()
        self.out = tempfile.mkdtemp(prefix="ntmem-x64-carve-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def test_base_selects_by_64_bit_va(self):
        name = "win10-x64-full.dmp"
        want = [w for w in manifest(name)["x64_carve"] if w["holes"]][:2]
        doc = ntmem_json("carve", fixture(name), "-o", self.out, "--base", want[0]["base"][2:],
                         "--base", want[1]["base"], "--fill", "0xcc")
        self.assertEqual([(m["name"], m["base"]) for m in doc["modules"]],
                         [(w["name"], w["base"]) for w in want])
        with open(os.path.join(self.out, doc["modules"][0]["files"]["mem"]), "rb") as f:
            mem = f.read()
        h = want[0]["holes"][0]
        self.assertEqual(mem[int(h["rva_start"], 16):int(h["rva_end"], 16)],
                         b"\xcc" * (int(h["rva_end"], 16) - int(h["rva_start"], 16)))

    def test_unlisted_image_at_base(self):
        """A PE32+ image no list entry names (its KLDR entry's DllBase is
        patched away in a copy of the dump) is carved from its own header."""
        name = "win7-x64-full.dmp"
        mods = manifest(name)["modules"]
        net = [m for m in mods if m["name"] == "x64net.sys"][0]
        base, entry = int(net["base"], 16), int(net["entry"], 16)
        with open(fixture(name), "rb") as f:
            data = f.read()
        ldr = struct.pack("<QQI", base, entry, net["size"])     # DllBase +0x30, EntryPoint, SizeOfImage
        self.assertEqual(data.count(ldr), 1)
        data = data.replace(ldr, struct.pack("<QQI", 0xFFFFF88000001000, entry, net["size"]))
        dump = os.path.join(self.out, "unlinked.dmp")
        with open(dump, "wb") as f:
            f.write(data)
        doc = ntmem_json("carve", dump, "-o", os.path.join(self.out, "o"), "--base", net["base"])
        m = doc["modules"][0]
        self.assertEqual((m["name"], m["base"], m["size"]), ("unlisted", net["base"], net["size"]))
        want = [c for c in manifest(name)["x64_carve"] if c["name"] == "x64net.sys"][0]
        self.assertEqual([s["name"] for s in m["sections"]], [s["name"] for s in want["sections"]])
        self.assertEqual(m["files"]["mem"], "unlisted@%s.mem" % net["base"])

    def test_keep_stale_keeps_the_reused_bytes(self):
        name = "win10-x64-kernel-bitmap.dmp"
        want = [w for w in manifest(name)["x64_carve"] if any(p["state"] == "stale" for p in w["pages"])][0]
        stale = [int(p["rva"], 16) for p in want["pages"] if p["state"] == "stale"]
        for keep in (False, True):
            out = os.path.join(self.out, "keep" if keep else "plain")
            args = ["carve", fixture(name), "-o", out, "--module", want["name"]] + (["--keep-stale"] if keep else [])
            doc = ntmem_json(*args)
            m = doc["modules"][0]
            self.assertIn("stale", [h["reason"] for h in m["holes"]])
            with open(os.path.join(out, m["files"]["mem"]), "rb") as f:
                mem = f.read()
            for rva in stale:
                page = mem[rva:rva + 0x1000]
                self.assertEqual(page != bytes(0x1000), keep, "%s+%#x" % (want["name"], rva))

    def test_64_bit_base_on_a_32_bit_dump_is_not_found(self):
        rc, _, err = run_ntmem("carve", fixture("xp-sp2-seed-full.dmp"), "-o", self.out, "--base",
                               "0xfffff88001000000")
        self.assertEqual(rc, 3, err)
        self.assertIn("no module and no readable PE header at 0xfffff88001000000", err)


class X64CompareWith(unittest.TestCase):
    def setUp(self):
        walks_available()

    def patched_modules(self, name):
        return [w for w in manifest(name)["x64_carve"] if w["original_file"]]

    def test_finds_exactly_the_patched_bytes(self):
        def check(name):
            wants = self.patched_modules(name)
            self.assertTrue(wants, "%s: no module with an original file" % name)
            for want in wants:
                self.assertTrue(want["patched"])
                with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as orig:
                    os.symlink(want["original_file"], os.path.join(orig, want["name"].upper()))
                    doc = ntmem_json("carve", fixture(name), "-o", out, "--module", want["name"],
                                     "--compare-with", orig)
                cmp = doc["modules"][0]["compare"]
                self.assertEqual(cmp["file"], want["name"].upper())
                self.assertTrue(cmp["relocations"])
                self.assertGreater(cmp["relocations_applied"], 0)
                self.assertFalse(cmp["relocations_truncated"])
                self.assertEqual([{"rva_start": r["rva_start"], "rva_end": r["rva_end"]}
                                  for r in cmp["modified"]], want["patched"], name)
                self.assertEqual(cmp["bytes_modified"],
                                 sum(int(p["rva_end"], 16) - int(p["rva_start"], 16) for p in want["patched"]))
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_missing_original_is_reported(self):
        with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as orig:
            doc = ntmem_json("-q", "carve", fixture("win7-x64-full.dmp"), "-o", out, "--module", "x64hdr.sys",
                             "--compare-with", orig)
        self.assertIsNone(doc["modules"][0]["compare"]["file"])
        self.assertEqual(doc["modules"][0]["pe_headers"], "synthesized")

    def test_versioned_file_name_matches_by_stem(self):
        name = "win10-x64-full.dmp"
        want = self.patched_modules(name)[0]
        with tempfile.TemporaryDirectory() as out:
            doc = ntmem_json("carve", fixture(name), "-o", out, "--module", want["name"],
                             "--compare-with", os.path.dirname(want["original_file"]))
        cmp = doc["modules"][0]["compare"]
        self.assertEqual(cmp["file"], os.path.basename(want["original_file"]))
        self.assertEqual([{"rva_start": r["rva_start"], "rva_end": r["rva_end"]} for r in cmp["modified"]],
                         want["patched"])


PFN_LISTS = ("zeroed", "free", "standby", "modified", "modified_no_write", "bad", "active", "transition")


class X64Pfn(unittest.TestCase):
    """The x64 PFN database: MMPFN PteAddress at +0x10 on Windows 7 and
    +0x08 on Windows 10 (the generator's placement, docs/mmpfn.md)."""

    def setUp(self):
        walks_available()

    def test_records_match_manifest(self):
        def check(name):
            recs = manifest(name)["pfn_records"]
            self.assertTrue(recs)
            rc, out, err = run_ntmem("--json", "pfn", fixture(name), *[r["pfn"] for r in recs])
            doc = json.loads(out)
            # exit 3 (partial) exactly when a record's PteAddress cannot be
            # read: the generator's stale record names a PTE in a page table
            # it never mapped (pte_link "unreadable", with the page state)
            failed = [r for r in doc["results"] if r.get("pte_link") == "unreadable"]
            self.assertTrue(all(r.get("pte_page_state") for r in failed))
            self.assertEqual(rc, 3 if failed else 0, err)
            self.assertEqual(len(doc["results"]), len(recs))
            for got, want in zip(doc["results"], recs):
                self.assertEqual(got["pfn"], want["pfn"])
                self.assertEqual(got["pte_address"], want["pte_address"], "%s pfn %s" % (name, want["pfn"]))
                self.assertEqual(got["list"], PFN_LISTS[want["list_location"]])
        check_each_fixture(self, X64_DUMPS, check, "x64")

    def test_stale_is_checked_on_every_x64_dump(self):
        def check(name):
            want = [w for w in manifest(name)["pte"] if w["state"] == "stale"]
            self.assertTrue(want, "%s: the manifest should hold a stale page" % name)
            doc = ntmem_json("pte", fixture(name), *[w["va"] for w in want])
            self.assertTrue(doc["pfn_checked"], name)
            self.assertEqual([r["state"] for r in doc["results"]], ["stale"] * len(want))
            with tempfile.TemporaryDirectory() as out:
                doc = ntmem_json("carve", fixture(name), "-o", out, "--all")
            self.assertTrue(doc["pfn_checked"], name)
            self.assertTrue(any(h["reason"] == "stale" for m in doc["modules"] for h in m.get("holes", [])))
        check_each_fixture(self, X64_DUMPS, check, "x64")


class X64Resolve(unittest.TestCase):
    def test_bugcheck_ip_lies_in_a_section_of_the_pe32plus_headers(self):
        """explain places Arg2 (the faulting RIP) in its module and in the
        section the module's PE32+ header page names (resolve.c)."""
        walks_available()

        def check(name):
            man = manifest(name)
            ip = int(man["dump"]["bugcheck"]["params"][1], 16)
            mod = [c for c in man["x64_carve"] if int(c["base"], 16) <= ip < int(c["base"], 16) + c["size"]][0]
            sec = [s for s in mod["sections"] if int(s["va"], 16) <= ip < int(s["va"], 16) + s["size"]][0]
            rc, out, err = run_ntmem("--json", "explain", fixture(name))
            self.assertIn(rc, (0, 3), err)
            got = json.loads(out)["bugcheck"]["params"][1]["resolved"]
            self.assertEqual((got["module"], got["section"], got["section_kind"], got["module_base"], got["offset"]),
                             (mod["name"], sec["name"], sec["kind"], mod["base"], hex(ip - int(mod["base"], 16))))
        check_each_fixture(self, X64_DUMPS, check, "x64")


class X64CarveText(unittest.TestCase):
    def test_table_has_room_for_64_bit_bases(self):
        walks_available()
        name = "win7-x64-full.dmp"
        with tempfile.TemporaryDirectory() as out:
            rc, stdout, err = run_ntmem("carve", fixture(name), "-o", out, "--all")
        self.assertEqual(rc, 0, err)
        lines = stdout.decode().splitlines()
        self.assertRegex(lines[0], r"^module +base {16} +size ")
        for want in manifest(name)["x64_carve"]:
            row = [l for l in lines if l.startswith(want["name"] + " ")][0]
            self.assertRegex(row, r"^%s +0x%016x 0x%07x " % (re.escape(want["name"]), int(want["base"], 16),
                                                           want["size"]))
            if want["holes"]:
                self.assertIn("%s at 0x%016x:" % (want["name"], int(want["base"], 16)), lines)

    def test_x86_table_keeps_its_widths(self):
        name = "xp-sp2-seed-full.dmp"
        want = [c for c in manifest(name)["carve"] if c["holes"]][0]
        with tempfile.TemporaryDirectory() as out:
            rc, stdout, err = run_ntmem("carve", fixture(name), "-o", out, "--module", want["name"])
        self.assertEqual(rc, 0, err)
        lines = stdout.decode().splitlines()
        self.assertEqual(lines[0], "module                 base            size recovered   missing  nonpaged"
                                   "        pageable        discardable     headers/other headers")
        self.assertRegex(lines[1], r"^%s +0x%08x 0x%07x " % (re.escape(want["name"]), int(want["base"], 16),
                                                           want["size"]))
        self.assertIn("%s at 0x%08x:" % (want["name"], int(want["base"], 16)), lines)


if __name__ == "__main__":
    unittest.main()
