/* Page-by-page carve of one image: the state of every page from the page
 * source, the section of every page, a reason for every hole, and per-byte
 * accounting by section (docs/carving.md). No image bytes are copied here:
 * pages keep pointers into the dump, so the cost is one walk per page. */
#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/carve.h>

const char *nm_hole_reason_name(enum nm_hole_reason r)
{
	static const char *const names[NM_REASON_COUNT] = {
		[NM_REASON_NONE] = NULL,
		[NM_REASON_DISCARDED] = "discarded",
		[NM_REASON_PAGED_OUT] = "paged_out",
		[NM_REASON_NOT_IN_DUMP] = "not_in_dump",
		[NM_REASON_NOT_MAPPED] = "not_mapped",
		[NM_REASON_STALE] = "stale",
		[NM_REASON_HEADERS_MISSING] = "headers_missing",
		[NM_REASON_PROTOTYPE] = "prototype",
		[NM_REASON_BEYOND_PAGEFILE] = "beyond_pagefile_end",
	};

	return (unsigned)r < NM_REASON_COUNT ? names[r] : NULL;
}

const char *nm_carve_headers_name(enum nm_carve_headers h)
{
	switch (h) {
	case NM_HEADERS_OK:
		return "ok";
	case NM_HEADERS_MISSING:
		return "missing";
	case NM_HEADERS_INVALID:
		return "invalid";
	}
	return "unknown";
}

static void take_walk(const struct nm_vmem *r, const struct nm_walk *w,
		      bool keep_stale, struct nm_carve_page *p)
{
	struct nm_pagefile_lookup pf;

	memset(p, 0, sizeof(*p));
	p->state = (uint8_t)w->state;
	p->has_pa = w->has_pa;
	p->pa = w->pa;
	p->section = -1;
	p->bytes = nm_vmem_page(r, w, keep_stale ? NM_STALE_KEEP : NM_STALE_REFUSE);
	if (nm_vmem_pagefile(r, w, &pf)) {
		p->in_pagefile = true;
		p->pagefile_number = (uint8_t)pf.number;
		p->pagefile_offset = pf.offset;
		p->pagefile_outcome = (uint8_t)pf.outcome;
		p->from_pagefile = p->bytes && pf.outcome == NM_PAGEFILE_READ;
	}
}

static bool page_is_hole(const struct nm_carve_page *p)
{
	return p->reason != NM_REASON_NONE;
}

static enum nm_hole_reason reason_for(const struct nm_carve *c, const struct nm_carve_page *p)
{
	switch ((enum nm_page_state)p->state) {
	case NM_PAGE_VALID:
	case NM_PAGE_TRANSITION:
	case NM_PAGE_DEMAND_ZERO:
		return p->bytes ? NM_REASON_NONE : NM_REASON_NOT_IN_DUMP;
	case NM_PAGE_PROTOTYPE:
		return p->bytes ? NM_REASON_NONE : NM_REASON_PROTOTYPE;
	case NM_PAGE_PAGEFILE:
		/* Read from the paging file given: no hole. A file given that
		 * is too short for the page is its own finding. */
		if (p->bytes)
			return NM_REASON_NONE;
		return p->pagefile_outcome == NM_PAGEFILE_BEYOND_END ? NM_REASON_BEYOND_PAGEFILE
								    : NM_REASON_PAGED_OUT;
	case NM_PAGE_NOT_IN_DUMP:
		return NM_REASON_NOT_IN_DUMP;
	case NM_PAGE_STALE:
		return NM_REASON_STALE;
	case NM_PAGE_NOT_MAPPED:
	case NM_PAGE_STATE_COUNT:
		break;
	}
	if (p->section >= 0 && c->pe.sections[p->section].kind == NM_SECTION_DISCARDABLE)
		return NM_REASON_DISCARDED;
	return NM_REASON_NOT_MAPPED;
}

static void read_headers(struct nm_carve *c)
{
	const struct nm_carve_page *p0 = &c->pages[0];

	if (page_is_hole(p0) || !p0->bytes) {
		c->headers = NM_HEADERS_MISSING;
		nm_fail(&c->header_error, "pe.headers", "the header page is %s",
			nm_page_state_name((enum nm_page_state)p0->state));
		return;
	}
	if (nm_pe_parse(p0->bytes, nm_carve_page_len(c, 0), &c->pe, &c->header_error) != 0) {
		memset(&c->pe, 0, sizeof(c->pe));
		c->headers = NM_HEADERS_INVALID;
		return;
	}
	c->headers = NM_HEADERS_OK;
}

static void assign_sections_and_reasons(struct nm_carve *c)
{
	for (unsigned i = 0; i < c->npages; i++) {
		struct nm_carve_page *p = &c->pages[i];

		p->section = (int16_t)nm_pe_section_index_at(&c->pe, i * 4096u);
		p->reason = (uint8_t)reason_for(c, p);
		if (i == 0 && p->reason != NM_REASON_NONE)
			p->reason = NM_REASON_HEADERS_MISSING;
		c->state_count[p->state < NM_PAGE_STATE_COUNT ? p->state : NM_PAGE_NOT_MAPPED]++;
	}
}

/* Counts [start, end) as recovered or missing page by page. */
static void tally_range(const struct nm_carve *c, uint32_t start, uint32_t end,
			struct nm_byte_tally *t)
{
	while (start < end) {
		uint32_t page_end = (start | 4095u) + 1u;
		uint32_t stop = page_end < end && page_end != 0 ? page_end : end;

		if (page_is_hole(&c->pages[start >> 12]))
			t->missing += stop - start;
		else
			t->recovered += stop - start;
		start = stop;
	}
}

static void add_tally(struct nm_byte_tally *into, const struct nm_byte_tally *t)
{
	into->recovered += t->recovered;
	into->missing += t->missing;
}

static void tally_bytes(struct nm_carve *c)
{
	uint64_t in_sections_recovered = 0, in_sections_missing = 0;

	tally_range(c, 0, c->size, &c->total);
	for (unsigned i = 0; i < c->pe.nsections; i++) {
		const struct nm_pe_section *s = &c->pe.sections[i];
		uint64_t end = (uint64_t)s->virtual_address + nm_pe_section_span(s);
		uint32_t start = s->virtual_address < c->size ? s->virtual_address : c->size;

		tally_range(c, start, end < c->size ? (uint32_t)end : c->size, &c->sections[i]);
		add_tally(&c->kinds[s->kind], &c->sections[i]);
		in_sections_recovered += c->sections[i].recovered;
		in_sections_missing += c->sections[i].missing;
	}
	/* Overlapping sections (forged headers) can count a byte twice: the
	 * remainder is clamped so that it never goes negative. */
	c->outside.recovered = c->total.recovered > in_sections_recovered ?
		c->total.recovered - in_sections_recovered : 0;
	c->outside.missing = c->total.missing > in_sections_missing ?
		c->total.missing - in_sections_missing : 0;
}

static int check_extent(const struct nm_vmem *r, uint64_t base, uint32_t size, nm_error *err)
{
	if (size == 0)
		return nm_fail(err, "module.size", "the image size is 0");
	if (size > NM_CARVE_MAX_IMAGE)
		return nm_fail(err, "module.size", "0x%x bytes is above the %u MiB limit for one image",
			       size, NM_CARVE_MAX_IMAGE >> 20);
	if (nm_vmem_pointer_size(r) == 4 && (base > 0xFFFFFFFFull || base + size > 0x100000000ull))
		return nm_fail(err, "module.size", "0x%llx+0x%x runs past the 4 GiB address space",
			       (unsigned long long)base, size);
	if (base + size - 1 < base)
		return nm_fail(err, "module.size", "0x%llx+0x%x runs past the end of the address space",
			       (unsigned long long)base, size);
	return 0;
}

int nm_carve_image(const struct nm_vmem *r, uint64_t base, uint32_t size,
		   const struct nm_carve_options *opt, struct nm_carve *out, nm_error *err)
{
	struct nm_walk w;

	memset(out, 0, sizeof(*out));
	if (check_extent(r, base, size, err) != 0)
		return -1;
	out->base = base;
	out->size = size;
	out->wide = nm_vmem_pointer_size(r) == 8;
	out->npages = (unsigned)(((uint64_t)size + 4095) >> 12);
	out->keep_stale = opt && opt->keep_stale;
	out->stale_checked = r->stale_checked;
	out->pagefiles = r->pagefiles;
	out->pages = malloc((size_t)out->npages * sizeof(*out->pages));
	if (!out->pages)
		return nm_fail(err, "module.size", "no memory for %u page records", out->npages);
	for (unsigned i = 0; i < out->npages; i++) {
		r->walk(r->ctx, base + (uint64_t)i * 4096u, &w);
		take_walk(r, &w, out->keep_stale, &out->pages[i]);
		/* Known once here, a page of zeros is left as a hole in each
		 * file written (it reads back the same and costs no copy). */
		out->pages[i].zeros = out->pages[i].bytes &&
				      nm_all_zero(out->pages[i].bytes, nm_carve_page_len(out, i));
	}
	/* Reasons need the sections, and the sections need page 0's reason. */
	out->pages[0].reason = (uint8_t)reason_for(out, &out->pages[0]);
	read_headers(out);
	assign_sections_and_reasons(out);
	tally_bytes(out);
	return 0;
}

void nm_carve_free(struct nm_carve *c)
{
	free(c->pages);
	c->pages = NULL;
	c->npages = 0;
}

static bool same_hole(const struct nm_carve_page *a, const struct nm_carve_page *b)
{
	return a->state == b->state && a->section == b->section && a->reason == b->reason;
}

int nm_carve_for_each_hole(const struct nm_carve *c, nm_carve_hole_visitor *visit, void *ctx)
{
	unsigned i = 0;

	while (i < c->npages) {
		struct nm_carve_hole h;
		unsigned j = i + 1;
		int rc;

		if (!page_is_hole(&c->pages[i])) {
			i++;
			continue;
		}
		while (j < c->npages && same_hole(&c->pages[i], &c->pages[j]))
			j++;
		h.rva_start = i * 4096u;
		h.rva_end = j == c->npages ? c->size : j * 4096u;
		h.state = (enum nm_page_state)c->pages[i].state;
		h.section = c->pages[i].section;
		h.reason = (enum nm_hole_reason)c->pages[i].reason;
		rc = visit(ctx, &h);
		if (rc != 0)
			return rc;
		i = j;
	}
	return 0;
}

static bool continues_run(const struct nm_carve_page *a, const struct nm_carve_page *b)
{
	return b->from_pagefile && b->pagefile_number == a->pagefile_number && b->section == a->section &&
	       b->pagefile_offset == a->pagefile_offset + 4096u;
}

int nm_carve_for_each_pagefile_run(const struct nm_carve *c, nm_carve_pagefile_visitor *visit, void *ctx)
{
	unsigned i = 0;

	while (i < c->npages) {
		struct nm_carve_pagefile_run run;
		unsigned j = i + 1;
		int rc;

		if (!c->pages[i].from_pagefile) {
			i++;
			continue;
		}
		while (j < c->npages && continues_run(&c->pages[j - 1], &c->pages[j]))
			j++;
		run.rva_start = i * 4096u;
		run.rva_end = j == c->npages ? c->size : j * 4096u;
		run.number = c->pages[i].pagefile_number;
		run.file_offset = c->pages[i].pagefile_offset;
		run.section = c->pages[i].section;
		rc = visit(ctx, &run);
		if (rc != 0)
			return rc;
		i = j;
	}
	return 0;
}
