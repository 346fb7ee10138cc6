/* Layer 1: physical memory sources.
 *
 * A source is a dump file (or raw image) opened read-only and mapped, never
 * read whole into the heap. It answers three questions: which physical pages
 * exist, what bytes they hold, and what the file's header says. */
#ifndef NTMEM_SOURCE_H
#define NTMEM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/cache.h>
#include <ntmem/error.h>

#define NM_PAGE_SIZE 4096u
#define NM_PAGE_SHIFT 12
#define NM_MAX_RUNS 86		/* PHYSICAL_MEMORY_DESCRIPTOR32 capacity */

enum nm_format {
	NM_FORMAT_WINDOWS_CRASH_DUMP,	/* "windows-crash-dump" */
	NM_FORMAT_RAW,			/* "raw": flat physical image from PA 0 */
	NM_FORMAT_ELF,			/* "elf": ELF core (QEMU dump-guest-memory, virsh dump) */
	NM_FORMAT_KDUMP,		/* "kdump": kdump-compressed (diskdump) file */
};

/* How the file on disk was stored around the format above. */
enum nm_compression {
	NM_COMPRESSION_NONE,
	NM_COMPRESSION_GZIP,		/* "gzip": read in place through an index (docs/gzip-index.md) */
};

/* A gzip file that inflates to more than this is refused. */
#define NM_GZIP_MAX_INFLATED (UINT64_C(64) << 30)

enum nm_dump_type {
	NM_DUMP_FULL,		/* DumpType 1: "full" */
	NM_DUMP_KERNEL,		/* DumpType 2, SDMP summary + bitmap: "kernel" */
	NM_DUMP_BITMAP,		/* DumpType 5/6, bitmap header: "bitmap" */
	NM_DUMP_TRIAGE,		/* DumpType 4: "triage" (no usable physical memory) */
	NM_DUMP_HEADER_ONLY,	/* DumpType 3: "header" */
	NM_DUMP_RAW,		/* raw image: "raw" */
	NM_DUMP_OTHER,		/* recognised header, type not readable here: "other" */
};

/* The machine the dump was written on (header MachineImageType). ntmem
 * walks the page tables of x86 and x64; ARM and ARM64 dumps are described
 * from their header (and triage driver list) only. */
enum nm_arch { NM_ARCH_X86, NM_ARCH_X64, NM_ARCH_ARM, NM_ARCH_ARM64 };

struct nm_phys_run {
	uint64_t base_pfn;
	uint64_t page_count;
};

/* The x86 CONTEXT registers an analyst asks for (header offset 0x320). */
struct nm_context_x86 {
	uint32_t context_flags;
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp, eip, eflags;
	uint32_t seg_cs, seg_ss, seg_ds, seg_es, seg_fs, seg_gs;
};

/* The x64 CONTEXT registers (DUMP_HEADER64 offset 0x348; docs/dump-format.md). */
struct nm_context_x64 {
	uint32_t context_flags;
	uint32_t eflags;
	uint16_t seg_cs, seg_ss;
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip;
};

/* Header facts, as the file states them (values checked for range, not for
 * plausibility: that is the kernel layer's business). */
struct nm_dump_facts {
	enum nm_format format;
	enum nm_dump_type type;
	uint32_t dump_type_value;	/* raw DumpType field */
	char bitmap_signature[5];	/* "SDMP"/"FDMP" for types 2/5/6, else "" */
	enum nm_arch arch;
	bool pae;
	uint64_t dtb;			/* the page-table root: DirectoryTableBase with its control
					 * bits masked off (PAE: ~0x1F; x64: PCID in bits 0-11) */
	uint64_t dtb_raw;		/* DirectoryTableBase as written */
	uint64_t pfn_database;		/* header PfnDataBase field, raw */
	uint64_t ps_loaded_module_list;
	uint64_t ps_active_process_head;
	uint64_t kdbg_va;		/* KdDebuggerDataBlock, 0 when absent/'PAGE' */
	uint32_t machine;		/* MachineImageType */
	uint32_t major_version;		/* 0xF free, 0xC checked */
	uint32_t build;			/* MinorVersion = build number */
	uint32_t processors;
	uint32_t bugcheck_code;
	uint64_t bugcheck_params[4];
	uint64_t system_time;		/* FILETIME, 0 when unset */
	uint64_t system_uptime;
	bool has_context;
	struct nm_context_x86 context;	/* valid when has_context and arch x86 */
	struct nm_context_x64 context64;	/* valid when has_context and arch x64 */
	uint32_t exception_code;
	uint64_t exception_address;
	char comment[129];
	uint32_t nruns;
	struct nm_phys_run runs[NM_MAX_RUNS];	/* header's physical memory runs */
	uint64_t header_pages;		/* header NumberOfPages */
	uint64_t pages_in_dump;		/* pages whose contents the file holds */
	uint64_t max_pfn;		/* one past the highest PFN the source can hold */
	uint64_t file_size;		/* bytes in the file (inflated size for containers) */
	uint64_t size_needed;		/* bytes the header's page layout needs; above
					 * file_size the file is truncated and no page is served */
	uint32_t minidump_fields;	/* MiniDumpFields: which triage parts exist ('PAGE': 0) */
	enum nm_compression compression;
	bool pae_unknown;		/* the container cannot say (ELF, kdump): pae is a guess */
	const char *format_basis;	/* how the format was decided: "content", "name", "size", "option" */
	char format_why[160];		/* what was seen, in words */
};

typedef struct nm_source nm_source;

/* Long work below the CLI (indexing a gzip file, scanning memory) reports
 * through this, when the caller gives one: DONE of TOTAL UNITs of WHAT. The
 * callee calls it often; the caller decides what to show and when. */
struct nm_progress {
	void (*update)(void *ctx, const char *what, uint64_t done, uint64_t total, const char *unit);
	void *ctx;
};

static inline void nm_progress_report(const struct nm_progress *p, const char *what, uint64_t done,
				      uint64_t total, const char *unit)
{
	if (p && p->update)
		p->update(p->ctx, what, done, total, unit);
}

/* How to open a file: all fields may be zero. */
struct nm_open_options {
	const char *format;		/* as nm_source_open_as's FORMAT */
	const struct nm_progress *progress;	/* while indexing a gzip file */
};

/* Opens and maps PATH; detects the format from its content, then its name,
 * then its size (a whole number of pages is a raw image), or opens it as
 * FORMAT ("raw", "elf", "kdump", "dmp") when that is not NULL. A gzip file is
 * recognised whatever FORMAT says; FORMAT applies to what it holds. */
int nm_source_open_as(const char *path, const char *format, nm_source **out, nm_error *err);
/* nm_source_open_as with the options OPT (NULL: none). */
int nm_source_open_with(const char *path, const struct nm_open_options *opt, nm_source **out, nm_error *err);
/* nm_source_open_as with FORMAT "raw" when RAW, else NULL. */
int nm_source_open(const char *path, bool raw, nm_source **out, nm_error *err);
/* Whether NAME is a FORMAT nm_source_open_as takes. */
bool nm_format_known(const char *name);

/* Same, over a caller-owned buffer that must outlive the source (fuzzers and
 * unit tests use this; nothing is copied). */
int nm_source_open_buffer(const uint8_t *buf, size_t len, bool raw,
			  nm_source **out, nm_error *err);

void nm_source_close(nm_source *src);

const struct nm_dump_facts *nm_source_facts(const nm_source *src);

/* The NM_PAGE_SIZE bytes of page PFN inside the mapping, or NULL when the
 * source does not hold that page. O(log runs) for full dumps, O(1) for
 * bitmap dumps. */
const uint8_t *nm_source_page(const nm_source *src, uint64_t pfn);

static inline bool nm_source_has_page(const nm_source *src, uint64_t pfn)
{
	return nm_source_page(src, pfn) != NULL;
}

/* Copies LEN bytes at physical address PA; 0 when every byte is present,
 * -1 (buf contents unspecified) when any page is absent. */
int nm_source_read_pa(const nm_source *src, uint64_t pa, void *buf, size_t len);

/* Visits the pages the source holds in ascending PFN order; stops early and
 * returns the visitor's value when it is non-zero. */
typedef int nm_page_visitor(void *ctx, uint64_t pfn, const uint8_t *page);
int nm_source_for_each_page(const nm_source *src, nm_page_visitor *visit, void *ctx);

/* Lets go of the mapped file pages a whole-image pass has touched (they are
 * read again from the page cache on the next access; pointers stay valid),
 * so that a scan of a 4 GiB image does not hold 4 GiB resident. A no-op for
 * sources whose pages are copies (libkdumpfile) or a caller's buffer. */
void nm_source_drop_resident(const nm_source *src);

/* The identity of the file SRC was opened from (for a gzip file, the
 * compressed file's); not known for buffers. */
const struct nm_file_identity *nm_source_identity(const nm_source *src);

/* The whole mapped file, for readers of side structures (triage dumps). */
const uint8_t *nm_source_file(const nm_source *src, size_t *len);

const char *nm_format_name(enum nm_format f);
const char *nm_dump_type_name(enum nm_dump_type t);
const char *nm_arch_name(enum nm_arch a);
/* "Intel 386", "AMD64", "ARM Thumb-2", "ARM64": the machine in words. */
const char *nm_machine_name(uint32_t machine_image_type);
/* True when ntmem can walk this machine's page tables (x86, x64). */
bool nm_arch_has_walks(enum nm_arch a);
/* The file is shorter than its header's page layout. */
static inline bool nm_source_truncated(const struct nm_dump_facts *f)
{
	return f->size_needed > f->file_size;
}
/* PAE for a walk from DTB: the header's flag, or, when the file cannot say
 * (raw images, ELF cores without a register note), the root's alignment: a
 * PDPT is 32-byte aligned, a non-PAE page directory page aligned. */
bool nm_source_pae_for_dtb(const struct nm_dump_facts *f, uint64_t dtb);

/* "gzip", or NULL for an uncompressed file. */
const char *nm_compression_name(enum nm_compression c);

#endif
