/* Where a file holds data: its extents as SEEK_DATA/SEEK_HOLE report them.
 * A sparse file claims a size it does not hold; scans over "every page"
 * skip the holes, which read as zeros and can hold nothing a scan looks
 * for, so their cost follows the bytes present, not the size claimed. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "source_internal.h"

/* Each extent holds at least one file-system block of data, so the table
 * is bounded by the data present; past this many the rest of the file is
 * taken as data (scanned, never wrong). */
#define MAX_EXTENTS (UINT64_C(1) << 22)

static int add(struct nm_extents *x, uint64_t start, uint64_t end, size_t *cap)
{
	if (x->count == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct nm_extent *e = realloc(x->items, n * sizeof(*e));

		if (!e)
			return -1;
		x->items = e;
		*cap = n;
	}
	x->items[x->count].start = start;
	x->items[x->count].end = end;
	x->count++;
	return 0;
}

void nm_extents_read(int fd, uint64_t size, struct nm_extents *x)
{
	uint64_t at = 0;
	size_t cap = 0;

	x->items = NULL;
	x->count = 0;
	x->known = false;
	/* Every turn moves AT forward past one extent, so at most one turn per
	 * extent, and at most MAX_EXTENTS turns. */
	while (at < size) {
		off_t data = lseek(fd, (off_t)at, SEEK_DATA), hole;

		if (data < 0) {
			if (errno == ENXIO)
				break;			/* only a hole up to the end */
			goto unknown;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole <= (uint64_t)data)
			goto unknown;
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		if (x->count == MAX_EXTENTS - 1) {
			hole = (off_t)size;		/* the rest counts as data */
		}
		if (add(x, (uint64_t)data, (uint64_t)hole, &cap) != 0)
			goto unknown;
		at = (uint64_t)hole;
	}
	x->known = true;
	return;
unknown:
	nm_extents_free(x);
}

void nm_extents_free(struct nm_extents *x)
{
	free(x->items);
	x->items = NULL;
	x->count = 0;
	x->known = false;
}

uint64_t nm_extents_data_from(const struct nm_extents *x, uint64_t off)
{
	size_t lo = 0, hi;

	if (!x->known)
		return off;
	hi = x->count;
	/* The first extent that ends after OFF. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->items[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == x->count)
		return UINT64_MAX;
	return x->items[lo].start > off ? x->items[lo].start : off;
}
