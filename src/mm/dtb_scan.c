/* Finding a page directory by its self-map (docs/dtb-scan.md). Two passes
 * over the pages the source holds, each constant work per page:
 *   1. a page whose entry 0x300 (non-PAE) points at its own frame is a page
 *      directory; a page whose entry 3 (PAE) points at its own frame, with
 *      entries 0..2 present, is the directory of 0xC0000000-0xFFFFFFFF;
 *   2. (PAE only) a 32-byte aligned PDPT whose four entries name the four
 *      directories of one such top directory gives the CR3 value.
 * An all-zero page fails the first load of either test, so empty memory
 * costs one read per page. */
#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/dtb_scan.h>

#define NONPAE_SELF_INDEX 0x300u	/* 0xC0000000 >> 22 */
#define PAE_SELF_INDEX 3u		/* (0xC0600000 >> 21) & 0x1FF, in the directory of PDPT entry 3 */
#define PAE_FRAME_MASK UINT64_C(0x000FFFFFFFFFF000)
/* PDPTE bits that must be 0 (Intel SDM vol. 3, "PAE paging", table
 * "Format of a PAE Page-Directory-Pointer-Table Entry"): 2:1, 8:5, 63:52. */
#define PDPTE_RESERVED UINT64_C(0xFFF00000000001E6)
#define MIN_KERNEL_ENTRIES 2u		/* a kernel maps at least its image and the self-map */
#define MAX_CANDIDATES 4096u		/* directories examined; more are only counted */

const char *nm_dtb_source_name(enum nm_dtb_source s)
{
	switch (s) {
	case NM_DTB_FROM_OPTION: return "option";
	case NM_DTB_FROM_SCAN: return "scan";
	case NM_DTB_FROM_ELF_NOTE: return "elf_note";
	case NM_DTB_FROM_HEADER: break;
	}
	return "header";
}

const char *nm_dtb_reject_name(enum nm_dtb_reject r)
{
	switch (r) {
	case NM_DTB_CHOSEN: return "chosen";
	case NM_DTB_RANKED_BELOW: return "maps less kernel space than the chosen one";
	case NM_DTB_NO_KERNEL: return "maps no kernel space";
	case NM_DTB_NO_PDPT: return "PAE directory that no PDPT points at";
	case NM_DTB_NO_KDBG: return "no KDBG found through it";
	case NM_DTB_NOT_TRIED: break;
	}
	return "not validated (budget)";
}

struct pae_dir {
	uint64_t pd[4];		/* frames of the four directories (pd[3] = this page) */
	uint64_t pdpt;		/* PA of the first PDPT that names them, or ~0 */
	uint32_t kernel_entries;
};

struct scan {
	const nm_source *src;
	uint64_t max_pfn;
	struct nm_dtb_candidate *cands;	/* non-PAE directories and finished PAE ones */
	uint32_t ncands;
	struct pae_dir *dirs;		/* PAE top directories, sorted by pd[0] for pass 2 */
	uint32_t ndirs;
	uint32_t seen;			/* every self-mapping directory, counted past the caps */
	uint64_t pages;
	uint64_t pass2_pages;
	const struct nm_progress *progress;
};

/* Pages visited between two releases of the resident mapping (16 MiB). */
#define DROP_EVERY 4096u

static void maybe_drop(struct scan *s)
{
	if (s->pages % DROP_EVERY == 0) {
		nm_source_drop_resident(s->src);
		nm_progress_report(s->progress, "scanning for the page directory", s->pages, s->max_pfn, "pages");
	}
}

/* Present entries [FIRST, FIRST+N) of a directory page whose frame lies in
 * the image (or that map a large page): what the kernel half maps. */
static uint32_t count_present(const uint8_t *page, unsigned first, unsigned n, bool pae, uint64_t max_pfn)
{
	uint32_t count = 0;

	for (unsigned i = first; i < first + n; i++) {
		uint64_t e = pae ? nm_le64(page + 8 * i) : nm_le32(page + 4 * i);
		uint64_t frame = (pae ? e & PAE_FRAME_MASK : e & 0xFFFFF000u) >> 12;

		if ((e & 1) && ((e & 0x80) || frame < max_pfn))
			count++;
	}
	return count;
}

static void add_candidate(struct scan *s, uint64_t dtb, bool pae, uint32_t kernel_entries)
{
	struct nm_dtb_candidate *c;

	if (s->ncands >= MAX_CANDIDATES)
		return;
	c = &s->cands[s->ncands++];
	c->dtb = dtb;
	c->pae = pae;
	c->kernel_entries = kernel_entries;
	c->verdict = kernel_entries >= MIN_KERNEL_ENTRIES ? NM_DTB_RANKED_BELOW : NM_DTB_NO_KERNEL;
}

static bool pae_directory_entry(uint64_t e)
{
	return (e & 1) && (e & UINT64_C(0x7FF0000000000000)) == 0;
}

static void try_pae(struct scan *s, uint64_t pfn, const uint8_t *page)
{
	uint64_t self = nm_le64(page + 8 * PAE_SELF_INDEX);
	struct pae_dir *d;
	const uint8_t *pd2;

	if (!pae_directory_entry(self) || ((self & PAE_FRAME_MASK) >> 12) != pfn)
		return;
	for (unsigned i = 0; i < 3; i++) {
		if (!pae_directory_entry(nm_le64(page + 8 * i)))
			return;
	}
	s->seen++;
	if (s->ndirs >= MAX_CANDIDATES)
		return;
	d = &s->dirs[s->ndirs++];
	for (unsigned i = 0; i < 4; i++)
		d->pd[i] = (nm_le64(page + 8 * i) & PAE_FRAME_MASK) >> 12;
	d->pdpt = UINT64_MAX;
	/* The kernel half is PDPT entries 2 and 3: this page and the one of
	 * entry 2 of the self-map. */
	d->kernel_entries = count_present(page, 0, 512, true, s->max_pfn);
	pd2 = nm_source_page(s->src, d->pd[2]);
	if (pd2)
		d->kernel_entries += count_present(pd2, 0, 512, true, s->max_pfn);
}

static int find_directories(void *ctx, uint64_t pfn, const uint8_t *page)
{
	struct scan *s = ctx;
	uint32_t self = nm_le32(page + 4 * NONPAE_SELF_INDEX);

	s->pages++;
	maybe_drop(s);
	if ((self & 1) && (self >> 12) == pfn) {
		s->seen++;
		add_candidate(s, pfn << 12, false,
			      count_present(page, 0x200, 0x200, false, s->max_pfn));
	}
	try_pae(s, pfn, page);
	return 0;
}

static int by_first_directory(const void *a, const void *b)
{
	const struct pae_dir *x = a, *y = b;

	if (x->pd[0] != y->pd[0])
		return x->pd[0] < y->pd[0] ? -1 : 1;
	return x->pd[3] < y->pd[3] ? -1 : x->pd[3] > y->pd[3];
}

static bool plausible_pdpte(uint64_t e)
{
	return (e & 1) && (e & PDPTE_RESERVED) == 0;
}

/* Pass 2: 32-byte slots whose four entries are present PDPTEs naming the
 * four directories of a top directory found in pass 1. */
static int find_pdpts(void *ctx, uint64_t pfn, const uint8_t *page)
{
	struct scan *s = ctx;

	if (++s->pass2_pages % DROP_EVERY == 0)
		nm_source_drop_resident(s->src);
	for (unsigned off = 0; off < NM_PAGE_SIZE; off += 32) {
		uint64_t e[4];
		struct pae_dir key, *d;

		e[0] = nm_le64(page + off);
		if (!plausible_pdpte(e[0]))
			continue;
		for (unsigned i = 1; i < 4; i++)
			e[i] = nm_le64(page + off + 8 * i);
		if (!plausible_pdpte(e[1]) || !plausible_pdpte(e[2]) || !plausible_pdpte(e[3]))
			continue;
		memset(&key, 0, sizeof(key));
		key.pd[0] = (e[0] & PAE_FRAME_MASK) >> 12;
		key.pd[3] = (e[3] & PAE_FRAME_MASK) >> 12;
		d = bsearch(&key, s->dirs, s->ndirs, sizeof(*s->dirs), by_first_directory);
		if (!d || d->pdpt != UINT64_MAX ||
		    d->pd[1] != (e[1] & PAE_FRAME_MASK) >> 12 || d->pd[2] != (e[2] & PAE_FRAME_MASK) >> 12)
			continue;
		d->pdpt = (pfn << 12) + off;	/* pages come in ascending order: the lowest */
	}
	return 0;
}

static void finish_pae(struct scan *s)
{
	for (uint32_t i = 0; i < s->ndirs; i++) {
		const struct pae_dir *d = &s->dirs[i];

		if (d->pdpt != UINT64_MAX) {
			add_candidate(s, d->pdpt, true, d->kernel_entries);
		} else if (s->ncands < MAX_CANDIDATES) {
			add_candidate(s, d->pd[3] << 12, true, d->kernel_entries);
			s->cands[s->ncands - 1].verdict = NM_DTB_NO_PDPT;
		}
	}
}

/* Usable candidates first, by kernel entries (more first), then address. */
static int by_rank(const void *a, const void *b)
{
	const struct nm_dtb_candidate *x = a, *y = b;
	bool ux = x->verdict == NM_DTB_RANKED_BELOW, uy = y->verdict == NM_DTB_RANKED_BELOW;

	if (ux != uy)
		return ux ? -1 : 1;
	if (x->kernel_entries != y->kernel_entries)
		return x->kernel_entries > y->kernel_entries ? -1 : 1;
	return x->dtb < y->dtb ? -1 : x->dtb > y->dtb;
}

int nm_dtb_scan(const nm_source *src, struct nm_dtb_scan *out, nm_error *err)
{
	return nm_dtb_scan_with(src, NULL, out, err);
}

int nm_dtb_scan_with(const nm_source *src, const struct nm_progress *progress, struct nm_dtb_scan *out,
		     nm_error *err)
{
	struct scan s = { .src = src, .max_pfn = nm_source_facts(src)->max_pfn, .progress = progress };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	s.cands = calloc(MAX_CANDIDATES, sizeof(*s.cands));
	s.dirs = calloc(MAX_CANDIDATES, sizeof(*s.dirs));
	if (!s.cands || !s.dirs) {
		rc = nm_fail(err, "memory", "out of memory");
		goto done;
	}
	nm_progress_report(progress, "scanning for the page directory", 0, s.max_pfn, "pages");
	nm_source_for_each_page(src, find_directories, &s);
	if (s.ndirs) {
		qsort(s.dirs, s.ndirs, sizeof(*s.dirs), by_first_directory);
		nm_source_for_each_page(src, find_pdpts, &s);
		finish_pae(&s);
	}
	nm_source_drop_resident(src);
	qsort(s.cands, s.ncands, sizeof(*s.cands), by_rank);
	out->pages_scanned = s.pages;
	out->candidates = s.seen;
	out->nlisted = s.ncands < NM_DTB_MAX_LISTED ? s.ncands : NM_DTB_MAX_LISTED;
	memcpy(out->listed, s.cands, out->nlisted * sizeof(*s.cands));
	if (s.ncands == 0 || s.cands[0].verdict != NM_DTB_RANKED_BELOW)
		rc = nm_fail(err, "dtb", "no page directory in %llu pages maps itself and kernel space (%u candidates): give --dtb",
			     (unsigned long long)s.pages, s.seen);
	else
		out->listed[0].verdict = NM_DTB_CHOSEN;
done:
	free(s.cands);
	free(s.dirs);
	return rc;
}
