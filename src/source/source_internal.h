/* What the readers of one source format share with source.c. Private to
 * src/source/. */
#ifndef NTMEM_SOURCE_INTERNAL_H
#define NTMEM_SOURCE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/source.h>

#define NM_PAGE_FILL 0x45474150u	/* "PAGE": the writer's fill for unset fields */
#define NM_SIG_PAGE 0x45474150u
#define NM_SIG_DUMP 0x504D5544u		/* "DUMP" */
#define NM_SIG_DU64 0x34365544u		/* "DU64" */
#define NM_SIG_SDMP 0x504D4453u		/* "SDMP" */
#define NM_SIG_FDMP 0x504D4446u		/* "FDMP" */

#define NM_HEADER32_SIZE 0x1000u
#define NM_HEADER64_SIZE 0x2000u

/* A full dump's run with the file offset where its first page is stored. */
struct nm_file_run {
	uint64_t base_pfn;
	uint64_t page_count;
	uint64_t file_offset;
};

/* Bitmap dumps: one 64-bit word of the page bitmap and the number of bits
 * set in all the words before it (the rank index). */
struct nm_rank_word {
	uint64_t bits;
	uint64_t rank;
};

enum nm_layout {
	NM_LAYOUT_NONE,		/* no pages served (triage, 64-bit, header only) */
	NM_LAYOUT_RUNS,		/* full dump */
	NM_LAYOUT_BITMAP,	/* kernel (type 2) and bitmap (5/6) dumps */
	NM_LAYOUT_FLAT,		/* raw image */
	NM_LAYOUT_KDUMP,	/* ELF core through libkdumpfile (kdumpfile.c) */
};

struct nm_kdump;

struct nm_source {
	const uint8_t *data;
	size_t len;
	bool mapped;		/* data is our mmap (unmap on close) */
	struct nm_dump_facts facts;
	enum nm_layout layout;
	/* NM_LAYOUT_RUNS */
	uint32_t nruns;
	struct nm_file_run runs[NM_MAX_RUNS];
	/* NM_LAYOUT_BITMAP */
	uint64_t first_page_offset;
	uint64_t nbits;
	struct nm_rank_word *words;	/* nbits/64 rounded up */
	/* NM_LAYOUT_KDUMP */
	struct nm_kdump *kdump;
};

/* Header readers: fill src->facts and the page layout, or nm_fail. */
int nm_read_header32(struct nm_source *src, nm_error *err);
int nm_read_header64(struct nm_source *src, nm_error *err);

/* Layout builders used by the header readers. */
int nm_runs_build(struct nm_source *src, nm_error *err);
const uint8_t *nm_runs_page(const struct nm_source *src, uint64_t pfn);

/* Builds the rank index over NBITS bits at file offset BITMAP_OFFSET, checks
 * the pages it announces against EXPECTED_PAGES and the file size. */
int nm_bitmap_build(struct nm_source *src, uint64_t bitmap_offset, uint64_t nbits,
		    uint64_t first_page_offset, uint64_t expected_pages,
		    const char *pages_field, nm_error *err);
const uint8_t *nm_bitmap_page(const struct nm_source *src, uint64_t pfn);

/* Containers (containers.c, gzip.c): 1 when DATA is not one (the caller
 * goes on with the Windows dump formats), 0 when *OUT was opened with a view
 * of its own (DATA may then be released), -1 on error. PATH may be NULL. */
int nm_container_open(const char *path, const uint8_t *data, size_t len, bool raw,
		      struct nm_source **out, nm_error *err);
/* What an inflated copy holds, opened with FD (kept by readers that need a
 * file) and DATA (its mapping, referenced by the source on success). */
int nm_container_open_inner(int fd, const uint8_t *data, size_t len, bool raw,
			    struct nm_source **out, nm_error *err);

bool nm_gzip_magic(const uint8_t *data, size_t len);
int nm_gzip_open(const uint8_t *gz, size_t len, bool raw, struct nm_source **out, nm_error *err);
/* Inflates gzip data into FD, refusing output beyond LIMIT bytes or more
 * than DISK_BUDGET bytes of it that are not zero (zero blocks are holes). */
int nm_gzip_inflate_to_fd(const uint8_t *gz, size_t len, int fd, uint64_t limit,
			  uint64_t disk_budget, uint64_t *out_len, nm_error *err);
/* The disk an inflated copy in FD may take: half the free space of its file
 * system, UINT64_MAX when FD is not a file on one. */
uint64_t nm_temp_disk_budget(int fd);
/* An unlinked temporary file in $TMPDIR or /tmp, or -1 with ERR set. */
int nm_temp_file(nm_error *err);

/* Containers map at most this many pages of physical address space (1 TiB):
 * far above what an x86 machine addresses (64 GiB with PAE), far below the
 * address space a reservation may take. */
#define NM_CONTAINER_MAX_PFN (UINT64_C(1) << 28)

/* What an ELF core's headers say (elf_core.c), checked against the file. */
#define NM_ELF_MAX_LOADS 1024u	/* dump writers use one per memory range: a few dozen */
struct nm_elf_info {
	bool elf64;
	uint16_t machine;		/* EM_386 or EM_X86_64 */
	uint32_t loads;			/* PT_LOAD segments */
	uint64_t load_start[NM_ELF_MAX_LOADS], load_end[NM_ELF_MAX_LOADS];	/* physical */
	uint32_t prstatus_notes;	/* "CORE" NT_PRSTATUS: one per CPU */
	uint32_t qemu_cpus;		/* "QEMU" register notes */
	bool has_cr3;			/* first QEMU note's CR3/CR4 */
	uint64_t cr3;
	bool cr4_pae;
};
bool nm_elf_magic(const uint8_t *data, size_t len);
int nm_elf_check(const uint8_t *data, size_t len, struct nm_elf_info *info, nm_error *err);

/* libkdumpfile glue (kdumpfile.c). nm_kdump_open takes FD over. */
int nm_container_fd(const char *path, int fd, const uint8_t *data, size_t len, nm_error *err);
int nm_kdump_open(int fd, const struct nm_elf_info *info, struct nm_source **out, nm_error *err);
void nm_kdump_close(struct nm_kdump *k);
const uint8_t *nm_kdump_page(const struct nm_kdump *k, uint64_t pfn);
int nm_kdump_for_each_page(const struct nm_kdump *k, nm_page_visitor *visit, void *ctx);

#endif
