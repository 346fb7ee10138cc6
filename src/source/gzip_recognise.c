/* gzip: recognise before inflating. The first MiB of the stream is inflated
 * into memory and what it holds decides how much of the stream may be
 * inflated to disk: a Windows dump header says how many bytes its pages
 * need, an ELF core's program headers say where its last segment ends, and
 * anything else (unless --raw) is refused before the rest of the stream is
 * touched. A hostile stream thus costs what its content claims and the
 * header checks accept, never what the compressed data can expand to.
 * Kept apart from the inflation itself: the random-access index
 * (gzip_index.c) is built up to *NEED, and the reader in place fills the
 * header's bytes (*HEAD) before the inner format's reader looks at them. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

#define PREFIX (1u << 20)
/* Dumps that serve no pages (header-only, triage, types not read here) are
 * read for their headers and side structures only. */
#define NO_PAGES_NEED (UINT64_C(64) << 20)

static uint64_t add_pages(uint64_t base, uint64_t pages)
{
	if (pages > (UINT64_MAX - base) / NM_PAGE_SIZE)
		return UINT64_MAX;
	return base + pages * NM_PAGE_SIZE;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Bytes the 32-bit header's layout reaches: the header and bitmap, and the
 * stored pages after them. */
static uint64_t need_dump32(const uint8_t *h, size_t n)
{
	uint32_t nruns = nm_le32(h + 0x64);
	uint64_t pages = nm_le32(h + 0x68), sum = 0;

	switch (nm_le32(h + 0xF88)) {
	case 1:
		for (uint32_t i = 0; nruns <= NM_MAX_RUNS && i < nruns; i++)
			sum += nm_le32(h + 0x70 + 8 * i);
		return add_pages(NM_HEADER32_SIZE, max64(pages, sum));
	case 2:
		if (n < NM_HEADER32_SIZE + 0x20 || nm_le32(h + 0x1010) > NM_X86_MAX_PFN)
			return NM_HEADER32_SIZE + 0x20;		/* the reader refuses the count */
		return max64(add_pages(nm_le32(h + 0x100C), nm_le32(h + 0x1014)),
			     NM_HEADER32_SIZE + 0x20 + (nm_le32(h + 0x1010) + UINT64_C(7)) / 8);
	case 5:
	case 6:
		if (n < NM_HEADER32_SIZE + 0x38 || nm_le64(h + 0x1030) > NM_X86_MAX_PFN)
			return NM_HEADER32_SIZE + 0x38;		/* the reader refuses the count */
		return max64(add_pages(nm_le64(h + 0x1020), nm_le64(h + 0x1028)),
			     NM_HEADER32_SIZE + 0x38 + nm_le64(h + 0x1030) / 8 + 1);
	default:
		return NO_PAGES_NEED;
	}
}

static uint64_t need_dump64(const uint8_t *h, size_t n)
{
	switch (nm_le32(h + 0xF98)) {
	case 1:
		return add_pages(NM_HEADER64_SIZE, nm_le64(h + 0x90));
	case 2:
	case 5:
	case 6:
		if (n < NM_HEADER64_SIZE + 0x38 || nm_le64(h + 0x2030) > NM_CONTAINER_MAX_PFN)
			return NM_HEADER64_SIZE + 0x38;
		return max64(add_pages(nm_le64(h + 0x2020), nm_le64(h + 0x2028)),
			     NM_HEADER64_SIZE + 0x38 + nm_le64(h + 0x2030) / 8 + 1);
	default:
		return NO_PAGES_NEED;
	}
}

/* An ELF core: the end of its program header table and of every segment's
 * bytes in the file; the table must lie in the prefix. */
static int need_elf(const uint8_t *d, size_t n, uint64_t *need, nm_error *err)
{
	bool elf64 = n > 4 && d[4] == 2;
	uint64_t phoff, end;
	uint32_t phnum, phentsize;

	if (n < 64)
		return nm_fail(err, "elf.header", "%zu bytes is too short for an ELF header", n);
	phoff = elf64 ? nm_le64(d + 32) : nm_le32(d + 28);
	phentsize = nm_le16(d + (elf64 ? 54 : 42));
	phnum = nm_le16(d + (elf64 ? 56 : 44));
	if (phentsize != (elf64 ? 56u : 32u))
		return nm_fail(err, "elf.e_phentsize", "%u is not the %s program header size",
			       phentsize, elf64 ? "ELF64" : "ELF32");
	end = phoff + (uint64_t)phnum * phentsize;
	if (phoff > n || end > n)
		return nm_fail(err, "elf.e_phoff", "program headers at 0x%llx..0x%llx lie past the first %u KiB of the gzip stream, where they are looked for",
			       (unsigned long long)phoff, (unsigned long long)end, PREFIX >> 10);
	*need = end;
	for (uint32_t i = 0; i < phnum; i++) {
		const uint8_t *p = d + phoff + (uint64_t)i * phentsize;
		uint64_t off = elf64 ? nm_le64(p + 8) : nm_le32(p + 4);
		uint64_t size = elf64 ? nm_le64(p + 32) : nm_le32(p + 16);

		*need = max64(*need, off > UINT64_MAX - size ? UINT64_MAX : off + size);
	}
	return 0;
}

/* Inflates at most PREFIX bytes of GZ into BUF; *N is how many came out. */
static int inflate_prefix(const uint8_t *gz, size_t len, uint8_t *buf, size_t *n, nm_error *err)
{
	z_stream z;
	int zrc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return nm_fail(err, "gzip", "cannot start zlib");
	z.next_in = (Bytef *)gz;
	z.avail_in = len > (1u << 30) ? (1u << 30) : (uInt)len;
	z.next_out = buf;
	z.avail_out = PREFIX;
	/* Each turn consumes input or fills output; output is PREFIX at most. */
	do {
		zrc = inflate(&z, Z_NO_FLUSH);
	} while (zrc == Z_OK && z.avail_out > 0);
	*n = PREFIX - z.avail_out;
	inflateEnd(&z);
	if (zrc == Z_BUF_ERROR && *n == 0)
		return nm_fail(err, "gzip stream", "truncated: the file ends inside the compressed data");
	if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR && *n < PREFIX)
		return -2;		/* the full inflation names the error */
	return 0;
}

/* Bytes the header readers read themselves (header and page bitmap), as
 * opposed to the pages they serve: a reader in place fills these first. */
static uint64_t head_of(const uint8_t *h, size_t n, uint64_t need)
{
	uint64_t head = PREFIX;

	if (n >= NM_HEADER32_SIZE + 0x38 && nm_le32(h + 4) == NM_SIG_DUMP) {
		uint32_t type = nm_le32(h + 0xF88);

		if (type == 2)
			head = max64(head, NM_HEADER32_SIZE + 0x20 + nm_le32(h + 0x1010) / 8 + 1);
		else if (type == 5 || type == 6)
			head = max64(head, NM_HEADER32_SIZE + 0x38 + nm_le64(h + 0x1030) / 8 + 1);
		else if (type != 1)
			head = need;
	} else if (n >= NM_HEADER64_SIZE + 0x38 && nm_le32(h + 4) == NM_SIG_DU64) {
		uint32_t type = nm_le32(h + 0xF98);

		if (type == 2 || type == 5 || type == 6)
			head = max64(head, NM_HEADER64_SIZE + 0x38 + nm_le64(h + 0x2030) / 8 + 1);
		else if (type != 1)
			head = need;
	} else if (n >= 8 && nm_le32(h) == NM_SIG_PAGE) {
		head = need;	/* too short to say: whatever it is, it is small */
	}
	return head < need ? head : need;
}

int nm_gzip_recognise(const uint8_t *gz, size_t len, bool raw, uint64_t *need, uint64_t *head, bool *elf,
		      nm_error *err)
{
	uint8_t *buf = malloc(PREFIX);
	size_t n = 0;
	int rc;

	*need = NM_GZIP_MAX_INFLATED;
	*head = PREFIX;
	*elf = false;
	if (!buf)
		return nm_fail(err, "memory", "out of memory");
	rc = inflate_prefix(gz, len, buf, &n, err);
	if (rc == -2) {
		rc = 0;		/* corrupt early: inflation reports it in zlib's words */
	} else if (rc == 0 && n == 0) {
		rc = 0;		/* empty: inflation says "inflates to nothing" */
	} else if (rc == 0 && nm_gzip_magic(buf, n)) {
		rc = nm_fail(err, "gzip", "holds another gzip stream (inflate the outer one first)");
	} else if (rc == 0 && nm_elf_magic(buf, n)) {
		*elf = true;
		rc = need_elf(buf, n, need, err);
	} else if (rc == 0 && nm_kdump_magic(buf, n)) {
		rc = nm_kdump_refuse(err);
	} else if (rc == 0 && raw) {
		;		/* a flat image: as long as the stream is */
	} else if (rc == 0 && n >= 8 && nm_le32(buf) == NM_SIG_PAGE && nm_le32(buf + 4) == NM_SIG_DUMP) {
		*need = need_dump32(buf, n);
	} else if (rc == 0 && n >= 8 && nm_le32(buf) == NM_SIG_PAGE && nm_le32(buf + 4) == NM_SIG_DU64) {
		*need = need_dump64(buf, n);
	} else if (rc == 0) {
		nm_source *src = NULL;

		/* Not a dump: refused in the same words as the uncompressed file;
		 * what the format table accepts (a raw image) is inflated whole. */
		rc = nm_source_open_buffer(buf, n, false, &src, err);
		nm_source_close(src);
	}
	if (rc == 0 && *need > NM_GZIP_MAX_INFLATED)
		*need = NM_GZIP_MAX_INFLATED;
	if (rc == 0 && n >= 8 && nm_le32(buf) == NM_SIG_PAGE)
		*head = head_of(buf, n, *need);
	free(buf);
	return rc;
}
