/* Kernel (DumpType 2) and bitmap (DumpType 5/6) dumps: a bitmap says which
 * PFNs are present, and present pages are stored in ascending PFN order.
 * The offset of PFN n is first_page + 4096 * (bits set below n); a prefix
 * popcount per 64-bit word (the rank index) makes that O(1). */
#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

static uint64_t bitmap_word(const uint8_t *bitmap, uint64_t nbits, uint64_t w)
{
	uint64_t bytes = (nbits + 7) / 8;
	uint64_t start = w * 8;
	uint8_t buf[8] = { 0 };
	uint64_t n = bytes - start < 8 ? bytes - start : 8;
	uint64_t v;

	memcpy(buf, bitmap + start, n);
	v = nm_le64(buf);
	if (w == nbits / 64 && nbits % 64)
		v &= (UINT64_C(1) << (nbits % 64)) - 1;	/* bits past the count mean nothing */
	return v;
}

static int check_bitmap_fits(const struct nm_source *src, uint64_t bitmap_offset,
			     uint64_t nbits, nm_error *err)
{
	uint64_t room = src->len > bitmap_offset ? src->len - bitmap_offset : 0;

	uint64_t max_bits = src->facts.arch == NM_ARCH_X86 ? NM_X86_MAX_PFN : NM_CONTAINER_MAX_PFN;

	if (nbits == 0)
		return nm_fail(err, "bitmap.BitCount", "the bitmap holds no bits");
	/* The rank index is sized by the bit count: a count no machine of this
	 * architecture can address is refused before anything is allocated. */
	if (nbits > max_bits)
		return nm_fail(err, "bitmap.BitCount",
			       "%llu bits (pages) exceed the %llu an %s machine can address (%llu GiB)",
			       (unsigned long long)nbits, (unsigned long long)max_bits,
			       nm_arch_name(src->facts.arch), (unsigned long long)(max_bits >> (30 - NM_PAGE_SHIFT)));
	/* Checked before anything is sized by it: the bits must be in the file. */
	if (nbits / 8 > room || (nbits + 7) / 8 > room)
		return nm_fail(err, "bitmap.BitCount",
			       "%llu bits need %llu bytes from offset 0x%llx, past end of file (%zu bytes)",
			       (unsigned long long)nbits, (unsigned long long)((nbits + 7) / 8),
			       (unsigned long long)bitmap_offset, src->len);
	return 0;
}

static int check_pages_fit(const struct nm_source *src, uint64_t bitmap_end,
			   uint64_t first_page, uint64_t pages, nm_error *err)
{
	if (first_page < bitmap_end)
		return nm_fail(err, "bitmap.FirstPageOffset",
			       "0x%llx points inside the header or bitmap (which end at 0x%llx)",
			       (unsigned long long)first_page, (unsigned long long)bitmap_end);
	if (first_page > src->len || (src->len - first_page) / NM_PAGE_SIZE < pages)
		return nm_fail(err, "bitmap.FirstPageOffset",
			       "%llu pages from offset 0x%llx run past end of file (%zu bytes)",
			       (unsigned long long)pages, (unsigned long long)first_page, src->len);
	return 0;
}

int nm_bitmap_build(struct nm_source *src, uint64_t bitmap_offset, uint64_t nbits,
		    uint64_t first_page_offset, uint64_t expected_pages,
		    const char *pages_field, nm_error *err)
{
	const uint8_t *bitmap = src->data + bitmap_offset;
	struct nm_rank_word *words;
	uint64_t nwords, rank = 0;

	if (check_bitmap_fits(src, bitmap_offset, nbits, err) != 0)
		return -1;
	nwords = (nbits + 63) / 64;
	words = calloc(nwords, sizeof(*words));
	if (!words)
		return nm_fail(err, "memory", "no room for a rank index of %llu words",
			       (unsigned long long)nwords);
	for (uint64_t w = 0; w < nwords; w++) {
		words[w].bits = bitmap_word(bitmap, nbits, w);
		words[w].rank = rank;
		rank += (uint64_t)__builtin_popcountll(words[w].bits);
	}
	/* The index is this function's until the layout is whole, the
	 * source's (bitmap_close) from then on. */
	if (rank != expected_pages) {
		free(words);
		return nm_fail(err, pages_field, "header says %llu pages, but %llu bits are set in the bitmap",
			       (unsigned long long)expected_pages, (unsigned long long)rank);
	}
	if (check_pages_fit(src, bitmap_offset + (nbits + 7) / 8, first_page_offset, rank, err) != 0) {
		free(words);
		return -1;
	}
	src->words = words;
	src->nbits = nbits;
	src->first_page_offset = first_page_offset;
	src->layout = &nm_layout_bitmap;
	src->facts.pages_in_dump = rank;
	src->facts.max_pfn = nbits;
	return 0;
}

static const uint8_t *bitmap_page(const struct nm_source *src, uint64_t pfn)
{
	const struct nm_rank_word *w;
	uint64_t bit, below;

	if (pfn >= src->nbits)
		return NULL;
	w = &src->words[pfn / 64];
	bit = UINT64_C(1) << (pfn % 64);
	if (!(w->bits & bit))
		return NULL;
	below = w->rank + (uint64_t)__builtin_popcountll(w->bits & (bit - 1));
	return src->data + src->first_page_offset + below * NM_PAGE_SIZE;
}

static int bitmap_for_each_page(const struct nm_source *src, nm_page_visitor *visit, void *ctx)
{
	uint64_t nwords = (src->nbits + 63) / 64;

	for (uint64_t w = 0; w < nwords; w++) {
		uint64_t bits = src->words[w].bits;
		uint64_t index = src->words[w].rank;

		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			int rc = 0;

			if (nm_source_next_page_with_data(src, src->first_page_offset, index, index + 1) == index)
				rc = visit(ctx, w * 64 + b, src->data + src->first_page_offset +
							    index * NM_PAGE_SIZE);
			if (rc)
				return rc;
			bits &= bits - 1;
			index++;
		}
	}
	return 0;
}

static void bitmap_close(struct nm_source *src)
{
	free(src->words);
	src->words = NULL;
}

const struct nm_layout_ops nm_layout_bitmap = { bitmap_page, bitmap_for_each_page, bitmap_close };
