/* Where an address of the crash lives: its page state and physical address,
 * the module, section and offset that hold it, and the kernel region around
 * it; and, for a page frame, which address its PFN entry says it backs.
 *
 * Layer 4 (needs the PE parser for sections). Memory is reached through a
 * small view (walk + page bytes) so that the logic can be tested with fakes. */
#ifndef NTMEM_RESOLVE_H
#define NTMEM_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/kernel.h>
#include <ntmem/modules.h>
#include <ntmem/pe.h>
#include <ntmem/pfn.h>
#include <ntmem/va_map.h>
#include <ntmem/xlat.h>

struct nm_resolved {
	uint64_t va;
	struct nm_walk walk;			/* state, pa, paging entries */
	const struct nm_module *module;		/* NULL: in no loaded module */
	uint32_t offset;			/* va - module base, when module */
	bool headers_readable;			/* the module's PE headers were parsed */
	enum nm_page_state headers_state;	/* state of the header page when not */
	bool has_section;
	struct nm_pe_section section;		/* the section holding va, when has_section */
	const struct nm_region *region;		/* NULL: in no known region */
};

/* The last paging entry of the walk is a PTE whose value is zero: nothing,
 * not even a software PTE, describes the page any more. */
bool nm_resolved_pte_is_zero(const struct nm_resolved *r);

/* VA lies in a discardable section (INIT) whose page is no longer mapped:
 * the loader freed it after DriverEntry. */
bool nm_resolved_is_discarded(const struct nm_resolved *r);

struct nm_module_headers;

struct nm_resolver {
	struct nm_vmem mem;		/* stale pages are refused */
	const struct nm_module_list *modules;	/* may be NULL (module list unreadable) */
	const struct nm_va_map *pools;	/* may be NULL */
	struct nm_module_headers **headers;	/* one slot per module, parsed on first use */
};

int nm_resolver_init(struct nm_resolver *r, const struct nm_vmem *mem,
		     const struct nm_module_list *modules, const struct nm_va_map *pools,
		     nm_error *err);
void nm_resolver_free(struct nm_resolver *r);

/* Resolves VA; never fails: what cannot be found is NULL / false. */
void nm_resolve(struct nm_resolver *r, uint64_t va, struct nm_resolved *out);

/* Reads the 32- or 64-bit value at VA (a PTE, a stack word). 0 on success;
 * otherwise -1 and *state (when not NULL) says why. */
int nm_resolver_read(struct nm_resolver *r, uint64_t va, void *buf, unsigned len,
		     enum nm_page_state *state);

/* What a PFN entry's PteAddress leads to. */
enum nm_pte_link {
	NM_PTE_LINK_NONE,		/* the entry is on a free/zeroed/bad list: no owner */
	NM_PTE_LINK_PROTOTYPE,		/* PteAddress is outside the page tables but readable:
					   a prototype PTE of a shared or file-backed page */
	NM_PTE_LINK_NOWHERE,		/* outside the page tables and unreadable (pte_page_state) */
	NM_PTE_LINK_UNREADABLE,		/* in the page tables, but the PTE's own page cannot be
					   read (pte_page_state) */
	NM_PTE_LINK_OTHER_FRAME,	/* the PTE maps another frame (or nothing) */
	NM_PTE_LINK_MATCH,		/* the PTE maps this frame (valid or transition) */
	NM_PTE_LINK_LARGE_PAGE,		/* PteAddress is a PDE mapping a large page that
					   holds this frame */
};
const char *nm_pte_link_name(enum nm_pte_link l);

struct nm_pfn_owner {
	enum nm_pte_link link;
	enum nm_page_state pte_page_state;	/* when link is NOWHERE or UNREADABLE */
	bool has_pte_value;
	uint64_t pte_value;
	bool has_va;				/* the self-map gives the VA the frame backs */
	uint64_t va;				/* for a large page: the VA of this frame in it */
	struct nm_resolved where;		/* resolution of va, when has_va */
};

/* Follows E's PteAddress: is it a PTE, does it map E's frame, which VA does
 * it stand for, and where does that VA live. */
/* True when the link leaves the owner unknown for a reason the dump should
 * have answered (PteAddress points nowhere, or its page is missing). */
static inline bool nm_pte_link_failed(enum nm_pte_link l)
{
	return l == NM_PTE_LINK_NOWHERE || l == NM_PTE_LINK_UNREADABLE;
}

void nm_pfn_owner_resolve(struct nm_resolver *r, const struct nm_pfn_entry *e,
			  const struct nm_self_map *self_map, enum nm_pte_layout layout,
			  struct nm_pfn_owner *out);

#endif
