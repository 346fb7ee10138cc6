/* KDBG validation and scan: the fuzzer supplies the paging mode, the root,
 * the block's VA and the physical memory (a raw source over the rest of the
 * input). The block at the VA is read and validated, then every page is
 * scanned for one. */
#include <ntmem/kdbg.h>
#include <ntmem/source.h>
#include <ntmem/xlat.h>

#include "fuzz_common.h"

static void check(const struct nm_kdbg *k)
{
	if (k->size > NM_KDBG_MAX_SIZE)
		__builtin_trap();
	(void)nm_kdbg_slot(k, NM_KDBG_PS_LOADED_MODULE_LIST);
	(void)nm_kdbg_slot(k, NM_KDBG_MM_SESSION_SIZE);
	(void)nm_kdbg_source_name(k->source);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct nm_xlat_config cfg = { 0 };
	struct nm_kdbg k;
	nm_source *src = NULL;
	nm_xlat *x = NULL;
	nm_error err;
	uint8_t flags = fuzz_take_u8(&in);
	uint32_t va;

	cfg.mode = flags & 1 ? &nm_mode_x86_pae : &nm_mode_x86;
	cfg.layout = (enum nm_pte_layout)((flags >> 1) % 4);
	cfg.dtb = fuzz_take_u32(&in);
	va = fuzz_take_u32(&in);
	if (nm_source_open_buffer(in.p, in.n, true, &src, &err) != 0)
		return 0;
	if (nm_xlat_new(src, &cfg, &x, &err) == 0) {
		if (nm_kdbg_read(x, va, NM_KDBG_FROM_OPTION, &k, &err) == 0)
			check(&k);
		if (nm_kdbg_scan(x, &k, &err) == 0)
			check(&k);
		nm_xlat_free(x);
	}
	nm_source_close(src);
	return 0;
}
