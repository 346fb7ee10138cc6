/* Bug check codes: the name of each stop code an analyst meets most and what
 * each of its four parameters holds. The table and its sources:
 * docs/bugchecks.md. The kind of a parameter says how ntmem can resolve it
 * (a virtual address is walked, a page frame number is looked up in the PFN
 * database, an instruction pointer is placed in a module). */
#ifndef NTMEM_BUGCHECK_H
#define NTMEM_BUGCHECK_H

#include <stdint.h>

enum nm_param_kind {
	NM_PARAM_VA,		/* a virtual address the faulting code referenced */
	NM_PARAM_PFN,		/* a page frame number */
	NM_PARAM_PTE_ADDRESS,	/* the virtual address of a PTE */
	NM_PARAM_IP,		/* an instruction address */
	NM_PARAM_IRQL,
	NM_PARAM_STATUS,	/* an NTSTATUS / exception code */
	NM_PARAM_COUNT,
	NM_PARAM_OTHER,
	NM_PARAM_KIND_COUNT
};

/* "va", "pfn", "pte_address", "ip", "irql", "status", "count", "other". */
const char *nm_param_kind_name(enum nm_param_kind k);

/* True for the kinds that name a location ntmem can resolve in the dump. */
static inline int nm_param_kind_resolvable(enum nm_param_kind k)
{
	return k == NM_PARAM_VA || k == NM_PARAM_PFN ||
	       k == NM_PARAM_PTE_ADDRESS || k == NM_PARAM_IP;
}

struct nm_bugcheck_param {
	const char *meaning;		/* NULL for an unknown code */
	enum nm_param_kind kind;
};

struct nm_bugcheck_info {
	uint32_t code;
	const char *name;		/* "PFN_LIST_CORRUPT"; NULL when the code is unknown */
	const char *summary;		/* what the stop code says in one sentence; NULL when unknown */
	const char *cause;		/* the cause that Parameter 1 selects, NULL when the
					   code has no sub-codes or this one is not in the table */
	struct nm_bugcheck_param params[4];
};

/* Describes CODE. For codes whose Parameter 1 selects the meaning of the
 * others (0x4E, 0x19, 0x76, 0xC2), ARG1 picks the row. An unknown code is not an
 * error: name, summary and every meaning are NULL and every kind is "other". */
void nm_bugcheck_describe(uint32_t code, uint64_t arg1, struct nm_bugcheck_info *out);

/* Number of codes in the table, and the I-th of them (for docs and tests). */
unsigned nm_bugcheck_table_size(void);
uint32_t nm_bugcheck_table_code(unsigned i);

#endif
