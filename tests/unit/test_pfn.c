/* MMPFN decoding per version layout, and the self-map helpers. Entries are
 * built byte by byte from the field offsets of docs/mmpfn.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/pfn.h>

static void put16(uint8_t *b, unsigned off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, unsigned off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

static void self_map(void **state)
{
	(void)state;
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86.self_map, 0xf7e8b000), 0xc03dfa2c);
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86_pae.self_map, 0xf7e8b000), 0xc07bf458);
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86.self_map, 0x00000000), 0xc0000000);
	assert_int_equal(nm_self_map_va_of_pte(&nm_mode_x86.self_map, 0xc03dfa2c), 0xf7e8b000);
	assert_int_equal(nm_self_map_va_of_pte(&nm_mode_x86_pae.self_map, 0xc07bf458), 0xf7e8b000);
	/* The page directory maps itself: its PTE address is in the self-map. */
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86.self_map, 0xc0000000), 0xc0300000);
	assert_int_equal(nm_self_map_pte_address(&nm_mode_x86.self_map, 0xc0300000), 0xc0300c00);
}

/* XP: flags word at +0x0C (PageLocation bits 8-10), ReferenceCount +0x0E. */
static void xp_entry(void **state)
{
	const struct nm_version *xp = nm_version_for_build(2600);
	uint8_t e[0x18] = { 0 };
	struct nm_pfn_entry out;

	(void)state;
	put32(e, 0x04, 0xc03dfa2c);
	put32(e, 0x08, 1);			/* ShareCount */
	put16(e, 0x0C, 6u << 8);		/* active */
	put16(e, 0x0E, 1);			/* ReferenceCount */
	put32(e, 0x10, 0x000004c0);		/* OriginalPte */
	put32(e, 0x14, 0x0c000123);		/* PteFrame 0x123 + flag bits above 26 */
	memset(&out, 0, sizeof(out));
	nm_pfn_decode(e, &xp->mmpfn, &nm_mode_x86.self_map, &out);
	assert_true(out.readable);
	assert_int_equal(out.pte_address, 0xc03dfa2c);
	assert_true(out.has_va);
	assert_int_equal(out.va, 0xf7e8b000);
	assert_int_equal(out.list, NM_PFN_ACTIVE);
	assert_int_equal(out.share_count, 1);
	assert_int_equal(out.reference_count, 1);
	assert_int_equal(out.original_pte, 0x4c0);
	assert_int_equal(out.pte_frame, 0x0000123);
	assert_string_equal(nm_pfn_list_name(out.list), "active");
}

/* 2003 swaps the two halves of u3: ReferenceCount at +0x0C, flags at +0x0E. */
static void server2003_entry(void **state)
{
	const struct nm_version *s03 = nm_version_for_build(3790);
	uint8_t e[0x18] = { 0 };
	struct nm_pfn_entry out;

	(void)state;
	put32(e, 0x04, 0x12345678);		/* a prototype PTE in paged pool */
	put16(e, 0x0C, 3);
	put16(e, 0x0E, 2u << 8);		/* standby */
	memset(&out, 0, sizeof(out));
	nm_pfn_decode(e, &s03->mmpfn, &nm_mode_x86.self_map, &out);
	assert_int_equal(out.reference_count, 3);
	assert_int_equal(out.list, NM_PFN_STANDBY);
	assert_false(out.has_va);
}

/* Vista/7: ShareCount +0x04, PteAddress +0x08 (bit 0 is a lock),
 * PageLocation in bits 0-2 of the byte at +0x0E; PAE OriginalPte is 8 bytes. */
static void win7_pae_entry(void **state)
{
	const struct nm_version *w7 = nm_version_for_build(7601);
	uint8_t e[0x1C] = { 0 };
	struct nm_pfn_entry out;

	(void)state;
	assert_int_equal(w7->mmpfn_pae.entry_size, 0x1C);
	put32(e, 0x04, 2);
	put32(e, 0x08, 0xc07bf458 | 1);
	put16(e, 0x0C, 1);
	put16(e, 0x0E, 0x05);			/* bad */
	put32(e, 0x10, 0x00000080);
	put32(e, 0x14, 0x00000001);		/* high half of the 8-byte OriginalPte */
	put32(e, 0x18, 0x1ffffff);
	memset(&out, 0, sizeof(out));
	nm_pfn_decode(e, &w7->mmpfn_pae, &nm_mode_x86_pae.self_map, &out);
	assert_int_equal(out.share_count, 2);
	assert_int_equal(out.pte_address, 0xc07bf458);
	assert_int_equal(out.va, 0xf7e8b000);
	assert_int_equal(out.list, NM_PFN_BAD);
	assert_int_equal(out.original_pte, 0x100000080ull);
	assert_int_equal(out.pte_frame, 0x1ffffff);
}

static void list_names(void **state)
{
	static const char *const want[] = { "zeroed", "free", "standby", "modified",
		"modified_no_write", "bad", "active", "transition", "unknown" };

	(void)state;
	for (int i = 0; i <= NM_PFN_UNKNOWN; i++)
		assert_string_equal(nm_pfn_list_name((enum nm_pfn_list)i), want[i]);
	assert_string_equal(nm_pfn_list_name((enum nm_pfn_list)42), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(self_map),
		cmocka_unit_test(xp_entry),
		cmocka_unit_test(server2003_entry),
		cmocka_unit_test(win7_pae_entry),
		cmocka_unit_test(list_names),
	};
	return cmocka_run_group_tests_name("pfn", tests, NULL, NULL);
}
