/* From kernel variables to the map of the kernel address space
 * (docs/address-space.md gives every rule and its source). */
#include <stdio.h>
#include <string.h>

#include <ntmem/pfn.h>
#include <ntmem/va_map.h>

#include "va_map_build.h"

bool nm_va_map_value(const struct nm_va_map *m, enum nm_kernel_var v, uint64_t *value)
{
	if ((unsigned)v >= NM_VAR_COUNT || !m->variables[v].present || !m->variables[v].readable)
		return false;
	*value = m->variables[v].value;
	return true;
}

void nm_va_map_set(struct nm_va_map *m, enum nm_kernel_var v, uint64_t address, uint64_t value)
{
	if ((unsigned)v >= NM_VAR_COUNT)
		return;
	m->variables[v] = (struct nm_kernel_variable){ .present = true, .address = address,
						       .readable = true, .value = value,
						       .state = NM_PAGE_VALID };
}

/* The x86 rules read 32-bit variables: a value is used only when it fits. */
static bool value32(const struct nm_va_map *m, enum nm_kernel_var v, uint32_t *value)
{
	uint64_t wide;

	if (!nm_va_map_value(m, v, &wide) || wide > UINT32_MAX)
		return false;
	*value = (uint32_t)wide;
	return true;
}

void va_map_add_to(struct nm_region *list, unsigned *n, const char *name, uint64_t start,
		   uint64_t end, const char *source)
{
	if (end <= start || *n >= NM_MAX_REGIONS)
		return;
	list[*n].name = name;
	list[*n].bound = NM_BOUND_EXACT;
	list[*n].start = start;
	list[*n].end = end;
	snprintf(list[*n].source, sizeof(list[*n].source), "%s", source);
	(*n)++;
}

void va_map_add_region(struct nm_va_map *m, const char *name, uint64_t start, uint64_t end,
		       const char *source)
{
	if (end > start && m->nregions >= NM_MAX_REGIONS) {
		m->regions_dropped++;
		return;
	}
	va_map_add_to(m->regions, &m->nregions, name, start, end, source);
}

#define add_region va_map_add_region
#define add_to va_map_add_to

/* End of the page tables and hyperspace, which every 32-bit kernel keeps
 * at fixed addresses from the self-map up. */
static uint64_t fixed_end(const struct nm_self_map *sm)
{
	return sm->pte_base + nm_self_map_pte_window(sm) + 0x400000u;
}

/* Regions a 32-bit kernel keeps at fixed addresses on every version. */
static void add_fixed(struct nm_va_map *m, const struct nm_self_map *sm)
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

/* Bytes mapped by hardware-valid PTEs from START, up to LIMIT (a kernel
 * dump may leave such pages out: they still count as mapped). Only a
 * cross-check: how much of the initial pool is mapped says nothing about
 * its size (pages not yet touched, dumps that leave pages out). */
static uint32_t mapped_run(const struct nm_vmem *mem, uint32_t start, uint64_t limit)
{
	uint64_t at = start;

	while (at < limit) {
		struct nm_walk w;

		mem->walk(mem->ctx, at, &w);
		if (w.state != NM_PAGE_VALID && w.state != NM_PAGE_NOT_IN_DUMP)
			break;
		at += nm_walk_span(&w);
	}
	if (at > limit)
		at = limit;
	return (uint32_t)(at - start) & ~0xFFFu;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* NT 5.x: where non-paged pool expansion begins, from the kernel's own
 * record. MiInitializeNonPagedPool registers the expansion range as system
 * PTE pool NonPagedPoolExpansion, one guard PTE above
 * MmNonPagedPoolExpansionStart, so MmSystemPtesStart[1] is the PTE of the
 * page after the guard (docs/address-space.md). 0 when not usable; *WHY
 * then says why. */
static uint32_t expansion_start(const struct nm_va_map *m, const struct nm_self_map *sm,
				const char **why)
{
	uint32_t first, np_start, np_end, va;

	if (!value32(m, NM_VAR_MM_SYSTEM_PTES_START_EXPANSION, &first)) {
		*why = m->variables[NM_VAR_MM_SYSTEM_PTES_START_EXPANSION].present
		       ? "MmSystemPtesStart[1] is unreadable" : "no MmSystemPtesStart in the KDBG";
		return 0;
	}
	if (!value32(m, NM_VAR_MM_NONPAGED_POOL_START, &np_start) ||
	    !value32(m, NM_VAR_MM_NONPAGED_POOL_END, &np_end)) {
		*why = "MmNonPagedPoolStart or MmNonPagedPoolEnd is unreadable";
		return 0;
	}
	if (first == 0) {
		*why = "MmSystemPtesStart[1] is 0: the kernel registered no expansion pool";
		return 0;
	}
	if (!nm_self_map_holds_pte(sm, first)) {
		*why = "MmSystemPtesStart[1] is not a PTE address in the self-map";
		return 0;
	}
	va = (uint32_t)nm_self_map_va_of_pte(sm, first) - 0x1000u;	/* the guard page */
	if (va <= np_start || va >= np_end) {
		*why = "MmSystemPtesStart[1] maps outside MmNonPagedPoolStart..MmNonPagedPoolEnd";
		return 0;
	}
	return va;
}

/* NT 5.x: the initial pool and the expansion pool. Expansion =
 * [VA of MmSystemPtesStart[1] - guard page, MmNonPagedPoolEnd); initial size =
 * MmMaximumNonPagedPoolInBytes - expansion size. */
static void add_nonpaged(struct nm_va_map *m, const struct nm_vmem *mem, uint32_t exp)
{
	uint32_t start = 0, end = 0, max;
	uint64_t initial, limit;

	if (!exp)
		return;
	value32(m, NM_VAR_MM_NONPAGED_POOL_START, &start);
	value32(m, NM_VAR_MM_NONPAGED_POOL_END, &end);
	add_region(m, "nonpaged_pool_expansion", exp, end,
		   "VA of PTE MmSystemPtesStart[1] - 1 guard page .. MmNonPagedPoolEnd");
	if (!value32(m, NM_VAR_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES, &max)) {
		snprintf(m->split_note, sizeof(m->split_note),
			 "MmMaximumNonPagedPoolInBytes is unreadable: the initial pool's size is unknown");
		return;
	}
	if (max < end - exp) {
		snprintf(m->split_note, sizeof(m->split_note),
			 "MmMaximumNonPagedPoolInBytes (0x%x) is smaller than the expansion pool (0x%x)",
			 max, end - exp);
		return;
	}
	initial = max - (end - exp);
	add_region(m, "nonpaged_pool_initial", start, (uint64_t)start + initial,
		   "MmNonPagedPoolStart + (MmMaximumNonPagedPoolInBytes - expansion size)");
	/* One page past the end, to see a mapping that runs on past it. */
	limit = min64((uint64_t)start + initial + 0x1000, 0x100000000ull);
	m->initial_check.done = true;
	m->initial_check.size = (uint32_t)initial;
	m->initial_check.mapped = mapped_run(mem, start, limit);
}

static void add_pair(struct nm_va_map *m, struct nm_region *list, unsigned *n, const char *name,
		     enum nm_kernel_var start_var, enum nm_kernel_var end_var, bool inclusive, const char *source)
{
	uint32_t start, end;

	(void)m;
	if (!value32(m, start_var, &start) || !value32(m, end_var, &end))
		return;
	add_to(list, n, name, start, (uint64_t)end + (inclusive ? 1 : 0), source);
}

/* NT 5.x: system PTE space ends where the expansion pool begins; the
 * kernel sizes pool SystemPteSpace to stop below the expansion's guard PTE,
 * so MmSystemPtesEnd[0] is a little lower (docs/address-space.md). When the
 * last PTE lies at or past EXP the kernel's own values overlap and the
 * region keeps the end they give. */
static void add_system_ptes_nt5(struct nm_va_map *m, const struct nm_self_map *sm, uint32_t exp)
{
	uint32_t first, last;
	uint64_t start, end;

	if (!value32(m, NM_VAR_MM_SYSTEM_PTES_START, &first) ||
	    !value32(m, NM_VAR_MM_SYSTEM_PTES_END, &last) || last < first)
		return;
	start = nm_self_map_va_of_pte(sm, first);
	end = nm_self_map_va_of_pte(sm, last) + 0x1000;
	if (exp && end <= exp && start < exp)
		add_region(m, "system_ptes", start, exp,
			   "VA of PTE MmSystemPtesStart[0] .. start of the expansion pool");
	else
		add_region(m, "system_ptes", start, end,
			   "VAs mapped by PTEs MmSystemPtesStart[0]..MmSystemPtesEnd[0] (inclusive)");
}

/* MmSystemPtesStart/End[0] hold self-map addresses of the first and last
 * PTE of system PTE space (docs/address-space.md). */
static void add_system_ptes(struct nm_va_map *m, struct nm_region *list, unsigned *n,
			    const struct nm_self_map *sm, const char *source)
{
	uint32_t first, last;

	if (!value32(m, NM_VAR_MM_SYSTEM_PTES_START, &first) ||
	    !value32(m, NM_VAR_MM_SYSTEM_PTES_END, &last) || last < first)
		return;
	add_to(list, n, "system_ptes", nm_self_map_va_of_pte(sm, first),
	       nm_self_map_va_of_pte(sm, last) + 0x1000, source);
}

static void add_session(struct nm_va_map *m)
{
	uint32_t base, size;

	if (value32(m, NM_VAR_MM_SESSION_BASE, &base) && value32(m, NM_VAR_MM_SESSION_SIZE, &size))
		add_region(m, "session_space", base, (uint64_t)base + size,
			   "MmSessionBase + MmSessionSize");
}

/* NTLDR's images (kernel, HAL, boot drivers) sit from the start of system
 * space up to the initial non-paged pool on XP and 2003. */
static void add_boot_images(struct nm_va_map *m)
{
	uint32_t start, np;

	if (value32(m, NM_VAR_MM_SYSTEM_RANGE_START, &start) &&
	    value32(m, NM_VAR_MM_NONPAGED_POOL_START, &np) && np > start)
		add_region(m, "boot_images", start, np, "MmSystemRangeStart..MmNonPagedPoolStart");
}

static bool is_window_edge(uint64_t va, const struct nm_self_map *sm)
{
	return va == sm->pte_base || va == fixed_end(sm);
}

/* One region per run of equal MiSystemVaType entries; unused entries and
 * the fixed window (already in the map) are not regions. */
static void add_system_va_runs(struct nm_va_map *m, const struct nm_self_map *sm)
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

/* Vista and later without MiSystemVaType: a script that looks up
 * paged_pool in `regions` still finds it, marked as a limit (contract:
 * pools, "bound": "limit"). */
void va_map_limits_as_regions(struct nm_va_map *m)
{
	for (unsigned i = 0; i < m->nlimits; i++) {
		unsigned before = m->nregions;

		add_region(m, m->limits[i].name, m->limits[i].start, m->limits[i].end, m->limits[i].source);
		if (m->nregions > before)
			m->regions[before].bound = NM_BOUND_LIMIT;
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

static void find_overlaps(struct nm_va_map *m)
{
	m->noverlaps = 0;
	for (unsigned i = 0; i < m->nregions; i++)
		for (unsigned j = i + 1; j < m->nregions; j++) {
			const struct nm_region *a = &m->regions[i], *b = &m->regions[j];
			uint64_t s = a->start > b->start ? a->start : b->start;
			uint64_t e = min64(a->end, b->end);

			/* Limits say where memory may be; they may share space. */
			if (a->bound == NM_BOUND_LIMIT || b->bound == NM_BOUND_LIMIT)
				continue;
			if (s < e && m->noverlaps < sizeof(m->overlaps) / sizeof(m->overlaps[0]))
				m->overlaps[m->noverlaps++] = (struct nm_overlap){ a->name, b->name, s, e };
		}
}

void va_map_finish(struct nm_va_map *m)
{
	sort_regions(m->regions, m->nregions);
	sort_regions(m->limits, m->nlimits);
	find_overlaps(m);
}

void nm_va_map_derive(struct nm_va_map *m, const struct nm_vmem *mem,
		      const struct nm_self_map *sm)
{
	m->nregions = m->nlimits = 0;
	m->regions_dropped = 0;
	m->split_note[0] = '\0';
	memset(&m->initial_check, 0, sizeof(m->initial_check));
	if (sm->mode->va_bits > 32) {
		nm_va_map_derive_x64(m, sm);
		return;
	}
	add_fixed(m, sm);
	if (m->dynamic_va && m->va_types.found)
		add_system_va_runs(m, sm);
	else
		add_session(m);
	if (m->dynamic_va) {
		add_pair(m, m->limits, &m->nlimits, "nonpaged_pool", NM_VAR_MM_NONPAGED_POOL_START,
			 NM_VAR_MM_NONPAGED_POOL_END, false, "limit: MmNonPagedPoolStart..MmNonPagedPoolEnd");
		add_pair(m, m->limits, &m->nlimits, "paged_pool", NM_VAR_MM_PAGED_POOL_START,
			 NM_VAR_MM_PAGED_POOL_END, true, "limit: MmPagedPoolStart..MmPagedPoolEnd (inclusive)");
		add_pair(m, m->limits, &m->nlimits, "system_cache", NM_VAR_MM_SYSTEM_CACHE_START,
			 NM_VAR_MM_SYSTEM_CACHE_END, true, "limit: MmSystemCacheStart..MmSystemCacheEnd (inclusive)");
		add_system_ptes(m, m->limits, &m->nlimits, sm,
				"limit: VAs of PTEs MmSystemPtesStart[0]..MmSystemPtesEnd[0] (inclusive)");
		sort_regions(m->limits, m->nlimits);
		if (!m->va_types.found)
			va_map_limits_as_regions(m);
	} else {
		const char *why = "";
		uint32_t exp = expansion_start(m, sm, &why);

		if (!exp)
			snprintf(m->split_note, sizeof(m->split_note), "%s", why);
		add_boot_images(m);
		add_nonpaged(m, mem, exp);
		add_pair(m, m->regions, &m->nregions, "paged_pool", NM_VAR_MM_PAGED_POOL_START,
			 NM_VAR_MM_PAGED_POOL_END, true, "MmPagedPoolStart..MmPagedPoolEnd (inclusive, +1)");
		add_pair(m, m->regions, &m->nregions, "system_cache", NM_VAR_MM_SYSTEM_CACHE_START,
			 NM_VAR_MM_SYSTEM_CACHE_END, true, "MmSystemCacheStart..MmSystemCacheEnd (inclusive, +1)");
		add_system_ptes_nt5(m, sm, exp);
	}
	va_map_finish(m);
}

const struct nm_region *nm_va_map_find(const struct nm_va_map *m, uint64_t va)
{
	for (unsigned i = 0; m && i < m->nregions; i++)
		if (m->regions[i].bound == NM_BOUND_EXACT && va >= m->regions[i].start &&
		    va < m->regions[i].end)
			return &m->regions[i];
	return NULL;
}
