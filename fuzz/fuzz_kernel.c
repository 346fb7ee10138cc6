/* The kernel layer over fuzzer-built memory: KDBG, version, PFN database,
 * then the module-list walk (LDR entries, UNICODE_STRINGs and their text),
 * the pool map and a few PFN entries. The input starts with the root, the
 * KDBG VA and two PFNs; the rest is the physical memory (a raw source). */
#include <ntmem/kernel.h>
#include <ntmem/modules.h>
#include <ntmem/pfn.h>
#include <ntmem/pools.h>
#include <ntmem/source.h>

#include "fuzz_common.h"

static void walk_modules(struct nm_kernel *k)
{
	struct nm_module_list l = { 0 };
	nm_error err;

	if (nm_modules_read(k, &l, &err) != 0)
		return;
	if (l.count > NM_MAX_MODULES)
		__builtin_trap();
	for (unsigned i = 0; i < l.count; i++) {
		if (l.items[i].name)
			(void)fuzz_touch((const uint8_t *)l.items[i].name,
					 __builtin_strlen(l.items[i].name));
		if (l.items[i].path)
			(void)fuzz_touch((const uint8_t *)l.items[i].path,
					 __builtin_strlen(l.items[i].path));
	}
	if (l.count)
		(void)nm_modules_find(&l, l.items[0].base);
	nm_modules_free(&l);
}

static void map_pools(struct nm_kernel *k)
{
	struct nm_pool_map m;
	nm_error err;

	if (nm_pools_read(k, &m, &err) != 0)
		return;
	if (m.nregions > NM_MAX_REGIONS || m.nvariables > NM_MAX_POOL_VARIABLES)
		__builtin_trap();
	for (unsigned i = 0; i < m.nregions; i++)
		(void)nm_pools_find(&m, m.regions[i].start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct nm_kernel_options opt = { 0 };
	struct nm_kernel k;
	struct nm_pfn_entry e;
	nm_source *src = NULL;
	nm_error err;
	uint8_t flags = fuzz_take_u8(&in);
	uint64_t pfns[2];

	opt.has_dtb = true;
	opt.dtb = fuzz_take_u32(&in);
	opt.has_kdbg = flags & 1;
	opt.kdbg_va = fuzz_take_u32(&in);
	pfns[0] = fuzz_take_u32(&in);
	pfns[1] = fuzz_take_u64(&in);
	if (nm_source_open_buffer(in.p, in.n, true, &src, &err) != 0)
		return 0;
	if (nm_kernel_open(src, &opt, &k, &err) == 0) {
		walk_modules(&k);
		map_pools(&k);
		for (unsigned i = 0; i < 2; i++)
			(void)nm_pfn_read(&k, pfns[i], &e);
		nm_kernel_close(&k);
	}
	nm_source_close(src);
	return 0;
}
