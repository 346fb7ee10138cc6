/* Windows software (invalid) PTEs on x86, non-PAE and PAE. The decision
 * order and every bit position are documented with their sources in
 * docs/pte-formats.md. */
#include <string.h>

#include <ntmem/swpte.h>

#define PTE_PROTOTYPE (UINT64_C(1) << 10)
#define PTE_TRANSITION (UINT64_C(1) << 11)

enum nm_pte_layout nm_pte_layout_for_build(uint32_t build)
{
	if (build < 6000)
		return NM_PTE_LAYOUT_XP;
	if (build < 9200)
		return NM_PTE_LAYOUT_VISTA;
	if (build < 17763)
		return NM_PTE_LAYOUT_WIN8;
	return NM_PTE_LAYOUT_WIN10_L1TF;
}

const char *nm_pte_layout_name(enum nm_pte_layout l)
{
	switch (l) {
	case NM_PTE_LAYOUT_XP: return "xp";
	case NM_PTE_LAYOUT_VISTA: return "vista";
	case NM_PTE_LAYOUT_WIN8: return "win8";
	case NM_PTE_LAYOUT_WIN10_L1TF: return "win10-l1tf";
	}
	return "unknown";
}

static bool is_transition(uint64_t pte)
{
	return (pte & 0xC01) == 0x800;
}

static uint64_t transition_pfn(uint64_t pte, bool pae, enum nm_pte_layout layout)
{
	if (!pae)
		return (pte & 0xFFFFF000u) >> 12;
	/* XP headers give the PAE frame 24 bits (12-35), Windows 7 on 26 (12-37). */
	if (layout == NM_PTE_LAYOUT_XP)
		return (pte & UINT64_C(0xFFFFFF000)) >> 12;
	return (pte & UINT64_C(0x3FFFFFF000)) >> 12;
}

static uint64_t proto_address_nonpae(uint32_t pte, enum nm_pte_layout layout,
				     const struct nm_swpte_bases *bases)
{
	if (layout == NM_PTE_LAYOUT_XP) {
		uint32_t low = (pte >> 1) & 0x7F, high = pte >> 11;
		uint32_t base = bases && bases->proto_base ? bases->proto_base : NM_XP_DEFAULT_PROTO_BASE;

		return (uint32_t)(base + (high << 9) + (low << 2));
	}
	return 0x80000000u | ((pte >> 1) & 0x7FFFFC00u) | ((pte << 1) & 0x3FCu);
}

/* A prototype PTE whose own prototype bit is set points at a subsection:
 * the page lives in a mapped file, not in memory. */
static void decode_subsection(uint64_t pte, bool pae, enum nm_pte_layout layout,
			      const struct nm_swpte_bases *bases, struct nm_swpte *out)
{
	out->state = NM_PAGE_PROTOTYPE;
	out->subsection = true;
	if (pae) {
		out->subsection_address = pte >> 32;
	} else if (layout == NM_PTE_LAYOUT_XP && bases) {
		uint32_t p = (uint32_t)pte;
		uint32_t offset = (((p >> 11) & 0xFFFFF) << 7) | (((p >> 1) & 0xF) << 3);

		if (p >> 31)
			out->subsection_address = bases->subsection_base ? bases->subsection_base + offset : 0;
		else
			out->subsection_address = bases->nonpaged_pool_end ? bases->nonpaged_pool_end - offset : 0;
	}
}

static void decode_prototype(uint64_t pte, bool pae, enum nm_pte_layout layout,
			     const struct nm_swpte_bases *bases, struct nm_swpte *out)
{
	out->state = NM_PAGE_PROTOTYPE;
	if (pae) {
		/* All ones means "look at the VAD" (user space only). */
		uint64_t a = pte >> 32;

		out->proto_address = a == 0xFFFFFFFFu ? 0 : a;
		if (layout == NM_PTE_LAYOUT_WIN10_L1TF)
			out->protection = (pte >> 5) & 0x1F;
		else
			out->protection = (pte >> 11) & 0x1F;
		return;
	}
	out->proto_address = proto_address_nonpae((uint32_t)pte, layout, bases);
}

/* Software PTE: demand-zero, page file, or nothing. */
static void decode_software(uint64_t pte, bool pae, enum nm_pte_layout layout, struct nm_swpte *out)
{
	uint64_t high, all_ones;
	unsigned low;

	out->protection = (pte >> 5) & 0x1F;
	if (pae) {
		high = pte >> 32;
		all_ones = 0xFFFFFFFFu;
		low = layout == NM_PTE_LAYOUT_WIN10_L1TF ? (pte >> 12) & 0xF : (pte >> 1) & 0xF;
	} else {
		high = (pte >> 12) & 0xFFFFF;
		all_ones = 0xFFFFF;
		low = (pte >> 1) & 0xF;
	}
	/* Protection 0 is "no access", 0x10 alone is "decommitted": neither maps
	 * anything. A page number of all ones defers to the VAD (user space). */
	if (out->protection == 0 || out->protection == 0x10 || high == all_ones) {
		out->state = NM_PAGE_NOT_MAPPED;
		return;
	}
	if (high == 0) {
		out->state = NM_PAGE_DEMAND_ZERO;
		return;
	}
	out->state = NM_PAGE_PAGEFILE;
	out->pagefile_number = low;
	out->pagefile_offset = high << 12;
}

void nm_swpte_decode(uint64_t pte, bool pae, enum nm_pte_layout layout,
		     const struct nm_swpte_bases *bases, bool is_prototype_pte,
		     struct nm_swpte *out)
{
	memset(out, 0, sizeof(*out));
	if (!pae)
		pte &= 0xFFFFFFFFu;
	if (pte == 0) {
		out->state = NM_PAGE_NOT_MAPPED;
		return;
	}
	if (is_transition(pte)) {
		out->state = NM_PAGE_TRANSITION;
		out->protection = (pte >> 5) & 0x1F;
		out->pfn = transition_pfn(pte, pae, layout);
		return;
	}
	if (pte & PTE_PROTOTYPE) {
		if (is_prototype_pte)
			decode_subsection(pte, pae, layout, bases, out);
		else
			decode_prototype(pte, pae, layout, bases, out);
		return;
	}
	decode_software(pte, pae, layout, out);
}
