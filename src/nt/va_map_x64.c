/* The x64 kernel address-space map: which regions the build defines and
 * where the kernel's own values put them (docs/address-space.md, "x64"
 * gives every rule and its source). No boundary here comes from what is
 * mapped: a region is where the kernel reserved it, touched or not. */
#include <stdio.h>
#include <string.h>

#include <ntmem/va_map.h>

#include "va_map_build.h"

/* Vista (6000) to 7 SP1 (7601) keep the layout below; Windows 8 (9200)
 * moved regions, and Windows 10 1607 (14393) places them at random at boot. */
#define X64_FIXED_LAYOUT_END_BUILD 9200u
/* sizeof(MMPFN) on x64, Vista to 11 (ntdiff/headers _MMPFN.h: 0x30). */
#define X64_MMPFN_SIZE 0x30u
#define PAGE_SIZE_X64 0x1000u

struct fixed_window {
	const char *name;
	uint64_t start, end;		/* end exclusive */
	const char *source;
};

/* Vista/7 x64: windows at addresses no variable names (ReactOS
 * ntoskrnl/include/internal/amd64/mm.h, "based on Vista"; Windows
 * Internals 6th ed., x64 system address space layout). */
static const struct fixed_window fixed_windows[] = {
	{ "hyperspace", UINT64_C(0xFFFFF70000000000), UINT64_C(0xFFFFF78000000000),
	  "fixed (Vista/7 x64): HYPER_SPACE..HYPER_SPACE_END, 512 GiB" },
	{ "shared_system_page", UINT64_C(0xFFFFF78000000000), UINT64_C(0xFFFFF78000001000),
	  "fixed (Vista/7 x64): KUSER_SHARED_DATA's kernel mapping" },
	{ "system_working_set", UINT64_C(0xFFFFF78000001000), UINT64_C(0xFFFFF80000000000),
	  "fixed (Vista/7 x64): system cache working-set lists" },
	{ "boot_images", UINT64_C(0xFFFFF80000000000), UINT64_C(0xFFFFF88000000000),
	  "fixed (Vista/7 x64): loader mappings (kernel, HAL, boot drivers), 512 GiB" },
	{ "dynamic_kernel_va", UINT64_C(0xFFFFF98000000000), UINT64_C(0xFFFFFA8000000000),
	  "fixed (Vista/7 x64): dynamic system VA (system cache, special pool, views), 1 TiB" },
};

/* Vista/7 x64 windows that variables place more precisely; used as they
 * are only when the variables cannot be read. */
#define FIXED_SYSTEM_PTES_START UINT64_C(0xFFFFF88000000000)
#define FIXED_PAGED_POOL_START UINT64_C(0xFFFFF8A000000000)
#define FIXED_SESSION_START UINT64_C(0xFFFFF90000000000)
#define FIXED_SESSION_END UINT64_C(0xFFFFF98000000000)

static bool value(const struct nm_va_map *m, enum nm_kernel_var v, uint64_t *out)
{
	return nm_va_map_value(m, v, out);
}

/* The page tables: the PML4 entry the translator found pointing at the PML4
 * itself (read from the dump, random from Windows 10 1607). */
static void add_page_tables(struct nm_va_map *m, const struct nm_self_map *sm)
{
	char source[96];

	snprintf(source, sizeof(source), "self-map: PML4 entry 0x%X maps the PML4 (read from the dump)",
		 sm->index);
	va_map_add_region(m, "page_tables", sm->pte_base, sm->pte_base + nm_self_map_pte_window(sm), source);
}

/* The PFN database: MmPfnDatabase, one MMPFN per frame up to
 * MmHighestPhysicalPage, rounded up to a page (LiveCloudKd computes the
 * Windows 7 non-paged pool start the same way). Only its first pages may
 * be mapped (frames that do not exist have no entries): the end is the
 * array's, not the mapping's. */
static void add_pfn_database(struct nm_va_map *m)
{
	uint64_t base, highest, bytes;

	if (!value(m, NM_VAR_MM_PFN_DATABASE, &base) || !value(m, NM_VAR_MM_HIGHEST_PHYSICAL_PAGE, &highest))
		return;
	if (highest >= (UINT64_MAX / X64_MMPFN_SIZE) - 1)
		return;
	bytes = ((highest + 1) * X64_MMPFN_SIZE + PAGE_SIZE_X64 - 1) & ~(uint64_t)(PAGE_SIZE_X64 - 1);
	if (base > UINT64_MAX - bytes)
		return;
	va_map_add_region(m, "pfn_database", base, base + bytes,
			  "MmPfnDatabase + (MmHighestPhysicalPage + 1) * 0x30 (sizeof MMPFN), page-rounded");
}

/* [start, end) from two variables into LIST; END_VAR is the last byte when
 * INCLUSIVE. False when either is unreadable or they are out of order. */
static bool add_pair(const struct nm_va_map *m, struct nm_region *list, unsigned *n, const char *name,
		     enum nm_kernel_var start_var, enum nm_kernel_var end_var, bool inclusive,
		     const char *source)
{
	uint64_t start, end;

	if (!value(m, start_var, &start) || !value(m, end_var, &end))
		return false;
	if (inclusive) {
		if (end == UINT64_MAX)
			return false;
		end++;
	}
	if (end <= start)
		return false;
	va_map_add_to(list, n, name, start, end, source);
	return true;
}

static bool add_session(const struct nm_va_map *m, struct nm_region *list, unsigned *n, const char *source)
{
	uint64_t base, size;

	if (!value(m, NM_VAR_MM_SESSION_BASE, &base) || !value(m, NM_VAR_MM_SESSION_SIZE, &size) ||
	    size == 0 || base > UINT64_MAX - size)
		return false;
	va_map_add_to(list, n, "session_space", base, base + size, source);
	return true;
}

/* MmSystemPtesStart/End[0]: self-map addresses of the first and last PTE
 * of system PTE space (WRK sysptes.c, common to x86 and amd64). */
static bool add_system_ptes(const struct nm_va_map *m, const struct nm_self_map *sm,
			    struct nm_region *list, unsigned *n, const char *source)
{
	uint64_t first, last;

	if (!value(m, NM_VAR_MM_SYSTEM_PTES_START, &first) || !value(m, NM_VAR_MM_SYSTEM_PTES_END, &last) ||
	    last < first || !nm_self_map_holds_pte(sm, first) || !nm_self_map_holds_pte(sm, last))
		return false;
	va_map_add_to(list, n, "system_ptes", nm_self_map_va_of_pte(sm, first),
		      nm_self_map_va_of_pte(sm, last) + PAGE_SIZE_X64, source);
	return true;
}

/* Vista/7: the fixed windows, and the variable-placed regions inside theirs. */
static void derive_fixed_layout(struct nm_va_map *m, const struct nm_self_map *sm)
{
	for (unsigned i = 0; i < sizeof(fixed_windows) / sizeof(fixed_windows[0]); i++)
		va_map_add_region(m, fixed_windows[i].name, fixed_windows[i].start, fixed_windows[i].end,
				  fixed_windows[i].source);
	if (!add_system_ptes(m, sm, m->regions, &m->nregions,
			     "VAs of PTEs MmSystemPtesStart[0]..MmSystemPtesEnd[0] (inclusive)"))
		va_map_add_region(m, "system_ptes", FIXED_SYSTEM_PTES_START, FIXED_PAGED_POOL_START,
				  "fixed (Vista/7 x64), MmSystemPtesStart/End unreadable: 128 GiB");
	if (!add_pair(m, m->regions, &m->nregions, "paged_pool", NM_VAR_MM_PAGED_POOL_START,
		      NM_VAR_MM_PAGED_POOL_END, true, "MmPagedPoolStart..MmPagedPoolEnd (inclusive, +1)"))
		va_map_add_region(m, "paged_pool", FIXED_PAGED_POOL_START, FIXED_PAGED_POOL_START + (UINT64_C(128) << 30),
				  "fixed (Vista/7 x64), MmPagedPoolStart/End unreadable: 128 GiB");
	if (!add_session(m, m->regions, &m->nregions, "MmSessionBase + MmSessionSize"))
		va_map_add_region(m, "session_space", FIXED_SESSION_START, FIXED_SESSION_END,
				  "fixed (Vista/7 x64), MmSessionBase/Size unreadable: 512 GiB");
	add_pfn_database(m);
	add_pair(m, m->regions, &m->nregions, "nonpaged_pool", NM_VAR_MM_NONPAGED_POOL_START,
		 NM_VAR_MM_NONPAGED_POOL_END, false, "MmNonPagedPoolStart..MmNonPagedPoolEnd");
	snprintf(m->x64_layout_note, sizeof(m->x64_layout_note),
		 "build %u: Vista/7 x64 fixed layout; pools, session space and system PTEs from the kernel's variables",
		 m->build);
}

/* Windows 8 and later: the kernel picks each region's place at boot (at
 * random from Windows 10 1607) and records it in its region table
 * (MiVisibleState->SystemVaRegions), which no KDBG slot names. The
 * variables the KDBG does name say where each kind of memory may lie. */
static void derive_placed_layout(struct nm_va_map *m, const struct nm_self_map *sm)
{
	add_pfn_database(m);
	add_pair(m, m->limits, &m->nlimits, "nonpaged_pool", NM_VAR_MM_NONPAGED_POOL_START,
		 NM_VAR_MM_NONPAGED_POOL_END, false, "limit: MmNonPagedPoolStart..MmNonPagedPoolEnd");
	add_pair(m, m->limits, &m->nlimits, "paged_pool", NM_VAR_MM_PAGED_POOL_START,
		 NM_VAR_MM_PAGED_POOL_END, true, "limit: MmPagedPoolStart..MmPagedPoolEnd (inclusive)");
	add_session(m, m->limits, &m->nlimits, "limit: MmSessionBase + MmSessionSize");
	add_system_ptes(m, sm, m->limits, &m->nlimits,
			"limit: VAs of PTEs MmSystemPtesStart[0]..MmSystemPtesEnd[0] (inclusive)");
	add_pair(m, m->limits, &m->nlimits, "system_cache", NM_VAR_MM_SYSTEM_CACHE_START,
		 NM_VAR_MM_SYSTEM_CACHE_END, true, "limit: MmSystemCacheStart..MmSystemCacheEnd (inclusive)");
	snprintf(m->x64_layout_note, sizeof(m->x64_layout_note),
		 "build %u: regions are placed at boot%s and recorded in MiVisibleState->SystemVaRegions, "
		 "which no KDBG slot names; the variables are limits",
		 m->build, m->build >= 14393 ? " at random (Windows 10 1607 on)" : "");
}

void nm_va_map_derive_x64(struct nm_va_map *m, const struct nm_self_map *sm)
{
	snprintf(m->va_types.why, sizeof(m->va_types.why),
		 "not used on x64: MiSystemVaType maps 32-bit system space; x64 regions follow the build's layout");
	m->va_types.found = false;
	add_page_tables(m, sm);
	if (m->build < X64_FIXED_LAYOUT_END_BUILD)
		derive_fixed_layout(m, sm);
	else
		derive_placed_layout(m, sm);
	va_map_limits_as_regions(m);
	va_map_finish(m);
}
