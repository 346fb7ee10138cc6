/* The kernel address-space map: pool regions and the other system regions,
 * derived from kernel variables (contract: pools). */
#ifndef NTMEM_POOLS_H
#define NTMEM_POOLS_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/kernel.h>
#include <ntmem/system_va.h>

#define NM_MAX_POOL_VARIABLES 32
/* Enough for the fixed map and for the runs of a MiSystemVaType array on a
 * busy system; runs past it are counted in regions_dropped. */
#define NM_MAX_REGIONS 160

struct nm_kernel_variable {
	const char *name;		/* "MmNonPagedPoolStart" */
	uint32_t address;		/* VA of the variable (from KDBG) */
	bool readable;
	uint32_t value;
	enum nm_page_state state;	/* why it could not be read */
};

struct nm_region {
	const char *name;		/* "nonpaged_pool_initial", "paged_pool", ... */
	uint64_t start, end;		/* end exclusive */
	char source[96];		/* how it was derived, e.g. "MmPagedPoolStart..MmPagedPoolEnd+1" */
};

struct nm_overlap {
	const char *a, *b;
	uint64_t start, end;
};

struct nm_pool_map {
	bool dynamic_va;
	unsigned nvariables;
	struct nm_kernel_variable variables[NM_MAX_POOL_VARIABLES];
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
	uint32_t build;			/* names the MiSystemVaType values */
	struct nm_system_va_map va_types;
	unsigned regions_dropped;	/* regions beyond NM_MAX_REGIONS */
	bool incomplete;		/* a variable could not be read (exit 3) */
};

int nm_pools_read(struct nm_kernel *k, struct nm_pool_map *out, nm_error *err);

/* Derives regions, limits and overlaps from the variables (and, when found,
 * the MiSystemVaType map) already in M; MEM is probed for the initial
 * non-paged pool (docs/address-space.md). */
void nm_pools_derive(struct nm_pool_map *m, const struct nm_vmem *mem,
		     const struct nm_self_map *self_map);

/* The value of variable NAME in M; false when absent or unreadable. */
bool nm_pools_value(const struct nm_pool_map *m, const char *name, uint32_t *value);

/* The region that holds VA, or NULL. */
const struct nm_region *nm_pools_find(const struct nm_pool_map *m, uint64_t va);

#endif
