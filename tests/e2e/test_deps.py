"""make deps / deps-test as a user who cannot install: a non-zero exit and
the exact apt-get line to run as root (a package that does not exist stands
for a missing one, so nothing is installed)."""
import os
import shutil
import subprocess
import unittest

from common import ROOT
from test_install import clean_env

MISSING = "ntmem-test-no-such-package"


def as_other_user(cmd):
    """CMD as nobody when we are root (setpriv), else as ourselves."""
    if os.getuid() != 0:
        return cmd
    if not shutil.which("setpriv"):
        raise unittest.SkipTest("root without setpriv: cannot run make as another user")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd


class DepsTest(unittest.TestCase):
    def check_target(self, target, var):
        cmd = as_other_user(["make", "-s", "-C", ROOT, target, "%s=pkg-config %s" % (var, MISSING)])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=clean_env())
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("apt-get install -y --no-install-recommends %s\n" % MISSING, p.stderr)

    def test_deps_fails_with_the_command(self):
        self.check_target("deps", "DEB_BUILD")

    def test_deps_test_fails_with_the_command(self):
        self.check_target("deps-test", "DEB_TEST")
