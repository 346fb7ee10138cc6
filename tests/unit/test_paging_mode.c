/* The paging-mode descriptors: shapes, masks and the self-map arithmetic,
 * against values written from the public sources (docs/pte-formats.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ntmem/paging_mode.h>
#include <ntmem/swpte.h>

static const struct nm_paging_mode *const modes[] = { &nm_mode_x86, &nm_mode_x86_pae, &nm_mode_x64 };

/* The index bits of every level and the page offset add up to the VA
 * width; the levels run top first and end at the PTE. */
static void shapes_cover_the_address_space(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const struct nm_paging_mode *m = modes[i];
		unsigned bits = 12;

		for (unsigned l = 0; l < m->nlevels; l++) {
			bits += m->levels[l].bits;
			assert_int_equal(m->levels[l].shift + m->levels[l].bits,
					 l == 0 ? m->va_bits : m->levels[l - 1].shift);
		}
		assert_int_equal(bits, m->va_bits);
		assert_int_equal(m->levels[m->nlevels - 1].level, NM_LEVEL_PTE);
		assert_ptr_equal(m->self_map.mode, m);
	}
}

static void level_names_are_the_contract_s(void **state)
{
	(void)state;
	assert_string_equal(nm_paging_level_name(NM_LEVEL_PML4E), "pml4e");
	assert_string_equal(nm_paging_level_name(NM_LEVEL_PDPTE), "pdpte");
	assert_string_equal(nm_paging_level_name(NM_LEVEL_PDE), "pde");
	assert_string_equal(nm_paging_level_name(NM_LEVEL_PTE), "pte");
}

/* x86: PTE_BASE 0xC0000000, PDE_BASE 0xC0300000 (ROS mm.h, CR4SH); PAE:
 * PDE_BASE 0xC0600000; windows 4 MiB / 8 MiB of PTEs, 4 KiB / 16 KiB of PDEs. */
static void x86_self_maps(void **state)
{
	const struct nm_self_map *x = &nm_mode_x86.self_map, *p = &nm_mode_x86_pae.self_map;

	(void)state;
	assert_int_equal(nm_self_map_pde_base(x), 0xC0300000u);
	assert_int_equal(nm_self_map_pde_base(p), 0xC0600000u);
	assert_int_equal(nm_self_map_pte_window(x), 0x400000u);
	assert_int_equal(nm_self_map_pte_window(p), 0x800000u);
	assert_int_equal(nm_self_map_pde_window(x), 0x1000u);
	assert_int_equal(nm_self_map_pde_window(p), 0x4000u);
	assert_int_equal(nm_self_map_pde_address(x, 0x80000000u), 0xC0300800u);
	assert_int_equal(nm_self_map_pde_address(p, 0x80000000u), 0xC0602000u);
	assert_int_equal(nm_self_map_pte_address(p, 0xFFFFF000u), 0xC07FFFF8u);
	assert_true(nm_self_map_holds_pde(p, 0xC0603FF8u));
	assert_false(nm_self_map_holds_pde(p, 0xC0604000u));
	assert_false(nm_self_map_holds_pde(x, 0xC0300002u));
	assert_int_equal(nm_self_map_va_of_pde(p, 0xC0602008u), 0x80200000u);
	assert_int_equal(nm_self_map_va_of_pde(x, 0xC0300804u), 0x80400000u);
	/* The self-map maps itself: the PDE of PTE_BASE is PDE_BASE's own PTE. */
	assert_int_equal(nm_self_map_va_of_pte(x, nm_self_map_pde_base(x)), 0xC0000000u);
}

/* A PAE entry's frame runs to bit 51 (Intel SDM table 4-11), beyond the
 * 36 bits (12-47) one caller once used and the 24 of XP's own headers. */
static void pae_frames_reach_bit_51(void **state)
{
	uint64_t pfn = 0;

	(void)state;
	assert_true(nm_mode_pte_frame(&nm_mode_x86_pae, NM_PTE_LAYOUT_VISTA,
				      UINT64_C(0x800F000000123063), &pfn));
	assert_int_equal(pfn, UINT64_C(0xF000000123));
	/* Transition frames follow the layout: 26 bits from Windows 7, 24 on XP. */
	assert_true(nm_mode_pte_frame(&nm_mode_x86_pae, NM_PTE_LAYOUT_VISTA,
				      UINT64_C(0x0000003000123860), &pfn));
	assert_int_equal(pfn, UINT64_C(0x3000123));
	assert_true(nm_mode_pte_frame(&nm_mode_x86_pae, NM_PTE_LAYOUT_XP,
				      UINT64_C(0x0000003000123860), &pfn));
	assert_int_equal(pfn, UINT64_C(0x123));
	/* Non-PAE: bits 12-31 only; a prototype or software PTE names no frame. */
	assert_true(nm_mode_pte_frame(&nm_mode_x86, NM_PTE_LAYOUT_XP, 0xFEDCB863u, &pfn));
	assert_int_equal(pfn, 0xFEDCBu);
	assert_false(nm_mode_pte_frame(&nm_mode_x86, NM_PTE_LAYOUT_XP, 0xE1000C00u, &pfn));
	assert_false(nm_mode_pte_frame(&nm_mode_x86, NM_PTE_LAYOUT_XP, 0x00001080u, &pfn));
}

static void roots(void **state)
{
	(void)state;
	assert_int_equal(0x319020u & nm_mode_x86_pae.root_mask, 0x319020u);
	assert_int_equal(0x31903Fu & nm_mode_x86_pae.root_mask, 0x319020u);
	assert_int_equal(0x39FFFu & nm_mode_x86.root_mask, 0x39000u);
	assert_true(nm_mode_va_canonical(&nm_mode_x86, 0xFFFFFFFFu));
	assert_false(nm_mode_va_canonical(&nm_mode_x86, 0x100000000ull));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shapes_cover_the_address_space),
		cmocka_unit_test(level_names_are_the_contract_s),
		cmocka_unit_test(x86_self_maps),
		cmocka_unit_test(pae_frames_reach_bit_51),
		cmocka_unit_test(roots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
