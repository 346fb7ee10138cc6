/* Reading the KDBG through the translator, and finding it by its signature
 * in physical memory for dumps whose header pointer is zero or wrong
 * (docs/kdbg.md, "Scan").
 *
 * A hit gives a physical address; the block's virtual address comes from
 * its own list links: List.Flink/Blink point at KdpDebuggerDataListHead,
 * whose links point back at the block. The VA is accepted only when it
 * translates to the physical address where the signature was seen. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <ntmem/bytes.h>
#include <ntmem/kdbg.h>
#include <ntmem/source.h>
#include <ntmem/version.h>

struct scan {
	nm_xlat *x;
	const nm_source *src;
	struct nm_vmem mem;
	uint32_t build;
	struct nm_kdbg *out;
	nm_error last;		/* why the most recent candidate was refused */
	unsigned candidates;
	uint64_t pages;
};

/* x86: the eight zero bytes before the tag are the upper halves of the
 * 64-bit list links, which a 32-bit kernel never writes. x64: the links
 * are two kernel-half (canonical upper) addresses. */
static bool links_ok(const uint8_t *hdr, unsigned ptr)
{
	static const uint8_t zero[8];

	if (ptr == 4)
		return memcmp(hdr + 8, zero, 8) == 0;
	return nm_le64(hdr) >= UINT64_C(0xFFFF800000000000) && nm_le64(hdr + 8) >= UINT64_C(0xFFFF800000000000);
}

static bool signature_ok(const uint8_t *hdr, uint32_t build, unsigned ptr)
{
	uint32_t size = nm_le32(hdr + 0x14);
	const struct nm_version *v = nm_version_for_kdbg_size(size);

	if (!links_ok(hdr, ptr) || !v)
		return false;
	return build == 0 || nm_version_for_build(build)->kdbg_size == size;
}

static bool maps_to(nm_xlat *x, uint64_t va, uint64_t pa)
{
	struct nm_walk w;

	nm_xlat_walk(x, va, &w);
	return w.state == NM_PAGE_VALID && w.has_pa && w.pa == pa;
}

/* Tries the VAs the list head at HEAD names for the block at BLOCK_PA. */
static int try_head(struct scan *s, uint64_t head, uint64_t block_pa)
{
	unsigned ptr = nm_vmem_pointer_size(&s->mem);
	uint8_t links[16];
	enum nm_page_state st;

	if (nm_vmem_read(&s->mem, head, links, 2 * ptr, NM_STALE_REFUSE, &st) != 0) {
		nm_fail(&s->last, "kdbg", "list head 0x%08llx of the block at PA 0x%llx is unreadable (%s)",
			(unsigned long long)head, (unsigned long long)block_pa, nm_page_state_name(st));
		return -1;
	}
	for (unsigned i = 0; i < 2; i++) {
		uint64_t va = ptr == 8 ? nm_le64(links + 8 * i) : nm_le32(links + 4 * i);

		if (!maps_to(s->x, va, block_pa))
			continue;
		if (nm_kdbg_validate(&s->mem, va, s->build, NM_KDBG_FROM_SCAN, s->out, &s->last) == 0)
			return 0;
	}
	if (!s->last.what[0])
		nm_fail(&s->last, "kdbg", "no list link of the block at PA 0x%llx maps back to it",
			(unsigned long long)block_pa);
	return -1;
}

static int try_candidate(struct scan *s, uint64_t block_pa, const uint8_t *hdr)
{
	unsigned ptr = nm_vmem_pointer_size(&s->mem);
	uint64_t flink = ptr == 8 ? nm_le64(hdr) : nm_le32(hdr);
	uint64_t blink = ptr == 8 ? nm_le64(hdr + 8) : nm_le32(hdr + 4);

	s->last.what[0] = '\0';
	if (try_head(s, flink, block_pa) == 0)
		return 0;
	if (blink != flink && try_head(s, blink, block_pa) == 0)
		return 0;
	return -1;
}

/* The next "KDBG" in [P, END), or NULL, without a branch per byte: the scan
 * must keep up with reading the file (docs/kdbg.md, "Scan"). A tag that
 * straddles two pages is not seen: a real block is 8-byte aligned, so its
 * tag never does. */
static const uint8_t *next_tag_bytes(const uint8_t *p, const uint8_t *end)
{
	for (; p + 4 <= end; p++)
		if (p[0] == 'K' && memcmp(p, "KDBG", 4) == 0)
			return p;
	return NULL;
}

#ifdef __SSE2__
/* 64 bytes per step: positions holding 'K' with 'G' three bytes later are
 * found with byte compares; such a pair is rare enough in any data that the
 * exact check behind the one branch almost never runs. */
static bool block_may_hold_tag(const uint8_t *p)
{
	const __m128i k = _mm_set1_epi8('K'), g = _mm_set1_epi8('G');
	__m128i any = _mm_setzero_si128();

	for (int i = 0; i < 64; i += 16) {
		__m128i at_k = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), k);
		__m128i at_g = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i + 3)), g);

		any = _mm_or_si128(any, _mm_and_si128(at_k, at_g));
	}
	return _mm_movemask_epi8(any) != 0;
}

static const uint8_t *next_tag(const uint8_t *p, const uint8_t *end)
{
	for (; p + 67 <= end; p += 64)
		if (block_may_hold_tag(p)) {
			const uint8_t *hit = next_tag_bytes(p, p + 67);

			if (hit && hit < p + 64)
				return hit;
		}
	return next_tag_bytes(p, end);
}
#else
/* Eight bytes per step: a word with no 'K' byte (the has-zero-byte test on
 * w ^ 'KKKKKKKK') is skipped whole. */
static const uint8_t *next_tag(const uint8_t *p, const uint8_t *end)
{
	const uint64_t k = 0x4B4B4B4B4B4B4B4Bull, ones = 0x0101010101010101ull,
		       highs = 0x8080808080808080ull;

	for (; p + 11 <= end; p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= k;
		if (((w - ones) & ~w & highs) != 0) {
			const uint8_t *hit = next_tag_bytes(p, p + 11);

			if (hit && hit < p + 8)
				return hit;
		}
	}
	return next_tag_bytes(p, end);
}
#endif

/* Return values: 0 keep going, 1 found, 2 too many candidates. */
static int visit_page(void *ctx, uint64_t pfn, const uint8_t *page)
{
	struct scan *s = ctx;
	const uint8_t *p = page, *end = page + NM_PAGE_SIZE;

	s->pages++;
	while ((p = next_tag(p, end)) != NULL) {
		uint64_t tag_pa = (pfn << NM_PAGE_SHIFT) + (uint64_t)(p - page);
		uint8_t hdr[0x18];

		p += 4;
		if (tag_pa < 0x10)
			continue;
		/* The header may begin in the previous page. */
		if (nm_source_read_pa(s->src, tag_pa - 0x10, hdr, sizeof(hdr)) != 0)
			continue;
		if (!signature_ok(hdr, s->build, nm_vmem_pointer_size(&s->mem)))
			continue;
		if (++s->candidates > NM_KDBG_MAX_CANDIDATES)
			return 2;
		if (try_candidate(s, tag_pa - 0x10, hdr) == 0)
			return 1;
	}
	return 0;
}

int nm_kdbg_read(nm_xlat *x, uint64_t va, enum nm_kdbg_source source,
		 struct nm_kdbg *out, nm_error *err)
{
	struct nm_vmem mem = nm_vmem_from_xlat(x);

	return nm_kdbg_validate(&mem, va, 0, source, out, err);
}

int nm_kdbg_scan_for_build(nm_xlat *x, uint32_t build, struct nm_kdbg *out, nm_error *err)
{
	struct scan s = { .x = x, .src = nm_xlat_source(x), .mem = nm_vmem_from_xlat(x),
			  .build = build, .out = out };
	int rc = nm_source_for_each_page(s.src, visit_page, &s);

	if (rc == 1)
		return 0;
	if (rc == 2)
		return nm_fail(err, "kdbg", "scan gave up after %u signature candidates (last: %s: %s)",
			       NM_KDBG_MAX_CANDIDATES, s.last.what, s.last.why);
	if (s.candidates)
		return nm_fail(err, "kdbg", "none of %u candidates in %llu pages validated (last: %s: %s)",
			       s.candidates, (unsigned long long)s.pages, s.last.what, s.last.why);
	return nm_fail(err, "kdbg", "no KDBG signature in %llu pages", (unsigned long long)s.pages);
}

int nm_kdbg_scan(nm_xlat *x, struct nm_kdbg *out, nm_error *err)
{
	return nm_kdbg_scan_for_build(x, 0, out, err);
}
