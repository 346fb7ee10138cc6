#include <ntmem/page_state.h>

const char *nm_page_state_name(enum nm_page_state s)
{
	static const char *const names[NM_PAGE_STATE_COUNT] = {
		[NM_PAGE_VALID] = "valid",
		[NM_PAGE_TRANSITION] = "transition",
		[NM_PAGE_DEMAND_ZERO] = "demand_zero",
		[NM_PAGE_PAGEFILE] = "pagefile",
		[NM_PAGE_PROTOTYPE] = "prototype",
		[NM_PAGE_NOT_MAPPED] = "not_mapped",
		[NM_PAGE_NOT_IN_DUMP] = "not_in_dump",
		[NM_PAGE_STALE] = "stale",
	};

	if ((unsigned)s >= NM_PAGE_STATE_COUNT)
		return "unknown";
	return names[s];
}
