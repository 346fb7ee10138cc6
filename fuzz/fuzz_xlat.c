/* The page walk: the fuzzer supplies the paging mode, the page-table root,
 * a few VAs and the physical memory itself (a raw source over the rest of
 * the input), so page directories, tables, PDPTEs, large pages, software
 * PTEs and prototype PTEs are all under its control, PAE and non-PAE. */
#include <ntmem/source.h>
#include <ntmem/vmem.h>
#include <ntmem/xlat.h>

#include "fuzz_common.h"

#define MAX_VAS 8

static void walk_one(nm_xlat *x, uint64_t va)
{
	struct nm_walk w;
	struct nm_vmem mem;
	enum nm_page_state st;
	const uint8_t *page;
	uint8_t buf[0x2010];

	nm_xlat_walk(x, va, &w);
	if (w.nentries > NM_MAX_PAGING_LEVELS || w.state >= NM_PAGE_STATE_COUNT)
		__builtin_trap();
	(void)nm_page_state_name(w.state);
	for (unsigned i = 0; i < w.nentries; i++)
		(void)nm_paging_level_name(w.entries[i].level);
	page = nm_xlat_page_bytes(x, &w);
	if (page)
		(void)fuzz_touch(page, NM_PAGE_SIZE);
	/* A read that starts mid-page and spans three pages. */
	mem = nm_vmem_from_xlat(x);
	(void)nm_vmem_read(&mem, va - 8, buf, sizeof(buf), NM_STALE_REFUSE, &st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct nm_xlat_config cfg = { 0 };
	uint64_t vas[MAX_VAS];
	unsigned nvas;
	nm_source *src = NULL;
	nm_xlat *x = NULL;
	nm_error err;
	uint8_t flags = fuzz_take_u8(&in);

	cfg.mode = flags & 1 ? &nm_mode_x86_pae : &nm_mode_x86;
	cfg.layout = (enum nm_pte_layout)((flags >> 1) % 4);
	cfg.dtb = fuzz_take_u32(&in);
	cfg.bases.proto_base = fuzz_take_u32(&in);
	cfg.bases.subsection_base = fuzz_take_u32(&in);
	cfg.bases.nonpaged_pool_end = fuzz_take_u32(&in);
	nvas = 1 + fuzz_take_u8(&in) % MAX_VAS;
	for (unsigned i = 0; i < nvas; i++)
		vas[i] = fuzz_take_u32(&in);
	if (nm_source_open_buffer(in.p, in.n, true, &src, &err) != 0)
		return 0;
	if (nm_xlat_new(src, &cfg, &x, &err) == 0) {
		for (unsigned i = 0; i < nvas; i++)
			walk_one(x, vas[i]);
		nm_xlat_free(x);
	}
	nm_source_close(src);
	return 0;
}
