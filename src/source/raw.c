/* Raw physical images (WinPmem, DumpIt, FTK Imager, VMware .vmem): a flat
 * copy of physical memory from address 0. Their facts are what the file size
 * implies, nothing more. */
#include <string.h>

#include "source_internal.h"

/* Any whole, non-zero number of pages: raw images carry no signature, so
 * this entry comes last in the table. */
bool nm_raw_probe(const uint8_t *data, size_t len)
{
	(void)data;
	return len >= NM_PAGE_SIZE && len % NM_PAGE_SIZE == 0;
}

/* A Windows dump whose first signature was damaged ("DUMP"/"DU64" still at
 * offset 4) and a user-mode minidump ("MDMP") are not memory images, whatever
 * their size or name: only --format raw reads them as one. */
static int foreign_mark(const struct nm_input *in, nm_error *err)
{
	if (in->forced || in->len < 8)
		return 0;
	if (memcmp(in->data + 4, "DUMP", 4) == 0 || memcmp(in->data + 4, "DU64", 4) == 0)
		return nm_fail(err, "header.Signature",
			       "'%.4s' at offset 4 but no 'PAGE' at offset 0: a damaged Windows crash dump, not a raw image (--format raw reads it as one)",
			       (const char *)in->data + 4);
	if (memcmp(in->data, "MDMP", 4) == 0)
		return nm_fail(err, "header.Signature",
			       "'MDMP' at offset 0: a user-mode minidump, which holds no physical memory");
	return 0;
}

static const uint8_t *flat_page(const struct nm_source *src, uint64_t pfn)
{
	if (pfn >= src->facts.max_pfn)
		return NULL;
	return src->data + pfn * NM_PAGE_SIZE;
}

static int flat_for_each_page(const struct nm_source *src, nm_page_visitor *visit, void *ctx)
{
	for (uint64_t pfn = 0; (pfn = nm_source_next_page_with_data(src, 0, pfn, src->facts.max_pfn)) <
			       src->facts.max_pfn; pfn++) {
		int rc = visit(ctx, pfn, src->data + pfn * NM_PAGE_SIZE);

		if (rc)
			return rc;
	}
	return 0;
}

const struct nm_layout_ops nm_layout_flat = { flat_page, flat_for_each_page, NULL };

int nm_raw_open(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	struct nm_source *src;
	struct nm_dump_facts *f;
	uint64_t pages;

	if (foreign_mark(in, err) != 0)
		return -1;
	src = nm_source_new(err);
	if (!src)
		return -1;
	nm_input_give(in, src);
	f = &src->facts;
	pages = src->len / NM_PAGE_SIZE;
	f->format = NM_FORMAT_RAW;
	f->type = NM_DUMP_RAW;
	f->arch = NM_ARCH_X86;
	f->pages_in_dump = pages;
	f->header_pages = pages;
	f->max_pfn = pages;
	if (pages) {
		f->nruns = 1;
		f->runs[0].base_pfn = 0;
		f->runs[0].page_count = pages;
	}
	src->layout = &nm_layout_flat;
	*out = src;
	return 0;
}
