"""Kernel-layer figures: `pools` and `modules` on the benchmark dump (target:
each under 10 ms), and the KDBG scan beside `cat DUMP > /dev/null` (target:
at least half of cat's speed, warm cache). Printed, never asserted.

Used by bench/run.py (section "kernel") and runnable alone:
    NTMEM=build/ntmem python3 bench/kernel_bench.py DUMP
The whole-dump scan is forced with `--kdbg 0` (skip the header pointer) and
`--dtb 0x1000` (a page-table root under which no candidate translates back
to its physical address), so every page is searched and none validates;
stderr then names the number of pages searched.
"""
import os
import re
import statistics
import subprocess
import sys
import time

REPEATS = 15


def _run(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0, p.returncode, p.stderr.decode("utf-8", "replace")


def _median(argv, repeats=REPEATS):
    _run(argv)                       # warm the page cache and the binary
    runs = [_run(argv) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), sorted(set(r[1] for r in runs)), runs[-1][2]


def measure(ntmem, dump):
    """{figure: (value, unit, note)} for the kernel layer on DUMP."""
    out = {}
    cat, _, _ = _median(["sh", "-c", 'cat "$1" > /dev/null', "sh", dump], repeats=5)
    out["cat_file"] = (cat, "s", "median of 5, %d MiB" % (os.path.getsize(dump) >> 20))
    for cmd in ("pools", "modules"):
        t, codes, _ = _median([ntmem, "-q", cmd, dump])
        out["%s_time_ms" % cmd] = (t * 1000, "ms", "median of %d, process start included, exit %s"
                                   % (REPEATS, codes))
    t, codes, _ = _median([ntmem, "-q", "--kdbg", "0", "pools", dump], repeats=5)
    out["kdbg_scan_to_block_ms"] = (t * 1000, "ms", "--kdbg 0: scan until a block validates, exit %s"
                                    % codes)
    t, codes, err = _median([ntmem, "--kdbg", "0", "--dtb", "0x1000", "pools", dump], repeats=5)
    pages = re.search(r"in (\d+) pages", err)
    out["kdbg_scan_whole_s"] = (t, "s", "every page searched (%s pages), exit %s"
                                % (pages.group(1) if pages else "?", codes))
    out["kdbg_scan_speed_vs_cat"] = (cat / t if t else 0.0, "x",
                                     "cat time / whole-scan time (target >= 0.5)")
    return out


# A Vista+ dump: `pools` there also searches the kernel image for
# MiSystemVaType. The generator's Windows 7 fixture, when it is at hand.
DYNAMIC_VA_DUMP = "win7-sp1-pae-full.dmp"
SAME_SIZE_XP_DUMP = "xp-sp2-seed-pae-full.dmp"      # the same generator, fixed VA


def measure_dynamic_va(ntmem, folders):
    for d in folders:
        path = os.path.join(d, DYNAMIC_VA_DUMP)
        if d and os.path.exists(path):
            t, codes, _ = _median([ntmem, "-q", "pools", path])
            xp, _, _ = _median([ntmem, "-q", "pools", os.path.join(d, SAME_SIZE_XP_DUMP)])
            return {"pools_vista_time_ms": (t * 1000, "ms", "%s: MiSystemVaType search included, "
                                            "exit %s; the XP PAE seed dump of the same size: %.2f ms"
                                            % (DYNAMIC_VA_DUMP, codes, xp * 1000))}
    return {}


def report(b, ntmem, folders=()):
    """bench/run.py section: prints through the Bench object's report()."""
    figures = measure(ntmem, b.dump)
    figures.update(measure_dynamic_va(ntmem, folders))
    for key, (value, unit, note) in figures.items():
        b.report(key, value, unit, note)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: kernel_bench.py DUMP")
    ntmem = os.environ.get("NTMEM", "build/ntmem")
    for key, (value, unit, note) in measure(ntmem, sys.argv[1]).items():
        print("  %-28s %14.6f %-3s %s" % (key, value, unit, note))


if __name__ == "__main__":
    main()
