/* Layer 4: carving a driver image out of kernel memory, page by page, with
 * the state of every page, the section it belongs to and why a hole is a
 * hole (docs/carving.md). The page source is abstract so that the carver
 * runs on a kernel view (nm_kernel_walk) or on a test's fake. */
#ifndef NTMEM_CARVE_H
#define NTMEM_CARVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/pe.h>
#include <ntmem/vmem.h>

/* Images above this size are refused: no real driver comes near it, and a
 * forged SizeOfImage (up to 4 GiB) must not drive allocations. */
#define NM_CARVE_MAX_IMAGE (256u << 20)

enum nm_hole_reason {
	NM_REASON_NONE,			/* the page was read */
	NM_REASON_DISCARDED,		/* not_mapped inside a discardable section */
	NM_REASON_PAGED_OUT,		/* pagefile */
	NM_REASON_NOT_IN_DUMP,
	NM_REASON_NOT_MAPPED,
	NM_REASON_STALE,
	NM_REASON_HEADERS_MISSING,	/* the header page (RVA 0) is not readable */
	NM_REASON_PROTOTYPE,		/* prototype PTE that could not be resolved */
	NM_REASON_BEYOND_PAGEFILE,	/* pagefile, but past the end of the paging file given */
	NM_REASON_COUNT
};
/* "discarded", "paged_out", ...; NULL for NM_REASON_NONE. */
const char *nm_hole_reason_name(enum nm_hole_reason r);

enum nm_carve_headers {
	NM_HEADERS_OK,
	NM_HEADERS_MISSING,		/* header page unreadable */
	NM_HEADERS_INVALID,		/* readable but not a PE32/PE32+ image (header_error says why) */
};
const char *nm_carve_headers_name(enum nm_carve_headers h);	/* "ok", "missing", "invalid" */

struct nm_carve_page {
	const uint8_t *bytes;		/* NULL: a hole, written as the fill byte */
	uint64_t pa;			/* when has_pa */
	uint64_t pagefile_offset;	/* pagefile state */
	uint8_t state;			/* enum nm_page_state */
	uint8_t reason;			/* enum nm_hole_reason */
	uint8_t pagefile_number;
	uint8_t pagefile_outcome;	/* enum nm_pagefile_outcome, when in_pagefile */
	bool has_pa;
	bool zeros;			/* bytes is not NULL and all of the page's bytes are 0 */
	bool in_pagefile;		/* its PTE (or prototype PTE) points into a paging file */
	bool from_pagefile;		/* ... and bytes were read from the paging file given */
	int16_t section;		/* index into pe.sections covering the page start, or -1 */
};

struct nm_byte_tally {
	uint64_t recovered, missing;
};

struct nm_carve {
	uint64_t base;			/* the image's VA (x64: above 2^63) */
	uint32_t size;			/* bytes carved (LDR SizeOfImage) */
	bool wide;			/* 64-bit kernel: pointer size 8 */
	unsigned npages;
	struct nm_carve_page *pages;
	enum nm_carve_headers headers;
	nm_error header_error;
	struct nm_pe_image pe;		/* nsections 0 unless headers == OK */
	bool stale_checked;
	bool keep_stale;
	const struct nm_pagefiles *pagefiles;	/* the reader's paging files (names for the maps), or NULL */
	uint64_t state_count[NM_PAGE_STATE_COUNT];
	struct nm_byte_tally sections[NM_PE_MAX_SECTIONS];	/* per section, per byte */
	struct nm_byte_tally kinds[3];	/* by enum nm_section_kind */
	struct nm_byte_tally outside;	/* headers and bytes no section covers */
	struct nm_byte_tally total;
};

struct nm_carve_options {
	bool keep_stale;		/* --keep-stale: keep a stale page's bytes (still a hole in the map) */
};

/* Carves [base, base+size). Fails only for a size that is 0 or above
 * NM_CARVE_MAX_IMAGE, or a base+size past the end of the address space
 * (4 GiB for a 32-bit kernel, 2^64 for x64), or no memory; holes are
 * findings. Free with nm_carve_free. */
int nm_carve_image(const struct nm_vmem *r, uint64_t base, uint32_t size,
		   const struct nm_carve_options *opt, struct nm_carve *out, nm_error *err);
void nm_carve_free(struct nm_carve *c);

/* Bytes of page I that belong to the image (the last page may be partial). */
static inline uint32_t nm_carve_page_len(const struct nm_carve *c, unsigned i)
{
	uint32_t start = i * 4096u;

	return c->size - start < 4096u ? c->size - start : 4096u;
}

/* A maximal run of hole pages sharing state, section and reason. */
struct nm_carve_hole {
	uint32_t rva_start, rva_end;	/* end exclusive, clipped to size */
	enum nm_page_state state;
	int section;
	enum nm_hole_reason reason;
};

/* Visits the merged holes in RVA order; stops when the visitor returns
 * non-zero and returns that value. */
typedef int nm_carve_hole_visitor(void *ctx, const struct nm_carve_hole *h);
int nm_carve_for_each_hole(const struct nm_carve *c, nm_carve_hole_visitor *visit, void *ctx);

/* A maximal run of pages whose bytes were read from one paging file at
 * consecutive offsets: where the carve's bytes came from when not the dump. */
struct nm_carve_pagefile_run {
	uint32_t rva_start, rva_end;	/* end exclusive, clipped to size */
	unsigned number;		/* paging file number */
	uint64_t file_offset;		/* offset of rva_start's page in that file */
	int section;
};
typedef int nm_carve_pagefile_visitor(void *ctx, const struct nm_carve_pagefile_run *run);
int nm_carve_for_each_pagefile_run(const struct nm_carve *c, nm_carve_pagefile_visitor *visit, void *ctx);

#endif
