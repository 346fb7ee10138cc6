/* PFN database (MMPFN) entries. */
#ifndef NTMEM_PFN_H
#define NTMEM_PFN_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/kernel.h>

enum nm_pfn_list {
	NM_PFN_ZEROED, NM_PFN_FREE, NM_PFN_STANDBY, NM_PFN_MODIFIED,
	NM_PFN_MODIFIED_NO_WRITE, NM_PFN_BAD, NM_PFN_ACTIVE, NM_PFN_TRANSITION,
	NM_PFN_UNKNOWN
};
const char *nm_pfn_list_name(enum nm_pfn_list l);

struct nm_pfn_entry {
	uint64_t pfn;
	uint64_t entry_address;		/* VA of the MMPFN entry */
	bool out_of_range;		/* pfn beyond the database */
	enum nm_page_state entry_state;	/* state of the entry's own page */
	bool readable;			/* the fields below are set */
	enum nm_pfn_list list;
	uint32_t reference_count;
	uint32_t share_count;
	uint64_t pte_address;		/* pointer-sized: 8 bytes on x64 */
	bool has_va;			/* PteAddress lies in the self-map (not a prototype PTE) */
	uint64_t va;			/* the VA that PteAddress maps, through the self-map */
	uint64_t original_pte;
	uint64_t pte_frame;
};

/* Reads the MMPFN entry of PFN with the version's layout. Returns 0 when the
 * entry was read, -1 otherwise (out says why: out_of_range / entry_state). */
int nm_pfn_read(struct nm_kernel *k, uint64_t pfn, struct nm_pfn_entry *out);

/* The MMPFN layout of a 64-bit kernel of BUILD (docs/mmpfn.md, x64): one
 * for Vista and 7, one for 8 and 8.1, one for 10 and later. */
const struct nm_mmpfn_layout *nm_mmpfn_layout_x64(uint32_t build);

/* Decodes an MMPFN entry from raw bytes (unit-testable without a dump);
 * the self-map turns PteAddress into the VA it maps, and its mode says how
 * wide PteAddress is (a pointer: 4 bytes on x86, with or without PAE; 8 on
 * x64). */
void nm_pfn_decode(const uint8_t *entry, const struct nm_mmpfn_layout *layout,
		   const struct nm_self_map *self_map, struct nm_pfn_entry *out);

#endif
