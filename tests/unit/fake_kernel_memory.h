/* Hand-built kernel virtual memory for the kernel-layer unit tests: a few
 * 4 KiB pages at chosen VAs, each with a page state. Pages not added are
 * not_mapped. Used through struct nm_vmem, so no dump is needed. */
#ifndef FAKE_KERNEL_MEMORY_H
#define FAKE_KERNEL_MEMORY_H

#include <stdint.h>
#include <string.h>

#include <ntmem/vmem.h>

#define FAKE_MAX_PAGES 64

struct fake_page {
	uint64_t va;
	enum nm_page_state state;
	uint8_t bytes[4096];
};

struct fake_memory {
	unsigned npages;
	unsigned pointer_size;		/* 8: an x64 kernel's memory; else x86 */
	struct fake_page pages[FAKE_MAX_PAGES];
};

static inline struct fake_page *fake_find(struct fake_memory *m, uint64_t va)
{
	for (unsigned i = 0; i < m->npages; i++)
		if (m->pages[i].va == (va & ~UINT64_C(0xFFF)))
			return &m->pages[i];
	return NULL;
}

/* Adds (or returns) the page holding VA, in STATE. */
static inline struct fake_page *fake_page(struct fake_memory *m, uint64_t va, enum nm_page_state state)
{
	struct fake_page *p = fake_find(m, va);

	if (!p) {
		if (m->npages >= FAKE_MAX_PAGES)
			return NULL;
		p = &m->pages[m->npages++];
		memset(p, 0, sizeof(*p));
		p->va = va & ~UINT64_C(0xFFF);
	}
	p->state = state;
	return p;
}

static inline void fake_put(struct fake_memory *m, uint64_t va, const void *data, size_t len)
{
	const uint8_t *d = data;

	for (size_t i = 0; i < len; i++) {
		struct fake_page *p = fake_find(m, va + i);

		if (!p)
			p = fake_page(m, va + i, NM_PAGE_VALID);
		p->bytes[(va + i) & 0xFFFu] = d[i];
	}
}

static inline void fake_put32(struct fake_memory *m, uint64_t va, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	fake_put(m, va, b, 4);
}

static inline void fake_put64(struct fake_memory *m, uint64_t va, uint64_t v)
{
	fake_put32(m, va, (uint32_t)v);
	fake_put32(m, va + 4, (uint32_t)(v >> 32));
}

static inline void fake_put_utf16(struct fake_memory *m, uint64_t va, const char *ascii)
{
	for (size_t i = 0; ascii[i]; i++) {
		uint8_t u[2] = { (uint8_t)ascii[i], 0 };

		fake_put(m, va + 2 * i, u, 2);
	}
}

static inline enum nm_page_state fake_state(struct fake_memory *m, uint64_t va)
{
	struct fake_page *p = fake_find(m, va);

	return p ? p->state : NM_PAGE_NOT_MAPPED;
}

static void fake_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	memset(out, 0, sizeof(*out));
	out->va = va;
	out->page_shift = 12;
	out->state = fake_state(ctx, va);
}

static const uint8_t *fake_page_bytes(void *ctx, const struct nm_walk *w)
{
	struct fake_page *p = fake_find(ctx, w->va);

	return p ? p->bytes : NULL;
}

static inline struct nm_vmem fake_vmem(struct fake_memory *m)
{
	struct nm_vmem v = { m, fake_walk, fake_page_bytes, false, m->pointer_size == 8 ? 8 : 4, NULL };

	return v;
}

#endif
