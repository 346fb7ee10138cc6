/* Windows software-PTE layout generations, and the dispatch to the decoder
 * of a paging mode (src/mm/mode_*.c). Sources: docs/pte-formats.md. */
#include <string.h>

#include <ntmem/swpte.h>

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

void nm_swpte_decode(const struct nm_paging_mode *m, uint64_t pte, enum nm_pte_layout layout,
		     const struct nm_swpte_bases *bases, bool is_prototype_pte,
		     struct nm_swpte *out)
{
	memset(out, 0, sizeof(*out));
	m->decode_swpte(pte, layout, bases, is_prototype_pte, out);
}

bool nm_mode_pte_frame(const struct nm_paging_mode *m, enum nm_pte_layout layout,
		       uint64_t pte, uint64_t *pfn)
{
	struct nm_swpte sw;

	if (pte & NM_PTE_VALID) {
		*pfn = (pte & m->frame_mask) >> 12;
		return true;
	}
	if (!nm_pte_is_transition(pte))
		return false;
	nm_swpte_decode(m, pte, layout, NULL, false, &sw);
	*pfn = sw.pfn;
	return sw.state == NM_PAGE_TRANSITION;
}
