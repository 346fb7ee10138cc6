/* Building an address-space map: the steps the x86 rules (va_map_derive.c)
 * and the x64 rules (va_map_x64.c) share. Private to src/nt. */
#ifndef NTMEM_VA_MAP_BUILD_H
#define NTMEM_VA_MAP_BUILD_H

#include <ntmem/va_map.h>

/* Appends [START, END) to LIST (exact bound) unless empty or full. */
void va_map_add_to(struct nm_region *list, unsigned *n, const char *name, uint64_t start,
		   uint64_t end, const char *source);

/* Appends a region to M, counting it in regions_dropped when M is full. */
void va_map_add_region(struct nm_va_map *m, const char *name, uint64_t start, uint64_t end,
		       const char *source);

/* Copies M's limits into its regions, marked bound=limit, so that a script
 * looking a region up by name still finds it (contract: pools). */
void va_map_limits_as_regions(struct nm_va_map *m);

/* Sorts regions and limits by start and lists the overlaps between exact
 * regions. */
void va_map_finish(struct nm_va_map *m);

#endif
