"""report --html FILE: one self-contained page (nothing fetched) with one
band per module (data-module="NAME@BASE") and one cell per page
(data-rva) coloured by the page's state as the generator's manifest says;
rendered in headless Chromium, whose screenshot must not be blank and whose
DOM must hold the same bands and cells."""
import html.parser
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

from common import fixture, manifest, run_ntmem, check_each_fixture

DUMPS = ("xp-sp2-seed-full.dmp", "xp-sp2-crash-50.dmp", "win7-sp1-pae-full.dmp", "win7-x64-full.dmp",
         "win10-x64-full.dmp")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


class Picture(html.parser.HTMLParser):
    """Bands, page cells (per module section) and external references."""

    def __init__(self):
        super().__init__()
        self.bands = []
        self.modules = []          # [(heading, {rva: (classes, title)})]
        self.external = []
        self.cell = None
        self.in_title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-module" in a:
            self.bands.append(a["data-module"])
        if tag == "section" and "module" in a.get("class", ""):
            self.modules.append({})
        if "data-rva" in a:
            self.cell = (a["data-rva"], a.get("class", "").split())
            self.title = ""
        if tag == "title":
            self.in_title = True
        for k in ("src", "href"):
            if k in a:
                self.external.append("%s=%s" % (k, a[k]))
        if tag in ("link", "script", "iframe", "img", "object", "embed"):
            self.external.append(tag)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "rect" and self.cell:
            rva, classes = self.cell
            self.modules[-1][rva] = (classes, self.title)
            self.cell = None

    def handle_data(self, data):
        if self.in_title and self.cell:
            self.title += data


def expected_class(page):
    return "discarded" if page["reason"] == "discarded" else page["state"]


def png_pixels(path):
    """Width, height and rows of RGB(A) bytes of a non-interlaced 8-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG form %r" % (ihdr,)
    bpp = 4 if ctype == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, ul = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + left) & 255
            elif ftype == 2:
                line[i] = (line[i] + up) & 255
            elif ftype == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif ftype == 4:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


class ReportHtml(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ntmem-html-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def render(self, name):
        out = os.path.join(self.tmp, name + ".html")
        rc, _, err = run_ntmem("-q", "report", fixture(name), "--html", out)
        self.assertEqual(rc, 0, err)
        self.assertEqual([f for f in os.listdir(self.tmp) if f.endswith(".partial")], [])
        with open(out, encoding="utf-8") as f:
            return out, f.read()

    def check_page(self, name):
        want = manifest(name)
        _, text = self.render(name)
        pic = Picture()
        pic.feed(text)
        self.assertEqual(pic.external, [], "the page must fetch nothing")
        self.assertIsNone(re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", text))
        self.assertEqual(sorted(pic.bands), sorted("%s@%s" % (m["name"], m["base"]) for m in want["modules"]))
        self.assertEqual(len(pic.modules), len(want["modules"]))
        for cells, mod in zip(pic.modules, want["modules"]):   # a cell per page, RVA 0 up
            self.assertEqual(sorted(cells, key=lambda r: int(r, 16)),
                             ["0x%x" % (i * 4096) for i in range((mod["size"] + 4095) // 4096)])
        carve = want.get("carve") or want.get("x64_carve", [])
        for cells, mod in zip(pic.modules, carve):   # states as the manifest says
            with self.subTest(module=mod["name"]):
                self.assertEqual(len(cells), len(mod["pages"]))
                for page in mod["pages"]:
                    classes, title = cells[page["rva"]]
                    self.assertIn(expected_class(page), classes, page["rva"])
                    self.assertIn("RVA %s, %s" % (page["rva"], page["state"]), title)
                    if page["reason"]:
                        self.assertIn(page["reason"], title)

    def test_bands_and_cells_match_the_manifest(self):
        check_each_fixture(self, DUMPS, self.check_page, "report --html")

    def test_bugcheck_address_is_marked(self):
        name = "xp-sp2-crash-50.dmp"
        _, text = self.render(name)
        want = manifest(name)["dump"]["bugcheck"]["params"][0]
        self.assertIn("bugcheck P1 = 0x%08x" % int(want, 16), text)
        self.assertRegex(text, r'class="mark"><line')

    def test_x64_axis_spans_the_kernels_regions(self):
        """An x64 kernel half is 128 TiB: the axis covers what the regions
        and modules cover, in whole GiB, with 64-bit addresses."""
        name = "win10-x64-full.dmp"
        _, text = self.render(name)
        m = re.search(r"Kernel address space 0x([0-9a-f]{16})-0x([0-9a-f]{16}), to scale", text)
        self.assertIsNotNone(m, "no 64-bit axis caption")
        lo, hi = int(m.group(1), 16), int(m.group(2), 16)
        self.assertEqual(lo % (1 << 30), 0)
        for mod in manifest(name)["modules"]:
            base = int(mod["base"], 16)
            self.assertTrue(lo <= base and base + mod["size"] <= hi, mod["name"])

    def test_file_is_replaced_whole(self):
        out, _ = self.render("xp-sp2-seed-full.dmp")
        rc, _, _ = run_ntmem("-q", "report", fixture("xp-sp2-seed-full.dmp"), "--html", out)
        self.assertEqual(rc, 0)
        rc, _, err = run_ntmem("-q", "report", fixture("xp-sp2-seed-full.dmp"), "--html",
                               os.path.join(self.tmp, "no-such-dir", "x.html"))
        self.assertEqual(rc, 3, err)
        self.assertIn("no-such-dir", err)

    def test_chromium_renders_it(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            self.skipTest("chromium is not installed (Debian package chromium; make deps-test installs it)")
        name = "xp-sp2-seed-full.dmp"
        want = manifest(name)
        out, _ = self.render(name)
        shot = os.path.join(self.tmp, "shot.png")
        base = [chromium] + CHROMIUM_FLAGS
        run = lambda extra: subprocess.run(
            base + ["--user-data-dir=" + tempfile.mkdtemp(dir=self.tmp)] + extra + ["file://" + out],
            capture_output=True, timeout=180)
        p = run(["--window-size=1280,1600", "--screenshot=" + shot])
        self.assertTrue(os.path.exists(shot), p.stderr.decode(errors="replace")[-2000:])
        keep = os.environ.get("NTMEM_KEEP_SCREENSHOT")
        if keep:
            shutil.copy(shot, keep)
        w, h, bpp, rows = png_pixels(shot)
        colours, inked = set(), 0
        for row in rows[::4]:
            for x in range(0, w * bpp, 4 * bpp):
                px = row[x:x + 3]
                colours.add(px)
                inked += px != b"\xff\xff\xff"
        sampled = len(rows[::4]) * len(range(0, w * bpp, 4 * bpp))
        self.assertGreater(len(colours), 8, "the screenshot is (nearly) one colour")
        self.assertGreater(inked / sampled, 0.05, "the screenshot is (nearly) blank")
        dom = run(["--dump-dom"]).stdout.decode("utf-8", "replace")
        pic = Picture()
        pic.feed(dom)
        self.assertEqual(len(pic.bands), len(want["modules"]))
        self.assertEqual(sum(len(c) for c in pic.modules), sum(len(m["pages"]) for m in want["carve"]))


if __name__ == "__main__":
    unittest.main()
