"""Runs each libFuzzer target of build-fuzz: first the inputs that once found
a bug (fuzz/regressions/NAME, each must now pass), then a timed run from the
committed seeds (fuzz/corpus/NAME). New inputs go to BUILD/corpus/NAME so the
source tree stays clean; a crash, leak, timeout or out-of-memory leaves its
reproducer in BUILD/artifacts and fails the run. Ends with one line per
target: executions, executions per second, coverage (edges) and features."""
import argparse
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from check_counts import record  # noqa: E402  (make check's last line)


def files_in(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if os.path.isfile(os.path.join(folder, f)))


def run_regressions(binary, name, flags):
    inputs = files_in(os.path.join(HERE, "regressions", name))
    if not inputs:
        return True
    p = subprocess.run([binary] + flags + inputs, capture_output=True, text=True,
                       errors="replace")
    if p.returncode != 0:
        sys.stdout.write(p.stderr[-4000:])
        print("fuzz: %s: a regression input fails again (exit %d)" % (name, p.returncode))
        return False
    print("fuzz: %s: %d regression inputs pass" % (name, len(inputs)))
    return True


def summary(log):
    stats = dict(re.findall(r"stat::(\w+):\s*(\d+)", log))
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    edges, features = cov[-1] if cov else ("?", "?")
    return (stats.get("number_of_executed_units", "?"),
            stats.get("average_exec_per_sec", "?"), edges, features)


def run_timed(binary, name, seconds, flags, build):
    work = os.path.join(build, "corpus", name)
    arts = os.path.join(build, "artifacts")
    logs = os.path.join(build, "logs")
    for d in (work, arts, logs):
        os.makedirs(d, exist_ok=True)
    seeds = os.path.join(HERE, "corpus", name)
    cmd = [binary] + flags + ["-max_total_time=%d" % seconds,
                              "-artifact_prefix=%s/%s-" % (arts, name), work]
    if os.path.isdir(seeds):
        cmd.append(seeds)
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    with open(os.path.join(logs, name + ".log"), "w") as f:
        f.write(p.stderr)
    execs, rate, edges, features = summary(p.stderr)
    line = "fuzz: %-16s %4ds  execs %10s  execs/s %7s  cov %5s  ft %6s" % (
        name, seconds, execs, rate, edges, features)
    if p.returncode != 0:
        sys.stdout.write(p.stderr[-6000:])
        print(line + "  FAILED (exit %d, log %s/%s.log)" % (p.returncode, logs, name))
        return False
    print(line)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-fuzz")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--only", help="run this target only")
    ap.add_argument("flags", nargs="*", help="libFuzzer flags")
    a = ap.parse_args()
    binaries = sorted(b for b in glob.glob(os.path.join(a.build, "fuzz_*"))
                      if os.access(b, os.X_OK) and not b.endswith(".log"))
    if a.only:
        binaries = [b for b in binaries if os.path.basename(b) == a.only]
    if not binaries:
        print("fuzz: no targets built in %s" % a.build)
        return 1
    failed = set()
    for b in binaries:
        name = os.path.basename(b)
        if not run_regressions(b, name, a.flags):
            failed.add(name)
    for b in binaries:
        name = os.path.basename(b)
        if not run_timed(b, name, a.seconds, a.flags, a.build):
            failed.add(name)
    # One test per target: its regression inputs and its timed run.
    record("fuzz", len(binaries) - len(failed), len(failed), 0)
    print("fuzz: %d passed, %d failed, 0 skipped" % (len(binaries) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
