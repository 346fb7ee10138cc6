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

struct nm_kdump;
struct nm_source;

/* How one layout answers for its pages: every source has one (a source with
 * no pages has nm_layout_none). CLOSE frees what the layout allocated; the
 * source's own mapping is released by nm_source_close. */
struct nm_layout_ops {
	const uint8_t *(*page)(const struct nm_source *src, uint64_t pfn);
	int (*for_each_page)(const struct nm_source *src, nm_page_visitor *visit, void *ctx);
	void (*close)(struct nm_source *src);
};

extern const struct nm_layout_ops nm_layout_none;	/* no pages (triage, 64-bit, header only) */
extern const struct nm_layout_ops nm_layout_runs;	/* full dump (runs.c) */
extern const struct nm_layout_ops nm_layout_bitmap;	/* kernel and bitmap dumps (bitmap.c) */
extern const struct nm_layout_ops nm_layout_flat;	/* raw image (raw.c) */
extern const struct nm_layout_ops nm_layout_kdump;	/* through libkdumpfile (kdumpfile.c) */

/* The byte ranges of a file that hold data (extents.c); known is false when
 * the file system cannot say, and then every byte counts as data. */
struct nm_extent {
	uint64_t start, end;
};
struct nm_extents {
	bool known;
	size_t count;
	struct nm_extent *items;	/* ascending, disjoint */
};
void nm_extents_read(int fd, uint64_t size, struct nm_extents *x);
void nm_extents_free(struct nm_extents *x);
/* The first offset at or after OFF that holds data, UINT64_MAX when none. */
uint64_t nm_extents_data_from(const struct nm_extents *x, uint64_t off);

/* Bitmap dumps of an x86 machine index at most this many pages: PAE
 * addresses 36 bits of physical memory (64 GiB), so no bit past 2^24 can
 * name a page (docs/robustness.md). */
#define NM_X86_MAX_PFN (UINT64_C(1) << 24)

struct nm_source {
	const uint8_t *data;	/* the bytes the layout reads, or NULL */
	size_t len;
	bool owns_mapping;	/* data is an mmap this source unmaps on close */
	struct nm_file_identity identity;	/* of the file opened by name */
	struct nm_extents extents;	/* where the file holds data (scans skip holes) */
	struct nm_dump_facts facts;
	const struct nm_layout_ops *layout;
	/* nm_layout_runs */
	uint32_t nruns;
	struct nm_file_run runs[NM_MAX_RUNS];
	/* nm_layout_bitmap */
	uint64_t first_page_offset;
	uint64_t nbits;
	struct nm_rank_word *words;	/* nbits/64 rounded up */
	/* nm_layout_kdump */
	struct nm_kdump *kdump;
	/* a gzip file read in place: DATA is its view's mapping */
	struct nm_gzip_view *gzip;
};

/* The bytes one format reader is given, and who releases them. A reader
 * whose source keeps pointing into DATA takes it with nm_input_give; what
 * nobody took is released by whoever made the input (nm_input_release). */
struct nm_input {
	const char *path;	/* the named file, or NULL (buffers, inflated copies) */
	int fd;			/* a descriptor on the same bytes, or -1 */
	const uint8_t *data;
	size_t len;
	bool owns_mapping;	/* DATA is an mmap not yet handed to a source */
	const char *name;	/* the file's name for recognition by suffix, or NULL */
	const char *forced;	/* a format name the caller chose, or NULL: by content */
	unsigned depth;		/* compression layers around these bytes */
	const struct nm_file_identity *identity;	/* of the named file, or NULL */
	const struct nm_progress *progress;	/* or NULL */
};

/* A new source with no pages (nm_layout_none), or NULL with ERR set. */
struct nm_source *nm_source_new(nm_error *err);
/* SRC keeps IN's bytes (and their mapping, if IN owned it). */
void nm_input_give(struct nm_input *in, struct nm_source *src);
void nm_input_release(struct nm_input *in);

/* The format table (formats.c): containers first (by content, whatever was
 * forced), then the formats of memory itself. One entry per format file. */
struct nm_format_entry {
	const char *name;	/* as --format spells it */
	bool wraps;		/* a container: recognised even when a format is forced */
	bool (*probe)(const uint8_t *data, size_t len);
	int (*open)(struct nm_input *in, struct nm_source **out, nm_error *err);
	const char *const *names;	/* file name endings that mean it, NULL-terminated */
	const char *why;		/* what the probe saw, for info */
};

/* Opens IN through the table, once: a container by content, else the forced
 * entry, else the first whose probe matches, else the one the name says,
 * else raw when the size is a whole number of pages. */
int nm_open_input(struct nm_input *in, struct nm_source **out, nm_error *err);

/* The table's entries, each in its format's file. */
bool nm_gzip_magic(const uint8_t *data, size_t len);
int nm_gzip_open(struct nm_input *in, struct nm_source **out, nm_error *err);
bool nm_elf_magic(const uint8_t *data, size_t len);
int nm_elf_open(struct nm_input *in, struct nm_source **out, nm_error *err);
bool nm_kdump_magic(const uint8_t *data, size_t len);
int nm_kdump_compressed_open(struct nm_input *in, struct nm_source **out, nm_error *err);
bool nm_crash_dump_magic(const uint8_t *data, size_t len);
int nm_crash_dump_open(struct nm_input *in, struct nm_source **out, nm_error *err);
bool nm_raw_probe(const uint8_t *data, size_t len);
int nm_raw_open(struct nm_input *in, struct nm_source **out, nm_error *err);

/* Header readers: fill src->facts and the page layout, or nm_fail. */
int nm_read_header32(struct nm_source *src, nm_error *err);
int nm_read_header64(struct nm_source *src, nm_error *err);

/* Layout builders used by the header readers. */
int nm_runs_build(struct nm_source *src, nm_error *err);

/* Builds the rank index over NBITS bits at file offset BITMAP_OFFSET, checks
 * the pages it announces against EXPECTED_PAGES and the file size. */
int nm_bitmap_build(struct nm_source *src, uint64_t bitmap_offset, uint64_t nbits,
		    uint64_t first_page_offset, uint64_t expected_pages,
		    const char *pages_field, nm_error *err);

/* Page I of COUNT stored from file offset BASE: when it lies wholly in a
 * hole of the file, the index of the next page that holds data (COUNT when
 * none), else I. A page in a hole reads as zeros and holds nothing a scan
 * looks for, so scans cost what the file holds, not what it claims. */
uint64_t nm_source_next_page_with_data(const struct nm_source *src, uint64_t base, uint64_t i, uint64_t count);
/* Recognition (gzip_recognise.c): inflates the stream's first MiB in
 * memory, refuses what is not a dump (unless RAW) with the uncompressed
 * file's words, and sets *NEED to the bytes the inner file's headers
 * reach (NM_GZIP_MAX_INFLATED at most); inflation stops there. */
int nm_gzip_recognise(const uint8_t *gz, size_t len, bool raw, uint64_t *need, uint64_t *head, bool *elf,
		      nm_error *err);
/* A gzip file's inflated bytes read in place (gzip.c): the source's DATA is
 * an anonymous mapping the size of the inflated data, filled on demand
 * (pages a caller is given a pointer to stay filled; copies and whole-image
 * passes go through the reader's chunks instead and fill nothing). */
struct nm_gzip_view;
/* Fills the N bytes at P (inside the view's mapping): 0, or -1. */
int nm_gzip_view_fill(struct nm_gzip_view *v, const uint8_t *p, size_t n);
/* Copies the N bytes at P (inside the view's mapping) into DST without
 * filling them. */
int nm_gzip_view_copy(struct nm_gzip_view *v, const uint8_t *p, void *dst, size_t n);
void nm_gzip_view_free(struct nm_gzip_view *v);
int nm_kdump_refuse(nm_error *err);
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
	uint64_t load_offset[NM_ELF_MAX_LOADS];	/* file offset of load_start */
	uint32_t prstatus_notes;	/* "CORE" NT_PRSTATUS: one per CPU */
	uint32_t qemu_cpus;		/* "QEMU" register notes */
	bool has_cr3;			/* first QEMU note's CR3/CR4 */
	uint64_t cr3;
	bool cr4_pae;
};
int nm_elf_check(const uint8_t *data, size_t len, struct nm_elf_info *info, nm_error *err);

/* libkdumpfile glue (kdumpfile.c). nm_kdump_open takes FD over; INFO is the
 * ELF core's headers, or NULL for a kdump-compressed file (its facts are the
 * caller's to fill). */
/* PATH is opened as nm_open_regular does (never a FIFO). */
int nm_container_fd(const char *path, int fd, const uint8_t *data, size_t len, nm_error *err);
int nm_kdump_open(int fd, const struct nm_elf_info *info, struct nm_source **out, nm_error *err);

#endif
