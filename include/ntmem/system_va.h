/* Vista and later: nt!MiSystemVaType, the byte per page-directory entry of
 * system space (0x80000000 up) that says what the kernel put there. It is not
 * exported and no KDBG slot names it, so it is found by its shape inside the
 * kernel image and checked against what the dump says elsewhere: the kernel's
 * own pages, the PFN database and every loaded image (docs/address-space.md,
 * "Vista and later"). */
#ifndef NTMEM_SYSTEM_VA_H
#define NTMEM_SYSTEM_VA_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/modules.h>
#include <ntmem/vmem.h>

#define NM_SYSTEM_VA_BASE 0x80000000u
#define NM_SYSTEM_VA_MAX_ENTRIES 0x400u	/* 2 GiB in 2 MiB steps (PAE) */
/* Kernel images are a few MiB; the scan reads no more than this. */
#define NM_SYSTEM_VA_MAX_SCAN (32u << 20)
/* Pointers in the kernel image followed to a candidate array, at most. */
#define NM_SYSTEM_VA_MAX_POINTER_PROBES (1u << 20)
/* Windows that pass the first test (the kernel's entry is BootLoaded) and
 * are checked against every clue, at most: a real kernel has a handful. */
#define NM_SYSTEM_VA_MAX_WINDOWS 4096u
/* Every variant of MI_SYSTEM_VA_TYPE ends at or below this value. */
#define NM_SYSTEM_VA_TYPE_MAX 15u

/* What the dump already says about system space, to test a candidate by. */
struct nm_system_va_clues {
	uint32_t kernel_base, kernel_size;	/* ntoskrnl's image: BootLoaded */
	uint32_t pfn_database;			/* MmPfnDatabase: PfnDatabase, 0 when unknown */
	const struct nm_module *images;		/* loaded images: each within one region */
	unsigned nimages;			/* of an image-holding type */
	uint32_t build;				/* picks the names of values 13-15 */
};

struct nm_system_va_map {
	bool found;
	uint32_t address;			/* VA of the array in the kernel image */
	unsigned entries;			/* 0x400 with PAE, 0x200 without */
	unsigned shift;				/* log2 of the bytes one entry covers: 21 or 22 */
	uint8_t type[NM_SYSTEM_VA_MAX_ENTRIES];
	char why[160];				/* when not found: what the scan saw */
};

/* Scans the kernel image for the one array every clue agrees with. Never
 * fails: OUT->found says whether it was found, OUT->why why not. */
void nm_system_va_locate(const struct nm_vmem *mem, const struct nm_system_va_clues *clues,
			 const struct nm_self_map *self_map, struct nm_system_va_map *out);

/* Region name of a MI_SYSTEM_VA_TYPE value on BUILD ("paged_pool", ...);
 * NULL for 0 (unused) and for values the build does not define. */
const char *nm_system_va_type_region(unsigned type, uint32_t build);
/* The value's name as the kernel's headers spell it ("PagedPool"), or NULL. */
const char *nm_system_va_type_name(unsigned type, uint32_t build);

/* VA covered by entry I of M. */
static inline uint64_t nm_system_va_entry_start(const struct nm_system_va_map *m, unsigned i)
{
	return NM_SYSTEM_VA_BASE + ((uint64_t)i << m->shift);
}

#endif
