"""make install into a staging folder (DESTDIR), then what a user or another
C program finds there: the command, the man page (rendered with man -l,
every command listed), bash completion, the library (shared and static),
its headers and ntmem.pc; a small C program built with `pkg-config --cflags
--libs ntmem` opens a fixture and agrees with the generator's manifest.
make uninstall then leaves nothing behind."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from common import ROOT, WRAPPER, fixture, manifest

BUILD = os.environ.get("BUILD", "build")
PREFIX = "/usr"
# From ../shared/spec/cli-contract.md, not from the tool's own table.
CONTRACT_COMMANDS = ["info", "pte", "read", "pools", "modules", "carve", "pfn", "explain", "report"]
CONTRACT_OPTIONS = ["--json", "--dtb", "--kdbg", "--quiet", "--help", "--version", "--raw", "--expect", "--jsonl",
                    "--module", "--base", "--all", "--fill", "--force", "--html"]
PAGE_STATES = ["valid", "transition", "demand_zero", "pagefile", "prototype", "not_mapped", "not_in_dump", "stale"]


def clean_env(**extra):
    """The environment without the outer make's jobserver and variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(extra)
    return env


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    if p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s\n%s" % (" ".join(cmd), p.returncode, p.stdout[-3000:],
                                                       p.stderr[-3000:]))
    return p.stdout


@unittest.skipIf(WRAPPER, "install is checked once, in the plain run (not under a wrapper)")
class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ntmem-install-")
        cls.dest = os.path.join(cls.tmp, "root")
        cls.make = ["make", "-C", ROOT, "BUILD=" + BUILD, "PREFIX=" + PREFIX, "DESTDIR=" + cls.dest]
        run(cls.make + ["install"], env=clean_env())
        cls.root = cls.dest + PREFIX

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def test_files_are_installed(self):
        for rel in ("bin/ntmem", "share/man/man1/ntmem.1", "share/bash-completion/completions/ntmem",
                    "lib/libntmem.a", "lib/libntmem.so", "lib/libntmem.so.0", "lib/pkgconfig/ntmem.pc",
                    "include/ntmem/ntmem.h", "include/ntmem/carve.h"):
            with self.subTest(file=rel):
                self.assertTrue(os.path.exists(self.path(rel)), rel)
        self.assertTrue(os.access(self.path("bin/ntmem"), os.X_OK))
        with open(self.path("lib/pkgconfig/ntmem.pc")) as f:
            pc = f.read()
        self.assertIn("prefix=/usr\n", pc, "the .pc names PREFIX, not the staging folder")
        self.assertNotIn(self.dest, pc)
        out = run([self.path("bin/ntmem"), "--version"])
        self.assertTrue(out.startswith("ntmem "), out)

    def pkg_config(self, *args):
        env = clean_env(PKG_CONFIG_PATH=self.path("lib/pkgconfig"), PKG_CONFIG_SYSROOT_DIR=self.dest)
        return run(["pkg-config"] + list(args) + ["ntmem"], env=env).split()

    def sanitizer_flags(self):
        """A library built for the sanitizer pass needs the same runtime."""
        syms = run(["nm", "-D", "--undefined-only", self.path("lib/libntmem.so")])
        return ["-fsanitize=address,undefined"] if "__asan" in syms else []

    def build_and_run(self, static):
        name = fixture("xp-sp2-seed-full.dmp")
        want = manifest("xp-sp2-seed-full.dmp")
        exe = os.path.join(self.tmp, "open_dump_static" if static else "open_dump")
        flags = self.pkg_config("--cflags") + self.pkg_config("--libs", *(["--static"] if static else []))
        if static:   # the archive, not the shared object of the same name
            flags = [self.path("lib/libntmem.a") if f == "-lntmem" else f for f in flags]
        run(["cc", "-std=c11", "-Wall", "-Werror", "-o", exe, os.path.join(ROOT, "tests/install/open_dump.c")]
            + flags + self.sanitizer_flags())
        env = clean_env(LD_LIBRARY_PATH=self.path("lib"))
        out = run([exe, name], env=env).splitlines()
        self.assertIn("pages %d" % want["dump"]["pages_in_dump"], out)
        self.assertIn("modules %d" % len(want["modules"]), out)
        for m in want["modules"]:
            self.assertIn("module %s %s" % (m["name"], m["base"]), out)
        if not static:
            ldd = run(["ldd", exe], env=env)
            self.assertIn(self.path("lib/libntmem.so.0"), ldd)

    def test_program_builds_against_shared_library(self):
        self.build_and_run(static=False)

    def test_program_builds_against_static_library(self):
        self.build_and_run(static=True)

    def test_man_page_renders_with_every_command_option_status_and_state(self):
        if not shutil.which("man"):
            self.skipTest("man is not installed (Debian package man-db; make deps-test installs it)")
        page = self.path("share/man/man1/ntmem.1")
        text = run(["man", "-l", page], env=clean_env(MANWIDTH="120", MANPAGER="cat", PAGER="cat", LANG="C.UTF-8"))
        text = re.sub(".\b", "", text)       # overstrike bold and underline
        for section in ("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "PAGE STATES"):
            self.assertRegex(text, r"(?m)^%s" % section)
        for cmd in CONTRACT_COMMANDS:
            self.assertRegex(text, r"ntmem \[GLOBAL OPTIONS\] %s\b" % cmd, cmd)
        for opt in CONTRACT_OPTIONS:
            self.assertIn(opt, text)
        for status in ("0", "1", "2", "3", "4"):
            self.assertRegex(text, r"(?m)^\s+%s\s*$|^\s+%s\s{2,}" % (status, status), "exit status %s" % status)
        for state in PAGE_STATES:
            self.assertIn(state, text)

    def complete(self, line):
        """What bash completion offers for LINE (the cursor at its end)."""
        script = self.path("share/bash-completion/completions/ntmem")
        run(["bash", "-n", script])
        words = line.split(" ")
        prog = ('source "$1"; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; '
                '_ntmem; printf "%%s\\n" "${COMPREPLY[@]}"'
                % (" ".join("'%s'" % w for w in words), len(words) - 1))
        return run(["bash", "-c", prog, "bash", script, line], cwd=self.tmp).split()

    def test_bash_completion(self):
        if not shutil.which("bash"):
            self.skipTest("no bash")
        self.assertEqual(sorted(self.complete("ntmem ")), sorted(CONTRACT_COMMANDS + ["help"]))
        self.assertEqual(self.complete("ntmem ca"), ["carve"])
        self.assertIn("--module", self.complete("ntmem carve x.dmp --mo"))
        self.assertIn("--json", self.complete("ntmem --j"))
        self.assertIn("--html", self.complete("ntmem report x.dmp --h"))
        self.assertNotIn("--module", self.complete("ntmem report x.dmp --"))
        os.mkdir(os.path.join(self.tmp, "outdir"))
        self.assertEqual(self.complete("ntmem carve x.dmp -o out"), ["outdir"])

    def test_uninstall_leaves_nothing(self):
        other = os.path.join(self.tmp, "other")
        make = ["make", "-C", ROOT, "BUILD=" + BUILD, "PREFIX=" + PREFIX, "DESTDIR=" + other]
        run(make + ["install"], env=clean_env())
        run(make + ["uninstall"], env=clean_env())
        left = [os.path.join(d, f) for d, _, files in os.walk(other) for f in files]
        self.assertEqual(left, [])
