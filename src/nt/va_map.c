/* Reading the kernel variables behind the address-space map. */
#include <string.h>

#include <ntmem/va_map.h>

struct variable_slot {
	const char *name;
	enum nm_kdbg_field field;
	uint32_t element;		/* byte offset inside an array-valued symbol */
	bool count32;			/* PFN_COUNT (ULONG) on x64 too; the rest are
					   pointer-sized there (docs/address-space.md) */
};

/* Indexed by enum nm_kernel_var. MmSystemPtesStart/End are arrays indexed
 * by MMSYSTEM_PTE_POOL_TYPE and their KDBG slots hold the array's address,
 * so element 1 (NonPagedPoolExpansion) is one pointer further (4 bytes on
 * x86; docs/address-space.md). */
static const struct variable_slot variable_slots[NM_VAR_COUNT] = {
	[NM_VAR_MM_HIGHEST_USER_ADDRESS] = { "MmHighestUserAddress", NM_KDBG_MM_HIGHEST_USER_ADDRESS, 0, false },
	[NM_VAR_MM_USER_PROBE_ADDRESS] = { "MmUserProbeAddress", NM_KDBG_MM_USER_PROBE_ADDRESS, 0, false },
	[NM_VAR_MM_SYSTEM_RANGE_START] = { "MmSystemRangeStart", NM_KDBG_MM_SYSTEM_RANGE_START, 0, false },
	[NM_VAR_MM_NONPAGED_SYSTEM_START] = { "MmNonPagedSystemStart", NM_KDBG_MM_NONPAGED_SYSTEM_START, 0, false },
	[NM_VAR_MM_NONPAGED_POOL_START] = { "MmNonPagedPoolStart", NM_KDBG_MM_NONPAGED_POOL_START, 0, false },
	[NM_VAR_MM_NONPAGED_POOL_END] = { "MmNonPagedPoolEnd", NM_KDBG_MM_NONPAGED_POOL_END, 0, false },
	[NM_VAR_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES] = { "MmMaximumNonPagedPoolInBytes",
						       NM_KDBG_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES, 0, false },
	[NM_VAR_MM_PAGED_POOL_START] = { "MmPagedPoolStart", NM_KDBG_MM_PAGED_POOL_START, 0, false },
	[NM_VAR_MM_PAGED_POOL_END] = { "MmPagedPoolEnd", NM_KDBG_MM_PAGED_POOL_END, 0, false },
	[NM_VAR_MM_SIZE_OF_PAGED_POOL_IN_BYTES] = { "MmSizeOfPagedPoolInBytes",
						    NM_KDBG_MM_SIZE_OF_PAGED_POOL_IN_BYTES, 0, false },
	[NM_VAR_MM_SYSTEM_CACHE_START] = { "MmSystemCacheStart", NM_KDBG_MM_SYSTEM_CACHE_START, 0, false },
	[NM_VAR_MM_SYSTEM_CACHE_END] = { "MmSystemCacheEnd", NM_KDBG_MM_SYSTEM_CACHE_END, 0, false },
	[NM_VAR_MM_SYSTEM_PTES_START] = { "MmSystemPtesStart", NM_KDBG_MM_SYSTEM_PTES_START, 0, false },
	[NM_VAR_MM_SYSTEM_PTES_END] = { "MmSystemPtesEnd", NM_KDBG_MM_SYSTEM_PTES_END, 0, false },
	[NM_VAR_MM_SYSTEM_PTES_START_EXPANSION] = { "MmSystemPtesStart[1]", NM_KDBG_MM_SYSTEM_PTES_START, 4, false },
	[NM_VAR_MM_SYSTEM_PTES_END_EXPANSION] = { "MmSystemPtesEnd[1]", NM_KDBG_MM_SYSTEM_PTES_END, 4, false },
	[NM_VAR_MM_SESSION_BASE] = { "MmSessionBase", NM_KDBG_MM_SESSION_BASE, 0, false },
	[NM_VAR_MM_SESSION_SIZE] = { "MmSessionSize", NM_KDBG_MM_SESSION_SIZE, 0, false },
	[NM_VAR_MM_PFN_DATABASE] = { "MmPfnDatabase", NM_KDBG_MM_PFN_DATABASE, 0, false },
	[NM_VAR_MM_HIGHEST_PHYSICAL_PAGE] = { "MmHighestPhysicalPage", NM_KDBG_MM_HIGHEST_PHYSICAL_PAGE, 0, false },
	[NM_VAR_MM_LOWEST_PHYSICAL_PAGE] = { "MmLowestPhysicalPage", NM_KDBG_MM_LOWEST_PHYSICAL_PAGE, 0, false },
	[NM_VAR_MM_NUMBER_OF_PHYSICAL_PAGES] = { "MmNumberOfPhysicalPages",
						 NM_KDBG_MM_NUMBER_OF_PHYSICAL_PAGES, 0, true },
	[NM_VAR_MM_SUBSECTION_BASE] = { "MmSubsectionBase", NM_KDBG_MM_SUBSECTION_BASE, 0, false },
};

const char *nm_kernel_var_name(enum nm_kernel_var v)
{
	return (unsigned)v < NM_VAR_COUNT ? variable_slots[v].name : "?";
}

/* One variable at ADDR, as wide as the kernel declares it. */
static bool read_value(const struct nm_vmem *mem, uint64_t addr, bool wide,
		       struct nm_kernel_variable *v)
{
	uint32_t narrow;

	if (wide)
		return nm_vmem_u64(mem, addr, &v->value, &v->state) == 0;
	if (nm_vmem_u32(mem, addr, &narrow, &v->state) != 0)
		return false;
	v->value = narrow;
	return true;
}

static void read_variables(struct nm_kernel *k, const struct nm_vmem *mem, struct nm_va_map *m)
{
	bool x64 = nm_vmem_pointer_size(mem) == 8;
	uint64_t top = x64 ? UINT64_MAX : UINT32_MAX;

	for (unsigned i = 0; i < NM_VAR_COUNT; i++) {
		struct nm_kernel_variable *v = &m->variables[i];
		uint64_t addr = nm_kdbg_slot(&k->kdbg, variable_slots[i].field);

		/* A slot past the block's Size, or never filled, names no variable. */
		if (addr == 0 || (uint32_t)variable_slots[i].field + 8 > k->kdbg.size)
			continue;
		if (addr > top - variable_slots[i].element)
			continue;
		/* Element 1 of the PTE arrays serves only the NT 5.x pool split. */
		if (variable_slots[i].element && (m->dynamic_va || x64))
			continue;
		addr += variable_slots[i].element;
		v->present = true;
		v->address = addr;
		v->readable = read_value(mem, addr, x64 && !variable_slots[i].count32, v);
		if (!v->readable)
			m->incomplete = true;
	}
}

/* The clues MiSystemVaType is checked against come from the module list:
 * the kernel's own image (the entry at KernBase) and every loaded image. */
static void locate_system_va_types(struct nm_kernel *k, const struct nm_vmem *mem,
				   const struct nm_module_list *modules, struct nm_va_map *m)
{
	struct nm_system_va_clues clues = { .kernel_base = (uint32_t)k->kernel_base, .build = k->build };
	uint64_t pfn_database;

	/* x86 only: every value here fits in 32 bits */
	if (nm_va_map_value(m, NM_VAR_MM_PFN_DATABASE, &pfn_database) && pfn_database <= UINT32_MAX)
		clues.pfn_database = (uint32_t)pfn_database;
	if (modules) {
		clues.images = modules->items;
		clues.nimages = modules->count;
	}
	for (unsigned i = 0; i < clues.nimages; i++)
		if (clues.images[i].base == k->kernel_base)
			clues.kernel_size = clues.images[i].size;
	nm_system_va_locate(mem, &clues, nm_kernel_self_map(k), &m->va_types);
}

int nm_va_map_read(struct nm_kernel *k, const struct nm_module_list *modules,
		   struct nm_va_map *out, nm_error *err)
{
	struct nm_vmem mem;

	memset(out, 0, sizeof(*out));
	if (!k->has_kdbg)
		return nm_fail(err, k->kdbg_error.what, "%s", k->kdbg_error.why);
	mem = nm_kernel_vmem(k);
	out->dynamic_va = k->version->dynamic_va;
	out->build = k->build;
	out->x64 = nm_vmem_pointer_size(&mem) == 8;
	read_variables(k, &mem, out);
	/* MiSystemVaType is the x86 kernel's map (system space from 0x80000000);
	   x64 regions follow the build's layout (va_map_x64.c). */
	if (out->dynamic_va && !out->x64)
		locate_system_va_types(k, &mem, modules, out);
	nm_va_map_derive(out, &mem, nm_kernel_self_map(k));
	return 0;
}
