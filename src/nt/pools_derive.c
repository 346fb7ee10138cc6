/* From kernel variables to the map of the kernel address space
 * (docs/address-space.md gives every rule and its source). */
#include <stdio.h>
#include <string.h>

#include <ntmem/pfn.h>
#include <ntmem/pools.h>

/* Bound of the initial-pool probe when MmMaximumNonPagedPoolInBytes is
 * unreadable: larger than any x86 non-paged pool. */
#define NONPAGED_POOL_PROBE_MAX 0x20000000u

bool nm_pools_value(const struct nm_pool_map *m, const char *name, uint32_t *value)
{
	for (unsigned i = 0; i < m->nvariables; i++) {
		const struct nm_kernel_variable *v = &m->variables[i];

		if (strcmp(v->name, name) == 0 && v->readable) {
			*value = v->value;
			return true;
		}
	}
	return false;
}

static void add_to(struct nm_region *list, unsigned *n, const char *name, uint64_t start,
		   uint64_t end, const char *source)
{
	if (end <= start || *n >= NM_MAX_REGIONS)
		return;
	list[*n].name = name;
	list[*n].start = start;
	list[*n].end = end;
	snprintf(list[*n].source, sizeof(list[*n].source), "%s", source);
	(*n)++;
}

static void add_region(struct nm_pool_map *m, const char *name, uint64_t start, uint64_t end,
		       const char *source)
{
	if (end > start && m->nregions >= NM_MAX_REGIONS) {
		m->regions_dropped++;
		return;
	}
	add_to(m->regions, &m->nregions, name, start, end, source);
}

/* End of the page tables and hyperspace, which every 32-bit kernel keeps
 * at fixed addresses from the self-map up. */
static uint64_t fixed_end(const struct nm_self_map *sm)
{
	return sm->pte_base + nm_self_map_pte_window(sm) + 0x400000u;
}

/* Regions a 32-bit kernel keeps at fixed addresses on every version. */
static void add_fixed(struct nm_pool_map *m, const struct nm_self_map *sm)
{
	uint64_t tables = nm_self_map_pte_window(sm);
	char source[80];

	snprintf(source, sizeof(source), "self-map 0x%llX (fixed), %llu MiB%s",
		 (unsigned long long)sm->pte_base, (unsigned long long)(tables >> 20),
		 sm->mode->entry_size == 8 ? " with PAE" : "");
	add_region(m, "page_tables", sm->pte_base, sm->pte_base + tables, source);
	add_region(m, "hyperspace", sm->pte_base + tables, sm->pte_base + tables + 0x400000u,
		   "fixed: 4 MiB right after the page tables");
}

/* MmSizeOfNonPagedPoolInBytes has no KDBG slot: the initial pool is taken
 * as the run of valid mappings from MmNonPagedPoolStart, which the loader
 * maps whole at boot; LIMIT bounds the probe. */
static uint32_t initial_pool_size(const struct nm_vmem *mem, uint32_t start, uint64_t limit)
{
	uint64_t at = start;

	while (at < limit) {
		uint32_t span = 1;

		if (mem->probe(mem->ctx, (uint32_t)at, &span) != NM_PAGE_VALID)
			break;
		at += span ? span : 1;
	}
	if (at > limit)
		at = limit;
	return (uint32_t)(at - start) & ~0xFFFu;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void add_nonpaged(struct nm_pool_map *m, const struct nm_vmem *mem)
{
	uint32_t start, end, max = 0, paged;
	bool has_max = nm_pools_value(m, "MmMaximumNonPagedPoolInBytes", &max);
	uint64_t limit;
	uint32_t initial;

	if (!nm_pools_value(m, "MmNonPagedPoolStart", &start))
		return;
	limit = (uint64_t)start + (has_max ? max : NONPAGED_POOL_PROBE_MAX);
	if (nm_pools_value(m, "MmNonPagedPoolEnd", &end) && end > start)
		limit = min64(limit, end);
	if (nm_pools_value(m, "MmPagedPoolStart", &paged) && paged > start)
		limit = min64(limit, paged);
	limit = min64(limit, 0x100000000ull);
	initial = initial_pool_size(mem, start, limit);
	add_region(m, "nonpaged_pool_initial", start, (uint64_t)start + initial,
		   "MmNonPagedPoolStart + run of valid mappings (initial size has no KDBG slot)");
	if (has_max && max >= initial && nm_pools_value(m, "MmNonPagedPoolEnd", &end) &&
	    end >= max - initial)
		add_region(m, "nonpaged_pool_expansion", end - (max - initial), end,
			   "MmNonPagedPoolEnd - (MmMaximumNonPagedPoolInBytes - initial size)");
}

static void add_pair(struct nm_pool_map *m, struct nm_region *list, unsigned *n, const char *name,
		     const char *start_var, const char *end_var, bool inclusive, const char *source)
{
	uint32_t start, end;

	(void)m;
	if (!nm_pools_value(m, start_var, &start) || !nm_pools_value(m, end_var, &end))
		return;
	add_to(list, n, name, start, (uint64_t)end + (inclusive ? 1 : 0), source);
}

/* MmSystemPtesStart/End[0] hold self-map addresses of the first and last
 * PTE of system PTE space (docs/address-space.md). */
static void add_system_ptes(struct nm_pool_map *m, struct nm_region *list, unsigned *n,
			    const struct nm_self_map *sm, const char *source)
{
	uint32_t first, last;

	if (!nm_pools_value(m, "MmSystemPtesStart", &first) ||
	    !nm_pools_value(m, "MmSystemPtesEnd", &last) || last < first)
		return;
	add_to(list, n, "system_ptes", nm_self_map_va_of_pte(sm, first),
	       nm_self_map_va_of_pte(sm, last) + 0x1000, source);
}

static void add_session(struct nm_pool_map *m)
{
	uint32_t base, size;

	if (nm_pools_value(m, "MmSessionBase", &base) && nm_pools_value(m, "MmSessionSize", &size))
		add_region(m, "session_space", base, (uint64_t)base + size,
			   "MmSessionBase + MmSessionSize");
}

/* NTLDR's images (kernel, HAL, boot drivers) sit from the start of system
 * space up to the initial non-paged pool on XP and 2003. */
static void add_boot_images(struct nm_pool_map *m)
{
	uint32_t start, np;

	if (nm_pools_value(m, "MmSystemRangeStart", &start) &&
	    nm_pools_value(m, "MmNonPagedPoolStart", &np) && np > start)
		add_region(m, "boot_images", start, np, "MmSystemRangeStart..MmNonPagedPoolStart");
}

static bool is_window_edge(uint64_t va, const struct nm_self_map *sm)
{
	return va == sm->pte_base || va == fixed_end(sm);
}

/* One region per run of equal MiSystemVaType entries; unused entries and
 * the fixed window (already in the map) are not regions. */
static void add_system_va_runs(struct nm_pool_map *m, const struct nm_self_map *sm)
{
	const struct nm_system_va_map *v = &m->va_types;

	for (unsigned i = 0, j; i < v->entries; i = j) {
		uint64_t start = nm_system_va_entry_start(v, i);
		const char *name = nm_system_va_type_region(v->type[i], m->build);
		char source[96];

		for (j = i + 1; j < v->entries && v->type[j] == v->type[i] &&
				!is_window_edge(nm_system_va_entry_start(v, j), sm); j++)
			;
		if (!name || (start >= sm->pte_base && start < fixed_end(sm)))
			continue;
		if (j - i == 1)
			snprintf(source, sizeof(source), "MiSystemVaType[0x%x] = %u %s (array at 0x%x)",
				 i, v->type[i], nm_system_va_type_name(v->type[i], m->build), v->address);
		else
			snprintf(source, sizeof(source), "MiSystemVaType[0x%x..0x%x] = %u %s (array at 0x%x)",
				 i, j - 1, v->type[i], nm_system_va_type_name(v->type[i], m->build), v->address);
		add_region(m, name, start, nm_system_va_entry_start(v, j), source);
	}
}

static void sort_regions(struct nm_region *r, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && r[j - 1].start > r[j].start; j--) {
			struct nm_region t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
}

static void find_overlaps(struct nm_pool_map *m)
{
	m->noverlaps = 0;
	for (unsigned i = 0; i < m->nregions; i++)
		for (unsigned j = i + 1; j < m->nregions; j++) {
			const struct nm_region *a = &m->regions[i], *b = &m->regions[j];
			uint64_t s = a->start > b->start ? a->start : b->start;
			uint64_t e = min64(a->end, b->end);

			if (s < e && m->noverlaps < sizeof(m->overlaps) / sizeof(m->overlaps[0]))
				m->overlaps[m->noverlaps++] = (struct nm_overlap){ a->name, b->name, s, e };
		}
}

void nm_pools_derive(struct nm_pool_map *m, const struct nm_vmem *mem,
		     const struct nm_self_map *sm)
{
	m->nregions = m->nlimits = 0;
	m->regions_dropped = 0;
	add_fixed(m, sm);
	if (m->dynamic_va && m->va_types.found)
		add_system_va_runs(m, sm);
	else
		add_session(m);
	if (m->dynamic_va) {
		add_pair(m, m->limits, &m->nlimits, "nonpaged_pool", "MmNonPagedPoolStart",
			 "MmNonPagedPoolEnd", false, "limit: MmNonPagedPoolStart..MmNonPagedPoolEnd");
		add_pair(m, m->limits, &m->nlimits, "paged_pool", "MmPagedPoolStart",
			 "MmPagedPoolEnd", true, "limit: MmPagedPoolStart..MmPagedPoolEnd (inclusive)");
		add_pair(m, m->limits, &m->nlimits, "system_cache", "MmSystemCacheStart",
			 "MmSystemCacheEnd", true, "limit: MmSystemCacheStart..MmSystemCacheEnd (inclusive)");
		add_system_ptes(m, m->limits, &m->nlimits, sm,
				"limit: VAs of PTEs MmSystemPtesStart[0]..MmSystemPtesEnd[0] (inclusive)");
		sort_regions(m->limits, m->nlimits);
	} else {
		add_boot_images(m);
		add_nonpaged(m, mem);
		add_pair(m, m->regions, &m->nregions, "paged_pool", "MmPagedPoolStart",
			 "MmPagedPoolEnd", true, "MmPagedPoolStart..MmPagedPoolEnd (inclusive, +1)");
		add_pair(m, m->regions, &m->nregions, "system_cache", "MmSystemCacheStart",
			 "MmSystemCacheEnd", true, "MmSystemCacheStart..MmSystemCacheEnd (inclusive, +1)");
		add_system_ptes(m, m->regions, &m->nregions, sm,
				"VAs mapped by PTEs MmSystemPtesStart[0]..MmSystemPtesEnd[0] (inclusive)");
	}
	sort_regions(m->regions, m->nregions);
	find_overlaps(m);
}

const struct nm_region *nm_pools_find(const struct nm_pool_map *m, uint64_t va)
{
	for (unsigned i = 0; m && i < m->nregions; i++)
		if (va >= m->regions[i].start && va < m->regions[i].end)
			return &m->regions[i];
	return NULL;
}
