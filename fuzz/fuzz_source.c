/* Dump header, physical run table and bitmap rank index: the whole input is
 * a dump file (nm_source_open_buffer). When it opens, every page the source
 * claims to hold is visited and read in full, lookups are made at and around
 * each run's ends, and reads cross page boundaries; a triage dump's driver
 * list is read entry by entry. An input the crash-dump
 * parser refuses is opened again as a raw image, so both paths run. */
#include <ntmem/source.h>
#include <ntmem/triage.h>

#include "fuzz_common.h"

struct visit_state {
	uint64_t last_pfn;
	int first;
	unsigned pages;
};

static int visit(void *ctx, uint64_t pfn, const uint8_t *page)
{
	struct visit_state *v = ctx;

	/* The contract of for_each_page: ascending order, no repeats. */
	if (!v->first && pfn <= v->last_pfn)
		__builtin_trap();
	v->first = 0;
	v->last_pfn = pfn;
	(void)fuzz_touch(page, NM_PAGE_SIZE);
	return ++v->pages >= 4096;	/* more than any fuzz input can hold */
}

static void probe(const nm_source *src, uint64_t pfn)
{
	const uint8_t *page = nm_source_page(src, pfn);
	uint8_t buf[16];

	if (page)
		(void)fuzz_touch(page, NM_PAGE_SIZE);
	/* Across the end of this page into the next. */
	(void)nm_source_read_pa(src, pfn * NM_PAGE_SIZE + NM_PAGE_SIZE - 8, buf, sizeof(buf));
}

/* A triage dump's driver list: every entry and its name are read (the
 * count is bounded by the file, so this is bounded by the input). */
static void exercise_triage(const nm_source *src)
{
	struct nm_triage t;
	nm_error err;

	if (nm_source_facts(src)->type != NM_DUMP_TRIAGE || nm_triage_open(src, &t, &err) != 0)
		return;
	for (uint32_t i = 0; i < t.driver_count; i++) {
		struct nm_triage_driver d;

		nm_triage_driver(src, &t, i, &d);
		if (d.name)
			(void)fuzz_touch(d.name, d.name_bytes);
	}
}

static void exercise(const nm_source *src)
{
	const struct nm_dump_facts *f = nm_source_facts(src);
	struct visit_state v = { 0, 1, 0 };
	size_t len = 0;

	(void)nm_format_name(f->format);
	(void)nm_dump_type_name(f->type);
	(void)nm_arch_name(f->arch);
	if (f->nruns > NM_MAX_RUNS)
		__builtin_trap();
	for (uint32_t i = 0; i < f->nruns; i++) {
		uint64_t b = f->runs[i].base_pfn, n = f->runs[i].page_count;

		probe(src, b);
		probe(src, b + n - 1);
		probe(src, b + n);
		if (b)
			probe(src, b - 1);
	}
	for (uint64_t pfn = 0; pfn < 64; pfn++)
		probe(src, pfn);
	probe(src, f->max_pfn);
	probe(src, UINT64_MAX >> NM_PAGE_SHIFT);
	(void)nm_source_for_each_page(src, visit, &v);
	(void)nm_source_file(src, &len);
	exercise_triage(src);
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
		exercise(src);
		nm_source_close(src);
	}
	return 0;
}
