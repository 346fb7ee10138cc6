/* Full dumps (DumpType 1): the physical memory runs of the header, stored
 * back to back from offset 0x1000. Lookup is a binary search over at most
 * 86 runs. */
#include <ntmem/bytes.h>

#include "source_internal.h"

static int check_run_table_present(uint32_t nruns, nm_error *err)
{
	if (nruns == NM_PAGE_FILL)
		return nm_fail(err, "header.NumberOfRuns", "'PAGE' fill at offset 0x64: the run table was never written");
	if (nruns > NM_MAX_RUNS)
		return nm_fail(err, "header.NumberOfRuns", "%u at offset 0x64 exceeds the %u runs the header can hold",
			       nruns, NM_MAX_RUNS);
	if (nruns == 0)
		return nm_fail(err, "header.NumberOfRuns", "0 at offset 0x64: a full dump without memory runs");
	return 0;
}

/* Runs must ascend without overlapping: the binary search relies on it, and
 * a writer never produces anything else. */
static int check_run_order(const struct nm_source *src, uint32_t i, nm_error *err)
{
	const struct nm_file_run *prev = &src->runs[i - 1];
	const struct nm_file_run *run = &src->runs[i];

	if (run->base_pfn < prev->base_pfn + prev->page_count)
		return nm_fail(err, "header.Run[].BasePage",
			       "run %u (offset 0x%x) starts at PFN 0x%llx, before the end of run %u (0x%llx): out of order or overlapping",
			       i, 0x6C + 8 * i, (unsigned long long)run->base_pfn, i - 1,
			       (unsigned long long)(prev->base_pfn + prev->page_count));
	return 0;
}

int nm_runs_build(struct nm_source *src, nm_error *err)
{
	const uint8_t *h = src->data;
	struct nm_dump_facts *f = &src->facts;
	uint32_t nruns = nm_le32(h + 0x64);
	uint64_t total = 0, header_pages = nm_le32(h + 0x68);
	uint64_t need;

	if (check_run_table_present(nruns, err) != 0)
		return -1;
	for (uint32_t i = 0; i < nruns; i++) {
		struct nm_file_run *run = &src->runs[i];

		run->base_pfn = nm_le32(h + 0x6C + 8 * i);
		run->page_count = nm_le32(h + 0x70 + 8 * i);
		run->file_offset = NM_HEADER32_SIZE + total * NM_PAGE_SIZE;
		if (i > 0 && check_run_order(src, i, err) != 0)
			return -1;
		total += run->page_count;
	}
	if (total != header_pages)
		return nm_fail(err, "header.NumberOfPages",
			       "%llu at offset 0x68, but the runs add up to %llu pages",
			       (unsigned long long)header_pages, (unsigned long long)total);
	need = NM_HEADER32_SIZE + total * NM_PAGE_SIZE;
	if (need > src->len)
		return nm_fail(err, "header.PhysicalMemoryBlock",
			       "the runs need %llu bytes of page data past end of file (file is %zu bytes, needs %llu)",
			       (unsigned long long)(need - src->len), src->len, (unsigned long long)need);
	src->nruns = nruns;
	src->layout = &nm_layout_runs;
	f->pages_in_dump = total;
	f->max_pfn = src->runs[nruns - 1].base_pfn + src->runs[nruns - 1].page_count;
	return 0;
}

static const uint8_t *runs_page(const struct nm_source *src, uint64_t pfn)
{
	uint32_t lo = 0, hi = src->nruns;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct nm_file_run *run = &src->runs[mid];

		if (pfn < run->base_pfn)
			hi = mid;
		else if (pfn - run->base_pfn >= run->page_count)
			lo = mid + 1;
		else
			return src->data + run->file_offset + (pfn - run->base_pfn) * NM_PAGE_SIZE;
	}
	return NULL;
}

static int runs_for_each_page(const struct nm_source *src, nm_page_visitor *visit, void *ctx)
{
	for (uint32_t r = 0; r < src->nruns; r++) {
		const struct nm_file_run *run = &src->runs[r];

		uint64_t i = 0;

		/* I grows every turn (a skip moves it past at least one page). */
		while ((i = nm_source_next_page_with_data(src, run->file_offset, i, run->page_count)) <
		       run->page_count) {
			int rc = visit(ctx, run->base_pfn + i,
				       src->data + run->file_offset + i * NM_PAGE_SIZE);
			if (rc)
				return rc;
			i++;
		}
	}
	return 0;
}

const struct nm_layout_ops nm_layout_runs = { runs_page, runs_for_each_page, NULL };
