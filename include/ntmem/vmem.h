/* Kernel virtual memory as the kernel layer reads it: a translator with or
 * without the PFN database check, or a unit test's hand-built memory. The
 * kernel-layer walkers (KDBG validation, module list, pool map) take this
 * so that they can be tested without a dump. */
#ifndef NTMEM_VMEM_H
#define NTMEM_VMEM_H

#include <stddef.h>
#include <stdint.h>

#include <ntmem/page_state.h>
#include <ntmem/xlat.h>

struct nm_vmem {
	/* LEN bytes at VA into BUF: 0 when every page was readable, else -1
	 * with *state (never NULL) naming the first page that was not. */
	int (*read)(void *ctx, uint32_t va, void *buf, size_t len, enum nm_page_state *state);
	/* State of the page holding VA; *span = bytes from VA to the end of
	 * the mapping unit (4 KiB page, or large page), at least 1. */
	enum nm_page_state (*probe)(void *ctx, uint32_t va, uint32_t *span);
	void *ctx;
};

static inline int nm_vmem_read(const struct nm_vmem *m, uint32_t va, void *buf, size_t len,
			       enum nm_page_state *state)
{
	return m->read(m->ctx, va, buf, len, state);
}

int nm_vmem_u32(const struct nm_vmem *m, uint32_t va, uint32_t *value, enum nm_page_state *state);

/* Bytes from the walk's VA to the end of its page or large page. */
uint32_t nm_walk_span(const struct nm_walk *w);

/* Reads through the translator alone (page tables, no PFN check). */
struct nm_vmem nm_vmem_from_xlat(nm_xlat *x);

#endif
