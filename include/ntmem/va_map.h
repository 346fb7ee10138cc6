/* The kernel address-space map: where the kernel put each kind of memory
 * (pools, system PTEs, session space, the fixed windows), derived from the
 * kernel's own variables and, on Vista and later, from MiSystemVaType
 * (contract: pools; rules and sources: docs/address-space.md). */
#ifndef NTMEM_VA_MAP_H
#define NTMEM_VA_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/kernel.h>
#include <ntmem/modules.h>
#include <ntmem/system_va.h>

/* Enough for the fixed map and for the runs of a MiSystemVaType array on a
 * busy system; runs past it are counted in regions_dropped. */
#define NM_MAX_REGIONS 160

/* The kernel variables the map is built from, in the order of the text
 * output. Indexing by this enum (not by name) makes a misspelt variable a
 * compile error. */
enum nm_kernel_var {
	NM_VAR_MM_HIGHEST_USER_ADDRESS,
	NM_VAR_MM_USER_PROBE_ADDRESS,
	NM_VAR_MM_SYSTEM_RANGE_START,
	NM_VAR_MM_NONPAGED_SYSTEM_START,
	NM_VAR_MM_NONPAGED_POOL_START,
	NM_VAR_MM_NONPAGED_POOL_END,
	NM_VAR_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES,
	NM_VAR_MM_PAGED_POOL_START,
	NM_VAR_MM_PAGED_POOL_END,
	NM_VAR_MM_SIZE_OF_PAGED_POOL_IN_BYTES,
	NM_VAR_MM_SYSTEM_CACHE_START,
	NM_VAR_MM_SYSTEM_CACHE_END,
	NM_VAR_MM_SYSTEM_PTES_START,		/* element 0: SystemPteSpace */
	NM_VAR_MM_SYSTEM_PTES_END,
	NM_VAR_MM_SYSTEM_PTES_START_EXPANSION,	/* element 1: NonPagedPoolExpansion */
	NM_VAR_MM_SYSTEM_PTES_END_EXPANSION,
	NM_VAR_MM_SESSION_BASE,
	NM_VAR_MM_SESSION_SIZE,
	NM_VAR_MM_PFN_DATABASE,
	NM_VAR_MM_HIGHEST_PHYSICAL_PAGE,
	NM_VAR_MM_LOWEST_PHYSICAL_PAGE,
	NM_VAR_MM_NUMBER_OF_PHYSICAL_PAGES,
	NM_VAR_MM_SUBSECTION_BASE,
	NM_VAR_COUNT
};

/* The variable's name as the kernel's symbols spell it ("MmNonPagedPoolStart",
 * "MmSystemPtesStart[1]"); the JSON key under `variables`. */
const char *nm_kernel_var_name(enum nm_kernel_var v);

struct nm_kernel_variable {
	bool present;			/* the KDBG names it (slot filled, inside the block) */
	uint64_t address;		/* VA of the variable (from KDBG) */
	bool readable;
	uint64_t value;			/* as wide as the variable: 4 bytes on x86, the
					   symbol's own width on x64 (docs/address-space.md) */
	enum nm_page_state state;	/* why it could not be read */
};

/* How a region's boundaries are known. */
enum nm_region_bound {
	NM_BOUND_EXACT,		/* where the kernel put it */
	NM_BOUND_LIMIT,		/* only where it may lie (Vista+ x86 without MiSystemVaType,
				   x64 layouts whose regions are placed at boot) */
};

struct nm_region {
	const char *name;		/* "nonpaged_pool_initial", "paged_pool", ... */
	uint64_t start, end;		/* end exclusive */
	enum nm_region_bound bound;
	char source[128];		/* how it was derived, e.g. "MmPagedPoolStart..MmPagedPoolEnd+1" */
};

struct nm_overlap {
	const char *a, *b;
	uint64_t start, end;
};

/* NT 5.x: what the valid mappings after MmNonPagedPoolStart say, kept only
 * to be shown when it disagrees with the kernel's own record. */
struct nm_initial_pool_check {
	bool done;
	uint32_t mapped;		/* bytes mapped valid from MmNonPagedPoolStart */
	uint32_t size;			/* initial size from the kernel's values */
};

struct nm_va_map {
	bool dynamic_va;
	struct nm_kernel_variable variables[NM_VAR_COUNT];
	unsigned nregions;
	struct nm_region regions[NM_MAX_REGIONS];	/* sorted by start */
	unsigned noverlaps;
	struct nm_overlap overlaps[NM_MAX_REGIONS * 2];
	/* Vista and later: where the kernel may place each kind of memory
	 * (the variables read as limits), not a map of where it is. */
	unsigned nlimits;
	struct nm_region limits[NM_MAX_REGIONS];
	/* Vista and later: the kernel's own map of system space, when found;
	 * the regions then come from it. */
	uint32_t build;			/* names the MiSystemVaType values; picks the x64 layout */
	bool x64;			/* 64-bit kernel: regions from the x64 rules */
	char x64_layout_note[200];	/* x64: which layout the regions follow, and why */
	struct nm_system_va_map va_types;
	struct nm_initial_pool_check initial_check;
	char split_note[160];		/* NT 5.x: why the pool split could not be placed, or "" */
	unsigned regions_dropped;	/* regions beyond NM_MAX_REGIONS */
	bool incomplete;		/* a variable could not be read (exit 3) */
};

/* Reads the variables and derives the map. MODULES (may be NULL) is the
 * loaded-module list the caller already walked: on Vista and later its
 * images are clues for finding MiSystemVaType. */
int nm_va_map_read(struct nm_kernel *k, const struct nm_module_list *modules,
		   struct nm_va_map *out, nm_error *err);

/* Derives regions, limits and overlaps from the variables (and, when found,
 * the MiSystemVaType map) already in M; MEM is probed only for the
 * cross-check of the initial non-paged pool (docs/address-space.md). */
void nm_va_map_derive(struct nm_va_map *m, const struct nm_vmem *mem,
		      const struct nm_self_map *self_map);

/* x64: regions from the layout the build defines (Vista/7: fixed windows
 * plus the variables; later builds: the variables as limits) and the
 * self-map the translator found. Called by nm_va_map_derive for x64 maps
 * (src/nt/va_map_x64.c). */
void nm_va_map_derive_x64(struct nm_va_map *m, const struct nm_self_map *self_map);

/* Stores VALUE as variable V, read from ADDRESS (for tests and fuzzers that
 * build a map by hand). */
void nm_va_map_set(struct nm_va_map *m, enum nm_kernel_var v, uint64_t address, uint64_t value);

/* The value of variable V in M; false when absent or unreadable. */
bool nm_va_map_value(const struct nm_va_map *m, enum nm_kernel_var v, uint64_t *value);

/* The region that holds VA, or NULL. Regions known only as limits are not
 * answers: a limit says where memory may be, not what is there. */
const struct nm_region *nm_va_map_find(const struct nm_va_map *m, uint64_t va);

#endif
