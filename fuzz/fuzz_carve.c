/* The carve of one image over fuzzer-chosen pages: the input gives the base,
 * the page count, each page's state and the bytes of the readable pages, so
 * the headers (page 0) and every hole pattern are under its control. Then
 * the hole runs, the .mem/.pe writers and the .holes.json writer run, output
 * to /dev/null. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ntmem/carve.h>
#include <ntmem/carve_files.h>
#include <ntmem/pe_rebuild.h>

#include "fuzz_common.h"

#define MAX_PAGES 64

struct fake_memory {
	uint32_t base;
	uint8_t states[MAX_PAGES];
	const uint8_t *bytes;
	size_t len;
};

static void fake_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	const struct fake_memory *m = ctx;
	uint64_t i = (va - m->base) >> 12;

	memset(out, 0, sizeof(*out));
	out->va = va;
	out->state = i < MAX_PAGES ? (enum nm_page_state)(m->states[i] % NM_PAGE_STATE_COUNT)
				   : NM_PAGE_NOT_MAPPED;
	out->has_pa = out->state == NM_PAGE_VALID || out->state == NM_PAGE_TRANSITION ||
		      out->state == NM_PAGE_STALE || out->state == NM_PAGE_NOT_IN_DUMP;
	out->pa = i << 12;
	out->sw.pagefile_number = (unsigned)(i & 15);
	out->sw.pagefile_offset = i << 12;
}

static const uint8_t *fake_bytes(void *ctx, const struct nm_walk *w)
{
	const struct fake_memory *m = ctx;
	static const uint8_t zero[4096];
	uint64_t i = w->pa >> 12;

	if (w->state == NM_PAGE_DEMAND_ZERO)
		return zero;
	if (!nm_page_state_readable(w->state) && w->state != NM_PAGE_STALE)
		return NULL;
	if ((i + 1) * 4096 > m->len)
		return NULL;
	return m->bytes + i * 4096;
}

static int count_hole(void *ctx, const struct nm_carve_hole *h)
{
	unsigned *n = ctx;

	if (h->rva_end <= h->rva_start)
		__builtin_trap();
	(*n)++;
	return 0;
}

static void write_outputs(const struct nm_carve *c)
{
	FILE *f = fopen("/dev/null", "w");
	int fd = open("/dev/null", O_WRONLY);
	uint8_t *hdr = malloc(NM_PE_SYNTH_HEADER_SIZE);
	nm_error err;

	if (!f || fd < 0 || !hdr)
		abort();
	if (c->headers == NM_HEADERS_OK && c->pages[0].bytes) {
		memcpy(hdr, c->pages[0].bytes, NM_PE_SYNTH_HEADER_SIZE);
		nm_pe_rebuild_headers(hdr, NM_PE_SYNTH_HEADER_SIZE, &c->pe, c->base, c->size);
	} else {
		nm_pe_synthesize_headers(hdr, c->base, c->size, c->wide);
	}
	(void)nm_carve_write_image(fd, c, 0xCC, NULL, 0, &err);
	(void)nm_carve_write_image(fd, c, 0, hdr, NM_PE_SYNTH_HEADER_SIZE, &err);
	(void)nm_carve_write_holes_json(f, c, "fuzz\xff\"name");
	free(hdr);
	close(fd);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct fake_memory m = { 0 };
	struct nm_vmem r = { &m, fake_walk, fake_bytes, false, 4, NULL };
	struct nm_carve_options opt = { 0 };
	struct nm_carve c;
	nm_error err;
	unsigned npages, tail, holes = 0;

	m.base = fuzz_take_u32(&in) & ~0xFFFu;
	npages = 1 + fuzz_take_u8(&in) % MAX_PAGES;
	tail = fuzz_take_u32(&in) & 0xFFF;
	opt.keep_stale = tail & 1;
	r.stale_checked = tail & 2;
	for (unsigned i = 0; i < npages; i++)
		m.states[i] = fuzz_take_u8(&in);
	m.bytes = in.p;
	m.len = in.n;
	if (nm_carve_image(&r, m.base, npages * 4096u - tail, &opt, &c, &err) != 0)
		return 0;
	(void)nm_carve_for_each_hole(&c, count_hole, &holes);
	write_outputs(&c);
	nm_carve_free(&c);
	return 0;
}
