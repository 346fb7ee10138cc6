/* Per-version facts of 32-bit Windows kernels, one row per release family.
 * The table and its sources: docs/versions.md. */
#ifndef NTMEM_VERSION_H
#define NTMEM_VERSION_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/swpte.h>

/* MMPFN field placement; offsets in bytes from the entry start. */
struct nm_mmpfn_layout {
	uint32_t entry_size;
	uint32_t pte_address;		/* PteAddress */
	uint32_t share_count;		/* u2.ShareCount */
	uint32_t reference_count;	/* u3.e2.ReferenceCount (USHORT) */
	uint32_t flags;			/* u3.e1 (USHORT); page location in bits location_shift.. */
	uint32_t location_shift;
	uint32_t original_pte;		/* 4 bytes non-PAE, 8 bytes PAE */
	uint32_t pte_frame;		/* u4.PteFrame */
	uint32_t pte_frame_bits;	/* width of the PteFrame bit field */
};

struct nm_version {
	const char *name;		/* "Windows XP", "Windows 7", ... */
	uint32_t first_build;		/* rows are chosen by build number */
	uint32_t kdbg_size;		/* KDBG Header.Size */
	enum nm_pte_layout pte_layout;
	bool dynamic_va;		/* kernel VA assigned on demand (Vista+) */
	struct nm_mmpfn_layout mmpfn, mmpfn_pae;
};

/* The row for BUILD (the last row whose first_build <= build); never NULL:
 * unknown builds get the nearest older row. */
const struct nm_version *nm_version_for_build(uint32_t build);

/* The row whose KDBG size is SIZE, or NULL: lets a KDBG found by scan name
 * the version when the header's build is missing. */
const struct nm_version *nm_version_for_kdbg_size(uint32_t size);

#endif
