/* Virtual memory as every reader above the translator sees it: walk a VA,
 * then take the bytes of the page the walk found. One interface for the
 * kernel-layer walkers (KDBG, module list, address-space map), the
 * resolver and the carver, so that each can run on a dump's translator,
 * on the kernel view (with the PFN database's stale check) or on a unit
 * test's hand-built memory; and one page-at-a-time loop (nm_vmem_read),
 * where what a stale page gives is the caller's explicit choice. */
#ifndef NTMEM_VMEM_H
#define NTMEM_VMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/page_state.h>
#include <ntmem/pagefile.h>
#include <ntmem/xlat.h>

/* What a page found NM_PAGE_STALE gives: its frame now belongs to another
 * page, so kernel data read from it would be someone else's; only a carve
 * asked to keep stale pages (--keep-stale) takes those bytes. */
enum nm_stale_policy {
	NM_STALE_REFUSE,	/* a stale page is unreadable */
	NM_STALE_KEEP,		/* a stale page's frame bytes are given */
};

struct nm_vmem {
	void *ctx;
	/* Walks VA (never fails: every outcome is a page state). */
	void (*walk)(void *ctx, uint64_t va, struct nm_walk *out);
	/* The 4096 bytes behind WALK when nm_walk_readable says so, and the
	 * frame's bytes for a stale page; NULL otherwise. The pointer lives
	 * as long as the memory (zero-copy). Callers go through nm_vmem_page. */
	const uint8_t *(*page)(void *ctx, const struct nm_walk *walk);
	bool stale_checked;	/* walks mark stale pages (the PFN database was used) */
	unsigned pointer_size;	/* 8 on x64; 4 (or 0, in hand-built memories) on x86 */
	/* Paging files given by the user, or NULL: a page whose PTE points
	 * into one of them is read from it (its state stays pagefile). */
	const struct nm_pagefiles *pagefiles;
};

/* Bytes of a kernel pointer in M: 4 or 8. */
static inline unsigned nm_vmem_pointer_size(const struct nm_vmem *m)
{
	return m->pointer_size == 8 ? 8 : 4;
}

/* The pointer size of a paging mode's kernel: 8 when its VAs are wider
 * than 32 bits. */
static inline unsigned nm_mode_pointer_size(const struct nm_paging_mode *mode)
{
	return mode->va_bits > 32 ? 8 : 4;
}

/* The bytes of the page WALK found, under POLICY; NULL when unreadable. */
const uint8_t *nm_vmem_page(const struct nm_vmem *m, const struct nm_walk *walk,
			    enum nm_stale_policy policy);

/* The one page-at-a-time loop: visits [VA, VA+LEN) a page (or the part of
 * one inside the range) at a time, in order, with the walk and the bytes at
 * the chunk's VA under POLICY (NULL when unreadable). Stops when the visitor
 * returns non-zero and returns that value; 0 otherwise. */
typedef int nm_vmem_chunk_visitor(void *ctx, uint64_t va, const struct nm_walk *walk,
				  const uint8_t *bytes, size_t len);
int nm_vmem_for_each_chunk(const struct nm_vmem *m, uint64_t va, uint64_t len,
			   enum nm_stale_policy policy, nm_vmem_chunk_visitor *visit, void *ctx);

/* LEN bytes at VA into BUF, page by page: 0 when every page was readable;
 * else -1, the rest of BUF zeroed, and *state (when not NULL) naming the
 * first page that was not (a range that wraps the address space is
 * not_mapped). */
int nm_vmem_read(const struct nm_vmem *m, uint64_t va, void *buf, size_t len,
		 enum nm_stale_policy policy, enum nm_page_state *state);

/* Little-endian values at VA (stale pages refused). */
int nm_vmem_u32(const struct nm_vmem *m, uint64_t va, uint32_t *value, enum nm_page_state *state);
int nm_vmem_u64(const struct nm_vmem *m, uint64_t va, uint64_t *value, enum nm_page_state *state);
/* A kernel pointer (4 or 8 bytes as M says), zero-extended. */
int nm_vmem_pointer(const struct nm_vmem *m, uint64_t va, uint64_t *value, enum nm_page_state *state);

/* When the page WALK found is in a paging file (its own PTE, or the
 * prototype PTE it resolved to, says so), the file's number and byte
 * offset; *TABLE is true when the entry is a paged-out page table (a PDE),
 * whose page-file bytes are the table, not the page. */
bool nm_walk_pagefile(const struct nm_walk *walk, unsigned *number, uint64_t *offset, bool *table);

/* Where the bytes of a page WALK found in a paging file are, in M's paging
 * files: false when WALK's page is not in a paging file. */
bool nm_vmem_pagefile(const struct nm_vmem *m, const struct nm_walk *walk, struct nm_pagefile_lookup *out);

/* Bytes from the walk's VA to the end of its page or large page. */
uint64_t nm_walk_span(const struct nm_walk *w);

/* The translator alone (page tables, no PFN check). */
struct nm_vmem nm_vmem_from_xlat(nm_xlat *x);

#endif
