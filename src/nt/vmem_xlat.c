/* Virtual memory through the translator alone (vmem.h). Kept apart from
 * vmem.c so that code tested on hand-built memory links without the
 * translator. */
#include <ntmem/vmem.h>

static void xlat_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	nm_xlat_walk(ctx, va, out);
}

static const uint8_t *xlat_page(void *ctx, const struct nm_walk *w)
{
	return nm_xlat_page_bytes(ctx, w);
}

struct nm_vmem nm_vmem_from_xlat(nm_xlat *x)
{
	struct nm_vmem m = { x, xlat_walk, xlat_page, false, nm_mode_pointer_size(nm_xlat_mode(x)), NULL };

	return m;
}
