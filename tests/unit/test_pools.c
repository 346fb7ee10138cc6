/* Region derivation from kernel variables (the seed thread's values) on
 * hand-built memory: the initial pool is the run of valid pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <ntmem/pools.h>

#include "fake_kernel_memory.h"

static void set(struct nm_pool_map *m, const char *name, uint32_t value)
{
	struct nm_kernel_variable *v = &m->variables[m->nvariables++];

	v->name = name;
	v->address = 0x80550000u + 4 * m->nvariables;
	v->readable = true;
	v->value = value;
}

static const struct nm_region *region(const struct nm_pool_map *m, const char *name)
{
	for (unsigned i = 0; i < m->nregions; i++)
		if (strcmp(m->regions[i].name, name) == 0)
			return &m->regions[i];
	return NULL;
}

/* The seed system: non-paged pool 0x80db0000..0xffbe0000, paged pool
 * 0xe1000000..0xedbfffff (inclusive), 16 pages of initial pool mapped. */
static void seed(struct nm_pool_map *m, struct fake_memory *mem)
{
	memset(m, 0, sizeof(*m));
	set(m, "MmSystemRangeStart", 0x80000000);
	set(m, "MmNonPagedPoolStart", 0x80db0000);
	set(m, "MmNonPagedPoolEnd", 0xffbe0000);
	set(m, "MmMaximumNonPagedPoolInBytes", 0x02000000);
	set(m, "MmPagedPoolStart", 0xe1000000);
	set(m, "MmPagedPoolEnd", 0xedbfffff);
	set(m, "MmSystemCacheStart", 0xc1000000);
	set(m, "MmSystemCacheEnd", 0xe0ffffff);
	/* PTEs of 0xedc00000 .. 0xfdbdf000 in the non-PAE self-map. */
	set(m, "MmSystemPtesStart", 0xc03b7000);
	set(m, "MmSystemPtesEnd", 0xc03f6f7c);
	set(m, "MmSessionBase", 0xbf000000);
	set(m, "MmSessionSize", 0x01000000);
	for (uint32_t va = 0x80db0000; va < 0x80dc0000; va += 0x1000)
		fake_page(mem, va, NM_PAGE_VALID);
}

static void seed_map_has_three_pools_and_no_overlap(void **state)
{
	struct nm_pool_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);
	const struct nm_region *r;

	(void)state;
	seed(m, mem);
	nm_pools_derive(m, &v, &nm_mode_x86.self_map);
	r = region(m, "nonpaged_pool_initial");
	assert_non_null(r);
	assert_int_equal(r->start, 0x80db0000);
	assert_int_equal(r->end, 0x80dc0000);
	assert_non_null(strstr(r->source, "run of valid"));
	r = region(m, "nonpaged_pool_expansion");
	assert_non_null(r);
	assert_int_equal(r->end, 0xffbe0000);
	assert_int_equal(r->start, 0xffbe0000 - (0x02000000 - 0x10000));
	r = region(m, "paged_pool");
	assert_non_null(r);
	assert_int_equal(r->start, 0xe1000000);
	assert_int_equal(r->end, 0xedc00000);	/* inclusive end normalised */
	r = region(m, "system_ptes");
	assert_non_null(r);
	assert_int_equal(r->start, 0xedc00000);
	assert_int_equal(r->end, 0xfdbe0000);
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
	assert_string_equal(nm_pools_find(m, 0xf7e8b000)->name, "system_ptes");
	assert_null(nm_pools_find(m, 0x10000));
	free(m);
	free(mem);
}

static void pae_moves_the_fixed_regions(void **state)
{
	struct nm_pool_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	m->nvariables -= 4;	/* drop system PTEs and session: PAE values differ */
	nm_pools_derive(m, &v, &nm_mode_x86_pae.self_map);
	assert_int_equal(region(m, "page_tables")->end, 0xc0800000);
	assert_int_equal(region(m, "hyperspace")->start, 0xc0800000);
	assert_int_equal(region(m, "hyperspace")->end, 0xc0c00000);
	assert_null(region(m, "system_ptes"));
	free(m);
	free(mem);
}

static void true_overlap_is_reported(void **state)
{
	struct nm_pool_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	/* Paged pool running into the system PTEs by 0x1000. */
	for (unsigned i = 0; i < m->nvariables; i++)
		if (strcmp(m->variables[i].name, "MmPagedPoolEnd") == 0)
			m->variables[i].value = 0xedc00fff;
	nm_pools_derive(m, &v, &nm_mode_x86.self_map);
	assert_int_equal(m->noverlaps, 1);
	assert_string_equal(m->overlaps[0].a, "paged_pool");
	assert_string_equal(m->overlaps[0].b, "system_ptes");
	assert_int_equal(m->overlaps[0].start, 0xedc00000);
	assert_int_equal(m->overlaps[0].end, 0xedc01000);
	free(m);
	free(mem);
}

static void unreadable_variable_drops_only_its_regions(void **state)
{
	struct nm_pool_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);
	uint32_t value;

	(void)state;
	seed(m, mem);
	for (unsigned i = 0; i < m->nvariables; i++)
		if (strcmp(m->variables[i].name, "MmMaximumNonPagedPoolInBytes") == 0) {
			m->variables[i].readable = false;
			m->variables[i].state = NM_PAGE_NOT_IN_DUMP;
		}
	assert_false(nm_pools_value(m, "MmMaximumNonPagedPoolInBytes", &value));
	nm_pools_derive(m, &v, &nm_mode_x86.self_map);
	assert_non_null(region(m, "nonpaged_pool_initial"));
	assert_int_equal(region(m, "nonpaged_pool_initial")->end, 0x80dc0000);
	assert_null(region(m, "nonpaged_pool_expansion"));
	assert_non_null(region(m, "paged_pool"));
	free(m);
	free(mem);
}

static void dynamic_va_reports_limits(void **state)
{
	struct nm_pool_map *m = calloc(1, sizeof(*m));
	struct fake_memory *mem = calloc(1, sizeof(*mem));
	struct nm_vmem v = fake_vmem(mem);

	(void)state;
	seed(m, mem);
	m->dynamic_va = true;
	nm_pools_derive(m, &v, &nm_mode_x86.self_map);
	assert_null(region(m, "paged_pool"));
	assert_true(m->nlimits >= 3);
	assert_string_equal(m->limits[0].name, "nonpaged_pool");
	assert_non_null(strstr(m->limits[0].source, "limit"));
	assert_non_null(region(m, "page_tables"));
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
	};
	return cmocka_run_group_tests_name("pools", tests, NULL, NULL);
}
