/* Region derivation from kernel variables (the seed thread's values) on
 * hand-built memory: the pool split comes from the kernel's record of the
 * expansion pool (MmSystemPtesStart[1]), the mappings are only a cross-check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <ntmem/va_map.h>

#include "fake_kernel_memory.h"

static void set(struct nm_va_map *m, enum nm_kernel_var v, uint32_t value)
{
	nm_va_map_set(m, v, 0x80550000u + 4 * (uint32_t)v, value);
}

static const struct nm_region *region(const struct nm_va_map *m, const char *name)
{
	for (unsigned i = 0; i < m->nregions; i++)
		if (strcmp(m->regions[i].name, name) == 0)
			return &m->regions[i];
	return NULL;
}

/* The seed system: non-paged pool 0x80db0000..0xffbe0000 (initial part
 * 0x650000 bytes, expansion from 0xfb000000), paged pool 0xe1000000..0xedbfffff
 * (inclusive), system PTEs from 0xf0000000; only 16 pages of the initial
 * pool are mapped. The PTE arrays are set as the XP kernel sets them:
 * [0] stops two PTEs below the expansion start, [1] begins one guard PTE
 * above it and ends at the PTE of the last page below MmNonPagedPoolEnd. */
static void seed(struct nm_va_map *m, struct fake_memory *mem)
{
	memset(m, 0, sizeof(*m));
	set(m, NM_VAR_MM_SYSTEM_RANGE_START, 0x80000000);
	set(m, NM_VAR_MM_NONPAGED_POOL_START, 0x80db0000);
	set(m, NM_VAR_MM_NONPAGED_POOL_END, 0xffbe0000);
	set(m, NM_VAR_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES, 0x650000 + (0xffbe0000 - 0xfb000000));
	set(m, NM_VAR_MM_PAGED_POOL_START, 0xe1000000);
	set(m, NM_VAR_MM_PAGED_POOL_END, 0xedbfffff);
	set(m, NM_VAR_MM_SYSTEM_CACHE_START, 0xc1000000);
	set(m, NM_VAR_MM_SYSTEM_CACHE_END, 0xe0ffffff);
	/* Non-PAE self-map: the PTE of VA is 0xc0000000 + (VA >> 12) * 4. */
	set(m, NM_VAR_MM_SYSTEM_PTES_START, 0xc03c0000);		/* 0xf0000000 */
	set(m, NM_VAR_MM_SYSTEM_PTES_END, 0xc03ebff8);		/* 0xfaffe000 */
	set(m, NM_VAR_MM_SYSTEM_PTES_START_EXPANSION, 0xc03ec004);	/* 0xfb001000 */
	set(m, NM_VAR_MM_SYSTEM_PTES_END_EXPANSION, 0xc03fef7c);	/* 0xffbdf000 */
	set(m, NM_VAR_MM_SESSION_BASE, 0xbf000000);
	set(m, NM_VAR_MM_SESSION_SIZE, 0x01000000);
	for (uint32_t va = 0x80db0000; va < 0x80dc0000; va += 0x1000)
		fake_page(mem, va, NM_PAGE_VALID);
}

static void seed_map_has_three_pools_and_no_overlap(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);
	const struct nm_region *r;

	(void)state;
	seed(m, mem);
	nm_va_map_derive(m, &v, &nm_mode_x86.self_map);
	r = region(m, "nonpaged_pool_initial");
	assert_non_null(r);
	assert_int_equal(r->start, 0x80db0000);
	assert_int_equal(r->end, 0x81400000);
	assert_non_null(strstr(r->source, "MmMaximumNonPagedPoolInBytes"));
	r = region(m, "nonpaged_pool_expansion");
	assert_non_null(r);
	assert_int_equal(r->end, 0xffbe0000);
	assert_int_equal(r->start, 0xfb000000);
	assert_non_null(strstr(r->source, "MmSystemPtesStart[1]"));
	/* 16 mapped pages disagree with the kernel's size: shown, not used. */
	assert_true(m->initial_check.done);
	assert_int_equal(m->initial_check.mapped, 0x10000);
	assert_int_equal(m->initial_check.size, 0x650000);
	assert_string_equal(m->split_note, "");
	r = region(m, "paged_pool");
	assert_non_null(r);
	assert_int_equal(r->start, 0xe1000000);
	assert_int_equal(r->end, 0xedc00000);	/* inclusive end normalised */
	r = region(m, "system_ptes");
	assert_non_null(r);
	assert_int_equal(r->start, 0xf0000000);
	assert_int_equal(r->end, 0xfb000000);		/* where the expansion begins */
	r = region(m, "system_cache");
	assert_int_equal(r->end, 0xe1000000);
	r = region(m, "boot_images");
	assert_int_equal(r->start, 0x80000000);
	assert_int_equal(r->end, 0x80db0000);
	r = region(m, "page_tables");
	assert_int_equal(r->start, 0xc0000000);
	assert_int_equal(r->end, 0xc0400000);
	r = region(m, "hyperspace");
	assert_int_equal(r->start, 0xc0400000);
	assert_int_equal(r->end, 0xc0800000);
	r = region(m, "session_space");
	assert_int_equal(r->end, 0xc0000000);
	assert_int_equal(m->noverlaps, 0);
	for (unsigned i = 1; i < m->nregions; i++)
		assert_true(m->regions[i - 1].start <= m->regions[i].start);
	/* Drivers at 0xf7e8b000 sit in system PTE space, not in a pool. */
	assert_string_equal(nm_va_map_find(m, 0xf7e8b000)->name, "system_ptes");
	assert_null(nm_va_map_find(m, 0x10000));
	free(m);
	free(mem);
}

static void pae_moves_the_fixed_regions(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	/* Drop system PTEs and session: PAE values differ. */
	m->variables[NM_VAR_MM_SYSTEM_PTES_START].present = false;
	m->variables[NM_VAR_MM_SYSTEM_PTES_END].present = false;
	m->variables[NM_VAR_MM_SYSTEM_PTES_START_EXPANSION].present = false;
	m->variables[NM_VAR_MM_SYSTEM_PTES_END_EXPANSION].present = false;
	m->variables[NM_VAR_MM_SESSION_BASE].present = false;
	m->variables[NM_VAR_MM_SESSION_SIZE].present = false;
	nm_va_map_derive(m, &v, &nm_mode_x86_pae.self_map);
	assert_int_equal(region(m, "page_tables")->end, 0xc0800000);
	assert_int_equal(region(m, "hyperspace")->start, 0xc0800000);
	assert_int_equal(region(m, "hyperspace")->end, 0xc0c00000);
	assert_null(region(m, "system_ptes"));
	free(m);
	free(mem);
}

static void true_overlap_is_reported(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	/* Paged pool running into the system PTEs by 0x1000. */
	m->variables[NM_VAR_MM_PAGED_POOL_END].value = 0xf0000fff;
	nm_va_map_derive(m, &v, &nm_mode_x86.self_map);
	assert_int_equal(m->noverlaps, 1);
	assert_string_equal(m->overlaps[0].a, "paged_pool");
	assert_string_equal(m->overlaps[0].b, "system_ptes");
	assert_int_equal(m->overlaps[0].start, 0xf0000000);
	assert_int_equal(m->overlaps[0].end, 0xf0001000);
	free(m);
	free(mem);
}

static void unreadable_variable_drops_only_its_regions(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);
	uint64_t value;

	(void)state;
	seed(m, mem);
	m->variables[NM_VAR_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES].readable = false;
	m->variables[NM_VAR_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES].state = NM_PAGE_NOT_IN_DUMP;
	assert_false(nm_va_map_value(m, NM_VAR_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES, &value));
	nm_va_map_derive(m, &v, &nm_mode_x86.self_map);
	/* The initial size needs the maximum, the expansion does not. */
	assert_null(region(m, "nonpaged_pool_initial"));
	assert_int_equal(region(m, "nonpaged_pool_expansion")->start, 0xfb000000);
	assert_non_null(strstr(m->split_note, "MmMaximumNonPagedPoolInBytes"));
	assert_non_null(region(m, "paged_pool"));
	free(m);
	free(mem);
}

static void dynamic_va_reports_limits(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	m->dynamic_va = true;
	nm_va_map_derive(m, &v, &nm_mode_x86.self_map);
	assert_true(m->nlimits >= 3);
	/* Without MiSystemVaType the limits are regions too, marked as such,
	 * never an answer to "which region holds this VA", never overlaps. */
	assert_int_equal(region(m, "paged_pool")->bound, NM_BOUND_LIMIT);
	assert_int_equal(region(m, "nonpaged_pool")->bound, NM_BOUND_LIMIT);
	assert_int_equal(region(m, "page_tables")->bound, NM_BOUND_EXACT);
	assert_null(nm_va_map_find(m, 0xe1000000));
	assert_int_equal(m->noverlaps, 0);
	assert_string_equal(m->limits[0].name, "nonpaged_pool");
	assert_non_null(strstr(m->limits[0].source, "limit"));
	assert_non_null(region(m, "page_tables"));
	free(m);
	free(mem);
}

/* The kernel registered no expansion pool (element 1 zero), or one outside
 * the pool's span: no split, and the note says why; nothing is guessed. */
static void missing_or_bad_record_leaves_the_pool_unsplit(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);
	static const uint32_t bad[] = { 0, 0xc03ec006, 0x80001000, 0xc0203004, 0xc03ff004 };

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		seed(m, mem);
		m->variables[NM_VAR_MM_SYSTEM_PTES_START_EXPANSION].value = bad[i];
		nm_va_map_derive(m, &v, &nm_mode_x86.self_map);
		assert_null(region(m, "nonpaged_pool_initial"));
		assert_null(region(m, "nonpaged_pool_expansion"));
		assert_true(m->split_note[0] != '\0');
		assert_int_equal(m->noverlaps, 0);
		/* System PTE space keeps the end the kernel gives it. */
		assert_int_equal(region(m, "system_ptes")->end, 0xfafff000);
	}
	free(m);
	free(mem);
}

/* PAE: 8-byte PTEs; Server 2003 SP1 on takes two guard PTEs (End[1] one
 * lower), which does not move the split. */
static void pae_split_and_two_guards(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	set(m, NM_VAR_MM_SYSTEM_PTES_START, 0xc0000000u + 0xf0000u * 8);
	set(m, NM_VAR_MM_SYSTEM_PTES_END, 0xc0000000u + 0xfb000u * 8 - 16);
	set(m, NM_VAR_MM_SYSTEM_PTES_START_EXPANSION, 0xc0000000u + 0xfb000u * 8 + 8);
	set(m, NM_VAR_MM_SYSTEM_PTES_END_EXPANSION, 0xc0000000u + 0xffbe0u * 8 - 16);
	nm_va_map_derive(m, &v, &nm_mode_x86_pae.self_map);
	assert_int_equal(region(m, "nonpaged_pool_expansion")->start, 0xfb000000);
	assert_int_equal(region(m, "nonpaged_pool_initial")->end, 0x81400000);
	assert_int_equal(region(m, "system_ptes")->start, 0xf0000000);
	assert_int_equal(region(m, "system_ptes")->end, 0xfb000000);
	assert_int_equal(m->noverlaps, 0);
	free(m);
	free(mem);
}

/* When the kernel's own values overlap (system PTE space reaching past the
 * start of the expansion), the overlap is reported, once. */
static void overlapping_kernel_values_are_reported(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	set(m, NM_VAR_MM_SYSTEM_PTES_END, 0xc03ec400);	/* last PTE maps 0xfb100000 */
	nm_va_map_derive(m, &v, &nm_mode_x86.self_map);
	assert_int_equal(region(m, "system_ptes")->end, 0xfb101000);
	assert_int_equal(m->noverlaps, 1);
	assert_string_equal(m->overlaps[0].a, "system_ptes");
	assert_string_equal(m->overlaps[0].b, "nonpaged_pool_expansion");
	assert_int_equal(m->overlaps[0].start, 0xfb000000);
	assert_int_equal(m->overlaps[0].end, 0xfb101000);
	free(m);
	free(mem);
}

static void set64(struct nm_va_map *m, enum nm_kernel_var v, uint64_t value)
{
	nm_va_map_set(m, v, UINT64_C(0xFFFFF80002604000) + 16 * (uint64_t)v, value);
}

/* Windows 7 x64: fixed windows plus the variables; system PTEs from the
 * self-map addresses of their first and last PTE; the PFN database as long
 * as its array, not as far as it is mapped (nothing is mapped here). */
static void win7_x64_fixed_layout(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);
	struct nm_self_map sm = nm_self_map_x64(0x1ED);

	(void)state;
	m->x64 = m->dynamic_va = true;
	m->build = 7601;
	set64(m, NM_VAR_MM_PFN_DATABASE, UINT64_C(0xFFFFFA8000000000));
	set64(m, NM_VAR_MM_HIGHEST_PHYSICAL_PAGE, 0xFFFF);		/* 0x10000 * 0x30 = 3 MiB */
	set64(m, NM_VAR_MM_NONPAGED_POOL_START, UINT64_C(0xFFFFFA8000300000));
	set64(m, NM_VAR_MM_NONPAGED_POOL_END, UINT64_C(0xFFFFFA8040300000));
	set64(m, NM_VAR_MM_PAGED_POOL_START, UINT64_C(0xFFFFF8A000000000));
	set64(m, NM_VAR_MM_PAGED_POOL_END, UINT64_C(0xFFFFF8A0FFFFFFFF));
	/* PTE of VA: 0xFFFFF68000000000 + ((VA >> 12) & 0xFFFFFFFFF) * 8 */
	set64(m, NM_VAR_MM_SYSTEM_PTES_START, UINT64_C(0xFFFFF6FC40000000));	/* 0xFFFFF88000000000 */
	set64(m, NM_VAR_MM_SYSTEM_PTES_END, UINT64_C(0xFFFFF6FC40007FF8));	/* 0xFFFFF88000FFF000 */
	nm_va_map_derive(m, &v, &sm);
	assert_int_equal(region(m, "page_tables")->start, UINT64_C(0xFFFFF68000000000));
	assert_int_equal(region(m, "page_tables")->end, UINT64_C(0xFFFFF70000000000));
	assert_int_equal(region(m, "system_ptes")->start, UINT64_C(0xFFFFF88000000000));
	assert_int_equal(region(m, "system_ptes")->end, UINT64_C(0xFFFFF88001000000));
	assert_int_equal(region(m, "paged_pool")->end, UINT64_C(0xFFFFF8A100000000));
	assert_int_equal(region(m, "pfn_database")->end, UINT64_C(0xFFFFFA8000300000));
	assert_int_equal(region(m, "nonpaged_pool")->start, UINT64_C(0xFFFFFA8000300000));
	/* no MmSessionBase/Size: the fixed 512 GiB window, said so */
	assert_int_equal(region(m, "session_space")->start, UINT64_C(0xFFFFF90000000000));
	assert_non_null(strstr(region(m, "session_space")->source, "fixed"));
	assert_non_null(region(m, "dynamic_kernel_va"));
	assert_int_equal(m->noverlaps, 0);
	assert_int_equal(m->nlimits, 0);
	assert_ptr_equal(nm_va_map_find(m, UINT64_C(0xFFFFF88000123000)), region(m, "system_ptes"));
	free(m);
	free(mem);
}

/* Windows 10 x64: the variables are limits (regions never answer a lookup
 * from them); the page tables follow the random self-map index. */
static void win10_x64_limits(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);
	struct nm_self_map sm = nm_self_map_x64(0x133);

	(void)state;
	m->x64 = m->dynamic_va = true;
	m->build = 19041;
	set64(m, NM_VAR_MM_PAGED_POOL_START, UINT64_C(0xFFFFC10000000000));
	set64(m, NM_VAR_MM_PAGED_POOL_END, UINT64_C(0xFFFFC11FFFFFFFFF));
	set64(m, NM_VAR_MM_NONPAGED_POOL_START, UINT64_C(0xFFFFB08000000000));
	set64(m, NM_VAR_MM_NONPAGED_POOL_END, UINT64_C(0xFFFFB0C000000000));
	nm_va_map_derive(m, &v, &sm);
	assert_int_equal(region(m, "page_tables")->start, UINT64_C(0xFFFF998000000000));
	assert_int_equal(region(m, "paged_pool")->bound, NM_BOUND_LIMIT);
	assert_int_equal(region(m, "paged_pool")->end, UINT64_C(0xFFFFC12000000000));
	assert_int_equal(m->nlimits, 2);
	assert_null(nm_va_map_find(m, UINT64_C(0xFFFFC10000001000)));
	assert_null(region(m, "hyperspace"));
	free(m);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_map_has_three_pools_and_no_overlap),
		cmocka_unit_test(pae_moves_the_fixed_regions),
		cmocka_unit_test(true_overlap_is_reported),
		cmocka_unit_test(unreadable_variable_drops_only_its_regions),
		cmocka_unit_test(dynamic_va_reports_limits),
		cmocka_unit_test(missing_or_bad_record_leaves_the_pool_unsplit),
		cmocka_unit_test(pae_split_and_two_guards),
		cmocka_unit_test(overlapping_kernel_values_are_reported),
		cmocka_unit_test(win7_x64_fixed_layout),
		cmocka_unit_test(win10_x64_limits),
	};
	return cmocka_run_group_tests_name("pools", tests, NULL, NULL);
}
