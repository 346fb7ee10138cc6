"""Carve speed: `ntmem carve DUMP -o DIR --all` on the many-drivers dump (the
generator's --bench set, >= 150 drivers), reported as image bytes per second
(the sum of the carved modules' sizes over the median wall time), beside
`cat DUMP > /dev/null` on the same file. Warm cache: one untimed run first.

Used by bench/run.py (bench_carve) and runnable alone:
    NTMEM=build/ntmem FIXTURES=build/fixtures python3 bench/carve_bench.py
"""
import json
import resource
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMPS = ["many-drivers-full.dmp", "xp-sp2-seed-full.dmp"]
RUNS = 7


def _timed(cmd, **kw):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, **kw)
    return time.perf_counter() - start


def _cat_seconds(path):
    with open(os.devnull, "wb") as null:
        _timed(["cat", path], stdout=null)
        return statistics.median(_timed(["cat", path], stdout=null) for _ in range(RUNS))


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime, r.ru_stime)


def _carve_seconds(ntmem, path, out):
    """Median wall and CPU (user + system) time of a full carve, and the image
    bytes it carved. CPU time is what "one core" means on a busy machine.
    The last run's files are left in OUT/last for the copy baseline."""
    times, cpus, users, image_bytes, modules = [], [], [], 0, 0
    os.makedirs(out, exist_ok=True)
    for i in range(RUNS + 1):
        # A fresh directory per run (the previous one removed untimed):
        # re-creating the same names right after deleting them makes ext4
        # hunt for free inodes (recently_deleted), measuring the file system.
        shutil.rmtree(os.path.join(out, "run%d" % (i - 1)), ignore_errors=True)
        run_dir = os.path.join(out, "run%d" % i)
        cpu0 = _children_cpu()
        start = time.perf_counter()
        p = subprocess.run([ntmem, "-q", "--json", "carve", path, "-o", run_dir, "--all"],
                           capture_output=True)
        elapsed = time.perf_counter() - start
        cpu1 = _children_cpu()
        user, cpu = cpu1[0] - cpu0[0], (cpu1[0] + cpu1[1]) - (cpu0[0] + cpu0[1])
        if p.returncode not in (0, 3):
            raise RuntimeError("carve failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
        doc = json.loads(p.stdout)
        carved = [m for m in doc["modules"] if "error" not in m]
        image_bytes, modules = sum(m["size"] for m in carved), len(carved)
        if i:                       # the first run warms the cache
            times.append(elapsed)
            cpus.append(cpu)
            users.append(user)
    os.rename(os.path.join(out, "run%d" % RUNS), os.path.join(out, "last"))
    return statistics.median(times), statistics.median(cpus), statistics.median(users), image_bytes, modules


def _copy_seconds(out):
    """Median wall and CPU time of `cp -r` of the carve's own output: the same
    files with the same bytes (holes included) written by a tool that does
    nothing else, i.e. this machine's floor for a carve's file writes."""
    src, times, cpus = os.path.join(out, "last"), [], []
    for i in range(RUNS + 1):
        shutil.rmtree(os.path.join(out, "copy%d" % (i - 1)), ignore_errors=True)
        cpu0 = _children_cpu()
        start = time.perf_counter()
        subprocess.run(["cp", "-r", "--sparse=always", src, os.path.join(out, "copy%d" % i)], check=True)
        elapsed = time.perf_counter() - start
        cpu1 = _children_cpu()
        if i:
            times.append(elapsed)
            cpus.append((cpu1[0] + cpu1[1]) - (cpu0[0] + cpu0[1]))
    files = len(os.listdir(src))
    written = sum(os.stat(os.path.join(src, f)).st_blocks * 512 for f in os.listdir(src))
    return statistics.median(times), statistics.median(cpus), files, written


def find_dump(dirs):
    """The first of DUMPS present in any of DIRS (the bench set first)."""
    for name in DUMPS:
        for d in dirs:
            if d and os.path.exists(os.path.join(d, name)):
                return os.path.join(d, name)
    return None


def bench_carve(ntmem, fixtures, work):
    """Returns the report lines (also printed by the caller). FIXTURES is a
    folder or a list of folders to look for the dumps in."""
    dirs = [fixtures] if isinstance(fixtures, str) else list(fixtures)
    path = find_dump(dirs)
    if path is None:
        return ["carve: skipped: no fixture (python3 fixtures/generate.py --out DIR --bench)"]
    lines = []
    if not path.endswith(DUMPS[0]):
        lines.append("carve: %s absent (generator --bench): measuring %s instead"
                     % (DUMPS[0], os.path.basename(path)))
    # Output on tmpfs when there is one: the figure is the carver's, not the
    # disk's (the files land in the page cache either way; no fsync).
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else work
    out = os.path.join(base, "ntmem-bench-carve-%d" % os.getpid())
    seconds, cpu, user, image_bytes, modules = _carve_seconds(ntmem, path, out)
    cp_seconds, cp_cpu, files, written = _copy_seconds(out)
    shutil.rmtree(out, ignore_errors=True)
    cat = _cat_seconds(path)
    size = os.path.getsize(path)
    rate, cpu_rate = image_bytes / seconds, image_bytes / max(cpu, 1e-6)
    cat_rate = size / cat
    lines.append("carve: %s: %d modules, %.1f MiB of images (each written twice: .mem and .pe) into %s"
                 % (os.path.basename(path), modules, image_bytes / 2**20, os.path.dirname(out)))
    lines.append("carve: wall %.3f s = %.2f GB/s of image bytes; CPU %.3f s = %.2f GB/s (medians of %d)"
                 % (seconds, rate / 1e9, cpu, cpu_rate / 1e9, RUNS))
    lines.append("carve: of which user %.3f s = %.2f GB/s (walks, hole map, JSON); the rest is the kernel "
                 "copying 2x the image into the page cache" % (user, image_bytes / max(user, 1e-6) / 1e9))
    lines.append("carve: cat %s: %.1f MiB in %.3f s = %.2f GB/s; carve/cat ratio %.2f (wall); "
                 "target >= 1 GB/s on one core (CPU): %s"
                 % (os.path.basename(path), size / 2**20, cat, cat_rate / 1e9, rate / cat_rate,
                    "met" if cpu_rate >= 1e9 else "NOT met"))
    lines.append("carve: floor: cp -r of the carve's output (%d files, %.1f MiB on disk): wall %.3f s, "
                 "CPU %.3f s = %.2f GB/s of image bytes; carve/cp CPU ratio %.2f"
                 % (files, written / 2**20, cp_seconds, cp_cpu, image_bytes / max(cp_cpu, 1e-6) / 1e9,
                    cpu / max(cp_cpu, 1e-6)))
    return lines


def main():
    ntmem = os.environ.get("NTMEM", os.path.join(ROOT, "build", "ntmem"))
    fixtures = os.environ.get("FIXTURES", os.path.join(ROOT, "build", "fixtures"))
    work = os.environ.get("BUILD", os.path.join(ROOT, "build"))
    for line in bench_carve(ntmem, fixtures, work):
        print(line)


if __name__ == "__main__":
    sys.exit(main())
