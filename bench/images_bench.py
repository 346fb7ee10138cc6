"""Memory images (docs/dtb-scan.md): the DTB scan of a raw 2 GiB image beside
`cat` of the same file, and the second command on it, which reads the cache.
The raw image is the bench dump's memory laid out at its physical addresses,
written sparse."""
import os
import shutil
import statistics
import struct
import tempfile

PAGE = 4096
CHUNK = 16 << 20


def raw_image(dump, out):
    """BENCH_DIR/...raw from the full dump (DUMP_HEADER32: NumberOfRuns at
    0x64, runs of (BasePage, PageCount) from 0x6C, page data from 0x1000):
    each run at its physical address, gaps and zero chunks left as holes."""
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(dump):
        return out
    with open(dump, "rb") as f:
        head = f.read(PAGE)
        if head[:8] != b"PAGEDUMP" or struct.unpack_from("<I", head, 0xF88)[0] != 1:
            return None
        nruns = struct.unpack_from("<I", head, 0x64)[0]
        runs = [struct.unpack_from("<II", head, 0x6C + 8 * i) for i in range(min(nruns, 86))]
        zero = bytes(CHUNK)
        end = 0
        with open(out + ".tmp", "wb") as o:
            for base, count in runs:
                done = 0
                while done < count * PAGE:
                    block = f.read(min(CHUNK, count * PAGE - done))
                    if not block:
                        break
                    if block != zero[:len(block)]:
                        o.seek(base * PAGE + done)
                        o.write(block)
                    done += len(block)
                end = max(end, (base + count) * PAGE)
            o.truncate(end)
    os.replace(out + ".tmp", out)
    return out


def report(b, ntmem, bench_dir):
    raw = raw_image(b.dump, os.path.join(bench_dir, "bench-pae-2g.raw"))
    if not raw:
        print("  (the bench dump is not one run from page 0: no raw image)")
        return
    cats = [b.run(["sh", "-c", 'cat "$1" > /dev/null', "sh", raw])[0] for _ in range(3)]
    cat = statistics.median(cats)
    b.report("raw_cat_file", cat, "s", "median of 3, raw image %d MiB" % (os.path.getsize(raw) >> 20))
    scans, cached = [], []
    rss = 0
    for _ in range(3):
        cache = tempfile.mkdtemp(prefix="ntmem-bench-cache-")
        os.environ["XDG_CACHE_HOME"] = cache
        try:
            seconds, peak, code = b.run([ntmem, "info", raw])
            scans.append(seconds)
            rss = max(rss, peak)
            cached.append(b.run([ntmem, "info", raw])[0])
        finally:
            del os.environ["XDG_CACHE_HOME"]
            shutil.rmtree(cache, ignore_errors=True)
    scan = statistics.median(scans)
    print("  %-38s %14.3f s     (%.2fx raw cat)  median of 3, exit %d" % ("dtb_scan_info_time", scan, scan / cat, code))
    print("  %-38s %14.1f ms    second command (cache hit), median of 3" % ("dtb_cached_info_time_ms",
                                                                             statistics.median(cached) * 1000))
    print("  %-38s %14d KiB" % ("dtb_scan_peak_rss", rss))
