/* Kernel virtual-to-physical translation. libaddrxlat walks the hardware
 * tables (the dump is its physical reader); every entry read is recorded with
 * its physical address; where the walk stops on an invalid entry, the entry
 * is decoded the Windows way (swpte.c) and a prototype PTE is resolved by one
 * more walk.
 *
 * Speed: libaddrxlat costs about 0.6 us a walk, which is too slow for
 * millions of lookups, so what it found at the directory levels is cached
 * per page-directory region (the VA one PDE covers: 2 MiB PAE and x64,
 * 4 MiB non-PAE; the dump never changes): the page table's place in the
 * mapping, a large page, or an outcome that holds for the whole region. A
 * cached region answers with one PTE load; tests check that it answers
 * exactly as a full walk does. The cache is direct-mapped and tagged: on
 * x86 every region has its own slot, on x64 regions share slots. */
#include <stdlib.h>
#include <string.h>

#include <libkdumpfile/addrxlat.h>

#include <ntmem/bytes.h>
#include <ntmem/xlat.h>

#define REGIONS 2048u		/* 4 GiB / 2 MiB: every PAE region; non-PAE uses 1024 */

enum region_kind {
	REGION_UNKNOWN,		/* not walked yet */
	REGION_TABLE,		/* a page table in the mapping: finish with one PTE */
	REGION_LARGE,		/* a large page */
	REGION_TERMINAL,	/* the walk ends above the PTE level, alike for every VA */
};

struct region {
	enum region_kind kind;
	uint64_t tag;		/* VA >> region shift of the region held */
	const uint8_t *table;	/* REGION_TABLE */
	uint64_t table_pa;
	struct nm_walk walk;	/* the upper entries (TABLE, LARGE), or the whole outcome */
};

struct nm_xlat {
	const nm_source *src;
	struct nm_xlat_config cfg;
	const struct nm_paging_mode *mode;
	struct nm_self_map self_map;
	const char *self_map_origin;
	unsigned region_shift;	/* the PDE level's shift */
	/* Hot-path copies of the mode's values (the walk runs millions of
	 * times a second; see "Speed" in docs/pte-formats.md). */
	unsigned va_bits, entry_size, pte_shift;
	uint64_t pte_index_mask, frame_mask;
	addrxlat_ctx_t *ctx;
	addrxlat_meth_t meth;
	struct region *regions;
};

/* A page of zeros for demand-zero pages: constant, so not mutable state. */
static const uint8_t zero_page[NM_PAGE_SIZE];

static void put_page(const addrxlat_buffer_t *buf)
{
	(void)buf;	/* pages are views into the mapping: nothing to release */
}

static addrxlat_status get_page(const addrxlat_cb_t *cb, addrxlat_buffer_t *buf)
{
	const struct nm_xlat *x = cb->priv;
	uint64_t pfn = buf->addr.addr >> NM_PAGE_SHIFT;
	const uint8_t *page;

	if (buf->addr.as != ADDRXLAT_MACHPHYSADDR)
		return addrxlat_ctx_err(x->ctx, ADDRXLAT_ERR_NOTIMPL, "only physical reads");
	page = nm_source_page(x->src, pfn);
	if (!page)
		return addrxlat_ctx_err(x->ctx, ADDRXLAT_ERR_NODATA, "PFN 0x%llx not in dump",
					(unsigned long long)pfn);
	buf->addr.addr = pfn << NM_PAGE_SHIFT;
	buf->ptr = page;
	buf->size = NM_PAGE_SIZE;
	buf->byte_order = ADDRXLAT_LITTLE_ENDIAN;
	buf->put_page = put_page;
	return ADDRXLAT_OK;
}

static unsigned long read_caps(const addrxlat_cb_t *cb)
{
	(void)cb;
	return ADDRXLAT_CAPS(ADDRXLAT_MACHPHYSADDR);
}

static uint64_t root_of(const struct nm_xlat_config *cfg)
{
	return cfg->dtb & cfg->mode->root_mask;
}

/* libaddrxlat's shape: the page offset, then each level's index bits from
 * the bottom up. */
static void set_method(struct nm_xlat *x)
{
	addrxlat_param_pgt_t *p = &x->meth.param.pgt;
	const struct nm_paging_mode *m = x->mode;

	x->meth.kind = ADDRXLAT_PGT;
	x->meth.target_as = ADDRXLAT_MACHPHYSADDR;
	p->root.addr = root_of(&x->cfg);
	p->root.as = ADDRXLAT_MACHPHYSADDR;
	p->pte_mask = 0;
	p->pf.pte_format = (addrxlat_pte_format_t)m->addrxlat_pte_format;
	p->pf.nfields = (unsigned short)(m->nlevels + 1);
	p->pf.fieldsz[0] = 12;
	for (unsigned i = 0; i < m->nlevels; i++)
		p->pf.fieldsz[1 + i] = (unsigned short)m->levels[m->nlevels - 1 - i].bits;
}

/* x64: the self-map is the kernel-half PML4 entry whose frame is the PML4's
 * own (Windows 10 1607 and later pick it at random at boot). */
static void find_self_map(struct nm_xlat *x)
{
	uint64_t root = root_of(&x->cfg);
	const uint8_t *table = nm_source_page(x->src, root >> NM_PAGE_SHIFT);
	const struct nm_paging_level_shape *top = &x->mode->levels[0];
	unsigned n = 1u << top->bits;

	x->self_map = x->mode->self_map;
	x->self_map_origin = "fixed";
	if (!x->mode->self_map_in_root)
		return;
	x->self_map_origin = "default";
	for (unsigned i = n / 2; table && i < n; i++) {
		uint64_t e = nm_mode_load_entry(x->mode, table + i * x->mode->entry_size);

		if ((e & NM_PTE_VALID) && (e & x->mode->frame_mask) == (root & x->mode->frame_mask)) {
			x->self_map = nm_self_map_x64(i);
			x->self_map_origin = "pml4";
			return;
		}
	}
}

static int check_config(const nm_source *src, const struct nm_xlat_config *cfg, nm_error *err)
{
	uint64_t root = root_of(cfg);

	if (nm_source_facts(src)->max_pfn == 0)
		return nm_fail(err, "dump", "dump holds no physical memory this command can use");
	if (root > cfg->mode->max_root)
		return nm_fail(err, "DirectoryTableBase", "%s root 0x%llx is above 0x%llx, the highest the mode can load",
			       cfg->mode->name, (unsigned long long)root, (unsigned long long)cfg->mode->max_root);
	if (!nm_source_has_page(src, root >> NM_PAGE_SHIFT))
		return nm_fail(err, "DirectoryTableBase",
			       "page-table root 0x%llx is not in the dump's physical memory",
			       (unsigned long long)root);
	return 0;
}

int nm_xlat_new(const nm_source *src, const struct nm_xlat_config *cfg,
		nm_xlat **out, nm_error *err)
{
	struct nm_xlat *x;
	addrxlat_cb_t *cb;

	*out = NULL;
	if (check_config(src, cfg, err) != 0)
		return -1;
	x = calloc(1, sizeof(*x));
	if (!x)
		return nm_fail(err, "memory", "out of memory");
	x->src = src;
	x->cfg = *cfg;
	x->mode = cfg->mode;
	x->va_bits = cfg->mode->va_bits;
	x->entry_size = cfg->mode->entry_size;
	x->pte_shift = cfg->mode->levels[cfg->mode->nlevels - 1].shift;
	x->pte_index_mask = (UINT64_C(1) << cfg->mode->levels[cfg->mode->nlevels - 1].bits) - 1;
	x->frame_mask = cfg->mode->frame_mask;
	find_self_map(x);
	x->region_shift = nm_mode_level(cfg->mode, NM_LEVEL_PDE)->shift;
	x->regions = calloc(REGIONS, sizeof(*x->regions));
	x->ctx = addrxlat_ctx_new();
	cb = x->ctx ? addrxlat_ctx_add_cb(x->ctx) : NULL;
	if (!x->regions || !cb) {
		nm_xlat_free(x);
		return nm_fail(err, "memory", "cannot set up the translator");
	}
	cb->priv = x;
	cb->get_page = get_page;
	cb->read_caps = read_caps;
	set_method(x);
	*out = x;
	return 0;
}

void nm_xlat_free(nm_xlat *x)
{
	if (!x)
		return;
	if (x->ctx)
		addrxlat_ctx_decref(x->ctx);
	free(x->regions);
	free(x);
}

void nm_xlat_set_bases(nm_xlat *x, const struct nm_swpte_bases *bases)
{
	x->cfg.bases = *bases;
	memset(x->regions, 0, REGIONS * sizeof(*x->regions));
}

const nm_source *nm_xlat_source(const nm_xlat *x)
{
	return x->src;
}

const struct nm_paging_mode *nm_xlat_mode(const nm_xlat *x)
{
	return x->mode;
}

const struct nm_self_map *nm_xlat_self_map(const nm_xlat *x)
{
	return &x->self_map;
}

const char *nm_xlat_self_map_origin(const nm_xlat *x)
{
	return x->self_map_origin;
}

const struct nm_paging_mode *nm_paging_mode_for_dump(const struct nm_dump_facts *f, uint64_t dtb)
{
	if (f->arch == NM_ARCH_X64)
		return &nm_mode_x64;
	if (f->arch != NM_ARCH_X86)
		return NULL;
	return nm_source_pae_for_dtb(f, dtb) ? &nm_mode_x86_pae : &nm_mode_x86;
}

static inline unsigned entry_size(const struct nm_xlat *x)
{
	return x->entry_size;
}

static inline uint64_t frame_of(const struct nm_xlat *x, uint64_t entry)
{
	return entry & x->frame_mask;
}

/* Index of VA in the page table (the PTE level). */
static inline uint64_t pte_index(const struct nm_xlat *x, uint64_t va)
{
	return (va >> x->pte_shift) & x->pte_index_mask;
}

static inline uint64_t load_entry(const struct nm_xlat *x, const uint8_t *p)
{
	return x->entry_size == 8 ? nm_le64(p) : nm_le32(p);
}

/* nm_mode_va_canonical, inline: x86 below 4 GiB; x64 bits 48-63 copy 47. */
static inline bool va_canonical(const struct nm_xlat *x, uint64_t va)
{
	if (x->va_bits == 32)
		return va <= 0xFFFFFFFFu;
	return (uint64_t)((int64_t)(va << (64 - x->va_bits)) >> (64 - x->va_bits)) == va;
}

static void record(struct nm_walk *out, enum nm_paging_level level, uint64_t address, uint64_t value)
{
	if (out->nentries >= NM_MAX_PAGING_LEVELS)
		return;
	out->entries[out->nentries].level = level;
	out->entries[out->nentries].address = address;
	out->entries[out->nentries].value = value;
	out->nentries++;
}

/* The step that reads a table entry runs with `remain` counting the levels
 * left, the page offset included: nlevels + 1 reads the top level, 2 the
 * PTE. */
static enum nm_paging_level level_of(const struct nm_xlat *x, unsigned remain)
{
	unsigned i = x->mode->nlevels + 1 - remain;

	return i < x->mode->nlevels ? x->mode->levels[i].level : NM_LEVEL_PTE;
}

/* The size of the page an entry at LEVEL maps when it ends the walk. */
static unsigned page_shift_of(const struct nm_xlat *x, enum nm_paging_level level)
{
	const struct nm_paging_level_shape *l = nm_mode_level(x->mode, level);

	return l ? l->shift : 12;
}

static void start_walk(struct nm_walk *out, uint64_t va)
{
	memset(out, 0, sizeof(*out));
	out->va = va;
	out->state = NM_PAGE_NOT_MAPPED;
	out->page_shift = 12;
}

/* A mapping reached a physical address: the page is either in the dump or not. */
static void finish_mapped(const struct nm_xlat *x, uint64_t pa, enum nm_page_state in_dump,
			  struct nm_walk *out)
{
	out->has_pa = true;
	out->pa = pa;
	out->state = nm_source_has_page(x->src, pa >> NM_PAGE_SHIFT) ? in_dump : NM_PAGE_NOT_IN_DUMP;
}

static void walk_va(nm_xlat *x, uint64_t va, struct nm_walk *out, int depth);

/* Reads the prototype PTE at out->sw.proto_address through a walk that does
 * not itself resolve prototypes (one level, so no loop is possible). */
static void resolve_prototype(nm_xlat *x, uint64_t va, struct nm_walk *out, int depth)
{
	uint64_t proto_va = out->sw.proto_address, pte;
	unsigned size = entry_size(x);
	struct nm_walk pw;
	const uint8_t *bytes;

	if (depth > 0 || proto_va == 0 || (proto_va & (size - 1)))
		return;
	walk_va(x, proto_va, &pw, depth + 1);
	bytes = nm_walk_readable(&pw) ? nm_xlat_page_bytes(x, &pw) : NULL;
	if (!bytes)
		return;
	bytes += proto_va & (NM_PAGE_SIZE - 1);
	pte = load_entry(x, bytes);
	out->proto_resolved = true;
	out->proto_pte = pte;
	if (pte & 1) {
		struct nm_walk tmp = *out;

		finish_mapped(x, frame_of(x, pte) | (va & 0xFFF), NM_PAGE_VALID, &tmp);
		out->has_pa = true;
		out->pa = tmp.pa;
		out->proto_state = tmp.state;
		return;
	}
	nm_swpte_decode(x->mode, pte, x->cfg.layout, &x->cfg.bases, true, &out->proto_sw);
	out->proto_state = out->proto_sw.state;
	if (out->proto_sw.state == NM_PAGE_TRANSITION) {
		out->has_pa = true;
		out->pa = (out->proto_sw.pfn << NM_PAGE_SHIFT) | (va & 0xFFF);
		if (!nm_source_has_page(x->src, out->proto_sw.pfn))
			out->proto_state = NM_PAGE_NOT_IN_DUMP;
	}
}

/* The walk stopped on an invalid PTE: the Windows meaning decides. A
 * transition frame the dump lacks is not_in_dump (its bytes are not here). */
static void finish_invalid_pte(nm_xlat *x, uint64_t va, uint64_t pte, struct nm_walk *out, int depth)
{
	nm_swpte_decode(x->mode, pte, x->cfg.layout, &x->cfg.bases, false, &out->sw);
	out->state = out->sw.state;
	if (out->sw.state == NM_PAGE_TRANSITION)
		finish_mapped(x, (out->sw.pfn << NM_PAGE_SHIFT) | (va & 0xFFF), NM_PAGE_TRANSITION, out);
	else if (out->sw.state == NM_PAGE_PROTOTYPE)
		resolve_prototype(x, va, out, depth);
}

/* A PDE in transition: its page table is still in RAM at the frame it
 * names, so the walk goes on there by hand (Volatility and Rekall do so too;
 * libaddrxlat sees only "not present"). */
static void follow_transition_pde(nm_xlat *x, uint64_t va, struct nm_walk *out, int depth)
{
	unsigned size = entry_size(x);
	uint64_t index = pte_index(x, va);
	uint64_t pte_address = (out->sw.pfn << NM_PAGE_SHIFT) + index * size;
	const uint8_t *table = nm_source_page(x->src, out->sw.pfn);
	uint64_t pte;

	if (!table) {
		out->state = NM_PAGE_NOT_IN_DUMP;
		return;
	}
	pte = load_entry(x, table + index * size);
	record(out, NM_LEVEL_PTE, pte_address, pte);
	memset(&out->sw, 0, sizeof(out->sw));
	if (pte & 1)
		finish_mapped(x, frame_of(x, pte) | (va & 0xFFF), NM_PAGE_VALID, out);
	else
		finish_invalid_pte(x, va, pte, out, depth);
}

/* An invalid directory entry: a transition PDE is followed; a paged-out
 * page table leaves the VA in the page file (the location is the table's);
 * anything else maps nothing. */
static void finish_invalid_directory(nm_xlat *x, uint64_t va, enum nm_paging_level level,
				     uint64_t entry, struct nm_walk *out, int depth)
{
	if (level != NM_LEVEL_PDE) {
		out->state = NM_PAGE_NOT_MAPPED;
		return;
	}
	nm_swpte_decode(x->mode, entry, x->cfg.layout, &x->cfg.bases, false, &out->sw);
	if (out->sw.state == NM_PAGE_TRANSITION)
		follow_transition_pde(x, va, out, depth);
	else
		out->state = out->sw.state == NM_PAGE_PAGEFILE ? NM_PAGE_PAGEFILE : NM_PAGE_NOT_MAPPED;
}

static void walk_once(nm_xlat *x, uint64_t va, struct nm_walk *out, int depth)
{
	addrxlat_step_t s = { .ctx = x->ctx, .sys = NULL, .meth = &x->meth };
	enum nm_paging_level level = NM_LEVEL_PDE;
	addrxlat_status st;

	start_walk(out, va);
	if (!va_canonical(x, va))
		return;
	st = addrxlat_launch(&s, va);
	while (st == ADDRXLAT_OK && s.remain > 1) {
		uint64_t address = s.base.addr + s.idx[s.remain - 1] * s.elemsz;

		level = level_of(x, s.remain);
		st = addrxlat_step(&s);
		if (st == ADDRXLAT_OK || st == ADDRXLAT_ERR_NOTPRESENT)
			record(out, level, address, s.raw.pte);
	}
	if (st == ADDRXLAT_OK)
		st = addrxlat_step(&s);	/* adds the page offset */
	if (st != ADDRXLAT_OK)
		addrxlat_ctx_clear_err(x->ctx);
	if (st == ADDRXLAT_OK) {
		out->large_page = level != NM_LEVEL_PTE;
		out->page_shift = page_shift_of(x, level);
		finish_mapped(x, s.base.addr, NM_PAGE_VALID, out);
	} else if (st == ADDRXLAT_ERR_NODATA) {
		out->state = NM_PAGE_NOT_IN_DUMP;	/* a table page the dump lacks */
	} else if (st == ADDRXLAT_ERR_NOTPRESENT) {
		if (level == NM_LEVEL_PTE)
			finish_invalid_pte(x, va, s.raw.pte, out, depth);
		else
			finish_invalid_directory(x, va, level, s.raw.pte, out, depth);
	}
}

static uint64_t region_tag(const struct nm_xlat *x, uint64_t va)
{
	return va >> x->region_shift;
}

static unsigned region_of(const struct nm_xlat *x, uint64_t va)
{
	return (unsigned)(region_tag(x, va) % REGIONS);
}

static const struct nm_walk_entry *find_entry(const struct nm_walk *w, enum nm_paging_level level)
{
	for (unsigned i = 0; i < w->nentries; i++)
		if (w->entries[i].level == level)
			return &w->entries[i];
	return NULL;
}

/* Keeps the entries above the PTE level, which every VA of the region shares. */
static void keep_upper(struct region *r, const struct nm_walk *w)
{
	r->walk = *w;
	r->walk.nentries = 0;
	for (unsigned i = 0; i < w->nentries; i++)
		if (w->entries[i].level != NM_LEVEL_PTE)
			r->walk.entries[r->walk.nentries++] = w->entries[i];
}

/* Files what a full walk learnt about VA's region. */
static void remember_region(nm_xlat *x, uint64_t va, const struct nm_walk *w)
{
	struct region *r = &x->regions[region_of(x, va)];
	const struct nm_walk_entry *pde = find_entry(w, NM_LEVEL_PDE);
	uint64_t table_pfn;

	r->tag = region_tag(x, va);
	if (w->large_page) {	/* a large page at the PDE or above (x64: 1 GiB) */
		keep_upper(r, w);
		r->kind = REGION_LARGE;
		return;
	}
	if (!pde || (!(pde->value & 1) && !nm_pte_is_transition(pde->value))) {
		r->walk = *w;	/* stopped above the PDE, or at a PDE that names no table */
		r->kind = REGION_TERMINAL;
		return;
	}
	keep_upper(r, w);
	if (pde->value & 1) {
		table_pfn = frame_of(x, pde->value) >> NM_PAGE_SHIFT;
	} else {
		struct nm_swpte sw;	/* a transition PDE: its table is still at this frame */

		nm_swpte_decode(x->mode, pde->value, x->cfg.layout, &x->cfg.bases, false, &sw);
		table_pfn = sw.pfn;
	}
	r->table = nm_source_page(x->src, table_pfn);
	r->table_pa = table_pfn << NM_PAGE_SHIFT;
	r->kind = REGION_TABLE;
	if (!r->table) {
		r->walk = *w;	/* the table page is not in the dump */
		r->kind = REGION_TERMINAL;
	}
}

static void walk_cached_table(nm_xlat *x, const struct region *r, uint64_t va, struct nm_walk *out, int depth)
{
	unsigned size = entry_size(x);
	uint64_t index = pte_index(x, va);
	uint64_t pte = load_entry(x, r->table + index * size);

	start_walk(out, va);
	out->nentries = r->walk.nentries;
	memcpy(out->entries, r->walk.entries, sizeof(out->entries));
	record(out, NM_LEVEL_PTE, r->table_pa + index * size, pte);
	if (pte & 1)
		finish_mapped(x, frame_of(x, pte) | (va & 0xFFF), NM_PAGE_VALID, out);
	else
		finish_invalid_pte(x, va, pte, out, depth);
}

static void walk_cached_large(nm_xlat *x, const struct region *r, uint64_t va, struct nm_walk *out)
{
	const struct nm_walk_entry *e = &r->walk.entries[r->walk.nentries - 1];
	uint64_t size = UINT64_C(1) << r->walk.page_shift;
	uint64_t pa = (e->value & x->mode->frame_mask & ~(size - 1)) | (va & (size - 1));

	start_walk(out, va);
	out->nentries = r->walk.nentries;
	memcpy(out->entries, r->walk.entries, sizeof(out->entries));
	out->large_page = true;
	out->page_shift = r->walk.page_shift;
	finish_mapped(x, pa, NM_PAGE_VALID, out);
}

static void walk_va(nm_xlat *x, uint64_t va, struct nm_walk *out, int depth)
{
	const struct region *r;

	if (!va_canonical(x, va)) {
		walk_once(x, va, out, depth);
		return;
	}
	r = &x->regions[region_of(x, va)];
	switch (r->tag == region_tag(x, va) ? r->kind : REGION_UNKNOWN) {
	case REGION_TABLE:
		walk_cached_table(x, r, va, out, depth);
		return;
	case REGION_LARGE:
		walk_cached_large(x, r, va, out);
		return;
	case REGION_TERMINAL:
		*out = r->walk;
		out->va = va;
		return;
	case REGION_UNKNOWN:
		break;
	}
	walk_once(x, va, out, depth);
	remember_region(x, va, out);
}

void nm_xlat_walk(nm_xlat *x, uint64_t va, struct nm_walk *out)
{
	walk_va(x, va, out, 0);
}

bool nm_walk_readable(const struct nm_walk *w)
{
	if (w->state == NM_PAGE_PROTOTYPE)
		return w->proto_resolved && nm_page_state_readable(w->proto_state);
	return nm_page_state_readable(w->state);
}

const uint8_t *nm_xlat_page_bytes(const nm_xlat *x, const struct nm_walk *walk)
{
	enum nm_page_state s = walk->state == NM_PAGE_PROTOTYPE && walk->proto_resolved
				       ? walk->proto_state : walk->state;

	if (walk->state == NM_PAGE_PROTOTYPE && !walk->proto_resolved)
		return NULL;
	if (s == NM_PAGE_DEMAND_ZERO)
		return zero_page;
	if ((s == NM_PAGE_VALID || s == NM_PAGE_TRANSITION) && walk->has_pa)
		return nm_source_page(x->src, walk->pa >> NM_PAGE_SHIFT);
	return NULL;
}
