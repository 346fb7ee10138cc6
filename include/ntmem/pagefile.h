/* Windows paging files (pagefile.sys) given with --pagefile: where a page
 * whose PTE says "in paging file N at offset O" finds its bytes. A paging
 * file has no header: page P of the file is the 4096 bytes at offset
 * P * 4096, and the PTE's PageFileHigh is P (facts and sources:
 * docs/pagefile.md). Each file is mapped read-only under the fault guard
 * (mapped_file.h), so a page's bytes are a pointer into the mapping, like a
 * dump page's. */
#ifndef NTMEM_PAGEFILE_H
#define NTMEM_PAGEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/error.h>

/* A PTE names its paging file in 4 bits (PageFileLow): numbers 0-15,
 * MAX_PAGING_FILES in the kernel. */
#define NM_PAGEFILE_NUMBERS 16
/* Files given at once: each takes one of the fault guard's slots, which the
 * dump (and a container's copy) need too. */
#define NM_PAGEFILES_MAX 8

struct nm_pagefile {
	const char *path;	/* as given (outlives the set: argv) */
	int fd;
	const uint8_t *data;	/* the mapping, NULL for an empty file */
	uint64_t size;
};

/* Paging files by the number PTEs use for them. Zero-initialised = none. */
struct nm_pagefiles {
	bool given[NM_PAGEFILE_NUMBERS];
	struct nm_pagefile file[NM_PAGEFILE_NUMBERS];
	unsigned count;
};

/* Opens PATH as paging file NUMBER (a regular file only, mapped read-only).
 * ERR names what was wrong: "pagefile" for a number given twice, too many
 * files or a number above 15; "file" for the file itself. */
int nm_pagefiles_add(struct nm_pagefiles *set, unsigned number, const char *path, nm_error *err);
void nm_pagefiles_close(struct nm_pagefiles *set);

enum nm_pagefile_outcome {
	NM_PAGEFILE_READ,		/* bytes holds the page */
	NM_PAGEFILE_NOT_GIVEN,		/* no file was given for this number */
	NM_PAGEFILE_BEYOND_END,		/* the page ends past the file's end */
	NM_PAGEFILE_TABLE,		/* it is a page table that is paged out, not the page */
};

/* Where one paged-out page's bytes are. */
struct nm_pagefile_lookup {
	enum nm_pagefile_outcome outcome;
	unsigned number;		/* the PTE's paging file number */
	uint64_t offset;		/* byte offset in that file (PageFileHigh * 4096) */
	const char *path;		/* the file given for NUMBER, or NULL */
	uint64_t file_size;		/* its size, when given */
	const uint8_t *bytes;		/* NM_PAGEFILE_READ: the 4096 bytes */
};

/* Looks up page-file page (NUMBER, OFFSET) in SET (which may be NULL:
 * nothing given). */
void nm_pagefiles_lookup(const struct nm_pagefiles *set, unsigned number, uint64_t offset,
			 struct nm_pagefile_lookup *out);

/* "recovered", "no_pagefile", "beyond_pagefile_end", "page_table_paged_out". */
const char *nm_pagefile_outcome_name(enum nm_pagefile_outcome o);
/* One sentence saying why a lookup gave no bytes, or where they came from. */
void nm_pagefile_lookup_describe(const struct nm_pagefile_lookup *l, char *buf, size_t size);

/* Parses "FILE" (paging file 0) or "N=FILE" (N decimal, 0-15) as
 * --pagefile spells it; *PATH points into ARG. A name that itself contains
 * '=' is read as FILE when what precedes it is not a number. */
int nm_pagefile_parse_spec(const char *arg, unsigned *number, const char **path, nm_error *err);

#endif
