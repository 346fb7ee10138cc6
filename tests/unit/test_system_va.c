/* Finding MiSystemVaType on hand-built memory: the array inside the kernel
 * image or behind a pointer in it, PAE and non-PAE, windows shifted by one
 * entry told apart by the page directory, and arrays the clues refuse; then
 * the map it gives to `pools`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <ntmem/va_map.h>
#include <ntmem/system_va.h>

#include "fake_kernel_memory.h"

#define KERNEL 0x82A00000u	/* PAE entry 0x15 */
#define KERNEL_SIZE 0x4000u
#define PFN_DB 0x83400000u	/* PAE entry 0x1a */
#define DRIVER 0xF7E80000u	/* PAE entry 0x3bf */
#define PAE_PDES 0xC0602000u	/* PDEs of 0x80000000.. through the PAE self-map */

static struct fake_memory mem;
static uint8_t types[0x400];
static const struct nm_module images[2] = { { .base = KERNEL, .size = KERNEL_SIZE },
					   { .base = DRIVER, .size = 0x10000 } };
static const struct nm_system_va_clues clues = { KERNEL, KERNEL_SIZE, PFN_DB, images, 2, 7601 };

static void fill(unsigned first, unsigned last, uint8_t t)
{
	for (unsigned i = first; i <= last; i++)
		types[i] = t;
}

/* Runs wider than what the clues pin: a window one entry off fits them too. */
static void wide_runs(void)
{
	memset(types, 0, sizeof(types));
	fill(0x14, 0x19, 3);
	fill(0x1a, 0x1b, 4);
	fill(0x1c, 0x1d, 5);
	fill(0x60, 0x61, 6);
	fill(0x3bd, 0x3c2, 12);
}

static void kernel_image(void)
{
	memset(&mem, 0, sizeof(mem));
	for (uint32_t off = 0; off < KERNEL_SIZE; off += 4096)
		fake_page(&mem, KERNEL + off, NM_PAGE_VALID);
	for (uint32_t off = 0; off < KERNEL_SIZE; off++)
		fake_put(&mem, KERNEL + off, (uint8_t[]){ (uint8_t)(0x40 + off % 0x80) }, 1);
}

/* The page directory says which entries have page tables: those in use. */
static void page_directory_agrees(void)
{
	for (unsigned i = 0; i < 0x400; i++)
		fake_put64(&mem, PAE_PDES + 8 * i, types[i] ? 0x1000063u + (i << 12) : 0);
}

static void locate(struct nm_system_va_map *out, bool pae, const struct nm_system_va_clues *c)
{
	struct nm_vmem v = fake_vmem(&mem);

	nm_system_va_locate(&v, c, (pae ? &nm_mode_x86_pae.self_map : &nm_mode_x86.self_map), out);
}

static void array_in_the_kernel_image_is_found(void **state)
{
	struct nm_system_va_map m;

	(void)state;
	wide_runs();
	kernel_image();
	fake_put(&mem, KERNEL + 0x1235, types, 0x400);
	page_directory_agrees();
	locate(&m, true, &clues);
	assert_true(m.found);
	assert_int_equal(m.address, KERNEL + 0x1235);
	assert_int_equal(m.entries, 0x400);
	assert_int_equal(m.shift, 21);
	assert_memory_equal(m.type, types, 0x400);
}

/* Zeros around the array let the windows one byte before and after fit
 * every clue; without the page directory nothing tells them apart. */
static void shifted_windows_without_page_directory_are_refused(void **state)
{
	struct nm_system_va_map m;

	(void)state;
	wide_runs();
	kernel_image();
	memset(types + 0x3ff, 0, 1);
	fake_put(&mem, KERNEL + 0x1000, (uint8_t[0x402]){ 0 }, 0x402);
	fake_put(&mem, KERNEL + 0x1001, types, 0x400);
	locate(&m, true, &clues);
	assert_false(m.found);
	assert_non_null(strstr(m.why, "fit equally"));
	page_directory_agrees();
	locate(&m, true, &clues);
	assert_true(m.found);
	assert_int_equal(m.address, KERNEL + 0x1001);
}

static void pointer_to_the_array_is_followed(void **state)
{
	struct nm_system_va_map m;

	(void)state;
	wide_runs();
	kernel_image();
	fake_put(&mem, 0x83801000u, types, 0x400);
	fake_put32(&mem, KERNEL + 0x2000, 0x83801000u);
	page_directory_agrees();
	locate(&m, true, &clues);
	assert_true(m.found);
	assert_int_equal(m.address, 0x83801000u);
	assert_memory_equal(m.type, types, 0x400);
}

static void non_pae_entries_cover_4_mib(void **state)
{
	static const struct nm_module kernel[1] = { { .base = 0x80800000u, .size = KERNEL_SIZE } };
	struct nm_system_va_clues c = { 0x80800000u, KERNEL_SIZE, 0x81000000u, kernel, 1, 6002 };
	struct nm_system_va_map m;
	uint8_t t[0x200] = { 0 };

	(void)state;
	memset(&mem, 0, sizeof(mem));
	for (uint32_t off = 0; off < KERNEL_SIZE; off += 4096)
		fake_page(&mem, 0x80800000u + off, NM_PAGE_VALID);
	t[2] = 3;		/* 0x80800000 */
	t[4] = 4;		/* 0x81000000 */
	t[5] = 5;
	fake_put(&mem, 0x80800000u + 0x200, (uint8_t[]){ 0xEE }, 1);
	fake_put(&mem, 0x80800000u + 0x201, t, sizeof(t));
	fake_put(&mem, 0x80800000u + 0x401, (uint8_t[]){ 0xEE }, 1);
	locate(&m, false, &c);
	assert_true(m.found);
	assert_int_equal(m.entries, 0x200);
	assert_int_equal(m.shift, 22);
	assert_int_equal(m.address, 0x80800201u);
	assert_int_equal(nm_system_va_entry_start(&m, 5), 0x81400000u);
}

static void arrays_that_contradict_the_dump_are_refused(void **state)
{
	struct nm_system_va_map m;
	struct nm_system_va_clues c = clues;
	const struct nm_module far_driver[2] = { images[0], { .base = 0xF0000000u, .size = 0x10000 } };

	(void)state;
	wide_runs();
	kernel_image();
	fill(0x1a, 0x1a, 5);			/* the PFN database is not PfnDatabase */
	fake_put(&mem, KERNEL + 0x1235, types, 0x400);
	locate(&m, true, &clues);
	assert_false(m.found);
	assert_non_null(strstr(m.why, "fits"));
	wide_runs();
	fake_put(&mem, KERNEL + 0x1235, types, 0x400);
	c.images = far_driver;			/* an image in unused space */
	locate(&m, true, &c);
	assert_false(m.found);
	c.kernel_base = 0x7FFF0000u;
	locate(&m, true, &c);
	assert_false(m.found);
	assert_non_null(strstr(m.why, "no kernel image"));
}

/* An image of 3s makes every window a candidate: the search stops. */
static void too_many_lookalike_windows_stop_the_search(void **state)
{
	struct nm_system_va_map m;
	static uint8_t threes[KERNEL_SIZE];

	(void)state;
	kernel_image();
	memset(threes, 3, sizeof(threes));
	fake_put(&mem, KERNEL, threes, sizeof(threes));
	locate(&m, true, &clues);
	assert_false(m.found);
	assert_non_null(strstr(m.why, "look like the array"));
}

static void values_are_named_by_build(void **state)
{
	(void)state;
	assert_string_equal(nm_system_va_type_region(6, 6002), "paged_pool");
	assert_string_equal(nm_system_va_type_region(7, 6002), "special_pool");
	assert_string_equal(nm_system_va_type_region(7, 7601), "special_pool_paged");
	assert_string_equal(nm_system_va_type_region(13, 7601), "special_pool_nonpaged");
	assert_null(nm_system_va_type_region(14, 7601));
	assert_string_equal(nm_system_va_type_region(14, 9600), "paged_proto_pool");
	assert_string_equal(nm_system_va_type_region(13, 19041), "system_ptes_large");
	assert_string_equal(nm_system_va_type_name(15, 19041), "SecureNonPagedPool");
	assert_null(nm_system_va_type_region(0, 7601));
	assert_null(nm_system_va_type_region(16, 7601));
}

/* The map: runs of one type, unused space left out, the fixed window kept
 * whole and cut out of any run that crosses it, session space once. */
static void found_map_gives_the_regions(void **state)
{
	struct nm_va_map *m = calloc(1, sizeof(*m));
	struct nm_vmem v;

	(void)state;
	assert_non_null(m);
	memset(&mem, 0, sizeof(mem));
	v = fake_vmem(&mem);
	m->dynamic_va = true;
	m->build = 7601;
	nm_va_map_set(m, NM_VAR_MM_SESSION_BASE, 0x82b00000u, 0x8f800000u);
	nm_va_map_set(m, NM_VAR_MM_SESSION_SIZE, 0x82b00004u, 0x400000u);
	m->va_types.found = true;
	m->va_types.entries = 0x400;
	m->va_types.shift = 21;
	m->va_types.type[0x7c] = m->va_types.type[0x7d] = 1;
	for (unsigned i = 0x1ff; i <= 0x207; i++)
		m->va_types.type[i] = 9;	/* 0xbfe00000..0xc1000000 */
	nm_va_map_derive(m, &v, &nm_mode_x86_pae.self_map);
	assert_int_equal(m->nregions, 5);
	assert_string_equal(m->regions[0].name, "session_space");
	assert_int_equal(m->regions[0].start, 0x8f800000u);
	assert_int_equal(m->regions[0].end, 0x8fc00000u);
	assert_non_null(strstr(m->regions[0].source, "MiSystemVaType[0x7c..0x7d] = 1 SessionSpace"));
	assert_string_equal(m->regions[1].name, "system_ptes");
	assert_int_equal(m->regions[1].start, 0xbfe00000u);
	assert_int_equal(m->regions[1].end, 0xc0000000u);
	assert_string_equal(m->regions[2].name, "page_tables");
	assert_string_equal(m->regions[3].name, "hyperspace");
	assert_string_equal(m->regions[4].name, "system_ptes");
	assert_int_equal(m->regions[4].start, 0xc0c00000u);
	assert_int_equal(m->regions[4].end, 0xc1000000u);
	assert_int_equal(m->noverlaps, 0);
	m->va_types.found = false;		/* not found: only the fixed map */
	nm_va_map_derive(m, &v, &nm_mode_x86_pae.self_map);
	assert_int_equal(m->nregions, 3);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(array_in_the_kernel_image_is_found),
		cmocka_unit_test(shifted_windows_without_page_directory_are_refused),
		cmocka_unit_test(pointer_to_the_array_is_followed),
		cmocka_unit_test(non_pae_entries_cover_4_mib),
		cmocka_unit_test(arrays_that_contradict_the_dump_are_refused),
		cmocka_unit_test(too_many_lookalike_windows_stop_the_search),
		cmocka_unit_test(values_are_named_by_build),
		cmocka_unit_test(found_map_gives_the_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
