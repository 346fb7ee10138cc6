/* x86 without PAE: two levels of 4-byte entries (10 + 10 + 12 bits of VA),
 * 4 MiB large pages, and the Windows invalid-PTE forms of the 32-bit
 * MMPTE. Every value and its source: docs/pte-formats.md ("x86"). */
#include <libkdumpfile/addrxlat.h>

#include <ntmem/swpte.h>

/* Frame of a valid or transition entry: bits 12-31 (Intel SDM vol. 3A
 * table 4-6; VOL2/ROS MMPTE_HARDWARE PageFrameNumber:20). */
#define FRAME_MASK UINT64_C(0xFFFFF000)

/* The self-map: PTE_BASE 0xC0000000 (ROS mm.h, VOL2, CR4SH). */
#define PTE_BASE UINT64_C(0xC0000000)

/* XP/2003 prototype: ProtoAddressLow bits 1-7, ProtoAddressHigh 11-31;
 * VA = base + (High << 9) + (Low << 2) (ROS MiProtoPteToPte). Vista/7:
 * Low 1-8, High 11-31, VA = 0x80000000 | (High << 10) | (Low << 2) (MPFS). */
static uint64_t proto_address(uint32_t pte, enum nm_pte_layout layout,
			      const struct nm_swpte_bases *bases)
{
	if (layout == NM_PTE_LAYOUT_XP) {
		uint32_t low = (pte >> 1) & 0x7F, high = pte >> 11;
		uint32_t base = bases && bases->proto_base ? (uint32_t)bases->proto_base
							   : NM_XP_DEFAULT_PROTO_BASE;

		return (uint32_t)(base + (high << 9) + (low << 2));
	}
	return 0x80000000u | ((pte >> 1) & 0x7FFFFC00u) | ((pte << 1) & 0x3FCu);
}

/* A prototype PTE whose own prototype bit is set points at a subsection
 * (file-backed). XP: SubsectionAddressLow 1-4, High 11-30, WhichPool 31;
 * offset = High << 7 | Low << 3 from MmSubsectionBase (paged) or below
 * MmNonPagedPoolEnd (ROS MiSubsectionPteToSubsection). Later non-PAE
 * subsection forms are not decoded (docs/pte-formats.md). */
static void decode_subsection(uint32_t p, enum nm_pte_layout layout,
			      const struct nm_swpte_bases *bases, struct nm_swpte *out)
{
	uint32_t offset = (((p >> 11) & 0xFFFFF) << 7) | (((p >> 1) & 0xF) << 3);

	out->state = NM_PAGE_PROTOTYPE;
	out->subsection = true;
	if (layout != NM_PTE_LAYOUT_XP || !bases)
		return;
	if (p >> 31)
		out->subsection_address = bases->subsection_base ? bases->subsection_base + offset : 0;
	else
		out->subsection_address = bases->nonpaged_pool_end ? bases->nonpaged_pool_end - offset : 0;
}

/* Software PTE: PageFileLow bits 1-4, Protection 5-9, PageFileHigh 12-31
 * (XP to 7 alike: VOL2, ROS, CR4SH). PageFileHigh 0 is demand-zero
 * (REKALL); all ones defers to the VAD (MPFS). */
static void decode_software(uint32_t pte, struct nm_swpte *out)
{
	uint32_t high = pte >> 12;

	out->protection = nm_pte_protection(pte);
	if (nm_protection_maps_nothing(out->protection) || high == 0xFFFFF) {
		out->state = NM_PAGE_NOT_MAPPED;
		return;
	}
	if (high == 0) {
		out->state = NM_PAGE_DEMAND_ZERO;
		return;
	}
	out->state = NM_PAGE_PAGEFILE;
	out->pagefile_number = (pte >> 1) & 0xF;
	out->pagefile_offset = (uint64_t)high << 12;
}

static void decode_x86(uint64_t pte64, enum nm_pte_layout layout,
		       const struct nm_swpte_bases *bases, bool is_prototype_pte,
		       struct nm_swpte *out)
{
	uint32_t pte = (uint32_t)pte64;

	if (pte == 0) {
		out->state = NM_PAGE_NOT_MAPPED;
	} else if (nm_pte_is_transition(pte)) {
		out->state = NM_PAGE_TRANSITION;
		out->protection = nm_pte_protection(pte);
		out->pfn = (pte & FRAME_MASK) >> 12;
	} else if (pte & NM_PTE_PROTOTYPE) {
		if (is_prototype_pte) {
			decode_subsection(pte, layout, bases, out);
		} else {
			out->state = NM_PAGE_PROTOTYPE;
			out->proto_address = proto_address(pte, layout, bases);
		}
	} else {
		decode_software(pte, out);
	}
}

const struct nm_paging_mode nm_mode_x86 = {
	.name = "x86",
	.label = "non-PAE",
	.entry_size = 4,
	.va_bits = 32,
	.nlevels = 2,
	.levels = {
		{ NM_LEVEL_PDE, 22, 10, true },		/* 4 MiB pages with PSE (PDE bit 7) */
		{ NM_LEVEL_PTE, 12, 10, false },
	},
	.root_mask = FRAME_MASK,		/* the page directory is page aligned */
	.frame_mask = FRAME_MASK,
	.max_root = FRAME_MASK,
	.addrxlat_pte_format = ADDRXLAT_PTE_IA32,
	.self_map = { &nm_mode_x86, 0x300, PTE_BASE },
	.decode_swpte = decode_x86,
};
