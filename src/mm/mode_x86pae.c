/* x86 with PAE: three levels of 8-byte entries (2 + 9 + 9 + 12 bits of VA),
 * 2 MiB large pages, and the Windows invalid-PTE forms of the 8-byte
 * MMPTE. Every value and its source: docs/pte-formats.md ("PAE"). */
#include <libkdumpfile/addrxlat.h>

#include <ntmem/swpte.h>

/* Physical address bits of a valid entry: 12 to MAXPHYADDR-1, and
 * MAXPHYADDR is at most 52 (Intel SDM vol. 3A, 4.4.2 and table 4-11: bits
 * 62:M reserved, 63 XD). Windows' own PageFrameNumber fields are narrower
 * (24 bits in XP headers, 26 in Windows 7 symbols) but the CPU follows
 * the wider rule, and so does libaddrxlat's IA32_PAE walk. */
#define FRAME_MASK UINT64_C(0x000FFFFFFFFFF000)

/* Transition PFN: bits 12-35 on XP/2003 (CR4SH MMPTE_TRANSITION_PAE
 * PageFrameNumber:24), 12-37 from Windows 7 (VOL2 win7 PAE vtypes,
 * MPFS: PageFrameNumber:26). */
#define TRANSITION_FRAME_XP UINT64_C(0x0000000FFFFFF000)
#define TRANSITION_FRAME UINT64_C(0x0000003FFFFFF000)

/* The PDPT is 32-byte aligned below 4 GiB (CR3 bits 5-31 in PAE mode:
 * Intel SDM 4.4.1; VOL2 `& 0xFFFFFFE0`). */
#define ROOT_MASK UINT64_C(0xFFFFFFE0)

/* The self-map: PTE_BASE 0xC0000000 (ROS mm.h, CR4SH). */
#define PTE_BASE UINT64_C(0xC0000000)

/* Prototype: ProtoAddress = high dword (VOL2, MPFS); all ones defers to
 * the VAD (user space). Protection 11-15 before the L1TF layout, 5-9
 * from it (VOL2 17763 symbols). */
static void decode_prototype(uint64_t pte, enum nm_pte_layout layout, struct nm_swpte *out)
{
	uint64_t a = pte >> 32;

	out->state = NM_PAGE_PROTOTYPE;
	out->proto_address = a == 0xFFFFFFFFu ? 0 : a;
	out->protection = layout == NM_PTE_LAYOUT_WIN10_L1TF ? nm_pte_protection(pte)
							    : (unsigned)(pte >> 11) & 0x1F;
}

/* Software PTE: PageFileHigh = high dword; PageFileLow bits 1-4, moved to
 * 12-15 by the L1TF layout (VOL2 17763 symbols; MPFS says 17134). */
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
	out->pagefile_number = layout == NM_PTE_LAYOUT_WIN10_L1TF ? (pte >> 12) & 0xF : (pte >> 1) & 0xF;
	out->pagefile_offset = high << 12;
}

static void decode_pae(uint64_t pte, enum nm_pte_layout layout,
		       const struct nm_swpte_bases *bases, bool is_prototype_pte,
		       struct nm_swpte *out)
{
	(void)bases;
	if (pte == 0) {
		out->state = NM_PAGE_NOT_MAPPED;
	} else if (nm_pte_is_transition(pte)) {
		out->state = NM_PAGE_TRANSITION;
		out->protection = nm_pte_protection(pte);
		out->pfn = (pte & (layout == NM_PTE_LAYOUT_XP ? TRANSITION_FRAME_XP : TRANSITION_FRAME)) >> 12;
	} else if ((pte & NM_PTE_PROTOTYPE) && is_prototype_pte) {
		/* Subsection: SubsectionAddress = high dword (VOL2 win7 PAE). */
		out->state = NM_PAGE_PROTOTYPE;
		out->subsection = true;
		out->subsection_address = pte >> 32;
	} else if (pte & NM_PTE_PROTOTYPE) {
		decode_prototype(pte, layout, out);
	} else {
		decode_software(pte, layout, out);
	}
}

const struct nm_paging_mode nm_mode_x86_pae = {
	.name = "x86-pae",
	.label = "PAE",
	.entry_size = 8,
	.va_bits = 32,
	.nlevels = 3,
	.levels = {
		{ NM_LEVEL_PDPTE, 30, 2, false },
		{ NM_LEVEL_PDE, 21, 9, true },		/* 2 MiB pages (PDE bit 7) */
		{ NM_LEVEL_PTE, 12, 9, false },
	},
	.root_mask = ROOT_MASK,
	.frame_mask = FRAME_MASK,
	.max_root = ROOT_MASK,
	.addrxlat_pte_format = ADDRXLAT_PTE_IA32_PAE,
	.self_map = { &nm_mode_x86_pae, 3, PTE_BASE },
	.decode_swpte = decode_pae,
};
