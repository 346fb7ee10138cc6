/* Layer 3 entry point: the kernel's view of a dump. Bundles the physical
 * source, the translator, the version row and the KDBG, and adds what only
 * the kernel's own data can tell (the PFN database) to page walks. */
#ifndef NTMEM_KERNEL_H
#define NTMEM_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/dtb_scan.h>
#include <ntmem/error.h>
#include <ntmem/kdbg.h>
#include <ntmem/source.h>
#include <ntmem/version.h>
#include <ntmem/vmem.h>
#include <ntmem/xlat.h>

struct nm_kernel_options {
	bool has_dtb;
	uint64_t dtb;		/* --dtb */
	bool has_kdbg;
	uint64_t kdbg_va;	/* --kdbg */
	const struct nm_pagefiles *pagefiles;	/* --pagefile, or NULL */
	const struct nm_progress *progress;	/* a DTB scan reports through it; may be NULL */
};

struct nm_kernel {
	const nm_source *src;
	nm_xlat *xlat;
	const struct nm_version *version;
	uint32_t build;			/* header build, or from the kernel when the header lacks it */
	bool has_kdbg;
	struct nm_kdbg kdbg;
	nm_error kdbg_error;		/* why there is no KDBG, when !has_kdbg */
	bool has_pfn_database;
	uint64_t pfn_database;		/* value of MmPfnDatabase: VA of the MMPFN array */
	uint64_t pfn_count;		/* entries the database holds (MmHighestPhysicalPage + 1) */
	uint64_t kernel_base;
	const struct nm_paging_mode *mode;	/* the walks' paging mode */
	struct nm_swpte_bases bases;	/* as given to the translator */
	uint64_t dtb;			/* the page-table root in use */
	enum nm_dtb_source dtb_source;
	bool dtb_cached;		/* a scan's result kept from an earlier command */
	struct nm_dtb_scan dtb_scan;	/* dtb_source scan: candidates and verdicts */
	const struct nm_pagefiles *pagefiles;	/* paging files the reads may use, or NULL */
};

/* Opens the kernel view. Fails (exit 2) only when the dump holds no
 * translatable memory (triage, 64-bit, no DTB); a missing KDBG is not an
 * error here: has_kdbg is false and kdbg_error says why. */
/* 0 when the dump's memory can be translated with OPT (architecture, dump
 * type, memory present, a page-table root); else why not, in the words
 * every command uses (nm_kernel_open refuses with the same). */
int nm_kernel_check_usable(const struct nm_dump_facts *f, const struct nm_kernel_options *opt, nm_error *err);
int nm_kernel_open(const nm_source *src, const struct nm_kernel_options *opt,
		   struct nm_kernel *out, nm_error *err);
void nm_kernel_close(struct nm_kernel *k);

/* A page walk plus the PFN database check: a valid page whose MMPFN
 * PteAddress does not point back at the PTE that maps it is NM_PAGE_STALE. */
void nm_kernel_walk(struct nm_kernel *k, uint64_t va, struct nm_walk *out);

/* The MMPFN layout of this kernel: the version row for its PTE size. */
const struct nm_mmpfn_layout *nm_kernel_mmpfn(const struct nm_kernel *k);

/* The self-map of the walked address space. */
const struct nm_self_map *nm_kernel_self_map(const struct nm_kernel *k);

/* The kernel view as memory (vmem.h): walks through nm_kernel_walk, so
 * stale pages are marked when the PFN database is known. */
struct nm_vmem nm_kernel_vmem(struct nm_kernel *k);

#endif
