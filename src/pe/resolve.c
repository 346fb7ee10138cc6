/* Resolving crash addresses to page state, module, section and region.
 * Section boundaries come from the module's own PE headers as they are in
 * memory (the loader keeps the header page of a driver resident). */
#include <ntmem/resolve.h>

#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>

#define PAGE_MASK ((uint64_t)NM_PAGE_SIZE - 1)

struct nm_module_headers {
	bool readable;
	enum nm_page_state state;
	struct nm_pe_image pe;
};

int nm_resolver_init(struct nm_resolver *r, const struct nm_vmem *mem,
		     const struct nm_module_list *modules, const struct nm_va_map *pools,
		     nm_error *err)
{
	*r = (struct nm_resolver){ .mem = *mem, .modules = modules, .pools = pools };
	if (modules && modules->count > 0) {
		if (modules->count > NM_MAX_MODULES)
			return nm_fail(err, "modules", "%u modules exceed the bound %u",
				       modules->count, NM_MAX_MODULES);
		r->headers = calloc(modules->count, sizeof(*r->headers));
		if (!r->headers)
			return nm_fail(err, "resolver", "out of memory");
	}
	return 0;
}

void nm_resolver_free(struct nm_resolver *r)
{
	if (r->headers && r->modules)
		for (unsigned i = 0; i < r->modules->count; i++)
			free(r->headers[i]);
	free(r->headers);
	r->headers = NULL;
}

int nm_resolver_read(struct nm_resolver *r, uint64_t va, void *buf, unsigned len,
		     enum nm_page_state *state)
{
	if (len > NM_PAGE_SIZE)
		return -1;
	return nm_vmem_read(&r->mem, va, buf, len, NM_STALE_REFUSE, state);
}

static struct nm_module_headers *parse_headers(struct nm_resolver *r, const struct nm_module *m)
{
	struct nm_module_headers *h = calloc(1, sizeof(*h));
	struct nm_walk w;
	const uint8_t *page = NULL;
	uint32_t in_page = m->base & (uint32_t)PAGE_MASK;
	nm_error err;

	if (!h)
		return NULL;
	r->mem.walk(r->mem.ctx, m->base, &w);
	page = nm_vmem_page(&r->mem, &w, NM_STALE_REFUSE);
	h->state = w.state;
	h->readable = page && nm_pe_parse(page + in_page, NM_PAGE_SIZE - in_page,
					  &h->pe, &err) == 0;
	return h;
}

static const struct nm_module_headers *module_headers(struct nm_resolver *r,
						      const struct nm_module *m)
{
	size_t i;

	if (!r->headers || m < r->modules->items || m >= r->modules->items + r->modules->count)
		return NULL;
	i = (size_t)(m - r->modules->items);
	if (!r->headers[i])
		r->headers[i] = parse_headers(r, m);
	return r->headers[i];
}

static void place_in_module(struct nm_resolver *r, struct nm_resolved *out)
{
	const struct nm_module_headers *h;
	const struct nm_pe_section *s;

	out->module = r->modules ? nm_modules_find(r->modules, out->va) : NULL;
	if (!out->module)
		return;
	out->offset = (uint32_t)(out->va - out->module->base);
	h = module_headers(r, out->module);
	if (!h)
		return;
	out->headers_readable = h->readable;
	out->headers_state = h->state;
	if (!h->readable)
		return;
	s = nm_pe_section_at(&h->pe, out->offset);
	if (!s)
		return;
	out->has_section = true;
	out->section = *s;
	out->section.kind = nm_pe_classify(s);
}

void nm_resolve(struct nm_resolver *r, uint64_t va, struct nm_resolved *out)
{
	*out = (struct nm_resolved){ .va = va, .headers_state = NM_PAGE_NOT_MAPPED };
	r->mem.walk(r->mem.ctx, va, &out->walk);
	place_in_module(r, out);
	out->region = r->pools ? nm_va_map_find(r->pools, va) : NULL;
}

bool nm_resolved_pte_is_zero(const struct nm_resolved *r)
{
	const struct nm_walk *w = &r->walk;

	return w->nentries > 0 && w->nentries <= NM_MAX_PAGING_LEVELS &&
	       w->entries[w->nentries - 1].level == NM_LEVEL_PTE &&
	       w->entries[w->nentries - 1].value == 0;
}

bool nm_resolved_is_discarded(const struct nm_resolved *r)
{
	return r->module && r->has_section && r->section.kind == NM_SECTION_DISCARDABLE &&
	       r->walk.state == NM_PAGE_NOT_MAPPED;
}

const char *nm_pte_link_name(enum nm_pte_link l)
{
	switch (l) {
	case NM_PTE_LINK_NONE: return "none";
	case NM_PTE_LINK_PROTOTYPE: return "prototype";
	case NM_PTE_LINK_NOWHERE: return "nowhere";
	case NM_PTE_LINK_UNREADABLE: return "unreadable";
	case NM_PTE_LINK_OTHER_FRAME: return "other_frame";
	case NM_PTE_LINK_MATCH: return "match";
	case NM_PTE_LINK_LARGE_PAGE: return "large_page";
	}
	return "unknown";
}

/* Frames on these lists no longer belong to anyone: their PteAddress is
 * whatever the last owner left. */
static bool list_has_owner(enum nm_pfn_list l)
{
	return l != NM_PFN_ZEROED && l != NM_PFN_FREE && l != NM_PFN_BAD;
}

/* Whether PTE (valid, or in transition: docs/explain.md) names FRAME. */
static bool pte_maps_frame(const struct nm_self_map *sm, enum nm_pte_layout layout,
			   uint64_t pte, uint64_t frame)
{
	uint64_t pfn;

	return nm_mode_pte_frame(sm->mode, layout, pte, &pfn) && pfn == frame;
}

/* Reads the PTE at E's PteAddress; false when its page cannot be read. */
static bool read_pte(struct nm_resolver *r, const struct nm_pfn_entry *e,
		     const struct nm_self_map *sm, struct nm_pfn_owner *out)
{
	uint8_t buf[8];

	if (nm_resolver_read(r, e->pte_address, buf, sm->mode->entry_size, &out->pte_page_state) != 0)
		return false;
	out->has_pte_value = true;
	out->pte_value = nm_mode_load_entry(sm->mode, buf);
	return true;
}

static void check_pte(struct nm_resolver *r, const struct nm_pfn_entry *e,
		      const struct nm_self_map *sm, enum nm_pte_layout layout,
		      struct nm_pfn_owner *out)
{
	if (!read_pte(r, e, sm, out)) {
		out->link = NM_PTE_LINK_UNREADABLE;
		return;
	}
	out->link = pte_maps_frame(sm, layout, out->pte_value, e->pfn) ? NM_PTE_LINK_MATCH
									: NM_PTE_LINK_OTHER_FRAME;
}

/* A frame under a large page names the PDE as its PteAddress (the page
 * directories seen through the self-map, docs/explain.md); the VA it backs
 * is the large page's VA plus the frame's distance from its first frame. */
static void follow_large_page(const struct nm_pfn_entry *e, const struct nm_self_map *sm,
			      struct nm_pfn_owner *out)
{
	const struct nm_paging_level_shape *pde = nm_mode_level(sm->mode, NM_LEVEL_PDE);
	uint64_t frames = UINT64_C(1) << (pde->shift - NM_PAGE_SHIFT);
	uint64_t first = ((out->pte_value & sm->mode->frame_mask) >> NM_PAGE_SHIFT) & ~(frames - 1);

	if (e->pfn < first || e->pfn - first >= frames) {
		out->link = NM_PTE_LINK_OTHER_FRAME;
		return;
	}
	out->link = NM_PTE_LINK_LARGE_PAGE;
	out->va = nm_self_map_va_of_pde(sm, e->pte_address) + ((e->pfn - first) << NM_PAGE_SHIFT);
}

static bool is_large_pde(uint64_t pde)
{
	return (pde & 1) && (pde & 0x80);
}

void nm_pfn_owner_resolve(struct nm_resolver *r, const struct nm_pfn_entry *e,
			  const struct nm_self_map *self_map, enum nm_pte_layout layout,
			  struct nm_pfn_owner *out)
{
	*out = (struct nm_pfn_owner){ .link = NM_PTE_LINK_NONE, .pte_page_state = NM_PAGE_VALID };
	if (!e->readable || !list_has_owner(e->list))
		return;
	if (!nm_self_map_holds_pte(self_map, e->pte_address)) {
		/* A prototype PTE lives in paged pool; an address that reads
		 * as nothing at all is a corrupt or stale entry. */
		out->link = read_pte(r, e, self_map, out) ? NM_PTE_LINK_PROTOTYPE : NM_PTE_LINK_NOWHERE;
		return;
	}
	check_pte(r, e, self_map, layout, out);
	out->has_va = true;
	out->va = e->va;
	if (out->has_pte_value && nm_self_map_holds_pde(self_map, e->pte_address) &&
	    is_large_pde(out->pte_value))
		follow_large_page(e, self_map, out);
	nm_resolve(r, out->va, &out->where);
}
