/* Layer 3: the DTB candidates of an image whose container names no
 * page-table root, from the per-file cache or a fresh scan (dtb_scan.h).
 * The kernel view validates them (kernel.c: the first through which a KDBG
 * is found wins) and remembers the verdicts for the next command. */
#ifndef NTMEM_DTB_FIND_H
#define NTMEM_DTB_FIND_H

#include <stdbool.h>

#include <ntmem/dtb_scan.h>
#include <ntmem/error.h>
#include <ntmem/source.h>

/* The cached result for SRC's file (*FROM_CACHE true, *KDBG_VA the KDBG
 * found through it last time or 0), else a scan reporting through PROGRESS
 * (may be NULL). */
int nm_dtb_find(const nm_source *src, const struct nm_progress *progress, struct nm_dtb_scan *scan,
		bool *from_cache, uint32_t *kdbg_va, nm_error *err);

/* Keeps SCAN (first candidate chosen) and the KDBG found through it for the
 * next command on SRC's file. */
void nm_dtb_remember(const nm_source *src, const struct nm_dtb_scan *scan, uint32_t kdbg_va);

#endif
