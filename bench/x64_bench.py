"""x64 figures for `make bench`: translations/s and `modules` (and `pools`)
time on the 2 GiB Windows 10 x64 full dump the generator writes with --bench
(bench-x64-2g.dmp), beside the same figures on the 2 GiB x86 PAE dump, as
medians, with ratios against floors measured in the same run: reading the
file once (`cat FILE > /dev/null`) and starting the process (`ntmem --version`).
Printed, never asserted.

Used by bench/run.py (section "x64") and runnable alone:
    NTMEM=build/ntmem XLAT_BENCH=build/xlat_bench python3 bench/x64_bench.py X86_DUMP X64_DUMP
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
X64_DUMP_NAME = "bench-x64-2g.dmp"
REPEATS = 15          # process runs (modules, pools, process start)
XLAT_REPEATS = 3      # xlat_bench runs, 1M walks each


def _seconds(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, p.returncode


def _median(argv, repeats):
    _seconds(argv)                       # warm the page cache and the binary
    runs = [_seconds(argv) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), sorted(set(r[1] for r in runs))


def x64_dump(bench_dir):
    """BENCH_DIR/bench-x64-2g.dmp, written by the generator when missing;
    (path, None) or (None, why not)."""
    path = os.path.join(bench_dir, X64_DUMP_NAME)
    if os.path.exists(path):
        return path, None
    os.makedirs(bench_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=bench_dir) as tmp:
        code = ("import sys; sys.path.insert(0, %r); from ntdump import x64; "
                "x64.bench_fixtures(%r)" % (os.path.join(ROOT, "fixtures"), tmp))
        gen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        made = os.path.join(tmp, X64_DUMP_NAME)
        if gen.returncode != 0 or not os.path.exists(made):
            return None, (gen.stderr.strip().splitlines() or ["the generator wrote no %s" % X64_DUMP_NAME])[-1]
        os.replace(made, path)
    return path, None


def mapped_base(dump):
    """Where the x64 bench dump maps its 48 MiB of paged pool (the first
    `pte` sample of its manifest, 2 MiB aligned): the random span starts
    there so that about as many walks end valid as on the x86 dump (a few
    per cent), instead of none."""
    try:
        with open(dump + ".json") as f:
            return "%x" % (int(json.load(f)["pte"][0]["va"], 16) & ~0x1FFFFF)
    except (OSError, KeyError, IndexError, ValueError):
        return None


def xlat_rates(xlat_bench, dump, base=None):
    """Median (over XLAT_REPEATS runs) of each xlat_bench figure, per CPU second."""
    runs = []
    for _ in range(XLAT_REPEATS):
        out = subprocess.run([xlat_bench, dump, "1000000"] + ([base] if base else []),
                             capture_output=True, text=True)
        if out.returncode != 0:
            return None, out.stderr.strip()
        lines = {k: v.split() for k, v in (line.split(" ", 1) for line in out.stdout.splitlines())}
        runs.append({k: float(lines[k][1]) for k in ("random_cold", "random_warm", "local")})
        runs[-1]["valid"] = lines["states"][0]
    return {k: statistics.median(r[k] for r in runs) for k in ("random_cold", "random_warm", "local")}, \
        "%s of 1M random walks valid" % runs[-1]["valid"]


def measure(ntmem, xlat_bench, x86_dump, x64):
    """[(key, value, unit, note)] for the x64 section."""
    out = []
    start, _ = _median([ntmem, "--version"], REPEATS)
    out.append(("process_start_ms", start * 1000, "ms", "floor: `ntmem --version`, median of %d" % REPEATS))
    cat = {}
    for arch, dump in (("x86", x86_dump), ("x64", x64)):
        cat[arch], _ = _median(["sh", "-c", 'cat "$1" > /dev/null', "sh", dump], 3)
        out.append(("cat_file_%s" % arch, cat[arch], "s", "floor: median of 3, %d MiB"
                    % (os.path.getsize(dump) >> 20)))
    rates = {}
    if xlat_bench and os.path.exists(xlat_bench):
        for arch, dump in (("x86", x86_dump), ("x64", x64)):
            base = mapped_base(dump) if arch == "x64" else None
            rates[arch], note = xlat_rates(xlat_bench, dump, base)
            if base:
                note += ", span from 0x%s (paged pool)" % base
            if rates[arch] is None:
                out.append(("translations_%s" % arch, 0, "", "xlat_bench failed: %s" % note))
                continue
            for kind, what in (("random_warm", "1M random kernel VAs, warm"), ("local", "1M VAs in 4 MiB")):
                out.append(("translations_per_s_%s_%s" % (kind, arch), rates[arch][kind], "/s",
                            "%s, per CPU second, median of %d runs; %s" % (what, XLAT_REPEATS, note)))
        if rates.get("x86") and rates.get("x64"):
            for kind in ("random_warm", "local"):
                out.append(("translations_%s_x64_vs_x86" % kind, rates["x64"][kind] / rates["x86"][kind], "x",
                            "x64 rate / x86 PAE rate (4 levels against 3)"))
    times = {}
    for cmd in ("modules", "pools"):
        for arch, dump in (("x86", x86_dump), ("x64", x64)):
            t, codes = _median([ntmem, "-q", cmd, dump], REPEATS)
            times[cmd, arch] = t
            out.append(("%s_time_ms_%s" % (cmd, arch), t * 1000, "ms",
                        "median of %d, exit %s; %.1fx process start, %.4fx cat of the file"
                        % (REPEATS, codes, t / start if start else 0, t / cat[arch] if cat[arch] else 0)))
        out.append(("%s_time_x64_vs_x86" % cmd, times[cmd, "x64"] / times[cmd, "x86"], "x",
                    "x64 median / x86 median"))
    return out


def report(b, ntmem, xlat_bench, bench_dir):
    """bench/run.py section: prints through the Bench object's report()."""
    x64, why = x64_dump(bench_dir)
    if not x64:
        print("  (no x64 figures: %s)" % why)
        return
    print("  x64 dump: %s" % x64)
    for key, value, unit, note in measure(ntmem, xlat_bench, b.dump, x64):
        b.report(key, value, unit, note)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: x64_bench.py X86_DUMP X64_DUMP")
    ntmem = os.environ.get("NTMEM", "build/ntmem")
    xlat = os.environ.get("XLAT_BENCH", "build/xlat_bench")
    for key, value, unit, note in measure(ntmem, xlat if shutil.which(xlat) or os.path.exists(xlat) else None,
                                          sys.argv[1], sys.argv[2]):
        print("  %-38s %16.6f %-3s %s" % (key, value, unit, note))


if __name__ == "__main__":
    main()
