/* Kernel virtual memory through the translator alone (vmem.h). Kept apart
 * from vmem.c so that code tested on hand-built memory links without the
 * translator. */
#include <ntmem/vmem.h>

static int xlat_read(void *ctx, uint32_t va, void *buf, size_t len, enum nm_page_state *state)
{
	struct nm_walk bad;

	/* A read that would wrap past 4 GiB is not kernel memory. */
	if (len > 0 && (uint64_t)va + len - 1 > 0xFFFFFFFFu) {
		*state = NM_PAGE_NOT_MAPPED;
		return -1;
	}
	if (nm_xlat_read(ctx, va, buf, len, &bad) == 0)
		return 0;
	*state = bad.state;
	return -1;
}

uint32_t nm_walk_span(const struct nm_walk *w)
{
	uint64_t unit = UINT64_C(1) << (w->large_page ? w->page_shift : NM_PAGE_SHIFT);

	return (uint32_t)(unit - (w->va & (unit - 1)));
}

static enum nm_page_state xlat_probe(void *ctx, uint32_t va, uint32_t *span)
{
	struct nm_walk w;

	nm_xlat_walk(ctx, va, &w);
	*span = nm_walk_span(&w);
	return w.state;
}

struct nm_vmem nm_vmem_from_xlat(nm_xlat *x)
{
	struct nm_vmem m = { xlat_read, xlat_probe, x };

	return m;
}
