/* ELF cores: the whole input is an ELF file (nm_source_open_buffer checks
 * its headers, then libkdumpfile reads it from a memory file). When it
 * opens, every page the source holds is visited, lookups are made at and
 * around each run's ends, and two page pointers are held across further
 * lookups (the lazily filled reservation must keep them valid). Seeds:
 * small ELF32/ELF64 cores built by hand from the gABI layouts, one with a
 * QEMU register note. */
#include <ntmem/source.h>

#include "fuzz_common.h"

static int visit(void *ctx, uint64_t pfn, const uint8_t *page)
{
	unsigned *n = ctx;

	(void)pfn;
	(void)fuzz_touch(page, NM_PAGE_SIZE);
	return ++*n >= 1024;
}

static void exercise(const nm_source *src)
{
	const struct nm_dump_facts *f = nm_source_facts(src);
	const uint8_t *first = NULL, *again;
	unsigned n = 0;

	if (f->nruns > NM_MAX_RUNS || f->format != NM_FORMAT_ELF)
		__builtin_trap();
	for (uint32_t i = 0; i < f->nruns; i++) {
		uint64_t b = f->runs[i].base_pfn, c = f->runs[i].page_count;
		const uint8_t *p = nm_source_page(src, b);

		if (!first)
			first = p;
		if (p)
			(void)fuzz_touch(p, NM_PAGE_SIZE);
		(void)nm_source_page(src, b + c - 1);
		(void)nm_source_page(src, b + c);
	}
	(void)nm_source_page(src, f->max_pfn);
	(void)nm_source_page(src, UINT64_MAX >> NM_PAGE_SHIFT);
	(void)nm_source_for_each_page(src, visit, &n);
	if (first) {
		again = nm_source_page(src, f->runs[0].base_pfn);
		if (again != first)
			__builtin_trap();
		(void)fuzz_touch(first, NM_PAGE_SIZE);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nm_source *src = NULL;
	nm_error err;

	if (nm_source_open_buffer(data, size, false, &src, &err) == 0) {
		if (nm_source_facts(src)->format == NM_FORMAT_ELF)
			exercise(src);
		nm_source_close(src);
	}
	return 0;
}
