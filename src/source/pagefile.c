/* Paging files given with --pagefile (pagefile.h): opened as regular files,
 * mapped read-only under the fault guard, looked up by the PTE's paging
 * file number and byte offset. The file has no header, so the offset is
 * used as it is (docs/pagefile.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ntmem/mapped_file.h>
#include <ntmem/pagefile.h>

#define PAGE_BYTES 4096u

int nm_pagefiles_add(struct nm_pagefiles *set, unsigned number, const char *path, nm_error *err)
{
	struct nm_pagefile f = { path, -1, NULL, 0 };

	if (number >= NM_PAGEFILE_NUMBERS)
		return nm_fail(err, "pagefile", "paging file number %u: a PTE names 0 to %u", number,
			       NM_PAGEFILE_NUMBERS - 1);
	if (set->given[number])
		return nm_fail(err, "pagefile", "paging file %u given twice", number);
	if (set->count >= NM_PAGEFILES_MAX)
		return nm_fail(err, "pagefile", "more than %u paging files", NM_PAGEFILES_MAX);
	if (nm_open_regular(path, &f.fd, &f.size, err) != 0)
		return -1;
	if (f.size > SIZE_MAX) {
		close(f.fd);
		return nm_fail(err, "file", "0x%llx bytes cannot be mapped here", (unsigned long long)f.size);
	}
	/* An empty file maps nothing: every page lies beyond its end. */
	if (f.size > 0 && !(f.data = nm_map_guarded(f.fd, (size_t)f.size, path, err))) {
		close(f.fd);
		return -1;
	}
	set->file[number] = f;
	set->given[number] = true;
	set->count++;
	return 0;
}

void nm_pagefiles_close(struct nm_pagefiles *set)
{
	for (unsigned i = 0; i < NM_PAGEFILE_NUMBERS; i++) {
		if (!set->given[i])
			continue;
		nm_unmap_guarded(set->file[i].data, (size_t)set->file[i].size);
		close(set->file[i].fd);
		set->given[i] = false;
	}
	set->count = 0;
}

void nm_pagefiles_lookup(const struct nm_pagefiles *set, unsigned number, uint64_t offset,
			 struct nm_pagefile_lookup *out)
{
	const struct nm_pagefile *f;

	memset(out, 0, sizeof(*out));
	out->number = number;
	out->offset = offset;
	if (!set || number >= NM_PAGEFILE_NUMBERS || !set->given[number]) {
		out->outcome = NM_PAGEFILE_NOT_GIVEN;
		return;
	}
	f = &set->file[number];
	out->path = f->path;
	out->file_size = f->size;
	/* A whole page or nothing: a page cut by the file's end is not the page. */
	if (offset % PAGE_BYTES != 0 || offset > f->size || f->size - offset < PAGE_BYTES) {
		out->outcome = NM_PAGEFILE_BEYOND_END;
		return;
	}
	out->outcome = NM_PAGEFILE_READ;
	out->bytes = f->data + offset;
}

const char *nm_pagefile_outcome_name(enum nm_pagefile_outcome o)
{
	switch (o) {
	case NM_PAGEFILE_READ:
		return "recovered";
	case NM_PAGEFILE_NOT_GIVEN:
		return "no_pagefile";
	case NM_PAGEFILE_BEYOND_END:
		return "beyond_pagefile_end";
	case NM_PAGEFILE_TABLE:
		return "page_table_paged_out";
	}
	return "unknown";
}

void nm_pagefile_lookup_describe(const struct nm_pagefile_lookup *l, char *buf, size_t size)
{
	switch (l->outcome) {
	case NM_PAGEFILE_READ:
		snprintf(buf, size, "recovered from %s at offset 0x%llx", l->path, (unsigned long long)l->offset);
		return;
	case NM_PAGEFILE_NOT_GIVEN:
		snprintf(buf, size, "no paging file %u given (--pagefile %u=FILE)", l->number, l->number);
		return;
	case NM_PAGEFILE_BEYOND_END:
		snprintf(buf, size, "offset 0x%llx is beyond the end of paging file %u (%s, 0x%llx bytes)",
			 (unsigned long long)l->offset, l->number, l->path, (unsigned long long)l->file_size);
		return;
	case NM_PAGEFILE_TABLE:
		snprintf(buf, size, "its page table is in paging file %u at offset 0x%llx (walks do not go through paged-out tables)",
			 l->number, (unsigned long long)l->offset);
		return;
	}
	snprintf(buf, size, "unknown");
}

int nm_pagefile_parse_spec(const char *arg, unsigned *number, const char **path, nm_error *err)
{
	const char *eq = strchr(arg, '=');
	const char *p = arg;
	unsigned n = 0;

	*number = 0;
	*path = arg;
	while (eq && p < eq && *p >= '0' && *p <= '9')
		p++;
	if (eq && p == eq && eq > arg) {
		/* Two digits name every paging file; more is a mistake, not a name. */
		if (eq - arg > 2 || (n = (unsigned)strtoul(arg, NULL, 10)) >= NM_PAGEFILE_NUMBERS)
			return nm_fail(err, "pagefile", "paging file number %.*s: a PTE names 0 to %u",
				       (int)(eq - arg > 8 ? 8 : eq - arg), arg, NM_PAGEFILE_NUMBERS - 1);
		*number = n;
		*path = eq + 1;
	}
	if (**path == '\0')
		return nm_fail(err, "pagefile", "'%s' names no file", arg);
	return 0;
}
