/* Every invalid-PTE form, non-PAE and PAE, from hand-built values that follow
 * the bit layouts of docs/pte-formats.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ntmem/swpte.h>

static const struct nm_swpte_bases xp_bases = {
	.proto_base = 0xE1000000u, .subsection_base = 0x81000000u, .nonpaged_pool_end = 0xFFBE0000u,
};

static struct nm_swpte decode(uint64_t pte, bool pae, enum nm_pte_layout layout, bool proto)
{
	struct nm_swpte sw;

	nm_swpte_decode(pae ? &nm_mode_x86_pae : &nm_mode_x86, pte, layout, &xp_bases, proto, &sw);
	return sw;
}

static void nonpae_transition(void **state)
{
	/* PFN 0x1234, Transition bit 11, Prototype clear, protection 4 (READWRITE). */
	struct nm_swpte sw = decode(0x01234000u | 0x800 | (4 << 5), false, NM_PTE_LAYOUT_XP, false);

	(void)state;
	assert_int_equal(sw.state, NM_PAGE_TRANSITION);
	assert_int_equal(sw.pfn, 0x1234);
	assert_int_equal(sw.protection, 4);
}

static void nonpae_pagefile(void **state)
{
	/* PageFileLow 1-4 = 2, Protection 5-9 = 1, PageFileHigh 12-31 = 0xABCDE. */
	struct nm_swpte sw = decode((0xABCDEu << 12) | (2 << 1) | (1 << 5), false, NM_PTE_LAYOUT_XP, false);

	(void)state;
	assert_int_equal(sw.state, NM_PAGE_PAGEFILE);
	assert_int_equal(sw.pagefile_number, 2);
	assert_int_equal(sw.pagefile_offset, 0xABCDE000u);
	assert_int_equal(sw.protection, 1);
}

static void nonpae_demand_zero_and_nothing(void **state)
{
	(void)state;
	assert_int_equal(decode(4 << 5, false, NM_PTE_LAYOUT_XP, false).state, NM_PAGE_DEMAND_ZERO);
	assert_int_equal(decode(0, false, NM_PTE_LAYOUT_XP, false).state, NM_PAGE_NOT_MAPPED);
	/* Protection 0x10 alone: decommitted. */
	assert_int_equal(decode(0x10 << 5, false, NM_PTE_LAYOUT_XP, false).state, NM_PAGE_NOT_MAPPED);
	/* A page file location but protection 0: no access. */
	assert_int_equal(decode(0x5000 | (1 << 1), false, NM_PTE_LAYOUT_XP, false).state, NM_PAGE_NOT_MAPPED);
	/* Page number all ones: the VAD decides (user space). */
	assert_int_equal(decode(0xFFFFF000u | (4 << 5), false, NM_PTE_LAYOUT_XP, false).state, NM_PAGE_NOT_MAPPED);
}

static void nonpae_xp_prototype(void **state)
{
	/* Offset 0x2468AC from the base: Low (bits 1-7) = (off >> 2) & 0x7F,
	 * High (bits 11-31) = off >> 9. */
	uint32_t off = 0x2468AC;
	uint32_t pte = ((off >> 9) << 11) | (1u << 10) | (((off >> 2) & 0x7F) << 1);
	struct nm_swpte sw = decode(pte, false, NM_PTE_LAYOUT_XP, false);

	(void)state;
	assert_int_equal(sw.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(sw.proto_address, 0xE1000000u + off);
	assert_false(sw.subsection);
}

static void nonpae_xp_prototype_default_base(void **state)
{
	struct nm_swpte sw;
	struct nm_swpte_bases none = { 0, 0, 0, 0 };

	(void)state;
	nm_swpte_decode(&nm_mode_x86, (1u << 11) | (1u << 10) | (1u << 1), NM_PTE_LAYOUT_XP, &none, false, &sw);
	assert_int_equal(sw.proto_address, NM_XP_DEFAULT_PROTO_BASE + 0x200 + 4);
}

static void nonpae_vista_prototype(void **state)
{
	/* Vista/7: Low bits 1-8 (address bits 2-9), High bits 11-31 (address bits
	 * 10-30), plus 0x80000000. Target 0x9A3B5C7C. */
	uint32_t target = 0x9A3B5C7Cu, rel = target & 0x7FFFFFFFu;
	uint32_t pte = ((rel >> 10) << 11) | (1u << 10) | (((rel >> 2) & 0xFF) << 1);
	struct nm_swpte sw = decode(pte, false, NM_PTE_LAYOUT_VISTA, false);

	(void)state;
	assert_int_equal(sw.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(sw.proto_address, target);
}

static void nonpae_xp_subsection(void **state)
{
	/* Inside a prototype PTE the prototype bit means subsection: offset =
	 * (High 11-30 << 7) | (Low 1-4 << 3); WhichPool bit 31 picks the base. */
	uint32_t paged = (1u << 31) | (0x123u << 11) | (1u << 10) | (0x5u << 1);
	uint32_t nonpaged = (0x123u << 11) | (1u << 10) | (0x5u << 1);
	struct nm_swpte a = decode(paged, false, NM_PTE_LAYOUT_XP, true);
	struct nm_swpte b = decode(nonpaged, false, NM_PTE_LAYOUT_XP, true);
	uint32_t off = (0x123u << 7) | (0x5u << 3);

	(void)state;
	assert_true(a.subsection);
	assert_int_equal(a.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(a.subsection_address, 0x81000000u + off);
	assert_int_equal(b.subsection_address, 0xFFBE0000u - off);
}

static void pae_transition(void **state)
{
	/* Win7+ PAE frame is bits 12-37; XP's is 12-35. */
	uint64_t pte = (UINT64_C(0x3123456) << 12) | 0x800 | (4 << 5);

	(void)state;
	assert_int_equal(decode(pte, true, NM_PTE_LAYOUT_VISTA, false).state, NM_PAGE_TRANSITION);
	assert_int_equal(decode(pte, true, NM_PTE_LAYOUT_VISTA, false).pfn, 0x3123456);
	assert_int_equal(decode(pte, true, NM_PTE_LAYOUT_XP, false).pfn, 0x123456);
}

static void pae_pagefile(void **state)
{
	/* XP..Win8: PageFileLow bits 1-4, PageFileHigh in the high dword. */
	uint64_t pte = (UINT64_C(0x00054321) << 32) | (3 << 1) | (4 << 5);
	struct nm_swpte sw = decode(pte, true, NM_PTE_LAYOUT_XP, false);

	(void)state;
	assert_int_equal(sw.state, NM_PAGE_PAGEFILE);
	assert_int_equal(sw.pagefile_number, 3);
	assert_int_equal(sw.pagefile_offset, UINT64_C(0x54321000));
	/* Win10 from 17763: the file number moved to bits 12-15. */
	pte = (UINT64_C(0x00054321) << 32) | (UINT64_C(5) << 12) | (1 << 4) | (4 << 5);
	sw = decode(pte, true, NM_PTE_LAYOUT_WIN10_L1TF, false);
	assert_int_equal(sw.state, NM_PAGE_PAGEFILE);
	assert_int_equal(sw.pagefile_number, 5);
	assert_int_equal(sw.pagefile_offset, UINT64_C(0x54321000));
}

static void pae_demand_zero(void **state)
{
	(void)state;
	assert_int_equal(decode(4 << 5, true, NM_PTE_LAYOUT_XP, false).state, NM_PAGE_DEMAND_ZERO);
	assert_int_equal(decode(0, true, NM_PTE_LAYOUT_WIN8, false).state, NM_PAGE_NOT_MAPPED);
	/* High dword all ones: the VAD decides. */
	assert_int_equal(decode((UINT64_C(0xFFFFFFFF) << 32) | (4 << 5), true, NM_PTE_LAYOUT_XP, false).state,
			 NM_PAGE_NOT_MAPPED);
}

static void pae_prototype(void **state)
{
	/* ProtoAddress is the whole high dword; Protection 11-15 before Win10 L1TF. */
	uint64_t pte = (UINT64_C(0xE1234568) << 32) | (1 << 10) | (UINT64_C(4) << 11);
	struct nm_swpte sw = decode(pte, true, NM_PTE_LAYOUT_XP, false);

	(void)state;
	assert_int_equal(sw.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(sw.proto_address, 0xE1234568u);
	assert_int_equal(sw.protection, 4);
	pte = (UINT64_C(0xE1234568) << 32) | (1 << 10) | (UINT64_C(4) << 5);
	sw = decode(pte, true, NM_PTE_LAYOUT_WIN10_L1TF, false);
	assert_int_equal(sw.proto_address, 0xE1234568u);
	assert_int_equal(sw.protection, 4);
}

static void pae_subsection(void **state)
{
	uint64_t pte = (UINT64_C(0x8A000040) << 32) | (1 << 10) | (1 << 5);
	struct nm_swpte sw = decode(pte, true, NM_PTE_LAYOUT_VISTA, true);

	(void)state;
	assert_true(sw.subsection);
	assert_int_equal(sw.subsection_address, 0x8A000040u);
}

static struct nm_swpte decode_x64(uint64_t pte, enum nm_pte_layout layout, uint64_t swizzle, bool proto)
{
	struct nm_swpte_bases b = { .invalid_pte_mask = swizzle };
	struct nm_swpte sw;

	nm_swpte_decode(&nm_mode_x64, pte, layout, &b, proto, &sw);
	return sw;
}

/* Windows 7 x64 (ntdiff/headers Win7_SP1 MMPTE_*): PageFileLow 1-4,
 * PageFileHigh 32-63; transition PFN 12-47; ProtoAddress signed 16-63 with
 * Protection 11-15; subsection address signed 16-63. */
static void x64_windows7_forms(void **state)
{
	struct nm_swpte sw;

	(void)state;
	sw = decode_x64((UINT64_C(0x0000ABCDE1234) << 12) | 0x800 | (4 << 5), NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_equal(sw.state, NM_PAGE_TRANSITION);
	assert_int_equal(sw.pfn, UINT64_C(0xABCDE1234));
	sw = decode_x64((UINT64_C(0x00012345) << 32) | (3 << 1) | (4 << 5), NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_equal(sw.state, NM_PAGE_PAGEFILE);
	assert_int_equal(sw.pagefile_number, 3);
	assert_int_equal(sw.pagefile_offset, UINT64_C(0x12345000));
	sw = decode_x64(4 << 5, NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_equal(sw.state, NM_PAGE_DEMAND_ZERO);
	sw = decode_x64(UINT64_C(0xFFFFFFFF00000000) | (4 << 5), NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_equal(sw.state, NM_PAGE_NOT_MAPPED);	/* page file "see the VAD" */
	sw = decode_x64(UINT64_C(0x10) << 5, NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_equal(sw.state, NM_PAGE_NOT_MAPPED);	/* decommitted */
	/* Prototype at kernel VA 0xFFFFF8A000123450: bits 16-63 hold it signed. */
	sw = decode_x64((UINT64_C(0xFFFFF8A000123450) << 16) | 0x400 | (UINT64_C(5) << 11),
			NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_equal(sw.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(sw.proto_address, UINT64_C(0xFFFFF8A000123450));
	assert_int_equal(sw.protection, 5);
	sw = decode_x64(UINT64_C(0xFFFFFFFF00000420), NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_equal(sw.state, NM_PAGE_PROTOTYPE);
	assert_int_equal(sw.proto_address, 0);		/* REKALL's VAD marker */
	sw = decode_x64((UINT64_C(0xFFFFFA8001234560) << 16) | 0x400 | (1 << 5), NM_PTE_LAYOUT_VISTA, 0, true);
	assert_true(sw.subsection);
	assert_int_equal(sw.subsection_address, UINT64_C(0xFFFFFA8001234560));
}

/* Windows 10 1809+ x64 (ntdiff/headers Win10_1809_RS5): PageFileLow moved
 * to 12-15, prototype Protection to 5-9, SwizzleBit 4: clear means
 * InvalidPteMask was XORed in (MPFS). */
static void x64_windows10_forms(void **state)
{
	const uint64_t mask = UINT64_C(0x0000200000000000);	/* MPFS's common default */
	struct nm_swpte sw;

	(void)state;
	sw = decode_x64((UINT64_C(0x00012345) << 32) | (3 << 12) | (4 << 5) | 0x10,
			NM_PTE_LAYOUT_WIN10_L1TF, mask, false);
	assert_int_equal(sw.state, NM_PAGE_PAGEFILE);
	assert_int_equal(sw.pagefile_number, 3);
	assert_int_equal(sw.pagefile_offset, UINT64_C(0x12345000));
	/* The same PTE swizzled: bit 4 clear, mask XORed into PageFileHigh. */
	sw = decode_x64(((UINT64_C(0x00012345) << 32) ^ mask) | (3 << 12) | (4 << 5),
			NM_PTE_LAYOUT_WIN10_L1TF, mask, false);
	assert_int_equal(sw.pagefile_offset, UINT64_C(0x12345000));
	/* A swizzled transition PTE: the mask leaves the frame. */
	sw = decode_x64(((UINT64_C(0x1234) << 12) ^ mask) | 0x800 | (4 << 5), NM_PTE_LAYOUT_WIN10_L1TF, mask, false);
	assert_int_equal(sw.state, NM_PAGE_TRANSITION);
	assert_int_equal(sw.pfn, 0x1234);
	/* Unknown mask: nothing is undone (the frame then lies past any dump). */
	sw = decode_x64(((UINT64_C(0x1234) << 12) ^ mask) | 0x800 | (4 << 5), NM_PTE_LAYOUT_WIN10_L1TF, 0, false);
	assert_int_equal(sw.pfn, UINT64_C(0x200001234));	/* bit 45 of the PTE is PFN bit 33 */
	sw = decode_x64((UINT64_C(0xFFFFF8A000123450) << 16) | 0x400 | 0x10 | (UINT64_C(5) << 5),
			NM_PTE_LAYOUT_WIN10_L1TF, mask, false);
	assert_int_equal(sw.proto_address, UINT64_C(0xFFFFF8A000123450));
	assert_int_equal(sw.protection, 5);
	/* The Windows 7 reading of a Windows 10 page-file PTE names the wrong file. */
	sw = decode_x64((UINT64_C(0x00012345) << 32) | (3 << 12) | (4 << 5) | 0x10, NM_PTE_LAYOUT_VISTA, 0, false);
	assert_int_not_equal(sw.pagefile_number, 3);
}

static void layouts_by_build(void **state)
{
	(void)state;
	assert_int_equal(nm_pte_layout_for_build(2600), NM_PTE_LAYOUT_XP);
	assert_int_equal(nm_pte_layout_for_build(3790), NM_PTE_LAYOUT_XP);
	assert_int_equal(nm_pte_layout_for_build(6002), NM_PTE_LAYOUT_VISTA);
	assert_int_equal(nm_pte_layout_for_build(7601), NM_PTE_LAYOUT_VISTA);
	assert_int_equal(nm_pte_layout_for_build(9600), NM_PTE_LAYOUT_WIN8);
	assert_int_equal(nm_pte_layout_for_build(17134), NM_PTE_LAYOUT_WIN8);
	assert_int_equal(nm_pte_layout_for_build(19041), NM_PTE_LAYOUT_WIN10_L1TF);
	assert_string_equal(nm_pte_layout_name(NM_PTE_LAYOUT_XP), "xp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nonpae_transition),
		cmocka_unit_test(nonpae_pagefile),
		cmocka_unit_test(nonpae_demand_zero_and_nothing),
		cmocka_unit_test(nonpae_xp_prototype),
		cmocka_unit_test(nonpae_xp_prototype_default_base),
		cmocka_unit_test(nonpae_vista_prototype),
		cmocka_unit_test(nonpae_xp_subsection),
		cmocka_unit_test(pae_transition),
		cmocka_unit_test(pae_pagefile),
		cmocka_unit_test(pae_demand_zero),
		cmocka_unit_test(pae_prototype),
		cmocka_unit_test(pae_subsection),
		cmocka_unit_test(x64_windows7_forms),
		cmocka_unit_test(x64_windows10_forms),
		cmocka_unit_test(layouts_by_build),
	};
	return cmocka_run_group_tests_name("swpte", tests, NULL, NULL);
}
