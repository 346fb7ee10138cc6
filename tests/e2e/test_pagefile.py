"""--pagefile [N=]FILE: pages whose PTE points into a paging file are read
from it in pte, read and carve, against the generator's paging-file
manifests (STEM.pagefile.json beside the seed full dumps): recovered pages
give the bytes the manifest hashes (the neighbouring pages of each file are
decoys), a page past the end of the file given or in a paging file not
given stays a hole with that reason, and the carve's hole map says which
file and offset the bytes came from."""
import hashlib
import json
import os
import shutil
import tempfile
import unittest

from common import FIXTURES, fixture, ntmem_json, run_ntmem

DUMPS = ["xp-sp2-seed-full.dmp", "xp-sp2-seed-pae-full.dmp"]


def pagefile_manifest(dump):
    path = os.path.join(FIXTURES, dump[:-len(".dmp")] + ".pagefile.json")
    if not os.path.exists(path):
        raise unittest.SkipTest("%s not generated" % os.path.basename(path))
    with open(path) as f:
        return json.load(f)


def pagefile_args(doc, numbers=None):
    args = []
    for num, f in sorted(doc["pagefiles"].items()):
        if numbers is None or int(num) in numbers:
            args += ["--pagefile", "%s=%s" % (num, os.path.join(FIXTURES, f["file"]))]
    return args


def hole_reason_at(holes, rva):
    """The reason of the merged hole that covers RVA (hex string), or None."""
    at = int(rva, 16)
    for h in holes:
        if int(h["rva_start"], 16) <= at < int(h["rva_end"], 16):
            return h["reason"]
    return None


class PagefileDump:
    """Checks for one dump (mixed into a TestCase per dump)."""
    dump = None

    def setUp(self):
        self.path = fixture(self.dump)
        self.doc = pagefile_manifest(self.dump)
        self.args = pagefile_args(self.doc)
        self.dir = tempfile.mkdtemp(prefix="ntmem-pagefile-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_manifest_has_every_outcome(self):
        outcomes = {p["outcome"] for p in self.doc["pages"]}
        self.assertEqual(outcomes, {"recovered", "beyond_pagefile_end", "no_pagefile"})

    def test_pte_says_recovered_and_where(self):
        pages = self.doc["pages"]
        got = ntmem_json("pte", self.path, *self.args, *[p["va"] for p in pages])
        self.assertEqual(sorted(int(n) for n in self.doc["pagefiles"]),
                         [f["number"] for f in got["pagefiles"]])
        for want, r in zip(pages, got["results"]):
            with self.subTest(va=want["va"]):
                self.assertEqual(r["state"], "pagefile")
                pf = r["pagefile"]
                self.assertEqual((pf["number"], pf["offset"]), (want["number"], want["offset"]))
                self.assertEqual(pf["recovered"], want["outcome"] == "recovered")
                self.assertEqual(r["readable"], want["outcome"] == "recovered")
                if want["outcome"] == "recovered":
                    self.assertEqual(pf["file_offset"], want["offset"])
                    self.assertEqual(os.path.basename(pf["file"]), want["file"])
                else:
                    self.assertEqual(pf["reason"], want["outcome"])
                    self.assertIn(want["offset"] if want["outcome"] != "no_pagefile"
                                  else "no paging file %d" % want["number"], pf["why"])

    def test_pte_without_pagefile_is_unchanged(self):
        pages = self.doc["pages"]
        got = ntmem_json("pte", self.path, *[p["va"] for p in pages])
        self.assertNotIn("pagefiles", got)
        for want, r in zip(pages, got["results"]):
            self.assertEqual(r["pagefile"], {"number": want["number"], "offset": want["offset"]})
            self.assertFalse(r["readable"])

    def test_pte_text_says_it(self):
        want = next(p for p in self.doc["pages"] if p["outcome"] == "recovered")
        rc, out, err = run_ntmem("pte", self.path, *self.args, want["va"])
        self.assertEqual(rc, 0, err)
        self.assertIn("recovered from", out.decode())
        self.assertIn(want["file"], out.decode())
        self.assertIn(want["offset"], out.decode())

    def test_read_gives_the_file_bytes(self):
        out = os.path.join(self.dir, "page.bin")
        for want in self.doc["pages"]:
            with self.subTest(va=want["va"], outcome=want["outcome"]):
                if os.path.exists(out):
                    os.unlink(out)
                rc, _, err = run_ntmem("read", self.path, want["va"], "0x1000", "-o", out, *self.args)
                if want["outcome"] != "recovered":
                    self.assertEqual(rc, 3, err)
                    self.assertIn("not read", err)
                    self.assertIn(want["outcome"] == "no_pagefile" and "no paging file" or "beyond the end", err)
                    continue
                self.assertEqual(rc, 0, err)
                self.assertIn("recovered from", err)
                with open(out, "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(), want["sha256"])

    def test_read_json_lists_where_bytes_came_from(self):
        want = next(p for p in self.doc["pages"] if p["outcome"] == "recovered")
        va = int(want["va"], 16)
        got = ntmem_json("read", self.path, "0x%x" % (va + 0x10), "0x20", *self.args)
        self.assertEqual(got["unreadable"], [])
        self.assertEqual(len(got["from_pagefile"]), 1)
        r = got["from_pagefile"][0]
        self.assertEqual((r["start"], r["end"], r["number"]), ("0x%x" % (va + 0x10), "0x%x" % (va + 0x30),
                                                               want["number"]))
        self.assertEqual(r["file_offset"], "0x%x" % (int(want["offset"], 16) + 0x10))

    def carve(self, args, module):
        out = os.path.join(self.dir, "carve-%d" % len(os.listdir(self.dir)))
        got = ntmem_json("carve", self.path, "-o", out, "--module", module, *args)
        m = got["modules"][0]
        with open(os.path.join(out, m["files"]["mem"]), "rb") as f:
            mem = f.read()
        with open(os.path.join(out, m["files"]["holes"])) as f:
            holes = json.load(f)
        return m, mem, holes

    def test_carve_holds_the_page_file_bytes_and_says_where(self):
        by_module = {}
        for p in self.doc["pages"]:
            if p["module"]:
                by_module.setdefault(p["module"], []).append(p)
        self.assertIn("srv.sys", by_module)
        for module, pages in sorted(by_module.items()):
            with self.subTest(module=module):
                m, mem, holes = self.carve(self.args, module)
                runs = {r["rva_start"]: r for r in m["from_pagefile"]}
                file_runs = {r["rva_start"]: r for r in holes["from_pagefile"]}
                page_rec = {p["rva"]: p for p in holes["pages"]}
                for want in pages:
                    rva = int(want["rva"], 16)
                    rec = page_rec[want["rva"]]
                    self.assertEqual(rec["state"], "pagefile")
                    self.assertEqual(rec["pagefile"]["recovered"], want["outcome"] == "recovered")
                    if want["outcome"] == "recovered":
                        self.assertEqual(hashlib.sha256(mem[rva:rva + 0x1000]).hexdigest(), want["sha256"])
                        self.assertIsNone(rec["reason"])
                        for r in (runs[want["rva"]], file_runs[want["rva"]]):
                            self.assertEqual(r["pagefile"], want["number"])
                            self.assertEqual(r["file_offset"], want["offset"])
                            self.assertEqual(os.path.basename(r["file"]), want["file"])
                            self.assertEqual(r["section"], want["section"])
                        self.assertIsNone(hole_reason_at(m["holes"], want["rva"]))
                    else:
                        reason = want["outcome"] if want["outcome"] == "beyond_pagefile_end" else "paged_out"
                        self.assertEqual(rec["reason"], reason)
                        self.assertEqual(hole_reason_at(m["holes"], want["rva"]), reason)
                        self.assertEqual(hole_reason_at(holes["holes"], want["rva"]), reason)
                        self.assertNotIn(want["rva"], runs)

    def test_carve_without_a_file_keeps_the_hole(self):
        """Only paging file 0 given: srv.sys's page in file 1 is paged_out
        (no file for it), its page in file 0 is recovered."""
        pages = [p for p in self.doc["pages"] if p["module"] == "srv.sys"]
        m, mem, holes = self.carve(pagefile_args(self.doc, {0}), "srv.sys")
        recs = {p["rva"]: p for p in holes["pages"]}
        for want in pages:
            with self.subTest(rva=want["rva"]):
                if want["number"] == 0 and want["outcome"] == "recovered":
                    self.assertIsNone(hole_reason_at(m["holes"], want["rva"]))
                else:
                    self.assertEqual(hole_reason_at(m["holes"], want["rva"]), "paged_out")
                    self.assertEqual(recs[want["rva"]]["pagefile"]["reason"], "no_pagefile")
        # Without any --pagefile the carve is as before: every such page a hole.
        m, _, holes = self.carve([], "srv.sys")
        self.assertNotIn("from_pagefile", m)
        self.assertNotIn("from_pagefile", holes)
        for want in pages:
            self.assertEqual(hole_reason_at(m["holes"], want["rva"]), "paged_out")
            self.assertNotIn("recovered", {p["rva"]: p for p in holes["pages"]}[want["rva"]]["pagefile"])


class SeedFull(PagefileDump, unittest.TestCase):
    dump = DUMPS[0]


class SeedPaeFull(PagefileDump, unittest.TestCase):
    dump = DUMPS[1]


class X64PagingFiles(unittest.TestCase):
    """x64 dumps (Win7: PageFileLow in bits 1-4; Win10 L1TF: bits 12-15):
    paging files built here from the generator's pte manifest (number and
    offset of every page it made paged-out), each page a distinct stamp and
    its neighbours decoys; pte and read must give the stamp."""

    def test_pages_come_from_the_numbered_file(self):
        ran = 0
        for name in ("win7-x64-full.dmp", "win10-x64-full.dmp"):
            try:
                path = fixture(name)
            except unittest.SkipTest:
                continue
            pages = [w for w in json.load(open(path + ".json"))["pte"] if w["state"] == "pagefile"]
            numbers = {w["pagefile"]["number"] for w in pages}
            if len(pages) < 2 or len(numbers) < 2:
                continue
            tmp = tempfile.mkdtemp(prefix="ntmem-pagefile-x64-")
            try:
                args, stamps = [], {}
                for n in sorted(numbers):
                    f = os.path.join(tmp, "pagefile%d.sys" % n)
                    with open(f, "wb") as out:
                        for w in pages:
                            if w["pagefile"]["number"] != n:
                                continue
                            off = int(w["pagefile"]["offset"], 16)
                            stamp = hashlib.sha256(("%s:%d" % (w["va"], n)).encode()).digest() * 128
                            for delta, data in ((-0x1000, b"\xdd" * 0x1000), (0x1000, b"\xee" * 0x1000),
                                                (0, stamp)):
                                out.seek(off + delta)
                                out.write(data)
                            stamps[w["va"]] = stamp
                    args += ["--pagefile", "%d=%s" % (n, f)]
                got = ntmem_json("pte", path, *args, *[w["va"] for w in pages])
                for w, r in zip(pages, got["results"]):
                    with self.subTest(dump=name, va=w["va"]):
                        self.assertEqual(r["state"], "pagefile")
                        self.assertTrue(r["pagefile"]["recovered"], r)
                        self.assertTrue(r["pagefile"]["file"].endswith("pagefile%d.sys" % w["pagefile"]["number"]))
                        out = os.path.join(tmp, "page.bin")
                        rc, _, err = run_ntmem("read", path, w["va"], "0x1000", "-o", out, *args)
                        self.assertEqual(rc, 0, err)
                        with open(out, "rb") as f:
                            self.assertEqual(f.read(), stamps[w["va"]])
                ran += 1
            finally:
                shutil.rmtree(tmp)
        if not ran:
            self.skipTest("no x64 fixture with pages in two paging files")


class PagefileOption(unittest.TestCase):
    def test_bad_specs_are_usage_errors(self):
        dump = fixture(DUMPS[0])
        for spec in ("16=x", "3=", "123=x"):
            with self.subTest(spec=spec):
                rc, _, err = run_ntmem("pte", dump, "--pagefile", spec, "0x80000000")
                self.assertEqual(rc, 1, err)
                self.assertIn("--pagefile", err)
        rc, _, err = run_ntmem("pte", dump, "--pagefile", "0=/dev/null", "--pagefile", "/dev/null", "0x80000000")
        self.assertEqual(rc, 1, err)
        self.assertIn("given twice", err)

    def test_unreadable_file_is_exit_2_naming_it(self):
        dump = fixture(DUMPS[0])
        tmp = tempfile.mkdtemp(prefix="ntmem-pagefile-")
        try:
            for what, path in (("missing", os.path.join(tmp, "nope.sys")), ("directory", tmp)):
                with self.subTest(what=what):
                    rc, _, err = run_ntmem("pte", dump, "--pagefile", path, "0x80000000")
                    self.assertEqual(rc, 2, err)
                    lines = err.strip().splitlines()
                    self.assertEqual(len(lines), 1, err)
                    self.assertTrue(lines[0].startswith("ntmem: %s: file: " % path), err)
        finally:
            shutil.rmtree(tmp)

    def test_empty_file_holds_no_page(self):
        dump = fixture(DUMPS[0])
        doc = pagefile_manifest(DUMPS[0])
        want = next(p for p in doc["pages"] if p["outcome"] == "recovered" and p["number"] == 0)
        with tempfile.NamedTemporaryFile(suffix=".sys") as f:
            got = ntmem_json("pte", dump, "--pagefile", f.name, want["va"])
        pf = got["results"][0]["pagefile"]
        self.assertFalse(pf["recovered"])
        self.assertEqual(pf["reason"], "beyond_pagefile_end")

    def test_info_does_not_take_it(self):
        rc, _, err = run_ntmem("info", fixture(DUMPS[0]), "--pagefile", "/dev/null")
        self.assertEqual(rc, 1, err)


if __name__ == "__main__":
    unittest.main()
