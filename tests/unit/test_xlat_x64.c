/* x64 page walks over a hand-built 4-level table in a small fake physical
 * memory: 4 KiB, 2 MiB and 1 GiB pages, the x64 software PTEs at the PTE
 * level, a transition PDE, a prototype PTE, a missing page, a
 * non-canonical VA, a DirectoryTableBase carrying PCID bits, and the
 * self-map index read from the PML4 (not Windows 7's 0x1ED). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/bytes.h>
#include <ntmem/vmem.h>
#include <ntmem/xlat.h>

#define PAGE 4096u
#define NPAGES 16u
#define SELF 0x1A3u			/* self-map index of this PML4 */
#define KVA UINT64_C(0xFFFFF80000000000)	/* PML4 0x1F0, PDPT 0, PD 0, PT 0 */

struct fake {
	uint8_t *mem;
	nm_source *src;
	nm_xlat *x;
};

static void entry(struct fake *f, uint64_t pa, uint64_t value)
{
	for (int i = 0; i < 8; i++)
		f->mem[pa + i] = (uint8_t)(value >> (8 * i));
}

/* PML4 at PFN 1, PDPT at 2, PD at 3, PT at 4; data in 5-7; PFN 9 is the
 * page table behind a transition PDE. */
static void build(struct fake *f)
{
	f->mem = calloc(NPAGES, PAGE);
	for (unsigned p = 0; p < NPAGES; p++)
		memset(f->mem + p * PAGE + 0xF00, (int)(0xA0 + p), 16);
	entry(f, 0x1000 + 8 * SELF, 0x1000 | 0x63);
	entry(f, 0x1000 + 8 * 0x1F0, 0x2000 | 0x63);
	entry(f, 0x2000 + 8 * 0, 0x3000 | 0x63);
	entry(f, 0x2000 + 8 * 1, UINT64_C(0x8000000000000000) | 0xE3);	/* 1 GiB at PA 0, NX */
	entry(f, 0x3000 + 8 * 0, 0x4000 | 0x63);
	entry(f, 0x3000 + 8 * 1, 0x0000 | 0xE3);			/* 2 MiB at PA 0 */
	entry(f, 0x3000 + 8 * 2, 0x9000 | 0x800 | 0x80);		/* transition PDE -> PFN 9 */
	entry(f, 0x3000 + 8 * 3, 0x200000 | 0x63);			/* table page not in memory */
	entry(f, 0x4000 + 8 * 1, 0x5000 | 0x63);			/* valid */
	entry(f, 0x4000 + 8 * 2, 0x6000 | 0x800 | 0x80);		/* transition */
	entry(f, 0x4000 + 8 * 3, (UINT64_C(0x1234) << 32) | (2 << 1) | 0x80);	/* pagefile 2 (Windows 7) */
	entry(f, 0x4000 + 8 * 4, 0x80);					/* demand zero */
	entry(f, 0x4000 + 8 * 5, ((KVA + 0x1010) << 16) | 0x400 | (4 << 11));	/* prototype */
	entry(f, 0x5000 + 0x10, 0x7000 | 0x1);				/* the prototype PTE: valid, PFN 7 */
	entry(f, 0x4000 + 8 * 6, 0x100000 | 0x63);			/* valid, PFN 0x100 absent */
	entry(f, 0x9000 + 8 * 0, 0x5000 | 0x1);				/* PT behind the transition PDE */
}

static void open_fake(struct fake *f, uint64_t dtb)
{
	nm_error err;
	struct nm_xlat_config cfg = { .dtb = dtb, .mode = &nm_mode_x64, .layout = NM_PTE_LAYOUT_VISTA };

	assert_int_equal(nm_source_open_buffer(f->mem, NPAGES * PAGE, true, &f->src, &err), 0);
	assert_int_equal(nm_xlat_new(f->src, &cfg, &f->x, &err), 0);
}

static void close_fake(struct fake *f)
{
	nm_xlat_free(f->x);
	nm_source_close(f->src);
	free(f->mem);
}

static void expect_entry(const struct nm_walk *w, unsigned i, enum nm_paging_level level,
			 uint64_t address, uint64_t value)
{
	assert_true(i < w->nentries);
	assert_int_equal(w->entries[i].level, level);
	assert_int_equal(w->entries[i].address, address);
	assert_int_equal(w->entries[i].value, value);
}

static void four_levels_to_a_4k_page(void **state)
{
	struct fake f;
	struct nm_walk w;
	const uint8_t *page;

	(void)state;
	build(&f);
	open_fake(&f, 0x1000 | 0x002);	/* PCID 2 in the low bits */
	nm_xlat_walk(f.x, KVA + 0x1F00, &w);
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_int_equal(w.pa, 0x5F00);
	assert_false(w.large_page);
	assert_int_equal(w.nentries, 4);
	expect_entry(&w, 0, NM_LEVEL_PML4E, 0x1000 + 8 * 0x1F0, 0x2063);
	expect_entry(&w, 1, NM_LEVEL_PDPTE, 0x2000, 0x3063);
	expect_entry(&w, 2, NM_LEVEL_PDE, 0x3000, 0x4063);
	expect_entry(&w, 3, NM_LEVEL_PTE, 0x4008, 0x5063);
	page = nm_xlat_page_bytes(f.x, &w);
	assert_non_null(page);
	assert_int_equal(page[0xF00], 0xA5);
	close_fake(&f);
}

static void large_pages(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build(&f);
	open_fake(&f, 0x1000);
	nm_xlat_walk(f.x, KVA + 0x200000 + 0x7123, &w);	/* PD[1]: 2 MiB */
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_true(w.large_page);
	assert_int_equal(w.page_shift, 21);
	assert_int_equal(w.pa, 0x7123);
	assert_int_equal(w.nentries, 3);
	expect_entry(&w, 2, NM_LEVEL_PDE, 0x3008, 0xE3);
	nm_xlat_walk(f.x, KVA + 0x40000000 + 0x8456, &w);	/* PDPT[1]: 1 GiB, NX set */
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_true(w.large_page);
	assert_int_equal(w.page_shift, 30);
	assert_int_equal(w.pa, 0x8456);
	assert_int_equal(w.nentries, 2);
	expect_entry(&w, 1, NM_LEVEL_PDPTE, 0x2008, UINT64_C(0x80000000000000E3));
	nm_xlat_walk(f.x, KVA + 0x40000000 + 0x3FFFF000, &w);	/* same page, PA past the dump */
	assert_int_equal(w.state, NM_PAGE_NOT_IN_DUMP);
	assert_int_equal(w.pa, 0x3FFFF000);
	close_fake(&f);
}

static void invalid_ptes(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build(&f);
	open_fake(&f, 0x1000);
	nm_xlat_walk(f.x, KVA + 0x2000, &w);
	assert_int_equal(w.state, NM_PAGE_TRANSITION);
	assert_int_equal(w.pa, 0x6000);
	assert_non_null(nm_xlat_page_bytes(f.x, &w));
	nm_xlat_walk(f.x, KVA + 0x3000, &w);
	assert_int_equal(w.state, NM_PAGE_PAGEFILE);
	assert_int_equal(w.sw.pagefile_number, 2);
	assert_int_equal(w.sw.pagefile_offset, UINT64_C(0x1234000));
	nm_xlat_walk(f.x, KVA + 0x4000, &w);
	assert_int_equal(w.state, NM_PAGE_DEMAND_ZERO);
	nm_xlat_walk(f.x, KVA + 0x5000, &w);
	assert_int_equal(w.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(w.sw.proto_address, KVA + 0x1010);
	assert_int_equal(w.sw.protection, 4);
	assert_true(w.proto_resolved);
	assert_int_equal(w.proto_state, NM_PAGE_VALID);
	assert_int_equal(w.pa, 0x7000);
	nm_xlat_walk(f.x, KVA + 0x6000, &w);
	assert_int_equal(w.state, NM_PAGE_NOT_IN_DUMP);
	assert_int_equal(w.pa, 0x100000);
	nm_xlat_walk(f.x, KVA + 0x7000, &w);			/* zero PTE */
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	close_fake(&f);
}

static void directory_cases(void **state)
{
	struct fake f;
	struct nm_walk w;

	(void)state;
	build(&f);
	open_fake(&f, 0x1000);
	nm_xlat_walk(f.x, KVA + 0x400000 + 0x10, &w);	/* transition PDE: its table at PFN 9 */
	assert_int_equal(w.state, NM_PAGE_VALID);
	assert_int_equal(w.pa, 0x5010);
	expect_entry(&w, 3, NM_LEVEL_PTE, 0x9000, 0x5001);
	nm_xlat_walk(f.x, KVA + 0x600000, &w);		/* table page past the dump */
	assert_int_equal(w.state, NM_PAGE_NOT_IN_DUMP);
	assert_false(w.has_pa);
	nm_xlat_walk(f.x, UINT64_C(0xFFFFF88000000000), &w);	/* PML4 0x1F1 empty */
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	assert_int_equal(w.nentries, 1);
	expect_entry(&w, 0, NM_LEVEL_PML4E, 0x1000 + 8 * 0x1F1, 0);
	nm_xlat_walk(f.x, UINT64_C(0x0000800000000000), &w);	/* not canonical */
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	assert_int_equal(w.nentries, 0);
	nm_xlat_walk(f.x, UINT64_C(0xFFF7F80000000000), &w);	/* not canonical either */
	assert_int_equal(w.state, NM_PAGE_NOT_MAPPED);
	assert_int_equal(w.nentries, 0);
	close_fake(&f);
}

/* The self-map index comes from the PML4; reading the self-map address of
 * a PTE through the walk gives that PTE, and of a PDE, that PDE. */
static void self_map_from_the_pml4(void **state)
{
	struct fake f;
	const struct nm_self_map *sm;
	struct nm_vmem mem;
	uint8_t b[8];

	(void)state;
	build(&f);
	open_fake(&f, 0x1000);
	sm = nm_xlat_self_map(f.x);
	mem = nm_vmem_from_xlat(f.x);
	assert_string_equal(nm_xlat_self_map_origin(f.x), "pml4");
	assert_int_equal(sm->index, SELF);
	assert_int_equal(sm->pte_base, UINT64_C(0xFFFFD18000000000));
	assert_int_equal(nm_vmem_read(&mem, nm_self_map_pte_address(sm, KVA + 0x1000), b, 8, NM_STALE_REFUSE, NULL), 0);
	assert_int_equal(nm_le64(b), 0x5063);
	assert_int_equal(nm_vmem_read(&mem, nm_self_map_pde_address(sm, KVA + 0x200000), b, 8, NM_STALE_REFUSE, NULL), 0);
	assert_int_equal(nm_le64(b), 0xE3);
	assert_true(nm_self_map_holds_pte(sm, nm_self_map_pte_address(sm, KVA)));
	assert_int_equal(nm_self_map_va_of_pte(sm, nm_self_map_pte_address(sm, KVA + 0x5000)), KVA + 0x5000);
	assert_int_equal(nm_self_map_va_of_pde(sm, nm_self_map_pde_address(sm, KVA + 0x200000)), KVA + 0x200000);
	assert_int_equal(nm_self_map_pte_window(sm), UINT64_C(512) << 30);
	close_fake(&f);
	/* No self-referencing entry: Windows 7's 0x1ED is assumed, and said. */
	build(&f);
	entry(&f, 0x1000 + 8 * SELF, 0);
	open_fake(&f, 0x1000);
	assert_string_equal(nm_xlat_self_map_origin(f.x), "default");
	assert_int_equal(nm_xlat_self_map(f.x)->pte_base, UINT64_C(0xFFFFF68000000000));
	assert_int_equal(nm_self_map_pde_base(nm_xlat_self_map(f.x)), UINT64_C(0xFFFFF6FB40000000));
	close_fake(&f);
}

static void same_walk(const struct nm_walk *a, const struct nm_walk *b)
{
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->has_pa, b->has_pa);
	assert_int_equal(a->pa, b->pa);
	assert_int_equal(a->large_page, b->large_page);
	assert_int_equal(a->page_shift, b->page_shift);
	assert_int_equal(a->nentries, b->nentries);
	assert_memory_equal(a->entries, b->entries, sizeof(a->entries[0]) * a->nentries);
	assert_int_equal(a->sw.state, b->sw.state);
	assert_int_equal(a->proto_resolved, b->proto_resolved);
	assert_int_equal(a->proto_state, b->proto_state);
}

/* The region cache answers as a full walk, also for regions that share a
 * slot (x64 regions are tagged, 2048 slots for 2^27 regions). */
static void region_cache_matches_full_walks(void **state)
{
	static const uint64_t starts[] = { KVA, KVA + 0x200000, KVA + 0x400000, KVA + 0x600000,
					   KVA + 0x40000000, KVA + 0x40000000 + (UINT64_C(2048) << 21),
					   KVA + (UINT64_C(2048) << 21), UINT64_C(0xFFFFF88000000000) };
	struct nm_xlat_config cfg = { .dtb = 0x1000, .mode = &nm_mode_x64, .layout = NM_PTE_LAYOUT_VISTA };
	struct fake f;
	nm_error err;

	(void)state;
	build(&f);
	open_fake(&f, 0x1000);
	for (unsigned s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (uint64_t va = starts[s]; va < starts[s] + 0x10000; va += 0x1000 - 8) {
			nm_xlat *fresh;
			struct nm_walk full, cached;

			assert_int_equal(nm_xlat_new(f.src, &cfg, &fresh, &err), 0);
			nm_xlat_walk(fresh, va, &full);
			nm_xlat_free(fresh);
			nm_xlat_walk(f.x, starts[s], &cached);
			nm_xlat_walk(f.x, va, &cached);
			same_walk(&full, &cached);
		}
	}
	close_fake(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(four_levels_to_a_4k_page),
		cmocka_unit_test(large_pages),
		cmocka_unit_test(invalid_ptes),
		cmocka_unit_test(directory_cases),
		cmocka_unit_test(self_map_from_the_pml4),
		cmocka_unit_test(region_cache_matches_full_walks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
