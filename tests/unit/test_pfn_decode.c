/* MMPFN entries built by hand from the published layouts
 * (../shared/reference/windows-dump-formats.md §9: XP keeps the 16-bit flags
 * at +0x0C and ReferenceCount at +0x0E, Server 2003 swaps them; PAE widens
 * OriginalPte at +0x10 to 8 bytes) and decoded with the version table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/pfn.h>
#include <ntmem/version.h>

#define BUILD_XP 2600
#define BUILD_2003 3790
#define SEED_PTE 0xC03DFA2Cu		/* PTE of 0xF7E8B000 (srv.sys), non-PAE */
#define SEED_PTE_PAE 0xC07BF458u	/* the same VA under PAE */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

/* The fields every x86 MMPFN of XP and 2003 has in the same place. */
static void common_fields(uint8_t *e, uint32_t pte_address)
{
	memset(e, 0xEE, 64);
	put32(e + 0x00, 0xFFFFFFFF);		/* u1: no list link */
	put32(e + 0x04, pte_address);
	put32(e + 0x08, 0x64DB);		/* u2.ShareCount: the seed's Arg3 */
}

static const struct nm_mmpfn_layout *layout(uint32_t build, bool pae)
{
	const struct nm_version *v = nm_version_for_build(build);

	assert_non_null(v);
	return pae ? &v->mmpfn_pae : &v->mmpfn;
}

static void xp_layout_is_the_published_one(void **state)
{
	const struct nm_mmpfn_layout *xp = layout(BUILD_XP, false);
	const struct nm_mmpfn_layout *s03 = layout(BUILD_2003, false);

	(void)state;
	assert_int_equal(xp->entry_size, 0x18);
	assert_int_equal(xp->pte_address, 0x04);
	assert_int_equal(xp->share_count, 0x08);
	assert_int_equal(xp->flags, 0x0C);
	assert_int_equal(xp->reference_count, 0x0E);
	assert_int_equal(xp->original_pte, 0x10);
	assert_int_equal(s03->entry_size, 0x18);
	assert_int_equal(s03->reference_count, 0x0C);
	assert_int_equal(s03->flags, 0x0E);
	assert_true(layout(BUILD_XP, true)->entry_size > 0x18);
}

static void xp_entry_of_an_active_driver_page(void **state)
{
	uint8_t e[64];
	struct nm_pfn_entry out;

	(void)state;
	common_fields(e, SEED_PTE);
	put16(e + 0x0C, 6 << 8);		/* PageLocation 6: active */
	put16(e + 0x0E, 1);			/* ReferenceCount */
	put32(e + 0x10, 0x000004C0);		/* OriginalPte */
	put32(e + 0x14, 0x39);			/* u4.PteFrame */
	memset(&out, 0, sizeof(out));
	nm_pfn_decode(e, layout(BUILD_XP, false), &nm_mode_x86.self_map, &out);
	assert_true(out.readable);
	assert_int_equal(out.list, NM_PFN_ACTIVE);
	assert_string_equal(nm_pfn_list_name(out.list), "active");
	assert_int_equal(out.reference_count, 1);
	assert_int_equal(out.share_count, 0x64DB);
	assert_int_equal(out.pte_address, SEED_PTE);
	assert_int_equal(out.original_pte, 0x4C0);
	assert_int_equal(out.pte_frame, 0x39);
	assert_true(out.has_va);
	assert_int_equal(out.va, 0xF7E8B000);
}

static void server_2003_swaps_flags_and_reference_count(void **state)
{
	uint8_t e[64];
	struct nm_pfn_entry s03, misread;

	(void)state;
	common_fields(e, SEED_PTE);
	put16(e + 0x0C, 3);			/* ReferenceCount */
	put16(e + 0x0E, 2 << 8);		/* PageLocation 2: standby */
	put32(e + 0x10, 0);
	put32(e + 0x14, 0x39);
	memset(&s03, 0, sizeof(s03));
	nm_pfn_decode(e, layout(BUILD_2003, false), &nm_mode_x86.self_map, &s03);
	assert_int_equal(s03.list, NM_PFN_STANDBY);
	assert_int_equal(s03.reference_count, 3);
	/* Read with the XP order the same bytes say something else. */
	memset(&misread, 0, sizeof(misread));
	nm_pfn_decode(e, layout(BUILD_XP, false), &nm_mode_x86.self_map, &misread);
	assert_int_equal(misread.reference_count, 2 << 8);
	assert_int_equal(misread.list, NM_PFN_ZEROED);
}

static void every_list_value_has_its_name(void **state)
{
	static const char *const names[] = { "zeroed", "free", "standby", "modified",
		"modified_no_write", "bad", "active", "transition" };
	uint8_t e[64];
	struct nm_pfn_entry out;

	(void)state;
	for (unsigned loc = 0; loc < 8; loc++) {
		common_fields(e, SEED_PTE);
		put16(e + 0x0C, (uint16_t)(loc << 8 | 0xF8FF));	/* other flag bits set */
		put16(e + 0x0E, 0);
		nm_pfn_decode(e, layout(BUILD_XP, false), &nm_mode_x86.self_map, &out);
		assert_int_equal(out.list, loc);
		assert_string_equal(nm_pfn_list_name(out.list), names[loc]);
	}
	assert_string_equal(nm_pfn_list_name(NM_PFN_UNKNOWN), "unknown");
}

static void pae_entry_has_a_64_bit_original_pte(void **state)
{
	const struct nm_mmpfn_layout *l = layout(BUILD_XP, true);
	uint8_t e[64];
	struct nm_pfn_entry out;

	(void)state;
	assert_int_equal(l->original_pte, 0x10);
	common_fields(e, SEED_PTE_PAE);
	put16(e + 0x0C, 6 << 8);
	put16(e + 0x0E, 2);
	put32(e + 0x10, 0x000004C0);
	put32(e + 0x14, 0x80000000);		/* high half: NX */
	memset(&out, 0, sizeof(out));
	nm_pfn_decode(e, l, &nm_mode_x86_pae.self_map, &out);
	assert_int_equal(out.original_pte, 0x80000000000004C0ULL);
	assert_int_equal(out.reference_count, 2);
	assert_int_equal(out.list, NM_PFN_ACTIVE);
	assert_true(out.has_va);
	assert_int_equal(out.va, 0xF7E8B000);
}

static void pte_address_outside_the_self_map_has_no_va(void **state)
{
	uint8_t e[64];
	struct nm_pfn_entry out;

	(void)state;
	common_fields(e, 0xE1234568);		/* a prototype PTE in paged pool */
	put16(e + 0x0C, 6 << 8);
	nm_pfn_decode(e, layout(BUILD_XP, false), &nm_mode_x86.self_map, &out);
	assert_false(out.has_va);
	common_fields(e, 0xC0400000);		/* just past the non-PAE window */
	nm_pfn_decode(e, layout(BUILD_XP, false), &nm_mode_x86.self_map, &out);
	assert_false(out.has_va);
	nm_pfn_decode(e, layout(BUILD_XP, true), &nm_mode_x86_pae.self_map, &out);	/* inside the PAE one */
	assert_true(out.has_va);
}

static void self_map_arithmetic(void **state)
{
	(void)state;
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86.self_map, 0xF7E8B000), SEED_PTE);
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86_pae.self_map, 0xF7E8B000), SEED_PTE_PAE);
	assert_int_equal(nm_self_map_va_of_pte(&nm_mode_x86.self_map, SEED_PTE), 0xF7E8B000);
	assert_int_equal(nm_self_map_va_of_pte(&nm_mode_x86_pae.self_map, SEED_PTE_PAE), 0xF7E8B000);
	assert_int_equal(nm_self_map_va_of_pte(&nm_mode_x86.self_map, 0xC0000000), 0);
	/* The page directory is the PTE page of the self-map itself. */
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86.self_map, 0xC0000000), 0xC0300000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xp_layout_is_the_published_one),
		cmocka_unit_test(xp_entry_of_an_active_driver_page),
		cmocka_unit_test(server_2003_swaps_flags_and_reference_count),
		cmocka_unit_test(every_list_value_has_its_name),
		cmocka_unit_test(pae_entry_has_a_64_bit_original_pte),
		cmocka_unit_test(pte_address_outside_the_self_map_has_no_va),
		cmocka_unit_test(self_map_arithmetic),
	};
	return cmocka_run_group_tests_name("pfn_decode", tests, NULL, NULL);
}
