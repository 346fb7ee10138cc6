/* The kernel's view of a dump: translator, version row, KDBG, PFN database.
 * How the KDBG is found and why: docs/kdbg.md; the stale rule: docs/mmpfn.md. */
#include <stdio.h>
#include <string.h>

#include <ntmem/dtb_find.h>
#include <ntmem/kernel.h>
#include <ntmem/pfn.h>

/* Why a dump's memory cannot be used, in the same words for every
 * command (issue 15): the architecture, the dump type, then the
 * page-table root. */
static int refuse_unusable(const struct nm_dump_facts *f, nm_error *err)
{
	if (f->arch != NM_ARCH_X86 && f->arch != NM_ARCH_X64)
		return nm_fail(err, "header.MachineImageType",
			       "%s dumps are recognised but their page tables are not walked (x86 and x64 only)",
			       nm_arch_name(f->arch));
	switch (f->type) {
	case NM_DUMP_TRIAGE:
		return nm_fail(err, "header.DumpType",
			       "triage (small memory) dump: it holds no page tables to translate kernel addresses");
	case NM_DUMP_HEADER_ONLY:
		return nm_fail(err, "header.DumpType", "header-only dump: it holds no memory");
	case NM_DUMP_OTHER:
		return nm_fail(err, "header.DumpType", "dump type %u holds no memory ntmem can read",
			       f->dump_type_value);
	default:
		break;
	}
	if (f->max_pfn == 0)
		return nm_fail(err, "dump", "dump holds no physical memory ntmem can read (%s %s dump)",
			       nm_arch_name(f->arch), nm_dump_type_name(f->type));
	return 0;
}

/* A root of 0 is refused; no root at all is found in memory (dtb_find). */
static int refuse_root(const struct nm_dump_facts *f, const struct nm_kernel_options *opt, nm_error *err)
{
	(void)f;
	if (opt && opt->has_dtb && opt->dtb == 0)
		return nm_fail(err, "--dtb", "0 is not a page-table root (the physical address of the page directory or PDPT)");
	return 0;
}

int nm_kernel_check_usable(const struct nm_dump_facts *f, const struct nm_kernel_options *opt, nm_error *err)
{
	if (refuse_unusable(f, err) != 0)
		return -1;
	return refuse_root(f, opt, err);
}

static int new_translator(struct nm_kernel *k, uint64_t dtb, nm_error *err)
{
	struct nm_xlat_config cfg = { .dtb = dtb, .mode = k->mode,
				      .layout = k->version->pte_layout, .bases = k->bases };

	return nm_xlat_new(k->src, &cfg, &k->xlat, err);
}

static void kdbg_missing(struct nm_kernel *k, const char *header_why, const nm_error *scan)
{
	if (header_why && header_why[0])
		nm_fail(&k->kdbg_error, "kdbg", "header pointer unusable (%s); scan: %s: %s",
			header_why, scan->what, scan->why);
	else
		nm_fail(&k->kdbg_error, "kdbg", "no pointer in the header; scan: %s: %s",
			scan->what, scan->why);
}

/* --kdbg VA is taken as given (validated, no fallback: the user asked for
 * that block); --kdbg 0 skips the header pointer and forces the scan. */
static void find_kdbg(struct nm_kernel *k, const struct nm_kernel_options *opt,
		      const struct nm_dump_facts *f, uint32_t remembered)
{
	struct nm_vmem mem = nm_vmem_from_xlat(k->xlat);
	char header_why[400] = "";
	nm_error e = { { 0 }, { 0 } };

	if (opt && opt->has_kdbg && opt->kdbg_va != 0) {
		if (nm_kdbg_validate(&mem, opt->kdbg_va, k->build, NM_KDBG_FROM_OPTION, &k->kdbg, &e) == 0)
			k->has_kdbg = true;
		else
			nm_fail(&k->kdbg_error, "--kdbg", "0x%08llx: %s: %s", (unsigned long long)opt->kdbg_va,
				e.what, e.why);
		return;
	}
	if (!(opt && opt->has_kdbg) && f->kdbg_va != 0) {
		bool fits = nm_mode_va_canonical(k->mode, f->kdbg_va);

		if (fits && nm_kdbg_validate(&mem, f->kdbg_va, k->build, NM_KDBG_FROM_HEADER,
					     &k->kdbg, &e) == 0) {
			k->has_kdbg = true;
			return;
		}
		if (!fits)
			nm_fail(&e, "header.KdDebuggerDataBlock", "not an address of this %s kernel",
				k->mode->name);
		snprintf(header_why, sizeof(header_why), "0x%llx: %s: %s",
			 (unsigned long long)f->kdbg_va, e.what, e.why);
	}
	/* The block an earlier command's scan found in this same file (the
	 * DTB cache): validated again, the scan runs only when it fails. */
	if (!(opt && opt->has_kdbg) && remembered != 0 &&
	    nm_kdbg_validate(&mem, remembered, k->build, NM_KDBG_FROM_SCAN, &k->kdbg, &e) == 0) {
		k->has_kdbg = true;
		return;
	}
	if (nm_kdbg_scan_for_build(k->xlat, k->build, &k->kdbg, &e) == 0) {
		k->has_kdbg = true;
		return;
	}
	kdbg_missing(k, header_why, &e);
}

/* Reads the 32-bit kernel variable whose address the KDBG slot F holds. */
static int kdbg_variable(struct nm_kernel *k, enum nm_kdbg_field f, uint32_t *value)
{
	struct nm_vmem mem = nm_vmem_from_xlat(k->xlat);
	uint64_t addr = nm_kdbg_slot(&k->kdbg, f);

	return addr ? nm_vmem_u32(&mem, addr, value, NULL) : -1;
}

/* The decode bases and MMPFN rows of the version table are x86's; x64
 * kernels take their MMPFN layout from pfn_layout_x64.c. */
static bool x86_kernel(const struct nm_kernel *k)
{
	return k->mode->va_bits == 32;
}

/* Reads the pointer-sized kernel variable (4 bytes x86, 8 bytes x64) whose
 * address the KDBG slot F holds: MmPfnDatabase and MmHighestPhysicalPage
 * (a PFN_NUMBER, ULONG_PTR-sized) are such variables. */
static int kdbg_pointer_variable(struct nm_kernel *k, enum nm_kdbg_field f, uint64_t *value)
{
	struct nm_vmem mem = nm_vmem_from_xlat(k->xlat);
	uint64_t addr = nm_kdbg_slot(&k->kdbg, f);

	return addr ? nm_vmem_pointer(&mem, addr, value, NULL) : -1;
}

/* The MMPFN array (docs/mmpfn.md): in kernel space (x86 above 2 GiB, x64 in
 * the canonical upper half), its entry count bounded by the address space. */
static void find_pfn_database(struct nm_kernel *k)
{
	uint64_t db, highest, size, room;

	if (kdbg_pointer_variable(k, NM_KDBG_MM_PFN_DATABASE, &db) != 0)
		return;
	if (x86_kernel(k) ? db < 0x80000000u : (db < 0xFFFF800000000000ull || !nm_mode_va_canonical(k->mode, db)))
		return;
	size = nm_kernel_mmpfn(k)->entry_size;
	if (kdbg_pointer_variable(k, NM_KDBG_MM_HIGHEST_PHYSICAL_PAGE, &highest) == 0 && highest < UINT64_MAX)
		k->pfn_count = highest + 1;
	else
		k->pfn_count = nm_source_facts(k->src)->max_pfn;
	/* Entries past the end of the address space (4 GiB on x86, 2^64 on
	 * x64) cannot exist. */
	room = x86_kernel(k) ? (0x100000000ull - db) / size : (UINT64_MAX - db) / size;
	if (k->pfn_count > room)
		k->pfn_count = room;
	k->pfn_database = db;
	k->has_pfn_database = k->pfn_count > 0;
}

/* XP and 2003 encode prototype PTE addresses relative to paged pool start;
 * subsection PTEs need MmSubsectionBase / MmNonPagedPoolEnd (docs/versions.md). */
static void set_decode_bases(struct nm_kernel *k)
{
	uint32_t v;

	if (!x86_kernel(k))
		return;
	if (k->version->pte_layout == NM_PTE_LAYOUT_XP &&
	    kdbg_variable(k, NM_KDBG_MM_PAGED_POOL_START, &v) == 0)
		k->bases.proto_base = v;
	if (kdbg_variable(k, NM_KDBG_MM_SUBSECTION_BASE, &v) == 0)
		k->bases.subsection_base = v;
	if (kdbg_variable(k, NM_KDBG_MM_NONPAGED_POOL_END, &v) == 0)
		k->bases.nonpaged_pool_end = v;
	nm_xlat_set_bases(k->xlat, &k->bases);
}

/* A dump without a build number names its version through the KDBG size;
 * the translator is rebuilt when that changes the PTE layout. */
static int adopt_kdbg_version(struct nm_kernel *k, uint64_t dtb, nm_error *err)
{
	const struct nm_version *v;

	if (k->build != 0 || !k->has_kdbg)
		return 0;
	v = nm_version_for_kdbg_size(k->kdbg.size);
	if (!v || v == k->version)
		return 0;
	k->version = v;
	nm_xlat_free(k->xlat);
	k->xlat = NULL;
	return new_translator(k, dtb, err);
}

/* How many scan candidates are tried for a KDBG before the best-ranked one
 * is kept without: each try is a KDBG scan of the image. */
#define DTB_TRIES 4u

/* Opens translator and KDBG through one root. */
static int open_through(struct nm_kernel *k, const struct nm_kernel_options *opt,
			const struct nm_dump_facts *f, uint64_t dtb, const struct nm_paging_mode *mode,
			uint32_t kdbg_hint,
			nm_error *err)
{
	nm_xlat_free(k->xlat);
	k->xlat = NULL;
	k->has_kdbg = false;
	memset(&k->kdbg_error, 0, sizeof(k->kdbg_error));
	k->dtb = dtb;
	k->mode = mode;
	k->version = nm_version_for_build(f->build);
	if (new_translator(k, dtb, err) != 0)
		return -1;
	find_kdbg(k, opt, f, kdbg_hint);
	return 0;
}

/* The scan looks for x86 directories only (docs/dtb-scan.md). */
static const struct nm_paging_mode *scanned_mode(const struct nm_dtb_candidate *c)
{
	return c->pae ? &nm_mode_x86_pae : &nm_mode_x86;
}

/* An image that names no root: the scan's candidates in rank order, the
 * first through which a KDBG is found wins (docs/dtb-scan.md). */
static int open_scanned(struct nm_kernel *k, const struct nm_kernel_options *opt,
			const struct nm_dump_facts *f, nm_error *err)
{
	struct nm_dtb_scan *scan = &k->dtb_scan;
	uint32_t tries, kdbg_hint;

	if (nm_dtb_find(k->src, opt->progress, scan, &k->dtb_cached, &kdbg_hint, err) != 0)
		return -1;
	k->dtb_source = NM_DTB_FROM_SCAN;
	tries = k->dtb_cached ? 1 : scan->nlisted < DTB_TRIES ? scan->nlisted : DTB_TRIES;
	for (uint32_t i = 0; i < tries; i++) {
		struct nm_dtb_candidate *c = &scan->listed[i];

		if (c->verdict != NM_DTB_CHOSEN && c->verdict != NM_DTB_RANKED_BELOW)
			break;
		if (open_through(k, opt, f, c->dtb, scanned_mode(c), kdbg_hint, err) != 0)
			return -1;
		if (k->has_kdbg) {
			if (i > 0) {
				struct nm_dtb_candidate won = *c;

				memmove(&scan->listed[1], &scan->listed[0], i * sizeof(*c));
				scan->listed[0] = won;
			}
			scan->listed[0].verdict = NM_DTB_CHOSEN;
			if (!k->dtb_cached)
				nm_dtb_remember(k->src, scan, k->kdbg.va);
			return 0;
		}
		c->verdict = NM_DTB_NO_KDBG;
	}
	/* No KDBG through any: the best-ranked root is still the best guess. */
	for (uint32_t i = tries; i < scan->nlisted; i++) {
		if (scan->listed[i].verdict == NM_DTB_RANKED_BELOW)
			scan->listed[i].verdict = NM_DTB_NOT_TRIED;
	}
	return open_through(k, opt, f, scan->listed[0].dtb, scanned_mode(&scan->listed[0]), 0, err);
}

int nm_kernel_open(const nm_source *src, const struct nm_kernel_options *opt,
		   struct nm_kernel *out, nm_error *err)
{
	const struct nm_dump_facts *f = nm_source_facts(src);
	uint64_t dtb;

	memset(out, 0, sizeof(*out));
	out->src = src;
	out->pagefiles = opt ? opt->pagefiles : NULL;
	if (nm_kernel_check_usable(f, opt, err) != 0)
		return -1;
	dtb = opt && opt->has_dtb ? opt->dtb : f->dtb;
	out->build = f->build;
	if (dtb == 0) {
		if (open_scanned(out, opt, f, err) != 0) {
			nm_kernel_close(out);
			return -1;
		}
	} else {
		out->dtb_source = opt && opt->has_dtb ? NM_DTB_FROM_OPTION :
				  f->format == NM_FORMAT_ELF ? NM_DTB_FROM_ELF_NOTE : NM_DTB_FROM_HEADER;
		const struct nm_paging_mode *mode = nm_paging_mode_for_dump(f, dtb);

		if (!mode)
			return nm_fail(err, "header.MachineImageType", "no paging mode for this machine");
		if (open_through(out, opt, f, dtb, mode, 0, err) != 0)
			return -1;
	}
	if (adopt_kdbg_version(out, out->dtb, err) != 0)
		return -1;
	if (!out->has_kdbg)
		return 0;
	out->kernel_base = nm_kdbg_slot(&out->kdbg, NM_KDBG_KERN_BASE);
	find_pfn_database(out);
	set_decode_bases(out);
	return 0;
}

void nm_kernel_close(struct nm_kernel *k)
{
	if (k && k->xlat) {
		nm_xlat_free(k->xlat);
		k->xlat = NULL;
	}
}

/* The stale rule (docs/mmpfn.md): the frame's MMPFN must name, as its
 * PteAddress, the self-map address of the PTE this walk went through. A
 * zero PteAddress names no owner at all (an entry never filled in), so it
 * proves nothing either way. */
static bool frame_belongs_elsewhere(struct nm_kernel *k, const struct nm_walk *w)
{
	struct nm_pfn_entry e;

	if (nm_pfn_read(k, w->pa >> NM_PAGE_SHIFT, &e) != 0 || e.pte_address == 0)
		return false;
	return e.pte_address != nm_self_map_pte_address(nm_kernel_self_map(k), w->va);
}

/* OriginalPte is an MMPTE, so the MMPFN layout follows the PTE size: the
 * version table keeps a row for 4-byte and one for 8-byte PTEs of 32-bit
 * kernels; 64-bit kernels have their own layouts (pfn_layout_x64.c). */
const struct nm_mmpfn_layout *nm_kernel_mmpfn(const struct nm_kernel *k)
{
	if (!x86_kernel(k))
		return nm_mmpfn_layout_x64(k->build ? k->build : k->version->first_build);
	return k->mode->entry_size == 8 ? &k->version->mmpfn_pae : &k->version->mmpfn;
}

const struct nm_self_map *nm_kernel_self_map(const struct nm_kernel *k)
{
	return nm_xlat_self_map(k->xlat);
}

void nm_kernel_walk(struct nm_kernel *k, uint64_t va, struct nm_walk *out)
{
	nm_xlat_walk(k->xlat, va, out);
	if (out->state != NM_PAGE_VALID || out->large_page || !out->has_pa || !k->has_pfn_database)
		return;
	if (frame_belongs_elsewhere(k, out))
		out->state = NM_PAGE_STALE;
}

static void kernel_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	nm_kernel_walk(ctx, va, out);
}

/* A stale page's frame still holds bytes (another page's now): they are
 * given only to a reader whose policy keeps stale pages. */
static const uint8_t *kernel_page(void *ctx, const struct nm_walk *w)
{
	const struct nm_kernel *k = ctx;

	if (w->state == NM_PAGE_STALE)
		return w->has_pa ? nm_source_page(k->src, w->pa >> NM_PAGE_SHIFT) : NULL;
	return nm_xlat_page_bytes(k->xlat, w);
}

struct nm_vmem nm_kernel_vmem(struct nm_kernel *k)
{
	struct nm_vmem m = { k, kernel_walk, kernel_page, k->has_pfn_database,
			     nm_mode_pointer_size(k->mode), k->pagefiles };

	return m;
}
