/* The per-version table: row choice by build and by KDBG size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ntmem/version.h>

static void rows_by_build(void **state)
{
	(void)state;
	assert_int_equal(nm_version_for_build(2600)->kdbg_size, 0x290);
	assert_int_equal(nm_version_for_build(3790)->kdbg_size, 0x318);
	assert_int_equal(nm_version_for_build(6000)->kdbg_size, 0x328);
	assert_int_equal(nm_version_for_build(6002)->kdbg_size, 0x330);
	assert_int_equal(nm_version_for_build(7601)->kdbg_size, 0x340);
	assert_int_equal(nm_version_for_build(9200)->kdbg_size, 0x360);
	assert_int_equal(nm_version_for_build(9600)->kdbg_size, 0x360);
	assert_int_equal(nm_version_for_build(10586)->kdbg_size, 0x360);
	assert_int_equal(nm_version_for_build(15063)->kdbg_size, 0x368);
	assert_int_equal(nm_version_for_build(19041)->kdbg_size, 0x380);
	/* Unknown or missing builds get the nearest older row, never NULL. */
	assert_int_equal(nm_version_for_build(0)->first_build, 2600);
	assert_int_equal(nm_version_for_build(5000)->first_build, 3790);
}

static void facts_per_row(void **state)
{
	const struct nm_version *xp = nm_version_for_build(2600);
	const struct nm_version *w7 = nm_version_for_build(7600);

	(void)state;
	assert_false(xp->dynamic_va);
	assert_int_equal(xp->pte_layout, NM_PTE_LAYOUT_XP);
	assert_true(w7->dynamic_va);
	assert_int_equal(w7->pte_layout, NM_PTE_LAYOUT_VISTA);
	assert_int_equal(nm_version_for_build(9200)->pte_layout, NM_PTE_LAYOUT_WIN8);
	assert_int_equal(nm_version_for_build(17763)->pte_layout, NM_PTE_LAYOUT_WIN10_L1TF);
	/* XP and 2003 differ in the order of ReferenceCount and the flags. */
	assert_int_equal(xp->mmpfn.reference_count, 0x0E);
	assert_int_equal(nm_version_for_build(3790)->mmpfn.reference_count, 0x0C);
	assert_int_equal(xp->mmpfn.entry_size, 0x18);
	assert_int_equal(xp->mmpfn_pae.entry_size, 0x1C);
}

static void rows_by_kdbg_size(void **state)
{
	(void)state;
	assert_int_equal(nm_version_for_kdbg_size(0x290)->first_build, 2600);
	assert_int_equal(nm_version_for_kdbg_size(0x318)->first_build, 3790);
	assert_int_equal(nm_version_for_kdbg_size(0x340)->first_build, 7600);
	assert_int_equal(nm_version_for_kdbg_size(0x360)->first_build, 9200);
	assert_null(nm_version_for_kdbg_size(0x300));
	assert_null(nm_version_for_kdbg_size(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rows_by_build),
		cmocka_unit_test(facts_per_row),
		cmocka_unit_test(rows_by_kdbg_size),
	};
	return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
