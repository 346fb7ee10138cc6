/* Windows software (invalid) PTE decoding: the layout generations by build.
 * The decoders themselves belong to the paging modes (paging_mode.h:
 * nm_swpte_decode); bit layouts and their sources: docs/pte-formats.md. */
#ifndef NTMEM_SWPTE_H
#define NTMEM_SWPTE_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/page_state.h>
#include <ntmem/paging_mode.h>

/* The invalid-PTE layout a kernel of this build number uses (docs/pte-formats.md). */
enum nm_pte_layout nm_pte_layout_for_build(uint32_t build);
const char *nm_pte_layout_name(enum nm_pte_layout l);	/* "xp", "vista", "win8", "win10-l1tf" */

/* The prototype base an XP kernel uses when nothing better is known:
 * MmPagedPoolStart, fixed at 0xE1000000 on NT 5.0 and normally so on 5.1/5.2. */
#define NM_XP_DEFAULT_PROTO_BASE 0xE1000000u

/* Forms every mode shares: the Valid bit 0, the Prototype bit 10 and the
 * Transition bit 11; a transition PTE has bit 11 set and bit 10 clear
 * (docs/pte-formats.md). Protection is bits 5-9 in every form that has it
 * there. */
#define NM_PTE_VALID (UINT64_C(1) << 0)
#define NM_PTE_PROTOTYPE (UINT64_C(1) << 10)
#define NM_PTE_TRANSITION (UINT64_C(1) << 11)

static inline bool nm_pte_is_transition(uint64_t pte)
{
	return (pte & (NM_PTE_VALID | NM_PTE_PROTOTYPE | NM_PTE_TRANSITION)) == NM_PTE_TRANSITION;
}

static inline unsigned nm_pte_protection(uint64_t pte)
{
	return (unsigned)(pte >> 5) & 0x1F;
}

/* Protection 0 is "no access" and 0x10 alone is "decommitted": neither
 * maps anything (ROS miarm.h). */
static inline bool nm_protection_maps_nothing(unsigned protection)
{
	return protection == 0 || protection == 0x10;
}

#endif
