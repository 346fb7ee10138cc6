/* gzip containers: the whole input is a gzip file (nm_source_open_buffer
 * recognises the magic, indexes the stream in a temporary file and reads
 * it in place: docs/gzip-index.md). When it
 * opens, the inflated source is probed as fuzz_source does; a source the
 * crash-dump parser refuses is opened again as a raw image. Inputs are a few
 * KiB, so even a maximal deflate ratio (about 1000:1) stays a few MiB of
 * temporary file per run. Seeds: gzip -9 of the fuzz_source seeds. */
#include <ntmem/source.h>

#include "fuzz_common.h"

static void exercise(const nm_source *src)
{
	const struct nm_dump_facts *f = nm_source_facts(src);
	uint8_t buf[16];

	if (f->compression != NM_COMPRESSION_GZIP || f->nruns > NM_MAX_RUNS)
		__builtin_trap();
	for (uint32_t i = 0; i < f->nruns; i++) {
		const uint8_t *page = nm_source_page(src, f->runs[i].base_pfn);

		if (page)
			(void)fuzz_touch(page, NM_PAGE_SIZE);
	}
	for (uint64_t pfn = 0; pfn < 16; pfn++) {
		const uint8_t *page = nm_source_page(src, pfn);

		if (page)
			(void)fuzz_touch(page, NM_PAGE_SIZE);
		(void)nm_source_read_pa(src, pfn * NM_PAGE_SIZE + NM_PAGE_SIZE - 8, buf, sizeof(buf));
	}
	(void)nm_source_page(src, f->max_pfn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nm_source *src = NULL;
	nm_error err;

	if (nm_source_open_buffer(data, size, false, &src, &err) == 0) {
		exercise(src);
		nm_source_close(src);
		return 0;
	}
	if (nm_source_open_buffer(data, size, true, &src, &err) == 0) {
		if (nm_source_facts(src)->compression == NM_COMPRESSION_GZIP)
			exercise(src);
		nm_source_close(src);
	}
	return 0;
}
