"""`make bench`: speed and memory figures of ntmem on a 2 GiB PAE full dump,
each next to the time of reading the same file once (`cat FILE > /dev/null`).
Figures are printed, never asserted (targets: >= 5 million translations/s on
one core with a warm cache, `info` under 5 ms, peak RSS under 32 MiB).

Sections are plain functions registered in SECTIONS: another layer adds its
own with `@section("name")`; each gets the Bench context (paths, helpers) and
returns nothing (it prints its lines through bench.report)."""
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
NTMEM = os.environ.get("NTMEM", os.path.join(BUILD, "ntmem"))
XLAT_BENCH = os.environ.get("XLAT_BENCH", os.path.join(BUILD, "xlat_bench"))
BENCH_DIR = os.environ.get("BENCH_DIR", os.path.join(BUILD, "bench"))
DUMP_NAME = "bench-pae-2g.dmp"
CARVE_DUMP_NAME = "many-drivers-full.dmp"
FIXTURES = os.environ.get("FIXTURES", os.path.join(BUILD, "fixtures"))
REPEATS = 7
TIME = "/usr/bin/time"

SECTIONS = []


def section(name):
    """Registers a benchmark section; sections run in registration order."""
    def register(fn):
        SECTIONS.append((name, fn))
        return fn
    return register


class Bench:
    def __init__(self, dump):
        self.dump = dump
        self.cat_seconds = None
        self.results = {}

    def report(self, key, value, unit, note=""):
        self.results[key] = value
        ratio = ""
        if unit == "s" and self.cat_seconds:
            ratio = "  (%.3fx cat)" % (value / self.cat_seconds)
        print("  %-38s %14s %-4s%s%s" % (key, fmt(value), unit, ratio, ("  " + note) if note else ""))

    def run(self, argv):
        """Runs ARGV; returns (seconds, peak RSS in KiB, exit status). The RSS
        comes from /usr/bin/time: a child forked from Python would count the
        interpreter's own pages, which stay in ru_maxrss across exec."""
        with tempfile.NamedTemporaryFile("r") as rss_file:
            if os.path.exists(TIME):
                argv = [TIME, "-f", "%M", "-o", rss_file.name] + argv
            t0 = time.perf_counter()
            p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds = time.perf_counter() - t0
            text = rss_file.read().strip().splitlines()
        rss = int(text[-1]) if text and text[-1].isdigit() else -1
        return seconds, rss, p.returncode

    def median_run(self, argv, repeats=REPEATS):
        runs = [self.run(argv) for _ in range(repeats)]
        return (statistics.median(r[0] for r in runs), max(r[1] for r in runs),
                [r[2] for r in runs])


def fmt(v):
    if isinstance(v, float):
        return "%.6f" % v if v < 10 else "{:,.0f}".format(v)
    return "{:,}".format(v)


# ---------------------------------------------------------------------------
# The benchmark dump: the fixture generator's when it can make one; otherwise
# a plain PAE full dump written here (header facts: docs/dump-format.md),
# whose kernel half 0x80000000-0xFFFFFFFF maps all 2 GiB of RAM with 4 KiB
# pages, with a sprinkling of invalid PTE forms.

PAGE = 4096
RAM = 2 << 30
PDPT_PA = 0x2000
PD_PA = 0x3000            # four page directories, 0x3000-0x6FFF
PT_PA = 0x100000          # 1024 page tables for the kernel half (4 MiB)
KERNEL_PA = 0x10000       # "MZ" of a stand-in kernel image, VA 0x80010000
KDBG_PA = 0x11000         # its debugger data block (XP size 0x290), VA 0x80011000


def kdbg_pages():
    """A minimal KDBG (tag, size, KernBase, PsLoadedModuleList inside the image)
    so that the kernel view finds it through the header, as on a real dump."""
    image = bytearray(PAGE)
    image[0:2] = b"MZ"
    block = bytearray(PAGE)
    struct.pack_into("<4sI", block, 0x10, b"KDBG", 0x290)
    struct.pack_into("<Q", block, 0x18, 0x80000000 + KERNEL_PA)
    struct.pack_into("<Q", block, 0x48, 0x80000000 + KERNEL_PA + 0x100)
    return {KERNEL_PA: bytes(image), KDBG_PA: bytes(block)}


def header(pages):
    h = bytearray(b"PAGE" * (PAGE // 4))
    h[0:8] = b"PAGEDUMP"
    struct.pack_into("<IIIIIIIIII", h, 0x08, 0xF, 2600, PDPT_PA, 0, 0, 0, 0x14C, 1, 0xE2, 0)
    struct.pack_into("<IIII", h, 0x2C, 0, 0, 0, 0)
    h[0x5C] = 1
    struct.pack_into("<I", h, 0x60, 0x80000000 + KDBG_PA)
    struct.pack_into("<III", h, 0x64, 1, pages, 0)
    struct.pack_into("<I", h, 0x70, pages)
    struct.pack_into("<I", h, 0xF88, 1)
    struct.pack_into("<Q", h, 0xFC0, (1181685060 + 11644473600) * 10 ** 7)
    return bytes(h)


def page_tables():
    """{pa: bytes} of the PDPT, the kernel page directories and tables."""
    out = {}
    pdpt = bytearray(PAGE)
    for i in range(4):
        struct.pack_into("<Q", pdpt, 8 * i, (PD_PA + i * PAGE) | 1)
    out[PDPT_PA] = bytes(pdpt)
    for pd in range(2, 4):
        d = bytearray(PAGE)
        for j in range(512):
            table = PT_PA + ((pd - 2) * 512 + j) * PAGE
            struct.pack_into("<Q", d, 8 * j, table | 0x63)
        out[PD_PA + pd * PAGE] = bytes(d)
    for t in range(1024):
        pt = bytearray(PAGE)
        for k in range(512):
            frame = (t * 512 + k) * PAGE
            if k % 64 == 63:
                pte = (0x1000 + k) << 32 | (1 << 1) | (4 << 5)      # page file 1
            elif k % 16 == 15:
                pte = frame | 0x800 | (4 << 5)                     # transition
            else:
                pte = frame | 0x63
            struct.pack_into("<Q", pt, 8 * k, pte)
        out[PT_PA + t * PAGE] = bytes(pt)
    return out


def write_bench_dump(path):
    pages = RAM // PAGE
    tables = page_tables()
    tables.update(kdbg_pages())
    chunk = 64 << 20
    with open(path + ".tmp", "wb") as f:
        f.write(header(pages))
        zero = bytes(chunk)
        for off in range(0, RAM, chunk):
            block = bytearray(zero)
            for pa, data in tables.items():
                if off <= pa < off + chunk:
                    block[pa - off:pa - off + PAGE] = data
            f.write(block)
    os.replace(path + ".tmp", path)


def bench_dump():
    os.makedirs(BENCH_DIR, exist_ok=True)
    path = os.path.join(BENCH_DIR, DUMP_NAME)
    if os.path.exists(path) and os.path.exists(os.path.join(BENCH_DIR, CARVE_DUMP_NAME)):
        return path, "existing"
    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as tmp:
        gen = subprocess.run([sys.executable, os.path.join(ROOT, "fixtures", "generate.py"),
                              "--out", tmp, "--bench"], capture_output=True)
        made = os.path.join(tmp, DUMP_NAME)
        drivers = os.path.join(tmp, CARVE_DUMP_NAME)
        if gen.returncode == 0 and os.path.exists(drivers):
            os.replace(drivers, os.path.join(BENCH_DIR, CARVE_DUMP_NAME))
        if gen.returncode == 0 and os.path.exists(made + ".gz"):
            os.replace(made + ".gz", path + ".gz")
        x64 = os.path.join(tmp, "bench-x64-2g.dmp")       # section "x64"
        if gen.returncode == 0 and os.path.exists(x64):
            os.replace(x64, os.path.join(BENCH_DIR, "bench-x64-2g.dmp"))
        if gen.returncode == 0 and os.path.exists(made):
            os.replace(made, path)
            return path, "fixtures/generate.py --bench"
    write_bench_dump(path)
    return path, "bench/run.py (the generator made no %s)" % DUMP_NAME


# ---------------------------------------------------------------------------
# Sections of the foundation layer.

@section("baseline")
def baseline(b):
    runs = [b.run(["sh", "-c", 'cat "$1" > /dev/null', "sh", b.dump])[0] for _ in range(3)]
    b.cat_seconds = statistics.median(runs)
    b.report("cat_file", b.cat_seconds, "s", "median of 3, file %d MiB" % (os.path.getsize(b.dump) >> 20))


@section("info")
def info(b):
    runs = [b.run([NTMEM, "info", b.dump]) for _ in range(15)]
    times = [r[0] for r in runs]
    b.report("info_time", statistics.median(times), "s", "median of 15 runs, exit %s"
             % sorted(set(r[2] for r in runs)))
    b.report("info_time_ms", statistics.median(times) * 1000, "ms", "median (process start included)")
    b.report("info_time_ms_best", min(times) * 1000, "ms", "fastest of 15 (least disturbed by other load)")
    b.report("info_peak_rss", max(r[1] for r in runs), "KiB")
    seconds, rss, codes = b.median_run([NTMEM, "--json", "info", b.dump])
    b.report("info_json_time", seconds, "s")


@section("translation")
def translation(b):
    if not os.path.exists(XLAT_BENCH):
        print("  (no %s: make bench builds it)" % XLAT_BENCH)
        return
    out = subprocess.run([XLAT_BENCH, b.dump, "1000000"], capture_output=True, text=True)
    if out.returncode != 0:
        print("  xlat_bench failed: %s" % out.stderr.strip())
        return
    lines = {k: v.split() for k, v in (line.split(" ", 1) for line in out.stdout.splitlines())}
    for key, what in (("random_cold", "1M random kernel VAs, first pass"),
                      ("random_warm", "same VAs again (warm caches)"),
                      ("local", "1M VAs in a 4 MiB window")):
        wall, cpu = (float(v) for v in lines[key])
        b.report("translations_per_s_%s" % key, wall, "/s", what + ", wall clock")
        b.report("translations_per_s_%s_cpu" % key, cpu, "/s", "same, per CPU second (one core)")
    valid, other = lines["states"]
    print("  %-38s %14s      valid / other final states" % ("walk_outcomes", "%s/%s" % (valid, other)))
    _, rss, _ = b.run([XLAT_BENCH, b.dump, "1000000"])
    b.report("xlat_bench_peak_rss", rss, "KiB", "includes the 8 MB of VA arrays")


@section("pte_read")
def pte_read(b):
    vas = ["0x%x" % (0x80000000 + i * 0x7654321 % 0x80000000 & ~0xFFF) for i in range(200)]
    seconds, rss, codes = b.median_run([NTMEM, "pte", b.dump] + vas, repeats=5)
    b.report("pte_200_vas_time", seconds, "s", "exit %s" % sorted(set(codes)))
    b.report("pte_peak_rss", rss, "KiB")
    out = os.path.join(BENCH_DIR, "read.bin")
    seconds, rss, codes = b.median_run([NTMEM, "-q", "read", b.dump, "0x80000000", str(16 << 20), "-o", out],
                                       repeats=3)
    b.report("read_16MiB_time", seconds, "s", "to a file; exit %s (3: page-file holes)" % sorted(set(codes)))
    b.report("read_peak_rss", rss, "KiB")
    os.unlink(out)


# ---------------------------------------------------------------------------
# Kernel layer (bench/kernel_bench.py): pools and modules times, and the KDBG
# scan of the whole dump beside cat.

@section("kernel")
def kernel(b):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import kernel_bench
    kernel_bench.report(b, NTMEM, [FIXTURES, BENCH_DIR])


@section("carve")
def carve(b):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import carve_bench
    for line in carve_bench.bench_carve(NTMEM, [BENCH_DIR, FIXTURES], BENCH_DIR):
        print(line)


# x64 (bench/x64_bench.py): translations/s, modules and pools time on the
# 2 GiB Windows 10 x64 dump beside the x86 figures, with their floors.

@section("x64")
def x64(b):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import x64_bench
    x64_bench.report(b, NTMEM, XLAT_BENCH, BENCH_DIR)


@section("images")
def images(b):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import images_bench
    images_bench.report(b, NTMEM, BENCH_DIR)


@section("gzip")
def gzip_in_place(b):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gzip_bench
    gzip_bench.report(b, NTMEM, BENCH_DIR)


def main():
    sys.stdout.reconfigure(line_buffering=True)
    if not os.path.exists(NTMEM):
        sys.exit("bench: %s is missing (run make)" % NTMEM)
    dump, origin = bench_dump()
    print("bench dump: %s (%s)" % (dump, origin))
    b = Bench(dump)
    only = set(sys.argv[1:])
    for name, fn in SECTIONS:
        if only and name not in only:
            continue
        print("[%s]" % name)
        fn(b)
    print("bench: done (load average %.1f: wall-clock figures suffer from other work on the machine)"
          % os.getloadavg()[0])


if __name__ == "__main__":
    main()
