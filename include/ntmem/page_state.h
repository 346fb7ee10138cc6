/* Page states shared by pte, read and carve (contract: "Page states"). */
#ifndef NTMEM_PAGE_STATE_H
#define NTMEM_PAGE_STATE_H

enum nm_page_state {
	NM_PAGE_VALID,
	NM_PAGE_TRANSITION,
	NM_PAGE_DEMAND_ZERO,
	NM_PAGE_PAGEFILE,
	NM_PAGE_PROTOTYPE,
	NM_PAGE_NOT_MAPPED,
	NM_PAGE_NOT_IN_DUMP,
	NM_PAGE_STALE,
	NM_PAGE_STATE_COUNT
};

/* "valid", "transition", ... exactly as the contract spells them. */
const char *nm_page_state_name(enum nm_page_state s);

/* True when the bytes of a page in this state can be produced. */
static inline int nm_page_state_readable(enum nm_page_state s)
{
	return s == NM_PAGE_VALID || s == NM_PAGE_TRANSITION ||
	       s == NM_PAGE_DEMAND_ZERO;
}

#endif
