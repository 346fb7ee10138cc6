"""The progress line: on stderr only when it is a terminal (here a pseudo-
terminal made with Python's pty module), never with -q, never into a pipe;
erased when the work ends. NTMEM_PROGRESS_DELAY_MS=0 shows it at once (the
default waits a second, longer than the fixtures take)."""
import os
import pty
import select
import shutil
import subprocess
import tempfile
import unittest

from common import NTMEM, WRAPPER, fixture

SEED = "xp-sp2-seed-full.dmp"


def on_terminal(args, env):
    """Runs ntmem with stderr on a pseudo-terminal; returns (status, bytes it wrote there)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([NTMEM] + args, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return p.wait(timeout=60), seen


@unittest.skipIf(WRAPPER, "runs the plain binary on a pseudo-terminal")
class Progress(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ntmem-progress-")
        self.env = dict(os.environ, NTMEM_PROGRESS_DELAY_MS="0")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def carve(self, *extra):
        return list(extra) + ["carve", fixture(SEED), "-o", os.path.join(self.tmp, "o%d" % len(os.listdir(self.tmp))),
                              "--all"]

    def test_shown_on_a_terminal_and_erased(self):
        rc, seen = on_terminal(self.carve(), self.env)
        self.assertEqual(rc, 0, seen)
        self.assertIn(b"ntmem: carving: 0/10 modules", seen)
        self.assertTrue(seen.endswith(b"\r\x1b[K"), seen[-40:])

    def test_not_with_q(self):
        rc, seen = on_terminal(self.carve("-q"), self.env)
        self.assertEqual(rc, 0)
        self.assertNotIn(b"carving", seen)

    def test_not_into_a_pipe(self):
        p = subprocess.run([NTMEM] + self.carve(), capture_output=True, env=self.env, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn(b"carving", p.stderr)

    def test_not_before_the_delay(self):
        rc, seen = on_terminal(self.carve(), dict(os.environ, NTMEM_PROGRESS_DELAY_MS="60000"))
        self.assertEqual(rc, 0)
        self.assertNotIn(b"carving", seen)
