/* Reading the kernel variables behind the address-space map. */
#include <string.h>

#include <ntmem/modules.h>
#include <ntmem/pools.h>

struct variable_slot {
	const char *name;
	enum nm_kdbg_field field;
};

/* Order is the order of the text output: limits of user and system space
 * first, then the pools, then the other regions. */
static const struct variable_slot variable_slots[] = {
	{ "MmHighestUserAddress", NM_KDBG_MM_HIGHEST_USER_ADDRESS },
	{ "MmUserProbeAddress", NM_KDBG_MM_USER_PROBE_ADDRESS },
	{ "MmSystemRangeStart", NM_KDBG_MM_SYSTEM_RANGE_START },
	{ "MmNonPagedSystemStart", NM_KDBG_MM_NONPAGED_SYSTEM_START },
	{ "MmNonPagedPoolStart", NM_KDBG_MM_NONPAGED_POOL_START },
	{ "MmNonPagedPoolEnd", NM_KDBG_MM_NONPAGED_POOL_END },
	{ "MmMaximumNonPagedPoolInBytes", NM_KDBG_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES },
	{ "MmPagedPoolStart", NM_KDBG_MM_PAGED_POOL_START },
	{ "MmPagedPoolEnd", NM_KDBG_MM_PAGED_POOL_END },
	{ "MmSizeOfPagedPoolInBytes", NM_KDBG_MM_SIZE_OF_PAGED_POOL_IN_BYTES },
	{ "MmSystemCacheStart", NM_KDBG_MM_SYSTEM_CACHE_START },
	{ "MmSystemCacheEnd", NM_KDBG_MM_SYSTEM_CACHE_END },
	{ "MmSystemPtesStart", NM_KDBG_MM_SYSTEM_PTES_START },
	{ "MmSystemPtesEnd", NM_KDBG_MM_SYSTEM_PTES_END },
	{ "MmSessionBase", NM_KDBG_MM_SESSION_BASE },
	{ "MmSessionSize", NM_KDBG_MM_SESSION_SIZE },
	{ "MmPfnDatabase", NM_KDBG_MM_PFN_DATABASE },
	{ "MmHighestPhysicalPage", NM_KDBG_MM_HIGHEST_PHYSICAL_PAGE },
	{ "MmLowestPhysicalPage", NM_KDBG_MM_LOWEST_PHYSICAL_PAGE },
	{ "MmNumberOfPhysicalPages", NM_KDBG_MM_NUMBER_OF_PHYSICAL_PAGES },
	{ "MmSubsectionBase", NM_KDBG_MM_SUBSECTION_BASE },
};

#define NSLOTS (sizeof(variable_slots) / sizeof(variable_slots[0]))

static void read_variables(struct nm_kernel *k, const struct nm_vmem *mem, struct nm_pool_map *m)
{
	for (size_t i = 0; i < NSLOTS && m->nvariables < NM_MAX_POOL_VARIABLES; i++) {
		struct nm_kernel_variable *v = &m->variables[m->nvariables];
		uint32_t addr = nm_kdbg_slot(&k->kdbg, variable_slots[i].field);

		/* A slot past the block's Size, or never filled, names no variable. */
		if (addr == 0 || (uint32_t)variable_slots[i].field + 8 > k->kdbg.size)
			continue;
		v->name = variable_slots[i].name;
		v->address = addr;
		v->readable = nm_vmem_u32(mem, addr, &v->value, &v->state) == 0;
		if (!v->readable)
			m->incomplete = true;
		m->nvariables++;
	}
}

/* The clues MiSystemVaType is checked against come from the module list:
 * the kernel's own image (the entry at KernBase) and every loaded image. */
static void locate_system_va_types(struct nm_kernel *k, const struct nm_vmem *mem, struct nm_pool_map *m)
{
	struct nm_system_va_clues clues = { .kernel_base = k->kernel_base, .build = k->build };
	struct nm_module_list list = { 0 };
	nm_error err;

	nm_pools_value(m, "MmPfnDatabase", &clues.pfn_database);
	if (nm_modules_walk(mem, nm_kdbg_slot(&k->kdbg, NM_KDBG_PS_LOADED_MODULE_LIST), &list, &err) == 0) {
		clues.images = list.items;
		clues.nimages = list.count;
	}
	for (unsigned i = 0; i < clues.nimages; i++)
		if (list.items[i].base == k->kernel_base)
			clues.kernel_size = list.items[i].size;
	nm_system_va_locate(mem, &clues, nm_kernel_self_map(k), &m->va_types);
	nm_modules_free(&list);
}

int nm_pools_read(struct nm_kernel *k, struct nm_pool_map *out, nm_error *err)
{
	struct nm_vmem mem;

	memset(out, 0, sizeof(*out));
	if (!k->has_kdbg)
		return nm_fail(err, k->kdbg_error.what, "%s", k->kdbg_error.why);
	mem = nm_kernel_vmem(k);
	out->dynamic_va = k->version->dynamic_va;
	out->build = k->build;
	read_variables(k, &mem, out);
	if (out->dynamic_va)
		locate_system_va_types(k, &mem, out);
	nm_pools_derive(out, &mem, nm_kernel_self_map(k));
	return 0;
}
