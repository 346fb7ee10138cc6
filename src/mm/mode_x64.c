/* x64 (IA-32e 4-level paging): four levels of 8-byte entries (9 + 9 + 9 +
 * 9 + 12 bits of a canonical 48-bit VA), 2 MiB pages at the PDE and 1 GiB
 * pages at the PDPTE, and the Windows invalid-PTE forms of the x64 MMPTE
 * in the Windows 7 and the Windows 10 (17763+) layouts. Every value and
 * its source: docs/pte-formats.md ("x64"). */
#include <libkdumpfile/addrxlat.h>

#include <ntmem/swpte.h>

/* Physical address bits of an entry, and of CR3: 12 to MAXPHYADDR-1, at
 * most 52 (Intel SDM vol. 3A 4.5, tables 4-14 to 4-20). The low 12 bits of
 * CR3 hold PCID or PWT/PCD flags and bit 63 a no-flush flag (4.10.4.1):
 * none of them is address. */
#define FRAME_MASK UINT64_C(0x000FFFFFFFFFF000)

/* Transition PageFrameNumber: 36 bits at 12 in every symbol set read
 * (ntdiff/headers Win7_SP1, Win10_1803_RS4, Win10_1809_RS5 MMPTE_TRANSITION). */
#define TRANSITION_FRAME UINT64_C(0x0000FFFFFFFFF000)

/* Before Windows 10 1607 the self-map is PML4 entry 0x1ED: PTE_BASE
 * 0xFFFFF68000000000 (WRK-derived amd64 mi.h in driver headers of the code
 * index, Volatility/Rekall x64 profiles). From 1607 the index is random and
 * the translator reads it from the PML4 (nm_self_map_x64). */
#define DEFAULT_SELF_MAP_INDEX 0x1EDu

/* SwizzleBit (bit 4) of the Windows 10 17763+ invalid forms: clear means
 * the kernel XORed MiState.Hardware.InvalidPteMask into the PTE (MPFS). */
#define SWIZZLE_BIT (UINT64_C(1) << 4)

/* ProtoAddress and SubsectionAddress: a signed 48-bit field at bit 16 in
 * every x64 symbol set, so the VA is the PTE shifted right arithmetically. */
static uint64_t signed_address(uint64_t pte)
{
	return (uint64_t)((int64_t)pte >> 16);
}

static bool l1tf(enum nm_pte_layout layout)
{
	return layout == NM_PTE_LAYOUT_WIN10_L1TF;
}

/* Prototype: Protection 11-15 up to Windows 10 1803, 5-9 from 1809 (where
 * SwizzleBit took bit 4). ProtoAddress with a high dword of all ones is the
 * "look at the VAD" marker (REKALL: 0xffffffff00000420). */
static void decode_prototype(uint64_t pte, enum nm_pte_layout layout, struct nm_swpte *out)
{
	out->state = NM_PAGE_PROTOTYPE;
	out->proto_address = (pte >> 32) == 0xFFFFFFFFu ? 0 : signed_address(pte);
	out->protection = l1tf(layout) ? nm_pte_protection(pte) : (unsigned)(pte >> 11) & 0x1F;
}

/* Software PTE: PageFileHigh 32-63 in both layouts; PageFileLow 1-4 in
 * Windows 7 to 10 1803, 12-15 from 1809 (ntdiff headers; MPFS switches
 * at 17134: a patch-level dispute kept as for PAE). */
static void decode_software(uint64_t pte, enum nm_pte_layout layout, struct nm_swpte *out)
{
	uint64_t high = pte >> 32;

	out->protection = nm_pte_protection(pte);
	if (nm_protection_maps_nothing(out->protection) || high == 0xFFFFFFFFu) {
		out->state = NM_PAGE_NOT_MAPPED;
		return;
	}
	if (high == 0) {
		out->state = NM_PAGE_DEMAND_ZERO;
		return;
	}
	out->state = NM_PAGE_PAGEFILE;
	out->pagefile_number = (unsigned)(l1tf(layout) ? (pte >> 12) & 0xF : (pte >> 1) & 0xF);
	out->pagefile_offset = high << 12;
}

static void decode_x64(uint64_t pte, enum nm_pte_layout layout,
		       const struct nm_swpte_bases *bases, bool is_prototype_pte,
		       struct nm_swpte *out)
{
	if (pte == 0) {
		out->state = NM_PAGE_NOT_MAPPED;
		return;
	}
	if (l1tf(layout) && !(pte & SWIZZLE_BIT) && bases && bases->invalid_pte_mask)
		pte ^= bases->invalid_pte_mask;
	if (nm_pte_is_transition(pte)) {
		out->state = NM_PAGE_TRANSITION;
		out->protection = nm_pte_protection(pte);
		out->pfn = (pte & TRANSITION_FRAME) >> 12;
	} else if ((pte & NM_PTE_PROTOTYPE) && is_prototype_pte) {
		/* Subsection: Protection 5-9, SubsectionAddress signed 16-63. */
		out->state = NM_PAGE_PROTOTYPE;
		out->subsection = true;
		out->protection = nm_pte_protection(pte);
		out->subsection_address = signed_address(pte);
	} else if (pte & NM_PTE_PROTOTYPE) {
		decode_prototype(pte, layout, out);
	} else {
		decode_software(pte, layout, out);
	}
}

const struct nm_paging_mode nm_mode_x64 = {
	.name = "x64",
	.label = "x64",
	.entry_size = 8,
	.va_bits = 48,
	.nlevels = 4,
	.levels = {
		{ NM_LEVEL_PML4E, 39, 9, false },
		{ NM_LEVEL_PDPTE, 30, 9, true },	/* 1 GiB pages (PDPTE bit 7) */
		{ NM_LEVEL_PDE, 21, 9, true },		/* 2 MiB pages (PDE bit 7) */
		{ NM_LEVEL_PTE, 12, 9, false },
	},
	.root_mask = FRAME_MASK,
	.frame_mask = FRAME_MASK,
	.max_root = FRAME_MASK,
	.addrxlat_pte_format = ADDRXLAT_PTE_X86_64,
	.self_map = { &nm_mode_x64, DEFAULT_SELF_MAP_INDEX,
		      UINT64_C(0xFFFF000000000000) | ((uint64_t)DEFAULT_SELF_MAP_INDEX << 39) },
	.self_map_in_root = true,
	.decode_swpte = decode_x64,
};

struct nm_self_map nm_self_map_x64(unsigned index)
{
	struct nm_self_map s = { &nm_mode_x64, index & 0x1FF, 0 };

	s.pte_base = nm_mode_va_from_low(&nm_mode_x64, (uint64_t)s.index << 39);
	return s;
}
