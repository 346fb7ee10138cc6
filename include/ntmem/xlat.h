/* Layer 2: virtual-to-physical translation of the kernel address space.
 *
 * Hardware walks go through libaddrxlat; when a walk stops on an invalid
 * entry the entry is decoded as Windows would (swpte.h). */
#ifndef NTMEM_XLAT_H
#define NTMEM_XLAT_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/page_state.h>
#include <ntmem/paging_mode.h>
#include <ntmem/source.h>
#include <ntmem/swpte.h>

struct nm_walk_entry {
	enum nm_paging_level level;
	uint64_t address;	/* physical address of the entry */
	uint64_t value;		/* raw entry */
};

/* Fields are ordered to leave no padding: a walk is copied on every cached
 * lookup, and below 256 bytes the compiler copies it with a few vector
 * moves instead of a slow `rep movs` (measured: 3x the walks/s). */
struct nm_walk {
	uint64_t va;
	uint64_t pa;		/* physical address of va itself (page offset included) */
	enum nm_page_state state;
	unsigned page_shift;	/* 12, or the large page's (21, 22, 30) when large_page */
	unsigned nentries;
	enum nm_page_state proto_state;	/* state found through the prototype PTE */
	bool has_pa;		/* pa is meaningful (valid, transition, resolved prototype, not_in_dump) */
	bool large_page;
	bool proto_resolved;	/* prototype: the prototype PTE was read and decoded */
	uint64_t proto_pte;	/* prototype: the raw prototype PTE, when resolved */
	struct nm_walk_entry entries[NM_MAX_PAGING_LEVELS];
	struct nm_swpte sw;	/* decode of the last entry when it was invalid */
	struct nm_swpte proto_sw;	/* its decode when it was itself invalid */
};

struct nm_xlat_config {
	uint64_t dtb;		/* DirectoryTableBase: masked with the mode's root_mask */
	const struct nm_paging_mode *mode;
	enum nm_pte_layout layout;
	struct nm_swpte_bases bases;
};

typedef struct nm_xlat nm_xlat;

int nm_xlat_new(const nm_source *src, const struct nm_xlat_config *cfg,
		nm_xlat **out, nm_error *err);
void nm_xlat_free(nm_xlat *x);

/* Updates the decode bases once the kernel variables are known. */
void nm_xlat_set_bases(nm_xlat *x, const struct nm_swpte_bases *bases);

/* True when the bytes of the page WALK found can be produced (the state is
 * readable, or a prototype resolved to a readable page). */
bool nm_walk_readable(const struct nm_walk *walk);

/* Walks VA; never fails: every outcome is a page state in OUT. */
void nm_xlat_walk(nm_xlat *x, uint64_t va, struct nm_walk *out);

/* The 4096 bytes of the page that WALK found, when its state is readable:
 * the dump's page for valid/transition/resolved prototype, a zero page for
 * demand_zero; NULL otherwise. */
const uint8_t *nm_xlat_page_bytes(const nm_xlat *x, const struct nm_walk *walk);

const nm_source *nm_xlat_source(const nm_xlat *x);
const struct nm_paging_mode *nm_xlat_mode(const nm_xlat *x);

/* The self-map of the translated address space (x86: the mode's fixed one;
 * x64: the PML4 entry in the kernel half that points at the PML4 itself). */
const struct nm_self_map *nm_xlat_self_map(const nm_xlat *x);
/* Where it came from: "fixed" (x86), "pml4" (found in the root table) or
 * "default" (x64 root with no self-referencing entry: index 0x1ED assumed). */
const char *nm_xlat_self_map_origin(const nm_xlat *x);

/* The paging mode a walk from DTB uses on this dump: x64 for 64-bit
 * headers, else PAE or not as nm_source_pae_for_dtb says; NULL for a
 * machine ntmem cannot walk. */
const struct nm_paging_mode *nm_paging_mode_for_dump(const struct nm_dump_facts *f, uint64_t dtb);

#endif
