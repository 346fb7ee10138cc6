"""gzip read in place (docs/gzip-index.md): on the 2 GiB bench dump as .gz,
the first `modules` (which builds the index) beside `gzip -dc > /dev/null`
of the same file (target: within 1.5x), the second `modules` (the index
read back from the cache; target: under 50 ms), and the peak RSS of both
(target: under 64 MiB). Medians; printed, never asserted.

Runnable alone: NTMEM=build/ntmem python3 bench/gzip_bench.py DUMP.gz"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TIME = "/usr/bin/time"
FIRST_RUNS = 3
SECOND_RUNS = 9


def run(argv, env=None):
    """(seconds, peak RSS KiB or -1, exit status) of ARGV, RSS from /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r") as rss_file:
        if os.path.exists(TIME):
            argv = [TIME, "-f", "%M", "-o", rss_file.name] + argv
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        seconds = time.perf_counter() - t0
        text = rss_file.read().strip().splitlines()
    return seconds, int(text[-1]) if text and text[-1].isdigit() else -1, p.returncode


def gz_of(dump):
    """DUMP.gz as the generator writes it (fixtures --bench), else made here
    with gzip -6 -n (same stream kind: one member, deflate level 6)."""
    gz = dump + ".gz"
    if os.path.exists(gz) and os.path.getmtime(gz) >= os.path.getmtime(dump):
        return gz
    with open(gz + ".tmp", "wb") as out:
        subprocess.run(["gzip", "-6", "-n", "-c", dump], stdout=out, check=True)
    os.replace(gz + ".tmp", gz)
    return gz


def line(key, value, unit, note):
    print("  %-38s %14s %-4s  %s" % (key, value, unit, note))


def measure(ntmem, gz):
    floor = [run(["sh", "-c", 'gzip -dc "$1" > /dev/null', "sh", gz])[0] for _ in range(3)]
    gunzip = statistics.median(floor)
    line("gunzip_time", "%.3f" % gunzip, "s", "gzip -dc > /dev/null, median of 3, %d MiB compressed"
         % (os.path.getsize(gz) >> 20))
    first, second, rss_first, rss_second, codes, index_bytes = [], [], 0, 0, set(), 0
    for _ in range(FIRST_RUNS):
        cache = tempfile.mkdtemp(prefix="ntmem-bench-gz-")
        env = dict(os.environ, XDG_CACHE_HOME=cache)
        try:
            t, rss, code = run([ntmem, "-q", "modules", gz], env)
            first.append(t)
            rss_first = max(rss_first, rss)
            codes.add(code)
            for _ in range(SECOND_RUNS // FIRST_RUNS):
                t, rss, code = run([ntmem, "-q", "modules", gz], env)
                second.append(t)
                rss_second = max(rss_second, rss)
                codes.add(code)
            d = os.path.join(cache, "ntmem")
            index_bytes = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("gzidx-"))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    f, s = statistics.median(first), statistics.median(second)
    line("gz_modules_first_time", "%.3f" % f, "s", "(%.2fx gunzip; target <= 1.5x) builds the index, median of %d, exit %s"
         % (f / gunzip, FIRST_RUNS, sorted(codes)))
    line("gz_modules_second_time_ms", "%.1f" % (s * 1000), "ms", "(target < 50) index from the cache, median of %d"
         % len(second))
    line("gz_modules_first_peak_rss", "{:,}".format(rss_first), "KiB", "(target < 65,536)")
    line("gz_modules_second_peak_rss", "{:,}".format(rss_second), "KiB", "(target < 65,536)")
    line("gz_index_file", "{:,}".format(index_bytes), "B", "in $XDG_CACHE_HOME/ntmem")


def report(b, ntmem, bench_dir):
    measure(ntmem, gz_of(b.dump))


if __name__ == "__main__":
    measure(os.environ.get("NTMEM", "build/ntmem"), sys.argv[1])
