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
#include <ntmem/mapped_file.h>

#include "source_internal.h"

struct nm_source *nm_source_new(nm_error *err)
{
	struct nm_source *src = calloc(1, sizeof(*src));

	if (!src) {
		nm_fail(err, "memory", "out of memory");
		return NULL;
	}
	src->layout = &nm_layout_none;
	return src;
}

void nm_input_give(struct nm_input *in, struct nm_source *src)
{
	src->data = in->data;
	src->len = in->len;
	src->owns_mapping = in->owns_mapping;
	src->facts.file_size = in->len;	/* header readers compare their layout with it */
	in->owns_mapping = false;
}

void nm_input_release(struct nm_input *in)
{
	if (in->owns_mapping)
		nm_unmap_guarded(in->data, in->len);
	in->owns_mapping = false;
}

static const uint8_t *no_page(const struct nm_source *src, uint64_t pfn)
{
	(void)src;
	(void)pfn;
	return NULL;
}

static int no_pages(const struct nm_source *src, nm_page_visitor *visit, void *ctx)
{
	(void)src;
	(void)visit;
	(void)ctx;
	return 0;
}

const struct nm_layout_ops nm_layout_none = { no_page, no_pages, NULL };

static int open_input(struct nm_input *in, nm_source **out, nm_error *err)
{
	int rc = nm_open_input(in, out, err);

	nm_input_release(in);
	return rc;
}

int nm_source_open_buffer(const uint8_t *buf, size_t len, bool raw,
			  nm_source **out, nm_error *err)
{
	struct nm_input in = { .path = NULL, .fd = -1, .data = buf, .len = len,
			       .owns_mapping = false, .forced = raw ? "raw" : NULL };

	*out = NULL;
	return open_input(&in, out, err);
}

static void identify(const struct stat *st, struct nm_file_identity *id)
{
	id->known = true;
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	id->mtime_nsec = (int64_t)st->st_mtim.tv_nsec;
}

/* Opens PATH (a regular file only), maps it under the fault guard and
 * learns its identity; FD stays open for the caller. */
static int map_file(const char *path, int *fd, const uint8_t **data, size_t *len,
		    struct nm_file_identity *id, nm_error *err)
{
	uint64_t size;

	if (nm_open_regular(path, fd, &size, err) != 0)
		return -1;
	if (size == 0) {
		close(*fd);
		return nm_fail(err, "file", "the file is empty");
	}
	if (size > SIZE_MAX) {
		close(*fd);
		return nm_fail(err, "file", "too large to map");
	}
	*data = nm_map_guarded(*fd, (size_t)size, path, err);
	if (!*data) {
		close(*fd);
		return -1;
	}
	*len = (size_t)size;
	{
		struct stat st;

		if (fstat(*fd, &st) == 0)
			identify(&st, id);
	}
	return 0;
}

int nm_source_open(const char *path, bool raw, nm_source **out, nm_error *err)
{
	return nm_source_open_as(path, raw ? "raw" : NULL, out, err);
}

int nm_source_open_as(const char *path, const char *format, nm_source **out, nm_error *err)
{
	struct nm_open_options opt = { .format = format };

	return nm_source_open_with(path, &opt, out, err);
}

int nm_source_open_with(const char *path, const struct nm_open_options *opt, nm_source **out, nm_error *err)
{
	struct nm_file_identity id = { 0 };
	struct nm_input in = { .path = path, .name = path, .fd = -1, .owns_mapping = true,
			       .forced = opt ? opt->format : NULL, .identity = &id,
			       .progress = opt ? opt->progress : NULL };
	int fd;

	*out = NULL;
	if (map_file(path, &fd, &in.data, &in.len, &id, err) != 0)
		return -1;
	if (open_input(&in, out, err) != 0) {
		close(fd);
		return -1;
	}
	(*out)->identity = id;
	if ((*out)->owns_mapping && (*out)->data == in.data)
		nm_extents_read(fd, in.len, &(*out)->extents);
	close(fd);
	return 0;
}

void nm_source_close(nm_source *src)
{
	if (!src)
		return;
	if (src->layout->close)
		src->layout->close(src);
	if (src->owns_mapping)
		nm_unmap_guarded(src->data, src->len);
	nm_gzip_view_free(src->gzip);
	nm_extents_free(&src->extents);
	free(src);
}

const struct nm_dump_facts *nm_source_facts(const nm_source *src)
{
	return &src->facts;
}

const uint8_t *nm_source_page(const nm_source *src, uint64_t pfn)
{
	const uint8_t *page = src->layout->page(src, pfn);

	/* Read in place: the page is inflated into the view before anyone
	 * looks at it, and stays there. */
	if (page && src->gzip && nm_gzip_view_fill(src->gzip, page, NM_PAGE_SIZE) != 0)
		return NULL;
	return page;
}

int nm_source_read_pa(const nm_source *src, uint64_t pa, void *buf, size_t len)
{
	uint8_t *dst = buf;

	while (len) {
		uint64_t off = pa & (NM_PAGE_SIZE - 1);
		size_t chunk = NM_PAGE_SIZE - off;
		const uint8_t *page = src->gzip ? src->layout->page(src, pa >> NM_PAGE_SHIFT)
						: nm_source_page(src, pa >> NM_PAGE_SHIFT);

		if (chunk > len)
			chunk = len;
		if (!page)
			return -1;
		/* A copy needs no page kept in a gzip file's view. */
		if (src->gzip) {
			if (nm_gzip_view_copy(src->gzip, page + off, dst, chunk) != 0)
				return -1;
		} else {
			memcpy(dst, page + off, chunk);
		}
		dst += chunk;
		pa += chunk;
		len -= chunk;
	}
	return 0;
}

uint64_t nm_source_next_page_with_data(const nm_source *src, uint64_t base, uint64_t i, uint64_t count)
{
	uint64_t off = base + i * NM_PAGE_SIZE;
	uint64_t data = nm_extents_data_from(&src->extents, off);

	if (data < off + NM_PAGE_SIZE)
		return i;
	if (data == UINT64_MAX || data - base >= count * NM_PAGE_SIZE)
		return count;
	return (data - base) / NM_PAGE_SIZE;
}

/* A whole-image pass over a gzip file read in place: each page is copied
 * out of the reader's chunks for its visit, so that the pass leaves the
 * view as it found it (memory stays that of the chunks). */
struct copied_visit {
	const nm_source *src;
	nm_page_visitor *visit;
	void *ctx;
	uint8_t page[NM_PAGE_SIZE];
};

static int visit_copy(void *ctx, uint64_t pfn, const uint8_t *page)
{
	struct copied_visit *c = ctx;

	if (nm_gzip_view_copy(c->src->gzip, page, c->page, NM_PAGE_SIZE) != 0)
		return 0;	/* the bytes cannot be had: like a page not in the file */
	return c->visit(c->ctx, pfn, c->page);
}

int nm_source_for_each_page(const nm_source *src, nm_page_visitor *visit, void *ctx)
{
	if (src->gzip) {
		struct copied_visit *c = malloc(sizeof(*c));
		int rc;

		if (!c)
			return -1;
		c->src = src;
		c->visit = visit;
		c->ctx = ctx;
		rc = src->layout->for_each_page(src, visit_copy, c);
		free(c);
		return rc;
	}
	return src->layout->for_each_page(src, visit, ctx);
}

void nm_source_drop_resident(const nm_source *src)
{
	if (src->gzip)
		return;		/* the view's pages are its only copy; passes do not fill it */
	/* Only our own read-only file mapping: MADV_DONTNEED on it discards
	 * nothing that cannot be read back (madvise(2)). */
	if (src->owns_mapping && src->layout != &nm_layout_kdump)
		(void)madvise((void *)src->data, src->len, MADV_DONTNEED);
}

const struct nm_file_identity *nm_source_identity(const nm_source *src)
{
	return &src->identity;
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
