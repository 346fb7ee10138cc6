/* The MiSystemVaType search: the fuzzer supplies the paging mode, the
 * clues (kernel image, PFN database, loaded images) and three slices of
 * kernel memory: the kernel image, the page directory as the self-map shows
 * it, and a pool area that pointers in the image may name. The map found is
 * then turned into regions. */
#include <stdlib.h>
#include <string.h>

#include <ntmem/va_map.h>
#include <ntmem/system_va.h>

#include "fuzz_common.h"

#define POOL 0x83800000u
#define MAX_IMAGES 8

struct slices {
	uint32_t kernel_base;
	struct fuzz_input image, pde, pool;
	uint32_t pde_va;
	uint8_t page[4096];	/* the bytes the slices give of the page last asked */
};

static const uint8_t *slice_at(const struct slices *s, uint32_t va, size_t len)
{
	const struct { uint32_t at; const struct fuzz_input *in; } map[3] = {
		{ s->kernel_base, &s->image }, { s->pde_va, &s->pde }, { POOL, &s->pool },
	};

	for (int i = 0; i < 3; i++)
		if (va >= map[i].at && va - map[i].at <= map[i].in->n && len <= map[i].in->n - (va - map[i].at))
			return map[i].in->p + (va - map[i].at);
	return NULL;
}

static void slice_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	memset(out, 0, sizeof(*out));
	out->va = va;
	out->page_shift = 12;
	out->state = va <= 0xFFFFFFFFu && slice_at(ctx, (uint32_t)va, 1) ? NM_PAGE_VALID : NM_PAGE_NOT_MAPPED;
}

/* The page as the slices give it: their bytes where they cover it, zeros
 * elsewhere. */
static const uint8_t *slice_page(void *ctx, const struct nm_walk *w)
{
	struct slices *s = ctx;
	uint64_t start = w->va & ~UINT64_C(0xFFF);
	const struct { uint64_t at; const struct fuzz_input *in; } map[3] = {
		{ s->kernel_base, &s->image }, { s->pde_va, &s->pde }, { POOL, &s->pool },
	};

	memset(s->page, 0, sizeof(s->page));
	for (int i = 0; i < 3; i++) {
		uint64_t lo = start > map[i].at ? start : map[i].at;
		uint64_t hi = start + 4096 < map[i].at + map[i].in->n ? start + 4096 : map[i].at + map[i].in->n;

		if (lo < hi)
			memcpy(s->page + (lo - start), map[i].in->p + (lo - map[i].at), hi - lo);
	}
	return s->page;
}

static struct fuzz_input take_slice(struct fuzz_input *in, size_t max)
{
	size_t n = fuzz_take_u32(in) % (max + 1);
	struct fuzz_input s = { in->p, n < in->n ? n : in->n };

	in->p += s.n;
	in->n -= s.n;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct nm_module images[MAX_IMAGES];
	struct nm_system_va_clues c;
	struct nm_va_map *m;
	struct slices s;
	struct nm_vmem mem = { &s, slice_walk, slice_page, false, 4, NULL };
	uint8_t flags = fuzz_take_u8(&in);
	bool pae = flags & 1;
	const struct nm_self_map *sm = pae ? &nm_mode_x86_pae.self_map : &nm_mode_x86.self_map;

	memset(&c, 0, sizeof(c));
	c.kernel_base = fuzz_take_u32(&in);
	c.pfn_database = fuzz_take_u32(&in);
	c.build = fuzz_take_u32(&in);
	c.kernel_size = fuzz_take_u32(&in);
	c.nimages = fuzz_take_u8(&in) % (MAX_IMAGES + 1);
	for (unsigned i = 0; i < c.nimages; i++) {
		memset(&images[i], 0, sizeof(images[i]));
		images[i].base = fuzz_take_u32(&in);
		images[i].size = fuzz_take_u32(&in);
	}
	c.images = images;
	s.kernel_base = c.kernel_base;
	s.pde_va = pae ? 0xC0602000u : 0xC0300800u;
	s.pde = take_slice(&in, 0x2000);
	s.pool = take_slice(&in, 0x2000);
	s.image = in;
	/* The clue says how much to scan; the memory behind it may be shorter.
	 * Flag 2: as long as the image slice; flags 0x1c all set: as the input
	 * says (up to the 32 MiB clamp, slow, so rare); else a little past the
	 * slice, so that most runs cost what the input is long. */
	if (flags & 2)
		c.kernel_size = (uint32_t)in.n;
	else if ((flags & 0x1C) != 0x1C)
		c.kernel_size %= (uint32_t)in.n + 0x10000u;
	m = calloc(1, sizeof(*m));
	if (!m)
		return 0;
	nm_system_va_locate(&mem, &c, sm, &m->va_types);
	if (m->va_types.found && (m->va_types.entries != (pae ? 0x400u : 0x200u)))
		__builtin_trap();
	m->dynamic_va = true;
	m->build = c.build;
	nm_va_map_derive(m, &mem, sm);
	if (m->nregions > NM_MAX_REGIONS)
		__builtin_trap();
	for (unsigned i = 0; i < m->nregions; i++)
		if (m->regions[i].end <= m->regions[i].start || !m->regions[i].name)
			__builtin_trap();
	free(m);
	return 0;
}
