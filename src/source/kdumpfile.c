/* ELF cores (QEMU dump-guest-memory, virsh dump) and kdump-compressed files
 * read through libkdumpfile.
 * Its pages are copied on first request into one reserved address range of
 * max_pfn pages (MAP_NORESERVE: memory grows only with the pages touched),
 * so a page pointer stays valid until the source is closed, as callers that
 * hold several pages during one walk need. Facts and sources:
 * docs/containers.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libkdumpfile/kdumpfile.h>

#include <ntmem/mapped_file.h>

#include "source_internal.h"

enum page_state { PAGE_UNKNOWN, PAGE_FILLED, PAGE_ABSENT };

struct nm_kdump {
	kdump_ctx_t *ctx;
	kdump_bmp_t *pagemap;	/* pages the file holds (a reference we own) */
	int fd;
	uint64_t max_pfn;
	uint8_t *pages;		/* max_pfn pages, filled on demand */
	uint8_t *state;		/* one enum page_state per page */
	/* Where each segment's bytes are in the file, and where the file holds
	 * data: a scan skips pages in holes and reads the others through one
	 * scratch page, so that it costs what the file holds and keeps no copy. */
	struct nm_elf_info loads;
	struct nm_extents extents;
	uint8_t scratch[NM_PAGE_SIZE];
};

static void release(struct nm_kdump *k)
{
	if (!k)
		return;
	if (k->pages)
		munmap(k->pages, k->max_pfn * NM_PAGE_SIZE);
	if (k->state)
		munmap(k->state, k->max_pfn);
	if (k->pagemap)
		kdump_bmp_decref(k->pagemap);
	if (k->ctx)
		kdump_free(k->ctx);
	nm_extents_free(&k->extents);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static void kdump_close(struct nm_source *src)
{
	release(src->kdump);
	src->kdump = NULL;
}

static void *reserve(uint64_t bytes, int prot)
{
	void *p = mmap(NULL, (size_t)bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static bool file_holds(const struct nm_kdump *k, uint64_t pfn)
{
	unsigned char bit = 0;

	if (kdump_bmp_get_bits(k->pagemap, pfn, pfn, &bit) != KDUMP_OK)
		return false;
	return (bit & 1) != 0;
}

/* The library's bitmap decides presence: its kdump_read answers zeros for
 * some addresses no segment covers. */
static const uint8_t *page_of(const struct nm_kdump *k, uint64_t pfn)
{
	uint8_t *page;
	size_t size = NM_PAGE_SIZE;

	if (pfn >= k->max_pfn)
		return NULL;
	page = k->pages + pfn * NM_PAGE_SIZE;
	switch (k->state[pfn]) {
	case PAGE_FILLED:
		return page;
	case PAGE_ABSENT:
		return NULL;
	default:
		break;
	}
	if (!file_holds(k, pfn) ||
	    kdump_read(k->ctx, KDUMP_MACHPHYSADDR, pfn << NM_PAGE_SHIFT, page, &size) != KDUMP_OK ||
	    size != NM_PAGE_SIZE) {
		k->state[pfn] = PAGE_ABSENT;
		return NULL;
	}
	k->state[pfn] = PAGE_FILLED;
	return page;
}

/* The next run of held pages at or after *PFN: [*PFN, *END). */
static bool next_run(const struct nm_kdump *k, uint64_t *pfn, uint64_t *end)
{
	kdump_addr_t at = *pfn;

	if (at >= k->max_pfn || kdump_bmp_find_set(k->pagemap, &at) != KDUMP_OK || at >= k->max_pfn)
		return false;
	*pfn = at;
	if (kdump_bmp_find_clear(k->pagemap, &at) != KDUMP_OK || at > k->max_pfn)
		at = k->max_pfn;
	*end = at;
	return *end > *pfn;
}

/* The segment holding PFN (HINT first: scans go in order), or -1. */
static int segment_of(const struct nm_kdump *k, uint64_t pfn, int hint)
{
	uint64_t pa = pfn << NM_PAGE_SHIFT;

	if (hint >= 0 && pa >= k->loads.load_start[hint] && pa < k->loads.load_end[hint])
		return hint;
	for (uint32_t i = 0; i < k->loads.loads; i++)
		if (pa >= k->loads.load_start[i] && pa < k->loads.load_end[i])
			return (int)i;
	return -1;
}

/* PFN's page, or NULL when it lies in a hole of the file; *NEXT is then the
 * first PFN after it worth reading. A page already copied is served from
 * the copy, any other through the scratch page. */
static const uint8_t *scan_page(struct nm_kdump *k, uint64_t pfn, int *seg, uint64_t *next)
{
	size_t size = NM_PAGE_SIZE;
	uint64_t off, data, seg_end;

	*next = pfn + 1;
	if (k->state[pfn] == PAGE_FILLED)
		return k->pages + pfn * NM_PAGE_SIZE;
	*seg = segment_of(k, pfn, *seg);
	if (*seg >= 0) {
		off = k->loads.load_offset[*seg] + ((pfn << NM_PAGE_SHIFT) - k->loads.load_start[*seg]);
		data = nm_extents_data_from(&k->extents, off);
		if (data >= off + NM_PAGE_SIZE) {
			seg_end = k->loads.load_end[*seg] >> NM_PAGE_SHIFT;
			if (data != UINT64_MAX && data - off < (seg_end - pfn) << NM_PAGE_SHIFT)
				*next = pfn + ((data - off) >> NM_PAGE_SHIFT);
			else
				*next = seg_end;
			if (*next <= pfn)
				*next = pfn + 1;
			return NULL;
		}
	}
	if (kdump_read(k->ctx, KDUMP_MACHPHYSADDR, pfn << NM_PAGE_SHIFT, k->scratch, &size) != KDUMP_OK ||
	    size != NM_PAGE_SIZE)
		return NULL;
	return k->scratch;
}

static const uint8_t *kdump_page(const struct nm_source *src, uint64_t pfn)
{
	return page_of(src->kdump, pfn);
}

static int kdump_for_each_page(const struct nm_source *src, nm_page_visitor *visit, void *ctx)
{
	const struct nm_kdump *k = src->kdump;
	/* The scratch page and the segment hint are the reader's own working
	 * memory, not the source's content. */
	struct nm_kdump *rw = (struct nm_kdump *)k;
	uint64_t pfn = 0, end, next;
	int seg = -1;

	/* Each turn moves PFN forward to a run's end, so at most max_pfn turns. */
	while (next_run(k, &pfn, &end)) {
		for (; pfn < end; pfn = next) {
			const uint8_t *page = scan_page(rw, pfn, &seg, &next);
			int rc = page ? visit(ctx, pfn, page) : 0;

			if (rc)
				return rc;
		}
		pfn = end;
	}
	return 0;
}

const struct nm_layout_ops nm_layout_kdump = { kdump_page, kdump_for_each_page, kdump_close };

/* Runs of the facts (the first NM_MAX_RUNS) and the count of held pages. */
static void describe_runs(const struct nm_kdump *k, struct nm_dump_facts *f)
{
	uint64_t pfn = 0, end;

	while (next_run(k, &pfn, &end)) {
		if (f->nruns < NM_MAX_RUNS) {
			f->runs[f->nruns].base_pfn = pfn;
			f->runs[f->nruns].page_count = end - pfn;
			f->nruns++;
		}
		f->pages_in_dump += end - pfn;
		pfn = end;
	}
	f->header_pages = f->pages_in_dump;
}

static void read_extents(struct nm_kdump *k)
{
	struct stat st;

	if (fstat(k->fd, &st) == 0)
		nm_extents_read(k->fd, (uint64_t)st.st_size, &k->extents);
	(void)lseek(k->fd, 0, SEEK_SET);
}

static int kdump_fail(struct nm_kdump *k, const char *what, const char *doing, nm_error *err)
{
	return nm_fail(err, what, "libkdumpfile: %s: %s", doing, kdump_get_err(k->ctx));
}

static int open_library(struct nm_kdump *k, nm_error *err)
{
	kdump_attr_t attr;
	kdump_num_t max_pfn;

	k->ctx = kdump_new();
	if (!k->ctx)
		return nm_fail(err, "memory", "out of memory");
	/* read(2) only: a file cut short while open gives an error, not SIGBUS. */
	if (kdump_set_number_attr(k->ctx, KDUMP_ATTR_FILE_MMAP_POLICY, KDUMP_MMAP_NEVER) != KDUMP_OK)
		return kdump_fail(k, "file", "cannot choose read(2) access", err);
	if (kdump_open_fd(k->ctx, k->fd) != KDUMP_OK)
		return kdump_fail(k, "file", "cannot open", err);
	if (kdump_get_number_attr(k->ctx, "max_pfn", &max_pfn) != KDUMP_OK)
		return kdump_fail(k, "max_pfn", "no highest page number", err);
	if (max_pfn == 0 || max_pfn > NM_CONTAINER_MAX_PFN)
		return nm_fail(err, "max_pfn", "0x%llx pages: none, or beyond the %llu GiB this reader maps",
			       (unsigned long long)max_pfn,
			       (unsigned long long)(NM_CONTAINER_MAX_PFN >> (30 - NM_PAGE_SHIFT)));
	attr.type = KDUMP_BITMAP;
	if (kdump_get_typed_attr(k->ctx, KDUMP_ATTR_FILE_PAGEMAP, &attr) != KDUMP_OK)
		return kdump_fail(k, "file.pagemap", "no map of the pages held", err);
	k->pagemap = attr.val.bitmap;
	kdump_bmp_incref(k->pagemap);
	k->max_pfn = max_pfn;
	return 0;
}

static int reserve_pages(struct nm_kdump *k, nm_error *err)
{
	k->pages = reserve(k->max_pfn * NM_PAGE_SIZE, PROT_READ | PROT_WRITE);
	k->state = reserve(k->max_pfn, PROT_READ | PROT_WRITE);
	if (!k->pages || !k->state)
		return nm_fail(err, "memory", "cannot reserve address space for 0x%llx pages: %s",
			       (unsigned long long)k->max_pfn, strerror(errno));
	return 0;
}

/* What the ELF headers say beyond the memory: machine, vCPUs, and the first
 * vCPU's CR3/CR4 when QEMU wrote its register note. */
static void elf_facts(const struct nm_elf_info *info, struct nm_dump_facts *f)
{
	f->format = NM_FORMAT_ELF;
	f->type = NM_DUMP_FULL;
	f->arch = info->machine == 62 ? NM_ARCH_X64 : NM_ARCH_X86;
	f->processors = info->qemu_cpus ? info->qemu_cpus : info->prstatus_notes;
	f->pae_unknown = !info->has_cr3;
	if (info->has_cr3) {
		f->pae = info->cr4_pae;
		f->dtb_raw = info->cr3;
		f->dtb = info->cr3 & (f->pae ? ~UINT64_C(0x1F) : ~UINT64_C(0xFFF));
	}
}

int nm_kdump_open(int fd, const struct nm_elf_info *info, struct nm_source **out, nm_error *err)
{
	struct nm_source *src = nm_source_new(err);
	struct nm_kdump *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (!src || !k) {
		free(src);
		free(k);
		close(fd);
		return src ? nm_fail(err, "memory", "out of memory") : -1;
	}
	k->fd = fd;
	if (info)
		k->loads = *info;	/* kdump-compressed: no segments (every page through the library) */
	read_extents(k);
	if (open_library(k, err) != 0 || reserve_pages(k, err) != 0) {
		release(k);
		free(src);
		return -1;
	}
	src->layout = &nm_layout_kdump;
	src->kdump = k;
	if (info)
		elf_facts(info, &src->facts);
	src->facts.max_pfn = k->max_pfn;
	describe_runs(k, &src->facts);
	*out = src;
	return 0;
}

/* A file descriptor for libkdumpfile: the named file, the caller's FD, or a
 * memory file holding a copy of a buffer (fuzzers and unit tests). */
int nm_container_fd(const char *path, int fd, const uint8_t *data, size_t len, nm_error *err)
{
	int out;

	if (fd >= 0) {
		out = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (out < 0)
			return nm_fail(err, "file", "cannot duplicate descriptor: %s", strerror(errno));
		return out;
	}
	if (path) {
		uint64_t size;

		return nm_open_regular(path, &out, &size, err) == 0 ? out : -1;
	}
	out = memfd_create("ntmem-container", MFD_CLOEXEC);
	if (out < 0)
		return nm_fail(err, "memory", "cannot create a memory file: %s", strerror(errno));
	for (size_t done = 0; done < len;) {
		ssize_t w = write(out, data + done, len - done);

		if (w <= 0) {
			close(out);
			return nm_fail(err, "memory", "cannot fill a memory file: %s", w < 0 ? strerror(errno) : "no progress");
		}
		done += (size_t)w;
	}
	return out;
}
