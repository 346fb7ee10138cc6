/* Layer 2: finding the page-table root of an image that names none (raw
 * images, ELF cores without a register note). Windows x86 maps each page
 * directory into itself (the self-map), so a directory is recognisable in
 * physical memory by its content alone. How and why: docs/dtb-scan.md. */
#ifndef NTMEM_DTB_SCAN_H
#define NTMEM_DTB_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/source.h>

/* Where the DTB in use came from ("header", "option", "scan", "elf_note",
 * "cache": a scan's result kept from an earlier command on the same file). */
enum nm_dtb_source {
	NM_DTB_FROM_HEADER,
	NM_DTB_FROM_OPTION,
	NM_DTB_FROM_SCAN,
	NM_DTB_FROM_ELF_NOTE,
};
const char *nm_dtb_source_name(enum nm_dtb_source s);

/* Why a candidate was not the one chosen. */
enum nm_dtb_reject {
	NM_DTB_CHOSEN,
	NM_DTB_RANKED_BELOW,		/* maps less kernel space than the chosen one */
	NM_DTB_NO_KERNEL,		/* maps (almost) nothing above 0x80000000 */
	NM_DTB_NO_PDPT,			/* PAE: no PDPT points at its four directories */
	NM_DTB_NO_KDBG,			/* translating through it finds no KDBG */
	NM_DTB_NOT_TRIED,		/* beyond the validation budget */
};
const char *nm_dtb_reject_name(enum nm_dtb_reject r);

#define NM_DTB_MAX_LISTED 64u		/* candidates kept for -v; the rest only counted */
#define NM_DTB_MAX_PAE_DIRS 4096u	/* PAE top directories examined for a PDPT */

struct nm_dtb_candidate {
	uint64_t dtb;			/* non-PAE: directory PA; PAE: PDPT PA */
	bool pae;
	uint32_t kernel_entries;	/* valid directory entries for VAs >= 0x80000000 */
	enum nm_dtb_reject verdict;
};

struct nm_dtb_scan {
	uint64_t pages_scanned;
	uint32_t candidates;		/* self-mapping directories found */
	uint32_t nlisted;		/* ranked best first */
	struct nm_dtb_candidate listed[NM_DTB_MAX_LISTED];
};

/* Scans every page SRC holds; OUT lists the candidates best first (most
 * kernel entries, then lowest address). 0, or -1 with ERR when none. */
int nm_dtb_scan(const nm_source *src, struct nm_dtb_scan *out, nm_error *err);
/* Same, reporting the pages scanned through PROGRESS (may be NULL). */
int nm_dtb_scan_with(const nm_source *src, const struct nm_progress *progress, struct nm_dtb_scan *out,
		     nm_error *err);

#endif
