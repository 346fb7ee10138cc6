/* The one page-at-a-time read of virtual memory (vmem.h). */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/vmem.h>

bool nm_walk_pagefile(const struct nm_walk *w, unsigned *number, uint64_t *offset, bool *table)
{
	const struct nm_swpte *sw;

	if (w->state == NM_PAGE_PAGEFILE)
		sw = &w->sw;
	else if (w->state == NM_PAGE_PROTOTYPE && w->proto_resolved && w->proto_state == NM_PAGE_PAGEFILE)
		sw = &w->proto_sw;	/* a prototype PTE maps a page, never a table */
	else
		return false;
	*number = sw->pagefile_number;
	*offset = sw->pagefile_offset;
	/* The walk stopped above the PTE: the page table itself is out. */
	*table = sw == &w->sw && (w->nentries == 0 || w->entries[w->nentries - 1].level != NM_LEVEL_PTE);
	return true;
}

bool nm_vmem_pagefile(const struct nm_vmem *m, const struct nm_walk *walk, struct nm_pagefile_lookup *out)
{
	unsigned number;
	uint64_t offset;
	bool table;

	if (!nm_walk_pagefile(walk, &number, &offset, &table))
		return false;
	nm_pagefiles_lookup(m->pagefiles, number, offset, out);
	if (table) {
		out->outcome = NM_PAGEFILE_TABLE;
		out->bytes = NULL;
	}
	return true;
}

const uint8_t *nm_vmem_page(const struct nm_vmem *m, const struct nm_walk *walk,
			    enum nm_stale_policy policy)
{
	struct nm_pagefile_lookup pf;

	if (m->pagefiles && nm_vmem_pagefile(m, walk, &pf))
		return pf.bytes;
	if (walk->state == NM_PAGE_STALE ? policy != NM_STALE_KEEP : !nm_walk_readable(walk))
		return NULL;
	return m->page(m->ctx, walk);
}

int nm_vmem_for_each_chunk(const struct nm_vmem *m, uint64_t va, uint64_t len,
			   enum nm_stale_policy policy, nm_vmem_chunk_visitor *visit, void *ctx)
{
	while (len > 0) {
		uint64_t off = va & (NM_PAGE_SIZE - 1);
		size_t n = (size_t)(NM_PAGE_SIZE - off < len ? NM_PAGE_SIZE - off : len);
		struct nm_walk w;
		const uint8_t *page;
		int rc;

		m->walk(m->ctx, va, &w);
		page = nm_vmem_page(m, &w, policy);
		rc = visit(ctx, va, &w, page ? page + off : NULL, n);
		if (rc != 0)
			return rc;
		va += n;
		len -= n;
	}
	return 0;
}

struct read_into {
	uint8_t *dst;
	enum nm_page_state bad;
};

static int copy_chunk(void *ctx, uint64_t va, const struct nm_walk *w, const uint8_t *bytes, size_t len)
{
	struct read_into *r = ctx;

	(void)va;
	if (!bytes) {
		r->bad = w->state;
		return 1;
	}
	memcpy(r->dst, bytes, len);
	r->dst += len;
	return 0;
}

int nm_vmem_read(const struct nm_vmem *m, uint64_t va, void *buf, size_t len,
		 enum nm_stale_policy policy, enum nm_page_state *state)
{
	struct read_into r = { buf, NM_PAGE_VALID };

	if (len > 0 && va + (len - 1) < va)
		r.bad = NM_PAGE_NOT_MAPPED;
	else if (nm_vmem_for_each_chunk(m, va, len, policy, copy_chunk, &r) == 0)
		r.bad = NM_PAGE_VALID;
	if (r.bad != NM_PAGE_VALID)
		memset(r.dst, 0, len - (size_t)(r.dst - (uint8_t *)buf));
	if (state)
		*state = r.bad;
	return r.bad == NM_PAGE_VALID ? 0 : -1;
}

int nm_vmem_u32(const struct nm_vmem *m, uint64_t va, uint32_t *value, enum nm_page_state *state)
{
	uint8_t b[4];

	if (nm_vmem_read(m, va, b, sizeof(b), NM_STALE_REFUSE, state) != 0)
		return -1;
	*value = nm_le32(b);
	return 0;
}

int nm_vmem_u64(const struct nm_vmem *m, uint64_t va, uint64_t *value, enum nm_page_state *state)
{
	uint8_t b[8];

	if (nm_vmem_read(m, va, b, sizeof(b), NM_STALE_REFUSE, state) != 0)
		return -1;
	*value = nm_le64(b);
	return 0;
}

int nm_vmem_pointer(const struct nm_vmem *m, uint64_t va, uint64_t *value, enum nm_page_state *state)
{
	uint32_t v32;

	if (nm_vmem_pointer_size(m) == 8)
		return nm_vmem_u64(m, va, value, state);
	if (nm_vmem_u32(m, va, &v32, state) != 0)
		return -1;
	*value = v32;
	return 0;
}

uint64_t nm_walk_span(const struct nm_walk *w)
{
	uint64_t unit = UINT64_C(1) << (w->large_page ? w->page_shift : NM_PAGE_SHIFT);

	return unit - (w->va & (unit - 1));
}
