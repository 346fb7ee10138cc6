/* Windows software (invalid) PTE decoding, x86 non-PAE and PAE.
 * Bit layouts and their sources: docs/pte-formats.md. */
#ifndef NTMEM_SWPTE_H
#define NTMEM_SWPTE_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/page_state.h>

/* Which generation of invalid-PTE layout the kernel uses. */
enum nm_pte_layout {
	NM_PTE_LAYOUT_XP,	/* XP, Server 2003 */
	NM_PTE_LAYOUT_VISTA,	/* Vista, 7 */
	NM_PTE_LAYOUT_WIN8,	/* 8, 8.1, 10 before the L1TF change */
	NM_PTE_LAYOUT_WIN10_L1TF, /* 10 from 17763 (PAE only differs) */
};

/* Kernel values some decodes need (XP prototype PTEs are relative to the
 * prototype base, which is MmPagedPoolStart). Zero when unknown. */
struct nm_swpte_bases {
	uint32_t proto_base;
	uint32_t subsection_base;	/* MmSubsectionBase */
	uint32_t nonpaged_pool_end;	/* MmNonPagedPoolEnd */
};

struct nm_swpte {
	enum nm_page_state state;	/* transition/pagefile/demand_zero/prototype/not_mapped */
	unsigned protection;		/* 5-bit Windows protection, where the form has it */
	uint64_t pfn;			/* transition: the frame still holding the data */
	unsigned pagefile_number;	/* pagefile */
	uint64_t pagefile_offset;	/* pagefile: byte offset inside that file */
	uint64_t proto_address;		/* prototype: VA of the prototype PTE */
	bool subsection;		/* prototype PTE that is itself a subsection (file-backed) */
	uint64_t subsection_address;
};

/* The invalid-PTE layout a kernel of this build number uses (docs/pte-formats.md). */
enum nm_pte_layout nm_pte_layout_for_build(uint32_t build);
const char *nm_pte_layout_name(enum nm_pte_layout l);	/* "xp", "vista", "win8", "win10-l1tf" */

/* The prototype base an XP kernel uses when nothing better is known:
 * MmPagedPoolStart, fixed at 0xE1000000 on NT 5.0 and normally so on 5.1/5.2. */
#define NM_XP_DEFAULT_PROTO_BASE 0xE1000000u

/* Decodes PTE (whose Valid bit is clear). is_prototype_pte says the PTE was
 * itself read from a prototype, where the prototype bit means "subsection". */
void nm_swpte_decode(uint64_t pte, bool pae, enum nm_pte_layout layout,
		     const struct nm_swpte_bases *bases, bool is_prototype_pte,
		     struct nm_swpte *out);

#endif
