"""Writes the committed seed corpora fuzz/corpus/<target>/ from the small
dumps that fixtures/corrupt.py builds from the public format facts. Run it
again after changing a target's input layout; the files are small (the
whole corpus stays well under 2 MiB)."""
import hashlib
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures"))
import corrupt as c  # noqa: E402
import containers  # noqa: E402


def raw_memory(sysm):
    """Physical pages 0..highest as one flat image (a raw source)."""
    top = max(sysm.pages) + 1
    return b"".join(bytes(sysm.pages.get(p, bytes(c.PAGE))) for p in range(top))


def systems():
    pfns = list(range(1, 64))
    return {"nonpae": c.MiniSystem(False, pfns), "pae": c.MiniSystem(True, pfns)}


def u8(v):
    return struct.pack("<B", v)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v)


def system_va_seeds():
    """A MiSystemVaType array (reference §6.2) in a small kernel image, once
    in place and once behind a pointer into the pool slice; PAE and not."""
    made = []
    for pae in (1, 0):
        shift, entries = (21, 0x400) if pae else (22, 0x200)
        kernel, pfn, driver = 0x82A00000, 0x83400000, 0xF7E80000
        types = bytearray(entries)
        for va, t in ((kernel, 3), (pfn, 4), (0x83800000, 5), (0x8C000000, 6), (driver, 12)):
            types[(va - 0x80000000) >> shift] = t
        pde = b"".join(u64(0x1000063 if t else 0) if pae else u32(0x1000063 if t else 0) for t in types)
        clues = u32(kernel) + u32(pfn) + u32(7601) + u32(0) + u8(2) + u32(kernel) + u32(0x3000) + u32(driver) + u32(0x1000)
        image = bytes(0x100) + bytes(types) + bytes(0x3000 - 0x100 - entries)
        made.append(u8(pae | 2) + clues + u32(len(pde)) + pde + u32(0) + image)
        pointer = u32(0x83800000) + bytes(0x1000 - 4)
        made.append(u8(pae | 2) + clues + u32(len(pde)) + pde + u32(entries) + bytes(types) + pointer)
    return made


def header64(dump_type, machine=0x8664):
    """DUMP_HEADER64 (docs/dump-format.md): 'PAGE' fill, then the fields."""
    h = bytearray(b"PAGE" * 0x800)
    struct.pack_into("<4s4sIIQ", h, 0, b"PAGE", b"DU64", 0xF, 19041, 0x1AD002)
    struct.pack_into("<III", h, 0x30, machine, 4, 0x1000007E)
    struct.pack_into("<I", h, 0xF98, dump_type)
    return h


def x64_seeds():
    """x64 full (a run above 4 GiB), FDMP bitmap and triage (driver list)."""
    full = header64(1)
    struct.pack_into("<IIQQQQQ", full, 0x88, 2, 0, 3, 0x10, 2, 0x100000, 1)
    full += b"".join(bytes([i + 1]) * c.PAGE for i in range(3))
    bmp = header64(5)
    bh = bytearray(0x1000)
    bh[0:8] = b"FDMPDUMP"
    struct.pack_into("<QQQ", bh, 0x20, 0x3000, 2, 128)
    bh[0x38] = 0x06
    bmp += bh + bytes([7]) * (2 * c.PAGE)
    tri = header64(4)
    struct.pack_into("<I", tri, 0x1038, 0xCFF)
    body = bytearray(0x1000)
    struct.pack_into("<IIIIIIIIIIIIIIII", body, 0, 0, 0x3000, 0, 0x348, 0xF00, 0, 0, 0, 0, 0, 0, 0,
                     0x2100, 2, 0x2400, 0x100)
    for i, (name, base, size) in enumerate(((r"\SystemRoot\system32\ntoskrnl.exe", 0xFFFFF8047BA00000, 0x1046000),
                                            ("hal.dll", 0xFFFFF80479440000, 0x6000))):
        e = 0x100 + 0x90 * i
        at = 0x400 + 0x80 * i
        struct.pack_into("<I", body, e, 0x2000 + at)
        struct.pack_into("<QQI", body, e + 0x38, base, 0, size)
        text = name.encode("utf-16-le")
        struct.pack_into("<I", body, at, len(text) // 2)
        body[at + 4:at + 4 + len(text)] = text
    tri += body
    return [bytes(full), bytes(bmp), bytes(tri)]


def seeds():
    out = {t: [] for t in ("fuzz_source", "fuzz_xlat", "fuzz_kdbg", "fuzz_kernel", "fuzz_pe",
                           "fuzz_cli", "fuzz_carve", "fuzz_reloc", "fuzz_system_va")}
    out["fuzz_system_va"] = system_va_seeds()
    driver = c.build_pe(0x10000, [
        (".text", 0x1000, 0x600, c.SCN_CODE | c.SCN_EXEC | c.SCN_READ),
        ("PAGE", 0x2000, 0x200, c.SCN_CODE | c.SCN_EXEC | c.SCN_READ),
        ("INIT", 0x3000, 0x300, c.SCN_CODE | c.SCN_DISCARD),
        (".reloc", 0x4000, 0x10, c.SCN_IDATA | c.SCN_DISCARD | c.SCN_READ)])
    nt = c.u32(driver, 0x3C)
    c.put32(driver, nt + 0x18 + 0x60 + 8 * 5, 0x4000)   # base relocation directory
    c.put32(driver, nt + 0x18 + 0x60 + 8 * 5 + 4, 0x10)
    c.put32(driver, 0x4000, 0x1000)                     # one block: page 0x1000
    c.put32(driver, 0x4004, 0x10)
    for k, e in enumerate((0x3010, 0x3020, 0x3100, 0x0000)):
        c.put16(driver, 0x4008 + 2 * k, e)
    out["fuzz_reloc"].append(u32(0x80200000) + bytes(driver))
    # Carve: base, page count, tail, then states (valid, valid, pagefile,
    # not_mapped, valid) and the readable pages' bytes.
    out["fuzz_carve"].append(u32(0x80200000) + u8(5) + u32(0x800) + bytes([0, 0, 3, 5, 0]) +
                             bytes(driver))
    out["fuzz_carve"].append(u32(0x80200000) + u8(5) + u32(0) + bytes([6, 0, 1, 2, 7]) +
                             bytes(driver))
    spread = {"nonpae": c.MiniSystem(False, c.BASE_PFNS), "pae": c.MiniSystem(True, c.BASE_PFNS)}
    for name, sysm in spread.items():
        out["fuzz_source"].append(c.build_full(sysm, compact=True))
        out["fuzz_cli"].append(c.build_full(sysm, compact=True))
    out["fuzz_source"].append(c.build_kernel_dump(spread["nonpae"]))
    out["fuzz_source"].append(c.build_bitmap_dump(spread["pae"]))
    out["fuzz_cli"].append(c.build_kernel_dump(spread["pae"]))
    out["fuzz_source"].append(c.build_full(spread["nonpae"], compact=True)[:0x1000])
    out["fuzz_source"] += x64_seeds()
    # A kdump-compressed file of a small system (fixtures/containers.py's writer).
    mem = raw_memory(spread["nonpae"])
    out["fuzz_source"].append(containers.kdump_bytes(mem, [(0, len(mem) // 4096, 0)], 1))
    for name, sysm in systems().items():
        pae = 1 if sysm.pae else 0
        mem = raw_memory(sysm)
        vas = [sysm.KERNEL, sysm.kdbg, sysm.DRIVER + 0x3000, sysm.POOL + 0x100, 0xC0300000, 0xC0600000]
        out["fuzz_xlat"].append(u8(pae) + u32(sysm.dtb) + u32(0xE1000000) + u32(0) + u32(0xFFBE0000) +
                                u8(len(vas) - 1) + b"".join(u32(v) for v in vas) + mem)
        out["fuzz_kdbg"].append(u8(pae) + u32(sysm.dtb) + u32(sysm.kdbg) + mem)
        for flags in (0, 1):
            out["fuzz_kernel"].append(u8(flags) + u32(sysm.dtb) + u32(sysm.kdbg) + u32(2) +
                                      u64(0x3F) + u32(sysm.DRIVER + 0x1010) + mem)
        out["fuzz_pe"].append(bytes(c.build_pe(sysm.DRIVER, [
            (".text", 0x1000, 0x600, c.SCN_CODE | c.SCN_EXEC | c.SCN_READ),
            ("PAGE", 0x2000, 0x200, c.SCN_CODE | c.SCN_EXEC | c.SCN_READ),
            ("INIT", 0x3000, 0x300, c.SCN_CODE | c.SCN_DISCARD)]))[:0x1000])
    return out


def main():
    corpus = os.path.join(HERE, "corpus")
    total = 0
    for target, items in seeds().items():
        folder = os.path.join(corpus, target)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        for data in items:
            with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
            total += len(data)
    print("seeds: %d bytes in %s" % (total, corpus))


if __name__ == "__main__":
    main()
