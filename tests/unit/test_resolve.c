/* Resolving addresses with a fake memory view: module + section + offset from
 * the in-memory PE headers, discarded INIT pages, pool regions, and the
 * owner of a PFN entry through its PteAddress. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/resolve.h>

#define BASE 0xF7E8B000u	/* srv.sys in the seed thread */
#define PTE_PAGE 0xC03DF000u	/* page table that maps BASE, non-PAE self-map */

/* A page of the fake address space: what a walk of it finds. */
struct fake_page {
	uint32_t va;
	enum nm_page_state state;
	uint64_t pte;
	uint8_t *bytes;		/* NULL: no bytes (or readable state without them) */
};

struct fake_memory {
	struct fake_page pages[8];
	unsigned npages;
	unsigned walks;
};

static void fake_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	struct fake_memory *m = ctx;

	m->walks++;
	memset(out, 0, sizeof(*out));
	out->va = va;
	out->state = NM_PAGE_NOT_MAPPED;
	out->nentries = 2;
	out->entries[0] = (struct nm_walk_entry){ NM_LEVEL_PDE, 0x39000 + ((va >> 22) * 4), 0x1234063 };
	out->entries[1] = (struct nm_walk_entry){ NM_LEVEL_PTE, 0x1234000 + ((va >> 12) & 0x3FF) * 4, 0 };
	for (unsigned i = 0; i < m->npages; i++) {
		if (m->pages[i].va != (va & ~0xFFFull))
			continue;
		out->state = m->pages[i].state;
		out->entries[1].value = m->pages[i].pte;
		out->has_pa = out->state == NM_PAGE_VALID;
		out->pa = (m->pages[i].pte & ~0xFFFull) | (va & 0xFFF);
	}
}

static const uint8_t *fake_page_bytes(void *ctx, const struct nm_walk *w)
{
	struct fake_memory *m = ctx;

	for (unsigned i = 0; i < m->npages; i++)
		if (m->pages[i].va == (w->va & ~0xFFFull))
			return m->pages[i].bytes;
	return NULL;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

static void put_section(uint8_t *s, const char *name, uint32_t va, uint32_t size, uint32_t chars)
{
	memcpy(s, name, strlen(name));
	put32(s + 8, size);		/* VirtualSize */
	put32(s + 12, va);		/* VirtualAddress */
	put32(s + 16, size);		/* SizeOfRawData */
	put32(s + 20, va);		/* PointerToRawData */
	put32(s + 36, chars);
}

/* A driver's header page: .text (non-paged), PAGE (pageable), INIT (discardable). */
static void build_headers(uint8_t *page)
{
	uint8_t *pe = page + 0x80, *opt = pe + 24, *sec = opt + 0xE0;

	memset(page, 0, 4096);
	page[0] = 'M';
	page[1] = 'Z';
	put32(page + 0x3C, 0x80);
	memcpy(pe, "PE\0\0", 4);
	put16(pe + 4, 0x14C);
	put16(pe + 6, 3);
	put16(pe + 20, 0xE0);
	put16(pe + 22, 0x0102);
	put16(opt, 0x10B);
	put32(opt + 16, 0x3000);	/* AddressOfEntryPoint: in INIT */
	put32(opt + 28, BASE);		/* ImageBase */
	put32(opt + 32, 0x1000);	/* SectionAlignment */
	put32(opt + 36, 0x200);		/* FileAlignment */
	put16(opt + 40, 5);
	put16(opt + 48, 5);
	put32(opt + 56, 0x4000);	/* SizeOfImage */
	put32(opt + 60, 0x400);		/* SizeOfHeaders */
	put16(opt + 68, 1);		/* native subsystem */
	put32(opt + 92, 16);		/* NumberOfRvaAndSizes */
	put_section(sec, ".text", 0x1000, 0x1000, 0x68000020);
	put_section(sec + 40, "PAGE", 0x2000, 0x1000, 0x60000020);
	put_section(sec + 80, "INIT", 0x3000, 0x1000, 0xE2000020);
}

struct fixture {
	uint8_t header[4096];
	uint8_t text[4096];
	uint8_t ptes[4096];
	struct fake_memory mem;
	struct nm_module module;
	struct nm_module_list modules;
	struct nm_va_map pools;
	struct nm_resolver r;
};

static struct fixture fx;

static int setup(void **state)
{
	struct nm_vmem view = { &fx.mem, fake_walk, fake_page_bytes, false, 4, NULL };
	nm_error err;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	build_headers(fx.header);
	for (int i = 0; i < 4096; i++)
		fx.text[i] = (uint8_t)i;
	/* PTE of BASE+0x1000 (.text): valid, frame 0x651 (the seed's PFN). */
	put32(fx.ptes + ((BASE + 0x1000) >> 12 & 0x3FF) * 4, 0x651163);
	fx.mem.pages[0] = (struct fake_page){ BASE, NM_PAGE_VALID, 0x650163, fx.header };
	fx.mem.pages[1] = (struct fake_page){ BASE + 0x1000, NM_PAGE_VALID, 0x651163, fx.text };
	fx.mem.pages[2] = (struct fake_page){ BASE + 0x2000, NM_PAGE_PAGEFILE, 0x00001c80, NULL };
	fx.mem.pages[3] = (struct fake_page){ BASE + 0x3000, NM_PAGE_NOT_MAPPED, 0, NULL };
	fx.mem.pages[4] = (struct fake_page){ PTE_PAGE, NM_PAGE_VALID, 0x39163, fx.ptes };
	fx.mem.npages = 5;
	fx.module = (struct nm_module){ .entry_va = 0x80550000, .base = BASE, .size = 0x4000,
					.entry_point = BASE + 0x3000, .name = "srv.sys",
					.path = "\\SystemRoot\\System32\\DRIVERS\\srv.sys" };
	fx.modules = (struct nm_module_list){ .count = 1, .items = &fx.module };
	fx.pools.nregions = 2;
	fx.pools.regions[0] = (struct nm_region){ .name = "nonpaged_pool_initial",
						  .start = 0x80DB0000, .end = 0x81DB0000 };
	fx.pools.regions[1] = (struct nm_region){ .name = "system_ptes",
						  .start = 0xF0000000, .end = 0xFFBE0000 };
	assert_int_equal(nm_resolver_init(&fx.r, &view, &fx.modules, &fx.pools, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nm_resolver_free(&fx.r);
	return 0;
}

static void text_address_is_module_section_offset(void **state)
{
	struct nm_resolved r;

	(void)state;
	nm_resolve(&fx.r, BASE + 0x1234, &r);
	assert_int_equal(r.walk.state, NM_PAGE_VALID);
	assert_true(r.walk.has_pa);
	assert_int_equal(r.walk.pa, 0x651234);
	assert_ptr_equal(r.module, &fx.module);
	assert_int_equal(r.offset, 0x1234);
	assert_true(r.headers_readable);
	assert_true(r.has_section);
	assert_string_equal(r.section.name, ".text");
	assert_int_equal(r.section.kind, NM_SECTION_NONPAGED);
	assert_non_null(r.region);
	assert_string_equal(r.region->name, "system_ptes");
	assert_false(nm_resolved_is_discarded(&r));
	assert_false(nm_resolved_pte_is_zero(&r));
}

static void init_page_with_zero_pte_is_discarded(void **state)
{
	struct nm_resolved r;

	(void)state;
	nm_resolve(&fx.r, BASE + 0x3010, &r);
	assert_int_equal(r.walk.state, NM_PAGE_NOT_MAPPED);
	assert_false(r.walk.has_pa);
	assert_string_equal(r.section.name, "INIT");
	assert_int_equal(r.section.kind, NM_SECTION_DISCARDABLE);
	assert_int_equal(r.offset, 0x3010);
	assert_true(nm_resolved_is_discarded(&r));
	assert_true(nm_resolved_pte_is_zero(&r));
}

static void paged_out_page_of_pageable_section(void **state)
{
	struct nm_resolved r;

	(void)state;
	nm_resolve(&fx.r, BASE + 0x2ffc, &r);
	assert_int_equal(r.walk.state, NM_PAGE_PAGEFILE);
	assert_string_equal(r.section.name, "PAGE");
	assert_int_equal(r.section.kind, NM_SECTION_PAGEABLE);
	assert_false(nm_resolved_is_discarded(&r));
	assert_false(nm_resolved_pte_is_zero(&r));
}

static void headers_are_parsed_once(void **state)
{
	struct nm_resolved r;
	unsigned before;

	(void)state;
	nm_resolve(&fx.r, BASE + 0x1000, &r);
	before = fx.mem.walks;
	nm_resolve(&fx.r, BASE + 0x1004, &r);
	assert_int_equal(fx.mem.walks, before + 1);	/* only the address itself */
}

static void missing_header_page_names_its_state(void **state)
{
	struct nm_resolved r;

	(void)state;
	fx.mem.pages[0].state = NM_PAGE_NOT_IN_DUMP;
	fx.mem.pages[0].bytes = NULL;
	nm_resolve(&fx.r, BASE + 0x1010, &r);
	assert_ptr_equal(r.module, &fx.module);
	assert_false(r.headers_readable);
	assert_int_equal(r.headers_state, NM_PAGE_NOT_IN_DUMP);
	assert_false(r.has_section);
	assert_int_equal(r.offset, 0x1010);
}

static void corrupt_headers_give_no_section(void **state)
{
	struct nm_resolved r;

	(void)state;
	fx.header[0] = 'X';
	nm_resolve(&fx.r, BASE + 0x1010, &r);
	assert_ptr_equal(r.module, &fx.module);
	assert_false(r.headers_readable);
	assert_false(r.has_section);
}

static void address_outside_modules_gets_region_only(void **state)
{
	struct nm_resolved r;

	(void)state;
	nm_resolve(&fx.r, 0x80DB1234, &r);
	assert_null(r.module);
	assert_false(r.has_section);
	assert_string_equal(r.region->name, "nonpaged_pool_initial");
	nm_resolve(&fx.r, 0x10000, &r);
	assert_null(r.module);
	assert_null(r.region);
	assert_int_equal(r.walk.state, NM_PAGE_NOT_MAPPED);
}

static void no_module_list_and_no_pools(void **state)
{
	struct nm_vmem view = { &fx.mem, fake_walk, fake_page_bytes, false, 4, NULL };
	struct nm_resolver bare;
	struct nm_resolved r;
	nm_error err;

	(void)state;
	assert_int_equal(nm_resolver_init(&bare, &view, NULL, NULL, &err), 0);
	nm_resolve(&bare, BASE + 0x1000, &r);
	assert_int_equal(r.walk.state, NM_PAGE_VALID);
	assert_null(r.module);
	assert_null(r.region);
	nm_resolver_free(&bare);
}

static void read_crosses_pages_and_names_the_bad_one(void **state)
{
	uint8_t buf[8];
	enum nm_page_state st;

	(void)state;
	assert_int_equal(nm_resolver_read(&fx.r, BASE + 0x1000, buf, 4, &st), 0);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[3], 3);
	assert_int_equal(nm_resolver_read(&fx.r, BASE + 0x1ffc, buf, 8, &st), -1);
	assert_int_equal(st, NM_PAGE_PAGEFILE);
	assert_int_equal(nm_resolver_read(&fx.r, BASE + 0x3000, buf, 4, &st), -1);
	assert_int_equal(st, NM_PAGE_NOT_MAPPED);
	assert_int_equal(nm_resolver_read(&fx.r, BASE, buf, 4097, &st), -1);
}

static void page_table_window(void **state)
{
	(void)state;
	assert_true(nm_self_map_holds_pte(&nm_mode_x86.self_map, 0xC0000000));
	assert_true(nm_self_map_holds_pte(&nm_mode_x86.self_map, 0xC03FFFFC));
	assert_false(nm_self_map_holds_pte(&nm_mode_x86.self_map, 0xC0400000));
	assert_true(nm_self_map_holds_pte(&nm_mode_x86_pae.self_map, 0xC07FFFF8));
	assert_false(nm_self_map_holds_pte(&nm_mode_x86_pae.self_map, 0xC0800000));
	assert_false(nm_self_map_holds_pte(&nm_mode_x86.self_map, 0xBFFFFFFC));
	assert_false(nm_self_map_holds_pte(&nm_mode_x86.self_map, 0xC0000002));	/* misaligned */
	assert_false(nm_self_map_holds_pte(&nm_mode_x86_pae.self_map, 0xC0000004));
	assert_false(nm_self_map_holds_pte(&nm_mode_x86_pae.self_map, 0));
}

static struct nm_pfn_entry active_entry(uint64_t pfn, uint32_t pte_address, uint32_t va)
{
	return (struct nm_pfn_entry){ .pfn = pfn, .entry_address = 0x81000000u + (uint32_t)pfn * 0x18,
				      .entry_state = NM_PAGE_VALID, .readable = true,
				      .list = NM_PFN_ACTIVE, .reference_count = 1,
				      .share_count = 0x64DB, .pte_address = pte_address, .va = va };
}

static void pfn_owner_of_a_driver_text_page(void **state)
{
	uint32_t pte_address = PTE_PAGE + ((BASE + 0x1000) >> 12 & 0x3FF) * 4;
	struct nm_pfn_entry e = active_entry(0x651, pte_address, BASE + 0x1000);
	struct nm_pfn_owner o;

	(void)state;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_MATCH);
	assert_true(o.has_pte_value);
	assert_int_equal(o.pte_value, 0x651163);
	assert_true(o.has_va);
	assert_int_equal(o.va, BASE + 0x1000);
	assert_ptr_equal(o.where.module, &fx.module);
	assert_string_equal(o.where.section.name, ".text");
	assert_int_equal(o.where.offset, 0x1000);
	assert_string_equal(nm_pte_link_name(o.link), "match");
}

static void pfn_owner_when_pte_maps_another_frame(void **state)
{
	uint32_t pte_address = PTE_PAGE + ((BASE + 0x1000) >> 12 & 0x3FF) * 4;
	struct nm_pfn_entry e = active_entry(0x777, pte_address, BASE + 0x1000);
	struct nm_pfn_owner o;

	(void)state;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_OTHER_FRAME);
	assert_true(o.has_va);
}

static void pfn_owner_through_transition_pte(void **state)
{
	uint32_t pte_address = PTE_PAGE + 0x10;
	struct nm_pfn_entry e = active_entry(0x1234, pte_address, 0xC0004000u);
	struct nm_pfn_owner o;

	(void)state;
	e.list = NM_PFN_STANDBY;
	put32(fx.ptes + 0x10, 0x1234800 | 0x80);	/* transition bit 11, prototype bit 10 clear */
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_MATCH);
	put32(fx.ptes + 0x10, 0x1234C00);		/* prototype set: not a transition PTE */
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_OTHER_FRAME);
}

static void pfn_pte_address_pointing_nowhere(void **state)
{
	struct nm_pfn_entry e = active_entry(0x651, 0x12345678, 0);
	struct nm_pfn_owner o;

	(void)state;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_NOWHERE);
	assert_int_equal(o.pte_page_state, NM_PAGE_NOT_MAPPED);
	assert_true(nm_pte_link_failed(o.link));
	assert_false(o.has_va);
	assert_false(o.has_pte_value);
	assert_string_equal(nm_pte_link_name(o.link), "nowhere");
}

static void pfn_backed_by_a_prototype_pte(void **state)
{
	/* A readable PteAddress outside the page tables: a prototype PTE. */
	struct nm_pfn_entry e = active_entry(0x651, BASE + 0x1010, 0);
	struct nm_pfn_owner o;

	(void)state;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_PROTOTYPE);
	assert_false(nm_pte_link_failed(o.link));
	assert_true(o.has_pte_value);
	assert_int_equal(o.pte_value, 0x13121110);
	assert_false(o.has_va);
}

static void pfn_pte_page_missing(void **state)
{
	struct nm_pfn_entry e = active_entry(0x651, 0xC0001000, 0x01000000);
	struct nm_pfn_owner o;

	(void)state;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_UNREADABLE);
	assert_true(nm_pte_link_failed(o.link));
	assert_int_equal(o.pte_page_state, NM_PAGE_NOT_MAPPED);
	assert_false(o.has_pte_value);
	assert_true(o.has_va);
}

static void pfn_under_a_large_page(void **state)
{
	/* PDE 0x200 (VA 0x80000000) maps a 4 MiB page from frame 0; its PDE
	 * sits at 0xC0300800 in the self-map, which is the frames' PteAddress. */
	static uint8_t directory[4096];
	struct nm_pfn_entry e = active_entry(0x123, 0xC0300800, 0xC0200000);
	struct nm_pfn_owner o;

	(void)state;
	put32(directory + 0x800, 0x000001E3);	/* valid, PS, frame 0 */
	fx.mem.pages[5] = (struct fake_page){ 0xC0300000, NM_PAGE_VALID, 0x39163, directory };
	fx.mem.npages = 6;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_LARGE_PAGE);
	assert_string_equal(nm_pte_link_name(o.link), "large_page");
	assert_true(o.has_va);
	assert_int_equal(o.va, 0x80123000);
	assert_int_equal(o.where.va, 0x80123000);
	e.pfn = 0x400;				/* the next large page's first frame */
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_OTHER_FRAME);
}

static void free_pages_have_no_owner(void **state)
{
	struct nm_pfn_entry e = active_entry(0x651, PTE_PAGE, BASE);
	struct nm_pfn_owner o;

	(void)state;
	e.list = NM_PFN_FREE;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_NONE);
	assert_false(o.has_va);
	e.list = NM_PFN_ZEROED;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_NONE);
	e.list = NM_PFN_ACTIVE;
	e.readable = false;
	nm_pfn_owner_resolve(&fx.r, &e, &nm_mode_x86.self_map, NM_PTE_LAYOUT_XP, &o);
	assert_int_equal(o.link, NM_PTE_LINK_NONE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(text_address_is_module_section_offset),
		T(init_page_with_zero_pte_is_discarded),
		T(paged_out_page_of_pageable_section),
		T(headers_are_parsed_once),
		T(missing_header_page_names_its_state),
		T(corrupt_headers_give_no_section),
		T(address_outside_modules_gets_region_only),
		T(no_module_list_and_no_pools),
		T(read_crosses_pages_and_names_the_bad_one),
		T(page_table_window),
		T(pfn_owner_of_a_driver_text_page),
		T(pfn_owner_when_pte_maps_another_frame),
		T(pfn_owner_through_transition_pte),
		T(pfn_pte_address_pointing_nowhere),
		T(pfn_backed_by_a_prototype_pte),
		T(pfn_pte_page_missing),
		T(pfn_under_a_large_page),
		T(free_pages_have_no_owner),
	};
	return cmocka_run_group_tests_name("resolve", tests, NULL, NULL);
}
