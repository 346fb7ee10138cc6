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
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

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

/* x64 MMPFN (0x30 bytes), offsets written here from the Volatility 2
 * vtypes (win7_sp1_x64: PteAddress +0x10, u2 ShareCount +0x08, u3
 * ReferenceCount +0x18, e1 +0x1A, OriginalPte +0x20, u4 PteFrame +0x28 52
 * bits; win10_x64_19041: PteAddress +0x08, OriginalPte +0x10, u2 +0x18,
 * u3 +0x20, e1 +0x22, u4 +0x28 36 bits), not from ntmem's table. */
#define X64_VA 0xFFFFF88001009000ull
#define X64_SELFMAP 0x1EDu

static void x64_entry(uint8_t *e, uint32_t build, uint64_t pte_address)
{
	bool w10 = build >= 10240;

	memset(e, 0xEE, 64);
	put64(e + 0x00, 0);				/* u1 */
	put64(e + (w10 ? 0x08 : 0x10), pte_address);
	put64(e + (w10 ? 0x18 : 0x08), 0x1234);		/* ShareCount */
	put16(e + (w10 ? 0x20 : 0x18), 3);		/* ReferenceCount */
	e[w10 ? 0x22 : 0x1A] = 0xF0 | 6;		/* PageLocation 6 (active) in bits 0-2 */
	put64(e + (w10 ? 0x10 : 0x20), 0x00000000000004C0ull);	/* OriginalPte */
	put64(e + 0x28, 0xFF00000123456789ull);		/* u4: PteFrame and flags above it */
}

static void x64_layouts_are_the_published_ones(void **state)
{
	const struct nm_mmpfn_layout *w7 = nm_mmpfn_layout_x64(7601), *w8 = nm_mmpfn_layout_x64(9600);
	const struct nm_mmpfn_layout *w10 = nm_mmpfn_layout_x64(19041);

	(void)state;
	assert_int_equal(w7->entry_size, 0x30);
	assert_int_equal(w7->pte_address, 0x10);
	assert_int_equal(w7->original_pte, 0x20);
	assert_int_equal(w8->pte_address, 0x10);
	assert_int_equal(w8->pte_frame_bits, 36);
	assert_int_equal(w10->entry_size, 0x30);
	assert_int_equal(w10->pte_address, 0x08);
	assert_int_equal(w10->original_pte, 0x10);
	assert_int_equal(w10->share_count, 0x18);
	assert_ptr_equal(nm_mmpfn_layout_x64(10240), w10);
	assert_ptr_equal(nm_mmpfn_layout_x64(7600), w7);
	assert_ptr_equal(nm_mmpfn_layout_x64(6001), w7);
}

static void x64_entries_decode(void **state)
{
	static const uint32_t builds[] = { 7601, 19041 };
	struct nm_self_map sm = nm_self_map_x64(X64_SELFMAP);
	uint64_t pte = nm_self_map_pte_address(&sm, X64_VA);
	uint8_t e[64];

	(void)state;
	assert_true(pte == 0xFFFFF6FC40008048ull);	/* 0xFFFFF68000000000 + (VA bits 12-47) * 8 */
	for (unsigned i = 0; i < 2; i++) {
		struct nm_pfn_entry out;
		const struct nm_mmpfn_layout *l = nm_mmpfn_layout_x64(builds[i]);

		x64_entry(e, builds[i], pte | 1);	/* bit 0: the entry's lock */
		memset(&out, 0, sizeof(out));
		nm_pfn_decode(e, l, &sm, &out);
		assert_true(out.pte_address == pte);
		assert_true(out.has_va);
		assert_true(out.va == X64_VA);
		assert_int_equal(out.list, NM_PFN_ACTIVE);
		assert_int_equal(out.reference_count, 3);
		assert_int_equal(out.share_count, 0x1234);
		assert_true(out.original_pte == 0x4C0);
		assert_true(out.pte_frame == (builds[i] >= 10240 ? 0x123456789ull : 0x0000000123456789ull));
	}
	/* Windows 7's layout read as Windows 10's finds no owner there (the
	 * Windows 7 PteAddress slot +0x10 is Windows 10's OriginalPte) */
	x64_entry(e, 7601, pte);
	{
		struct nm_pfn_entry out;

		nm_pfn_decode(e, nm_mmpfn_layout_x64(19041), &sm, &out);
		assert_false(out.pte_address == pte);
	}
}

static void x64_pte_address_is_made_canonical(void **state)
{
	struct nm_self_map sm = nm_self_map_x64(X64_SELFMAP);
	uint64_t pte = nm_self_map_pte_address(&sm, X64_VA);
	struct nm_pfn_entry out;
	uint8_t e[64];

	(void)state;
	/* a flag in bit 63 and a lock in bit 0 change nothing: bits 48-63
	 * follow bit 47 */
	x64_entry(e, 19041, (pte & 0x0000FFFFFFFFFFFFull) | 1);
	nm_pfn_decode(e, nm_mmpfn_layout_x64(19041), &sm, &out);
	assert_true(out.pte_address == pte);
	assert_true(out.va == X64_VA);
	/* a prototype PTE in paged pool: outside the self-map, no VA */
	x64_entry(e, 19041, 0xFFFFF8A000123450ull);
	nm_pfn_decode(e, nm_mmpfn_layout_x64(19041), &sm, &out);
	assert_false(out.has_va);
	assert_true(out.va == 0);
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
		cmocka_unit_test(x64_layouts_are_the_published_ones),
		cmocka_unit_test(x64_entries_decode),
		cmocka_unit_test(x64_pte_address_is_made_canonical),
	};
	return cmocka_run_group_tests_name("pfn_decode", tests, NULL, NULL);
}
