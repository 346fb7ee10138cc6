/* Opening a physical memory source: map the file, recognise its format, and
 * answer page lookups by delegating to the layout the header described. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

/* A raw image is a flat copy of physical memory from address 0; its facts
 * are what the file size implies, nothing more. */
static int open_raw(struct nm_source *src)
{
	struct nm_dump_facts *f = &src->facts;
	uint64_t pages = src->len / NM_PAGE_SIZE;

	f->format = NM_FORMAT_RAW;
	f->type = NM_DUMP_RAW;
	f->arch = NM_ARCH_X86;
	f->pages_in_dump = pages;
	f->header_pages = pages;
	f->max_pfn = pages;
	if (pages) {
		f->nruns = 1;
		f->runs[0].base_pfn = 0;
		f->runs[0].page_count = pages;
	}
	src->layout = NM_LAYOUT_FLAT;
	return 0;
}

static int recognise(struct nm_source *src, bool raw, nm_error *err)
{
	src->facts.file_size = src->len;
	if (raw)
		return open_raw(src);
	if (src->len < 8)
		return nm_fail(err, "file", "%zu bytes is too short for a dump header", src->len);
	if (nm_le32(src->data) != NM_SIG_PAGE)
		return nm_fail(err, "header.Signature",
			       "not a Windows crash dump (no 'PAGE' at offset 0; use --raw for a flat physical image)");
	switch (nm_le32(src->data + 4)) {
	case NM_SIG_DUMP:
		return nm_read_header32(src, err);
	case NM_SIG_DU64:
		return nm_read_header64(src, err);
	default:
		return nm_fail(err, "header.ValidDump",
			       "0x%08x at offset 0x4 is neither 'DUMP' nor 'DU64'",
			       nm_le32(src->data + 4));
	}
}

int nm_source_open_buffer(const uint8_t *buf, size_t len, bool raw,
			  nm_source **out, nm_error *err)
{
	struct nm_source *src;
	int rc = nm_container_open(NULL, buf, len, raw, out, err);

	if (rc <= 0)
		return rc;
	src = calloc(1, sizeof(*src));
	if (!src)
		return nm_fail(err, "memory", "out of memory");
	src->data = buf;
	src->len = len;
	if (recognise(src, raw, err) != 0) {
		nm_source_close(src);
		return -1;
	}
	*out = src;
	return 0;
}

static int map_file(const char *path, const uint8_t **data, size_t *len, nm_error *err)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return nm_fail(err, "file", "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nm_fail(err, "file", "not a regular file");
	}
	if (st.st_size == 0) {
		close(fd);
		return nm_fail(err, "file", "the file is empty");
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return nm_fail(err, "file", "too large to map");
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return nm_fail(err, "file", "cannot map: %s", strerror(errno));
	*data = p;
	*len = (size_t)st.st_size;
	return 0;
}

int nm_source_open(const char *path, bool raw, nm_source **out, nm_error *err)
{
	const uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (map_file(path, &data, &len, err) != 0)
		return -1;
	rc = nm_container_open(path, data, len, raw, out, err);
	if (rc <= 0) {		/* a container: its reader has a view of its own */
		munmap((void *)data, len);
		return rc;
	}
	if (nm_source_open_buffer(data, len, raw, out, err) != 0) {
		munmap((void *)data, len);
		return -1;
	}
	(*out)->mapped = true;
	return 0;
}

void nm_source_close(nm_source *src)
{
	if (!src)
		return;
	if (src->mapped)
		munmap((void *)src->data, src->len);
	free(src->words);
	nm_kdump_close(src->kdump);
	free(src);
}

const struct nm_dump_facts *nm_source_facts(const nm_source *src)
{
	return &src->facts;
}

const uint8_t *nm_source_page(const nm_source *src, uint64_t pfn)
{
	switch (src->layout) {
	case NM_LAYOUT_RUNS:
		return nm_runs_page(src, pfn);
	case NM_LAYOUT_BITMAP:
		return nm_bitmap_page(src, pfn);
	case NM_LAYOUT_KDUMP:
		return nm_kdump_page(src->kdump, pfn);
	case NM_LAYOUT_FLAT:
		if (pfn >= src->facts.max_pfn)
			return NULL;
		return src->data + pfn * NM_PAGE_SIZE;
	case NM_LAYOUT_NONE:
		break;
	}
	return NULL;
}

int nm_source_read_pa(const nm_source *src, uint64_t pa, void *buf, size_t len)
{
	uint8_t *dst = buf;

	while (len) {
		uint64_t off = pa & (NM_PAGE_SIZE - 1);
		size_t chunk = NM_PAGE_SIZE - off;
		const uint8_t *page = nm_source_page(src, pa >> NM_PAGE_SHIFT);

		if (chunk > len)
			chunk = len;
		if (!page)
			return -1;
		memcpy(dst, page + off, chunk);
		dst += chunk;
		pa += chunk;
		len -= chunk;
	}
	return 0;
}

static int visit_runs(const nm_source *src, nm_page_visitor *visit, void *ctx)
{
	for (uint32_t r = 0; r < src->nruns; r++) {
		const struct nm_file_run *run = &src->runs[r];

		for (uint64_t i = 0; i < run->page_count; i++) {
			int rc = visit(ctx, run->base_pfn + i,
				       src->data + run->file_offset + i * NM_PAGE_SIZE);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int visit_bitmap(const nm_source *src, nm_page_visitor *visit, void *ctx)
{
	uint64_t nwords = (src->nbits + 63) / 64;

	for (uint64_t w = 0; w < nwords; w++) {
		uint64_t bits = src->words[w].bits;
		uint64_t index = src->words[w].rank;

		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			int rc = visit(ctx, w * 64 + b, src->data + src->first_page_offset +
							    index * NM_PAGE_SIZE);
			if (rc)
				return rc;
			bits &= bits - 1;
			index++;
		}
	}
	return 0;
}

int nm_source_for_each_page(const nm_source *src, nm_page_visitor *visit, void *ctx)
{
	switch (src->layout) {
	case NM_LAYOUT_RUNS:
		return visit_runs(src, visit, ctx);
	case NM_LAYOUT_BITMAP:
		return visit_bitmap(src, visit, ctx);
	case NM_LAYOUT_KDUMP:
		return nm_kdump_for_each_page(src->kdump, visit, ctx);
	case NM_LAYOUT_FLAT:
		for (uint64_t pfn = 0; pfn < src->facts.max_pfn; pfn++) {
			int rc = visit(ctx, pfn, src->data + pfn * NM_PAGE_SIZE);
			if (rc)
				return rc;
		}
		return 0;
	case NM_LAYOUT_NONE:
		break;
	}
	return 0;
}

const uint8_t *nm_source_file(const nm_source *src, size_t *len)
{
	*len = src->len;
	return src->data;
}

const char *nm_format_name(enum nm_format f)
{
	switch (f) {
	case NM_FORMAT_RAW: return "raw";
	case NM_FORMAT_ELF: return "elf";
	case NM_FORMAT_KDUMP: return "kdump";
	case NM_FORMAT_WINDOWS_CRASH_DUMP: break;
	}
	return "windows-crash-dump";
}

bool nm_source_pae_for_dtb(const struct nm_dump_facts *f, uint64_t dtb)
{
	if (f->type == NM_DUMP_RAW || f->pae_unknown)
		return (dtb & 0xFE0) != 0;
	return f->pae;
}

const char *nm_compression_name(enum nm_compression c)
{
	return c == NM_COMPRESSION_GZIP ? "gzip" : NULL;
}

const char *nm_dump_type_name(enum nm_dump_type t)
{
	switch (t) {
	case NM_DUMP_FULL: return "full";
	case NM_DUMP_KERNEL: return "kernel";
	case NM_DUMP_BITMAP: return "bitmap";
	case NM_DUMP_TRIAGE: return "triage";
	case NM_DUMP_HEADER_ONLY: return "header";
	case NM_DUMP_RAW: return "raw";
	case NM_DUMP_OTHER: break;
	}
	return "other";
}

const char *nm_arch_name(enum nm_arch a)
{
	switch (a) {
	case NM_ARCH_X64: return "x64";
	case NM_ARCH_ARM: return "arm";
	case NM_ARCH_ARM64: return "arm64";
	case NM_ARCH_X86: break;
	}
	return "x86";
}

/* IMAGE_FILE_MACHINE_* values (PE format; mingw-w64 winnt.h). */
const char *nm_machine_name(uint32_t machine_image_type)
{
	switch (machine_image_type) {
	case 0x014C: return "Intel 386";
	case 0x8664: return "AMD64";
	case 0x01C0: return "ARM";
	case 0x01C4: return "ARM Thumb-2 (ARMNT)";
	case 0xAA64: return "ARM64";
	default: return "unknown machine";
	}
}

bool nm_arch_has_walks(enum nm_arch a)
{
	return a == NM_ARCH_X86 || a == NM_ARCH_X64;
}
