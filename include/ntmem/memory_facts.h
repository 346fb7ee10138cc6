/* Layer 3: what the kernel's own memory says about the machine, for images
 * that have no dump header to say it (raw images, ELF cores): build,
 * processors, system time, version, and the bugcheck if one happened.
 * Offsets and sources: docs/memory-facts.md. */
#ifndef NTMEM_MEMORY_FACTS_H
#define NTMEM_MEMORY_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/kernel.h>

#define NM_KUSER_SHARED_DATA_X86 0xFFDF0000u
#define NM_X86_MAX_PROCESSORS 32u	/* KiProcessorBlock entries (MAXIMUM_PROCESSORS) */

enum nm_bugcheck_seen {
	NM_BUGCHECK_UNKNOWN,	/* KiBugCheckData unreadable or no KDBG */
	NM_BUGCHECK_NONE,	/* KiBugCheckData holds code 0: no bugcheck happened */
	NM_BUGCHECK_FOUND,
};

struct nm_memory_facts {
	bool has_build;
	uint32_t build;			/* from NtBuildLab's leading number */
	char build_lab[64];
	bool has_processors;
	uint32_t processors;		/* non-null KiProcessorBlock entries */
	bool has_system_time;
	uint64_t system_time;		/* KUSER_SHARED_DATA.SystemTime, FILETIME */
	bool has_version;
	uint32_t nt_major, nt_minor;	/* KUSER_SHARED_DATA.NtMajorVersion/NtMinorVersion */
	enum nm_bugcheck_seen bugcheck;
	uint32_t bugcheck_code;
	uint32_t bugcheck_params[4];
};

/* Reads what it can through K (a KDBG is needed for all but the shared data
 * page); anything unreadable stays unset. */
void nm_memory_facts_read(struct nm_kernel *k, struct nm_memory_facts *out);

#endif
