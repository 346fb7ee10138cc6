/* The kernel debugger data block (KDDEBUGGER_DATA64, "KDBG").
 * Field offsets are the byte offsets of the block, identical to dbgeng.h's
 * DEBUG_DATA_* constants (a test checks that). */
#ifndef NTMEM_KDBG_H
#define NTMEM_KDBG_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/vmem.h>
#include <ntmem/xlat.h>

enum nm_kdbg_field {
	NM_KDBG_KERN_BASE = 0x018,
	NM_KDBG_PAE_ENABLED = 0x036,		/* u16 */
	NM_KDBG_PS_LOADED_MODULE_LIST = 0x048,
	NM_KDBG_PS_ACTIVE_PROCESS_HEAD = 0x050,
	NM_KDBG_KI_BUGCHECK_DATA = 0x088,
	NM_KDBG_MM_SYSTEM_CACHE_START = 0x0A8,
	NM_KDBG_MM_SYSTEM_CACHE_END = 0x0B0,
	NM_KDBG_MM_PFN_DATABASE = 0x0C0,
	NM_KDBG_MM_SYSTEM_PTES_START = 0x0C8,
	NM_KDBG_MM_SYSTEM_PTES_END = 0x0D0,
	NM_KDBG_MM_SUBSECTION_BASE = 0x0D8,
	NM_KDBG_MM_NUMBER_OF_PAGING_FILES = 0x0E0,
	NM_KDBG_MM_LOWEST_PHYSICAL_PAGE = 0x0E8,
	NM_KDBG_MM_HIGHEST_PHYSICAL_PAGE = 0x0F0,
	NM_KDBG_MM_NUMBER_OF_PHYSICAL_PAGES = 0x0F8,
	NM_KDBG_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES = 0x100,
	NM_KDBG_MM_NONPAGED_SYSTEM_START = 0x108,
	NM_KDBG_MM_NONPAGED_POOL_START = 0x110,
	NM_KDBG_MM_NONPAGED_POOL_END = 0x118,
	NM_KDBG_MM_PAGED_POOL_START = 0x120,
	NM_KDBG_MM_PAGED_POOL_END = 0x128,
	NM_KDBG_MM_PAGED_POOL_INFORMATION = 0x130,
	NM_KDBG_MM_PAGE_SIZE = 0x138,
	NM_KDBG_MM_SIZE_OF_PAGED_POOL_IN_BYTES = 0x140,
	NM_KDBG_MM_HIGHEST_USER_ADDRESS = 0x1C8,
	NM_KDBG_MM_SYSTEM_RANGE_START = 0x1D0,
	NM_KDBG_MM_USER_PROBE_ADDRESS = 0x1D8,
	NM_KDBG_NT_BUILD_LAB = 0x208,
	NM_KDBG_KI_PROCESSOR_BLOCK = 0x218,
	NM_KDBG_MM_UNLOADED_DRIVERS = 0x220,
	NM_KDBG_MM_PHYSICAL_MEMORY_BLOCK = 0x270,
	NM_KDBG_MM_SESSION_BASE = 0x278,
	NM_KDBG_MM_SESSION_SIZE = 0x280,
};

#define NM_KDBG_TAG 0x4742444Bu		/* "KDBG" */
#define NM_KDBG_MAX_SIZE 0x400u

enum nm_kdbg_source { NM_KDBG_FROM_HEADER, NM_KDBG_FROM_SCAN, NM_KDBG_FROM_OPTION };
const char *nm_kdbg_source_name(enum nm_kdbg_source s);	/* "header", "scan", "option" */

struct nm_kdbg {
	uint64_t va;
	uint32_t size;			/* Header.Size */
	unsigned pointer_size;		/* 4: x86 kernel (32-bit values in the slots); 8: x64 */
	enum nm_kdbg_source source;
	uint8_t raw[NM_KDBG_MAX_SIZE];	/* the block as read; bytes past size are zero */
};

/* A slot's value: the whole 64 bits on x64; on x86 the low dword, the
 * 32-bit value the kernel meant (see docs/kdbg.md). */
uint64_t nm_kdbg_slot(const struct nm_kdbg *k, enum nm_kdbg_field f);

/* Reads and validates the block at VA (tag, size, KernBase is an MZ image,
 * PsLoadedModuleList inside the kernel). */
int nm_kdbg_read(nm_xlat *x, uint64_t va, enum nm_kdbg_source source,
		 struct nm_kdbg *out, nm_error *err);

/* Scans every physical page of the dump for a block that validates. */
int nm_kdbg_scan(nm_xlat *x, struct nm_kdbg *out, nm_error *err);

/* The same checks as nm_kdbg_read over any kernel memory (its pointer
 * size says x86 or x64); BUILD (0 when unknown) must agree with the
 * block's Size through the version table. */
int nm_kdbg_validate(const struct nm_vmem *mem, uint64_t va, uint32_t build,
		     enum nm_kdbg_source source, struct nm_kdbg *out, nm_error *err);

/* nm_kdbg_scan, with the build's Size check. */
int nm_kdbg_scan_for_build(nm_xlat *x, uint32_t build, struct nm_kdbg *out, nm_error *err);

/* Upper bound on candidates that pass the cheap signature test before a
 * scan gives up (a hostile dump can repeat the signature in every page). */
#define NM_KDBG_MAX_CANDIDATES 4096u

#endif
