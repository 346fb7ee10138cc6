/* Page walks over a small fake physical memory (a raw source over a buffer
 * built here): valid and large pages, every invalid form at the PTE level, a
 * missing page table, a transition PDE, prototype resolution; non-PAE and PAE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/vmem.h>
#include <ntmem/xlat.h>

#define PAGE 4096u
#define NPAGES 16u

struct fake {
	uint8_t *mem;
	nm_source *src;
	nm_xlat *x;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void entry(struct fake *f, bool pae, uint64_t pa, uint64_t value)
{
	if (pae)
		put64(f->mem + pa, value);
	else
		put32(f->mem + pa, (uint32_t)value);
}

static void open_fake(struct fake *f, bool pae, uint64_t dtb, uint32_t proto_base)
{
	nm_error err;
	struct nm_xlat_config cfg = { .dtb = dtb, .mode = pae ? &nm_mode_x86_pae : &nm_mode_x86, .layout = NM_PTE_LAYOUT_XP };

	cfg.bases.proto_base = proto_base;
	for (unsigned p = 0; p < NPAGES; p++)
		memset(f->mem + p * PAGE + 0xF00, (int)(0xA0 + p), 16);	/* page signature, clear of the tables */
	assert_int_equal(nm_source_open_buffer(f->mem, NPAGES * PAGE, true, &f->src, &err), 0);
	assert_int_equal(nm_xlat_new(f->src, &cfg, &f->x, &err), 0);
}

static void close_fake(struct fake *f)
{
	nm_xlat_free(f->x);
	nm_source_close(f->src);
	free(f->mem);
}

/* Non-PAE: PD at PFN 1, PT for 0x80000000 at PFN 2, data in PFNs 5-7. */
static void build_nonpae(struct fake *f)
{
	f->mem = calloc(NPAGES, PAGE);
	entry(f, false, 0x1000 + 4 * 0x200, 0x2000 | 0x63);		/* 0x80000000 */
	entry(f, false, 0x1000 + 4 * 0x201, 0x00000000 | 0xE3);	/* 0x80400000: 4 MiB at PA 0 */
	entry(f, false, 0x1000 + 4 * 0x202, 0x200000 | 0x63);	/* table page not in memory */
	entry(f, false, 0x1000 + 4 * 0x203, 0x8000 | 0x800 | 0x80);	/* transition PDE -> PFN 8 */
	entry(f, false, 0x2000 + 4 * 1, 0x5000 | 0x63);		/* valid */
	entry(f, false, 0x2000 + 4 * 2, 0x6000 | 0x800 | 0x80);	/* transition */
	entry(f, false, 0x2000 + 4 * 3, (0x1234 << 12) | (2 << 1) | 0x80);	/* pagefile 2 */
	entry(f, false, 0x2000 + 4 * 4, 0x80);			/* demand zero */
	entry(f, false, 0x2000 + 4 * 6, 0x100000 | 0x63);	/* valid, PFN 0x100 absent */
	/* Prototype: base 0x80000000 + 0x1010 = inside the valid page at PFN 5. */
	entry(f, false, 0x2000 + 4 * 7, ((0x1010u >> 9) << 11) | 0x400 | (((0x1010u >> 2) & 0x7F) << 1));
	entry(f, false, 0x5000 + 0x10, 0x7000 | 0x1);		/* the prototype PTE: valid, PFN 7 */
	entry(f, false, 0x2000 + 4 * 8, ((0x1014u >> 9) << 11) | 0x400 | (((0x1014u >> 2) & 0x7F) << 1));
	entry(f, false, 0x5000 + 0x14, 0x80);			/* prototype PTE: demand zero */
	entry(f, false, 0x8000 + 4 * 0, 0x5000 | 0x1);		/* PT behind the transition PDE */
}

static void expect_entry(const struct nm_walk *w, unsigned i, enum nm_paging_level level,
			 uint64_t address, uint64_t value)
{
	assert_true(i < w->nentries);
	assert_int_equal(w->entries[i].level, level);
	assert_int_equal(w->entries[i].address, address);
	assert_int_equal(w->entries[i].value, value);
}

static void nonpae_valid_page(void **state)
{
	struct fake f;
	struct nm_walk w;
	const uint8_t *bytes;

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);
	nm_xlat_walk(f.x, 0x80001234, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_true(w.has_pa);
	assert_int_equal(w.pa, 0x5234);
	assert_false(w.large_page);
	assert_int_equal(w.nentries, 2);
	expect_entry(&w, 0, NM_LEVEL_PDE, 0x1800, 0x2063);
	expect_entry(&w, 1, NM_LEVEL_PTE, 0x2004, 0x5063);
	bytes = nm_xlat_page_bytes(f.x, &w);
	assert_ptr_equal(bytes, f.mem + 0x5000);
	/* The same page again comes from the cache with this VA's offset. */
	nm_xlat_walk(f.x, 0x80001FF0, &w);
	assert_int_equal(w.pa, 0x5FF0);
	assert_int_equal(w.va, 0x80001FF0);
	close_fake(&f);
}

static void nonpae_large_page(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);
	nm_xlat_walk(f.x, 0x80403123, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_true(w.large_page);
	assert_int_equal(w.pa, 0x3123);
	assert_int_equal(w.nentries, 1);
	expect_entry(&w, 0, NM_LEVEL_PDE, 0x1804, 0xE3);
	/* Same large page, beyond the memory: not in the dump. */
	nm_xlat_walk(f.x, 0x80500000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_IN_DUMP);
	assert_int_equal(w.pa, 0x100000);
	close_fake(&f);
}

static void nonpae_invalid_ptes(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);

	nm_xlat_walk(f.x, 0x80002010, &w);
	assert_int_equal(w.state, NM_PAGE_TRANSITION);
	assert_int_equal(w.pa, 0x6010);
	assert_ptr_equal(nm_xlat_page_bytes(f.x, &w), f.mem + 0x6000);
	expect_entry(&w, 1, NM_LEVEL_PTE, 0x2008, 0x6880);

	nm_xlat_walk(f.x, 0x80003000, &w);
	assert_int_equal(w.state, NM_PAGE_PAGEFILE);
	assert_false(w.has_pa);
	assert_int_equal(w.sw.pagefile_number, 2);
	assert_int_equal(w.sw.pagefile_offset, 0x1234000);
	assert_null(nm_xlat_page_bytes(f.x, &w));

	nm_xlat_walk(f.x, 0x80004000, &w);
	assert_int_equal(w.state, NM_PAGE_DEMAND_ZERO);
	assert_non_null(nm_xlat_page_bytes(f.x, &w));
	assert_int_equal(nm_xlat_page_bytes(f.x, &w)[100], 0);

	nm_xlat_walk(f.x, 0x80005000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	assert_int_equal(w.nentries, 2);

	nm_xlat_walk(f.x, 0x80006000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_IN_DUMP);
	assert_int_equal(w.pa, 0x100000);
	assert_null(nm_xlat_page_bytes(f.x, &w));
	close_fake(&f);
}

static void nonpae_prototypes(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);
	nm_xlat_walk(f.x, 0x80007abc, &w);
	assert_int_equal(w.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(w.sw.proto_address, 0x80001010);
	assert_true(w.proto_resolved);
	assert_int_equal(w.proto_state, NM_PAGE_VALID);
	assert_int_equal(w.proto_pte, 0x7001);
	assert_int_equal(w.pa, 0x7abc);
	assert_true(nm_walk_readable(&w));
	assert_ptr_equal(nm_xlat_page_bytes(f.x, &w), f.mem + 0x7000);

	nm_xlat_walk(f.x, 0x80008000, &w);
	assert_int_equal(w.state, NM_PAGE_PROTOTYPE);
	assert_true(w.proto_resolved);
	assert_int_equal(w.proto_state, NM_PAGE_DEMAND_ZERO);
	assert_true(nm_walk_readable(&w));
	close_fake(&f);
}

static void nonpae_directory_cases(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);
	/* A valid PDE whose page table the dump lacks. */
	nm_xlat_walk(f.x, 0x80800000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_IN_DUMP);
	assert_false(w.has_pa);
	assert_int_equal(w.nentries, 1);
	expect_entry(&w, 0, NM_LEVEL_PDE, 0x1808, 0x200063);
	/* A PDE in transition: the table is followed by hand. */
	nm_xlat_walk(f.x, 0x80C00123, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_int_equal(w.pa, 0x5123);
	assert_int_equal(w.nentries, 2);
	expect_entry(&w, 1, NM_LEVEL_PTE, 0x8000, 0x5001);
	/* A zero PDE. */
	nm_xlat_walk(f.x, 0x10000000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	assert_int_equal(w.nentries, 1);
	/* Beyond 32 bits. */
	nm_xlat_walk(f.x, UINT64_C(0x100000000), &w);
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	close_fake(&f);
}

static void reading_across_pages(void **state)
{
	struct fake f;
	struct nm_vmem mem;
	enum nm_page_state st;
	uint8_t buf[PAGE + 32];

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);
	/* 0x80001F00..: valid page 5 then the transition page 6. */
	mem = nm_vmem_from_xlat(f.x);
	assert_int_equal(nm_vmem_read(&mem, 0x80001F00, buf, PAGE + 16, NM_STALE_REFUSE, &st), 0);
	assert_int_equal(buf[0], 0xA5);
	assert_int_equal(buf[0x100], 0);
	assert_int_equal(buf[0x100 + 0xF00], 0xA6);
	/* Transition page 6 then the pagefile page: the second is named. */
	memset(buf, 0xEE, 32);
	assert_int_equal(nm_vmem_read(&mem, 0x80002FF0, buf, 32, NM_STALE_REFUSE, &st), -1);
	assert_int_equal(st, NM_PAGE_PAGEFILE);
	assert_int_equal(buf[16], 0);	/* the unreadable rest is zeroed */
	assert_int_equal(buf[31], 0);
	close_fake(&f);
}

static void dtb_outside_memory_is_refused(void **state)
{
	uint8_t *mem = calloc(NPAGES, PAGE);
	nm_source *src;
	nm_xlat *x = (nm_xlat *)1;
	nm_error err;
	struct nm_xlat_config cfg = { .dtb = 0x40000, .mode = &nm_mode_x86, .layout = NM_PTE_LAYOUT_XP };

	(void)state;
	assert_int_equal(nm_source_open_buffer(mem, NPAGES * PAGE, true, &src, &err), 0);
	assert_int_equal(nm_xlat_new(src, &cfg, &x, &err), -1);
	assert_null(x);
	assert_string_equal(err.what, "DirectoryTableBase");
	nm_source_close(src);
	free(mem);
}

/* PAE: PDPT at 0x1020 (32-byte aligned, not page aligned), PD at PFN 3,
 * PT at PFN 4. */
static void build_pae(struct fake *f)
{
	f->mem = calloc(NPAGES, PAGE);
	entry(f, true, 0x1020 + 8 * 2, 0x3000 | 0x1);			/* PDPTE[2]: 0x80000000 */
	entry(f, true, 0x3000 + 8 * 0, 0x4000 | 0x63);			/* PDE[0] */
	entry(f, true, 0x3000 + 8 * 1, 0x000000 | 0xE3);		/* 0x80200000: 2 MiB at PA 0 */
	entry(f, true, 0x3000 + 8 * 2, UINT64_C(0x123400000) | 0x63);	/* table above 4 GiB, absent */
	entry(f, true, 0x4000 + 8 * 1, UINT64_C(0x8000000000005063));	/* valid, NX */
	entry(f, true, 0x4000 + 8 * 2, 0x6000 | 0x800 | 0x80);		/* transition */
	entry(f, true, 0x4000 + 8 * 3, (UINT64_C(0x4321) << 32) | (3 << 1) | 0x80);	/* pagefile 3 */
	entry(f, true, 0x4000 + 8 * 4, 0x80);				/* demand zero */
	entry(f, true, 0x4000 + 8 * 7, (UINT64_C(0x80001010) << 32) | 0x400);	/* prototype */
	entry(f, true, 0x5000 + 0x10, 0x7000 | 0x800 | 0x80);		/* prototype PTE: transition */
}

static void pae_walks(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build_pae(&f);
	open_fake(&f, true, 0x1020, 0);
	nm_xlat_walk(f.x, 0x80001234, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_int_equal(w.pa, 0x5234);
	assert_int_equal(w.nentries, 3);
	expect_entry(&w, 0, NM_LEVEL_PDPTE, 0x1030, 0x3001);
	expect_entry(&w, 1, NM_LEVEL_PDE, 0x3000, 0x4063);
	expect_entry(&w, 2, NM_LEVEL_PTE, 0x4008, UINT64_C(0x8000000000005063));

	nm_xlat_walk(f.x, 0x80203456, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_true(w.large_page);
	assert_int_equal(w.pa, 0x3456);
	assert_int_equal(w.nentries, 2);

	nm_xlat_walk(f.x, 0x80400000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_IN_DUMP);
	expect_entry(&w, 1, NM_LEVEL_PDE, 0x3010, UINT64_C(0x123400063));

	nm_xlat_walk(f.x, 0x80002000, &w);
	assert_int_equal(w.state, NM_PAGE_TRANSITION);
	assert_int_equal(w.pa, 0x6000);

	nm_xlat_walk(f.x, 0x80003000, &w);
	assert_int_equal(w.state, NM_PAGE_PAGEFILE);
	assert_int_equal(w.sw.pagefile_number, 3);
	assert_int_equal(w.sw.pagefile_offset, UINT64_C(0x4321000));

	nm_xlat_walk(f.x, 0x80004000, &w);
	assert_int_equal(w.state, NM_PAGE_DEMAND_ZERO);

	nm_xlat_walk(f.x, 0x80007008, &w);
	assert_int_equal(w.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(w.sw.proto_address, 0x80001010);
	assert_true(w.proto_resolved);
	assert_int_equal(w.proto_state, NM_PAGE_TRANSITION);
	assert_int_equal(w.pa, 0x7008);
	assert_ptr_equal(nm_xlat_page_bytes(f.x, &w), f.mem + 0x7000);

	/* PDPTE[0] is zero: nothing is mapped below 0x40000000. */
	nm_xlat_walk(f.x, 0x1000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	assert_int_equal(w.nentries, 1);
	assert_int_equal(w.entries[0].level, NM_LEVEL_PDPTE);
	close_fake(&f);
}

static void set_bases_drops_cached_walks(void **state)
{
	struct fake f;
	struct nm_walk w;
	struct nm_swpte_bases moved = { .proto_base = 0x80001000u };

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);
	nm_xlat_walk(f.x, 0x80007000, &w);
	assert_int_equal(w.sw.proto_address, 0x80001010);
	nm_xlat_set_bases(f.x, &moved);
	nm_xlat_walk(f.x, 0x80007000, &w);
	assert_int_equal(w.sw.proto_address, 0x80002010);
	close_fake(&f);
}

static void same_walk(const struct nm_walk *a, const struct nm_walk *b)
{
	assert_int_equal(a->va, b->va);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->has_pa, b->has_pa);
	if (a->has_pa)
		assert_int_equal(a->pa, b->pa);
	assert_int_equal(a->large_page, b->large_page);
	assert_int_equal(a->nentries, b->nentries);
	for (unsigned i = 0; i < a->nentries; i++) {
		assert_int_equal(a->entries[i].level, b->entries[i].level);
		assert_int_equal(a->entries[i].address, b->entries[i].address);
		assert_int_equal(a->entries[i].value, b->entries[i].value);
	}
	assert_int_equal(a->sw.state, b->sw.state);
	assert_int_equal(a->sw.pagefile_number, b->sw.pagefile_number);
	assert_int_equal(a->sw.pagefile_offset, b->sw.pagefile_offset);
	assert_int_equal(a->sw.proto_address, b->sw.proto_address);
	assert_int_equal(a->proto_resolved, b->proto_resolved);
	assert_int_equal(a->proto_state, b->proto_state);
}

/* The region cache answers exactly as a full libaddrxlat walk: every page of
 * the regions the fake memories use, walked by a fresh translator (no cache)
 * and by one that has seen the region before. */
static void check_cache_agrees(struct fake *f, bool pae, uint64_t dtb)
{
	static const uint64_t starts[] = { 0x80000000, 0x80200000, 0x80400000, 0x80800000,
					   0x80C00000, 0x10000000 };
	struct nm_xlat_config cfg = { .dtb = dtb, .mode = pae ? &nm_mode_x86_pae : &nm_mode_x86, .layout = NM_PTE_LAYOUT_XP };
	nm_error err;

	cfg.bases.proto_base = 0x80000000u;
	for (unsigned s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (uint64_t va = starts[s]; va < starts[s] + 0x20000; va += 0x1000 - 8) {
			nm_xlat *fresh;
			struct nm_walk full, cached;

			assert_int_equal(nm_xlat_new(f->src, &cfg, &fresh, &err), 0);
			nm_xlat_walk(fresh, va, &full);
			nm_xlat_free(fresh);
			nm_xlat_walk(f->x, starts[s], &cached);	/* fills the region */
			nm_xlat_walk(f->x, va, &cached);
			same_walk(&full, &cached);
		}
	}
}

static void region_cache_matches_full_walks(void **state)
{
	struct fake f;

	(void)state;
	build_nonpae(&f);
	open_fake(&f, false, 0x1000, 0x80000000u);
	check_cache_agrees(&f, false, 0x1000);
	close_fake(&f);
	build_pae(&f);
	open_fake(&f, true, 0x1020, 0x80000000u);
	check_cache_agrees(&f, true, 0x1020);
	close_fake(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nonpae_valid_page),
		cmocka_unit_test(nonpae_large_page),
		cmocka_unit_test(nonpae_invalid_ptes),
		cmocka_unit_test(nonpae_prototypes),
		cmocka_unit_test(nonpae_directory_cases),
		cmocka_unit_test(reading_across_pages),
		cmocka_unit_test(dtb_outside_memory_is_refused),
		cmocka_unit_test(pae_walks),
		cmocka_unit_test(set_bases_drops_cached_walks),
		cmocka_unit_test(region_cache_matches_full_walks),
	};
	return cmocka_run_group_tests_name("xlat", tests, NULL, NULL);
}
