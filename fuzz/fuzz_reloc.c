/* An original driver file (the --compare-with input, a second untrusted
 * reader): laid out in memory and relocated for a fuzzer-chosen base
 * (nm_pe_load_file), then compared with a carve of the same layout in which
 * every other page is a hole. The input is the base, then the file. */
#include <string.h>

#include <ntmem/carve.h>
#include <ntmem/reloc.h>

#include "fuzz_common.h"

static void image_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	const struct nm_loaded_file *f = ctx;
	uint64_t rva = va - f->load_base;

	memset(out, 0, sizeof(*out));
	out->va = va;
	out->state = (rva >> 12) % 3 == 2 ? NM_PAGE_NOT_IN_DUMP : NM_PAGE_VALID;
	out->has_pa = true;
	out->pa = rva;
}

static const uint8_t *image_bytes(void *ctx, const struct nm_walk *w)
{
	const struct nm_loaded_file *f = ctx;

	if (w->state != NM_PAGE_VALID || w->pa + 4096 > f->size)
		return NULL;
	return f->image + w->pa;
}

static int count_range(void *ctx, const struct nm_modified_range *r)
{
	unsigned *n = ctx;

	if (r->rva_end <= r->rva_start)
		__builtin_trap();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct nm_loaded_file f;
	struct nm_carve c;
	struct nm_compare_stats stats;
	nm_error err;
	uint32_t base = fuzz_take_u32(&in) & ~0xFFFu;
	unsigned ranges = 0;

	/* Images past 4 MiB only cost time: the size limit is checked before
	 * anything is allocated, and is covered by the unit tests. */
	if (nm_pe_parse(in.p, in.n, &f.pe, &err) == 0 && f.pe.size_of_image > (4u << 20))
		return 0;
	if (nm_pe_load_file(in.p, in.n, base, &f, &err) != 0)
		return 0;
	struct nm_vmem r = { &f, image_walk, image_bytes, false, 4, NULL };

	if ((uint64_t)base + f.size <= 0x100000000ull &&
	    nm_carve_image(&r, base, f.size, NULL, &c, &err) == 0) {
		(void)nm_pe_compare(&c, &f, count_range, &ranges, &stats);
		nm_carve_free(&c);
	}
	nm_loaded_file_free(&f);
	return 0;
}
