"""ntmem explain --json against the manifests' `explain` objects (code, name,
parameter kinds and values, and each resolved parameter's module, section,
state and counts: not the prose), plus unknown bugcheck codes and the seed
thread's two answers in the text output."""
import json
import os
import shutil
import struct
import tempfile
import unittest

from common import fixture, manifest, ntmem_json, run_ntmem

CRASH_4E = "xp-sp2-crash-4e.dmp"
CRASH_50 = "xp-sp2-crash-50.dmp"
SEED = "xp-sp2-seed-full.dmp"
RESOLVED_KEYS = ["va", "state", "pa", "module", "section", "offset", "region"]
PFN_KEYS = ["pfn", "pa", "entry_address", "entry_state", "list", "reference_count",
            "share_count", "pte_address", "va", "original_pte"]
BUGCHECK_CODE_OFFSET = 0x28     # DUMP_HEADER32.BugCheckCode


def compare_resolved(test, got, want, where):
    if want is None:
        test.assertIsNone(got, where)
        return
    test.assertIsNotNone(got, "%s: not resolved, expected %r" % (where, want))
    if "pfn" in want and "entry_state" in want:
        keys = PFN_KEYS
    else:
        keys = RESOLVED_KEYS
    for key in keys:
        if key in want:
            test.assertEqual(got.get(key), want[key], "%s.%s" % (where, key))
    if "owner" in want:
        if want["owner"] is None:
            test.assertIsNone(got.get("owner"), "%s.owner" % where)
        else:
            for key, value in want["owner"].items():
                test.assertEqual((got.get("owner") or {}).get(key), value,
                                 "%s.owner.%s" % (where, key))


class ExplainMatchesManifest(unittest.TestCase):
    def explain(self, name):
        path = fixture(name)
        man = manifest(name)
        if "explain" not in man:
            self.skipTest("%s: manifest has no explain object" % name)
        expect = man.get("expect_exit", {}).get("explain", 0)
        return ntmem_json("explain", path, expect=expect), man["explain"]

    def check_bugcheck(self, name):
        got, want = self.explain(name)
        self.assertEqual(got["command"], "explain")
        gb, wb = got["bugcheck"], want["bugcheck"]
        self.assertEqual(gb["code"], wb["code"])
        if "name" in wb:
            self.assertEqual(gb["name"], wb["name"])
        self.assertEqual(len(gb["params"]), 4)
        for gp in gb["params"]:
            self.assertIn("meaning", gp)
        for wp in wb.get("params", []):
            gp = gb["params"][wp["index"] - 1]
            where = "%s Arg%d" % (name, wp["index"])
            self.assertEqual(gp["index"], wp["index"])
            for key in ("value", "kind"):
                if key in wp:
                    self.assertEqual(gp[key], wp[key], "%s.%s" % (where, key))
            if "resolved" in wp:
                compare_resolved(self, gp["resolved"], wp["resolved"], where)
        return got, want

    def check_context(self, name):
        got, want = self.explain(name)
        if "context" not in want:
            self.skipTest("%s: manifest states no context" % name)
        if want["context"] is None:
            self.assertIsNone(got["context"])
            return
        for reg in ("eip", "esp"):
            if reg in want["context"]:
                compare_resolved(self, got["context"][reg], want["context"][reg],
                                 "%s context.%s" % (name, reg))

    def test_4e_bugcheck(self):
        got, _ = self.check_bugcheck(CRASH_4E)
        self.assertEqual(got["bugcheck"]["params"][1]["kind"], "pfn")

    def test_50_bugcheck(self):
        got, _ = self.check_bugcheck(CRASH_50)
        self.assertEqual(got["bugcheck"]["params"][0]["kind"], "va")

    def test_4e_context(self):
        self.check_context(CRASH_4E)

    def test_50_context(self):
        self.check_context(CRASH_50)

    def test_stack_candidates_match_manifest(self):
        for name in (CRASH_4E, CRASH_50):
            got, want = self.explain(name)
            if "stack_candidates" not in want:
                continue
            keys = ("address", "value", "module", "offset")
            self.assertEqual([{k: c[k] for k in keys} for c in got["stack_candidates"]],
                             [{k: c[k] for k in keys} for c in want["stack_candidates"]], name)

    def test_stack_candidates_fall_in_modules(self):
        for name in (CRASH_4E, CRASH_50):
            got, _ = self.explain(name)
            for c in got["stack_candidates"]:
                self.assertIsNotNone(c["module"])
                self.assertEqual(int(c["address"], 16) % 4, 0)
                self.assertLess(int(c["offset"], 16), 0x10000000)
            self.assertIn("explanation", got)


class ExplainText(unittest.TestCase):
    """The seed thread's answers, in the words the thread arrived at."""

    def text(self, name):
        path = fixture(name)
        if "explain" not in manifest(name):
            self.skipTest("%s: manifest has no explain object" % name)
        rc, out, err = run_ntmem("explain", path)
        self.assertIn(rc, (0, 3), err)
        return out.decode()

    def test_4e_says_not_locked_non_paged(self):
        text = self.text(CRASH_4E)
        self.assertIn("PFN_LIST_CORRUPT", text)
        self.assertIn("not locked by MmProbeAndLockPages: non-paged system memory",
                      " ".join(text.split()))

    def test_50_says_freed_after_driverentry(self):
        text = " ".join(self.text(CRASH_50).split())
        self.assertIn("PAGE_FAULT_IN_NONPAGED_AREA", text)
        self.assertIn("the page was freed after DriverEntry; its PTE is zero", text)
        self.assertIn("INIT", text)


class UnknownBugcheck(unittest.TestCase):
    def test_unknown_code_is_printed_raw(self):
        src = fixture(SEED)
        tmp = tempfile.mkdtemp(prefix="ntmem-explain-")
        try:
            path = os.path.join(tmp, "unknown-code.dmp")
            shutil.copyfile(src, path)
            with open(path, "r+b") as f:
                f.seek(BUGCHECK_CODE_OFFSET)
                f.write(struct.pack("<I", 0x12345678))
            rc, out, err = run_ntmem("--json", "explain", path)
            self.assertIn(rc, (0, 3), err)
            doc = json.loads(out)
            b = doc["bugcheck"]
            self.assertEqual(b["code"], "0x12345678")
            self.assertIsNone(b["name"])
            self.assertEqual(len(b["params"]), 4)
            for i, p in enumerate(b["params"]):
                self.assertEqual(p["index"], i + 1)
                self.assertIsNone(p["meaning"])
                self.assertEqual(p["kind"], "other")
                self.assertIsNone(p["resolved"])
            rc, out, err = run_ntmem("explain", path)
            self.assertIn(rc, (0, 3), err)
            self.assertIn("0x12345678", out.decode())
            rc, out, err = run_ntmem("--json", "info", path)
            self.assertEqual(rc, 0, err)
            self.assertIsNone(json.loads(out)["bugcheck"]["name"])
        finally:
            shutil.rmtree(tmp)

    def test_extra_argument_is_usage_error(self):
        rc, _, _ = run_ntmem("explain", fixture(SEED), "extra")
        self.assertEqual(rc, 1)


class ExplainWithoutMemory(unittest.TestCase):
    """A triage dump has a bugcheck but no page tables: the bugcheck is still
    named and labelled, nothing is resolved, and the result is partial."""

    def test_triage_dump_names_the_bugcheck(self):
        path = fixture("xp-sp2-triage.dmp")
        want = manifest("xp-sp2-triage.dmp")["dump"]["bugcheck"]
        doc = ntmem_json("explain", path, expect=3)
        b = doc["bugcheck"]
        self.assertEqual(b["code"], want["code"])
        self.assertEqual([p["value"] for p in b["params"]], want["params"])
        if int(want["code"], 16) == 0x50:
            self.assertEqual(b["name"], "PAGE_FAULT_IN_NONPAGED_AREA")
        for p in b["params"]:
            self.assertIsNone(p["resolved"])
        self.assertIsNone(doc["context"])
        self.assertEqual(doc["stack_candidates"], [])
        rc, _, err = run_ntmem("explain", path)
        self.assertEqual(rc, 3)
        self.assertEqual(len(err.strip().splitlines()), 1, err)


class InfoNamesTheBugcheck(unittest.TestCase):
    def test_info_labels_parameters(self):
        for name in (CRASH_4E, CRASH_50, SEED):
            path = fixture(name)
            doc = ntmem_json("info", path)
            code = int(doc["dump"]["bugcheck"]["code"], 16)
            b = doc["bugcheck"]
            self.assertEqual(b["code"], doc["dump"]["bugcheck"]["code"])
            self.assertEqual([p["value"] for p in b["params"]], doc["dump"]["bugcheck"]["params"])
            if code == 0x4E:
                self.assertEqual(b["name"], "PFN_LIST_CORRUPT")
            if code == 0x50:
                self.assertEqual(b["name"], "PAGE_FAULT_IN_NONPAGED_AREA")
                self.assertEqual(b["params"][0]["kind"], "va")


if __name__ == "__main__":
    unittest.main()
