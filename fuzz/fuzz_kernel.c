/* The kernel layer over fuzzer-built memory: KDBG, version, PFN database,
 * then the module-list walk (LDR entries, UNICODE_STRINGs and their text),
 * the pool map, a few PFN entries and their owners, and the resolver
 * (module, section through the module's PE headers, region) for the
 * fuzzer's addresses. The input starts with the root, the KDBG VA, two PFNs
 * and a VA; the rest is the physical memory (a raw source). */
#include <ntmem/kernel.h>
#include <ntmem/modules.h>
#include <ntmem/pfn.h>
#include <ntmem/va_map.h>
#include <ntmem/resolve.h>
#include <ntmem/source.h>

#include "fuzz_common.h"

/* Resolves VA and every module's entry point and last byte, and the owner
 * of each PFN entry, with the module list and pool map at hand. */
static void resolve(struct nm_kernel *k, const struct nm_module_list *l, const struct nm_va_map *m,
		    uint32_t va, const uint64_t *pfns)
{
	struct nm_vmem view = nm_kernel_vmem(k);
	struct nm_resolver r;
	struct nm_resolved out;
	struct nm_pfn_entry e;
	struct nm_pfn_owner owner;
	nm_error err;

	if (nm_resolver_init(&r, &view, l, m, &err) != 0)
		return;
	nm_resolve(&r, va, &out);
	for (unsigned i = 0; i < l->count && i < 64; i++) {
		nm_resolve(&r, l->items[i].entry_point, &out);
		nm_resolve(&r, (uint64_t)l->items[i].base + l->items[i].size - 1, &out);
	}
	for (unsigned i = 0; i < 2; i++)
		if (nm_pfn_read(k, pfns[i], &e) == 0)
			nm_pfn_owner_resolve(&r, &e, nm_kernel_self_map(k), k->version->pte_layout, &owner);
	nm_resolver_free(&r);
}

static void walk_modules(struct nm_kernel *k, struct nm_module_list *out)
{
	struct nm_module_list l = { 0 };
	nm_error err;

	*out = l;
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
	*out = l;
}

static bool map_pools(struct nm_kernel *k, const struct nm_module_list *l, struct nm_va_map *m)
{
	nm_error err;

	if (nm_va_map_read(k, l, m, &err) != 0)
		return false;
	if (m->nregions > NM_MAX_REGIONS)
		__builtin_trap();
	for (unsigned i = 0; i < m->nregions; i++)
		(void)nm_va_map_find(m, m->regions[i].start);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct nm_kernel_options opt = { 0 };
	struct nm_kernel k;
	struct nm_module_list l;
	static struct nm_va_map m;	/* large; the fuzzer's stack is small */
	nm_source *src = NULL;
	nm_error err;
	uint8_t flags = fuzz_take_u8(&in);
	uint64_t pfns[2];
	uint32_t va;

	opt.has_dtb = !(flags & 2);	/* else the DTB scan looks for one (no cache: a buffer) */
	opt.dtb = fuzz_take_u32(&in);
	opt.has_kdbg = flags & 1;
	opt.kdbg_va = fuzz_take_u32(&in);
	pfns[0] = fuzz_take_u32(&in);
	pfns[1] = fuzz_take_u64(&in);
	va = fuzz_take_u32(&in);
	if (nm_source_open_buffer(in.p, in.n, true, &src, &err) != 0)
		return 0;
	if (nm_kernel_open(src, &opt, &k, &err) == 0) {
		bool has_pools;

		walk_modules(&k, &l);
		has_pools = map_pools(&k, &l, &m);
		resolve(&k, &l, has_pools ? &m : NULL, va, pfns);
		nm_modules_free(&l);
		nm_kernel_close(&k);
	}
	nm_source_close(src);
	return 0;
}
