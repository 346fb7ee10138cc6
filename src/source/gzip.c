/* gzip-compressed input, whatever it holds, read in place: the stream is
 * indexed once (gzip_index.c, cached per file) and its inflated bytes are an
 * anonymous mapping filled page by page on demand (the view), so that the
 * inner format's layout keeps answering with plain pointers while only what
 * is asked for is ever inflated. ELF cores, which libkdumpfile reads through
 * a descriptor, are still inflated into an unlinked temporary file. Facts
 * and sources: docs/containers.md, docs/gzip-index.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <zlib.h>

#include <ntmem/bytes.h>
#include <ntmem/mapped_file.h>

#include "gzip_index.h"
#include "source_internal.h"

#define CHUNK (1u << 20)
#define HOLE_BLOCK (64u << 10)	/* all-zero blocks of this size become holes */

bool nm_gzip_magic(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == 0x1F && data[1] == 0x8B;
}

static const char *temp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

/* An anonymous file on disk: O_TMPFILE where the file system has it, else a
 * named file unlinked at once. Either way nothing is left behind on exit. */
int nm_temp_file(nm_error *err)
{
	const char *dir = temp_dir();
	char name[4096];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	if ((size_t)snprintf(name, sizeof(name), "%s/ntmem-XXXXXX", dir) >= sizeof(name))
		return nm_fail(err, "gzip", "TMPDIR path is too long");
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0)
		return nm_fail(err, "gzip", "cannot create a temporary file in %s: %s", dir, strerror(errno));
	unlink(name);
	return fd;
}

/* A hostile 62 MiB file inflates to 64 GiB of non-zero bytes, so the bytes
 * that reach the disk are also held to half of what its file system had free
 * when inflation began: a dump may fill a disk no more than a copy of it
 * would, and never to the last block. Files that are not on a file system
 * (a pipe, /dev/full) have no such budget beyond LIMIT. */
uint64_t nm_temp_disk_budget(int fd)
{
	struct statvfs vfs;
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || fstatvfs(fd, &vfs) != 0)
		return UINT64_MAX;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize / 2;
}

struct inflated_copy {
	int fd;
	uint64_t written;	/* bytes that took disk space: non-zero blocks */
	uint64_t budget;	/* at most this many */
};

static int write_block(struct inflated_copy *out, const uint8_t *p, size_t n, uint64_t off,
		       nm_error *err)
{
	if (n > out->budget - out->written)
		return nm_fail(err, "gzip", "the inflated copy needs more than %llu MiB in %s, half of its free space",
			       (unsigned long long)(out->budget >> 20), temp_dir());
	for (size_t done = 0; done < n; ) {
		ssize_t w = pwrite(out->fd, p + done, n - done, (off_t)(off + done));

		if (w <= 0)
			return nm_fail(err, "gzip", "cannot write the inflated copy in %s: %s", temp_dir(),
				       w < 0 ? strerror(errno) : "no progress");
		done += (size_t)w;
	}
	out->written += n;
	return 0;
}

/* Writes N bytes at OFF; zero blocks are skipped so that the mostly empty
 * pages of a memory image cost no disk (the final ftruncate fills them). */
static int write_out(struct inflated_copy *out, const uint8_t *p, size_t n, uint64_t off, nm_error *err)
{
	for (size_t done = 0; done < n; ) {
		size_t block = n - done < HOLE_BLOCK ? n - done : HOLE_BLOCK;

		if (!nm_all_zero(p + done, block) && write_block(out, p + done, block, off + done, err) != 0)
			return -1;
		done += block;
	}
	return 0;
}

/* Bytes after a gzip member: another member follows, or zero padding (tape
 * blocks) that gzip itself ignores; anything else is refused. */
static int after_member(const z_stream *z, const uint8_t *gz, size_t len, bool *another, nm_error *err)
{
	size_t at = len - z->avail_in;

	*another = nm_gzip_magic(z->next_in, z->avail_in);
	if (*another || nm_all_zero(z->next_in, z->avail_in))
		return 0;
	(void)gz;
	return nm_fail(err, "gzip stream", "%zu bytes of data that is not gzip after the member ending at offset 0x%zx",
		       (size_t)z->avail_in, at);
}

/* zlib's own words, with what they mean for the file: a trailer whose
 * length or CRC disagrees with the data is corrupt, not truncated. */
static int inflate_error(int zrc, const z_stream *z, nm_error *err)
{
	const char *msg = z->msg ? z->msg : "corrupt compressed data";

	if (zrc == Z_MEM_ERROR)
		return nm_fail(err, "gzip stream", "out of memory");
	if (zrc == Z_BUF_ERROR)
		return nm_fail(err, "gzip stream", "truncated: the file ends inside the compressed data");
	if (strcmp(msg, "incorrect length check") == 0)
		return nm_fail(err, "gzip trailer.ISIZE", "incorrect length check: the trailer's length is not the inflated size (mod 2^32)");
	if (strcmp(msg, "incorrect data check") == 0)
		return nm_fail(err, "gzip trailer.CRC32", "incorrect data check: the trailer's CRC-32 is not the inflated data's");
	return nm_fail(err, "gzip stream", "%s", msg);
}

/* Inflates every member of the gzip data GZ into FD from offset 0. The loop
 * ends because each turn consumes input or produces output, and output is
 * bounded by LIMIT. */
static int inflate_members(z_stream *z, const uint8_t *gz, size_t len, struct inflated_copy *out,
			   uint64_t limit, uint64_t stop_at, uint8_t *buf, uint64_t *out_len, nm_error *err)
{
	uint64_t total = 0;

	for (;;) {
		if (total >= stop_at) {
			/* All the inner file needs is here: one more turn only, so
			 * that a stream ending now still has its trailer checked;
			 * a stream holding more is not inflated further. */
			uint8_t probe[1];
			int zrc;

			z->next_out = probe;
			z->avail_out = sizeof(probe);
			zrc = inflate(z, Z_NO_FLUSH);
			if (zrc != Z_STREAM_END || z->avail_out == 0)
				break;
		}
		int zrc;
		size_t produced;

		z->next_out = buf;
		z->avail_out = stop_at - total < CHUNK ? (uInt)(stop_at - total) : CHUNK;
		if (z->avail_out == 0)
			z->avail_out = 1;	/* the probe above saw the stream end: let it end */
		zrc = inflate(z, Z_NO_FLUSH);
		produced = (size_t)(z->next_out - buf);
		if (zrc != Z_OK && zrc != Z_STREAM_END && !(zrc == Z_BUF_ERROR && produced))
			return inflate_error(zrc, z, err);
		if (produced > limit - total)
			return nm_fail(err, "gzip", "inflates to more than the %llu GiB limit",
				       (unsigned long long)(limit >> 30));
		if (write_out(out, buf, produced, total, err) != 0)
			return -1;
		total += produced;
		if (zrc == Z_STREAM_END) {
			bool another;

			if (after_member(z, gz, len, &another, err) != 0)
				return -1;
			if (!another)
				break;
			if (inflateReset(z) != Z_OK)
				return nm_fail(err, "gzip stream", "cannot restart for the next member");
		}
	}
	*out_len = total;
	return 0;
}

static int inflate_to_fd(const uint8_t *gz, size_t len, int fd, uint64_t limit, uint64_t stop_at,
			 uint64_t disk_budget, uint64_t *out_len, nm_error *err)
{
	struct inflated_copy out = { fd, 0, disk_budget };
	z_stream z;
	uint8_t *buf = malloc(CHUNK);
	int rc;

	if (!buf)
		return nm_fail(err, "memory", "out of memory");
	memset(&z, 0, sizeof(z));
	/* 16 + MAX_WBITS: gzip wrapper only, with its CRC-32 and length checked. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return nm_fail(err, "gzip", "cannot start zlib");
	}
	/* zlib counts input in uInt: feed it at most 1 GiB per member turn. */
	z.next_in = (Bytef *)gz;
	z.avail_in = len > (1u << 30) ? (1u << 30) : (uInt)len;
	if (len > z.avail_in) {
		inflateEnd(&z);
		free(buf);
		return nm_fail(err, "gzip", "compressed files above 1 GiB are not read (inflate it first)");
	}
	rc = inflate_members(&z, gz, len, &out, limit, stop_at, buf, out_len, err);
	inflateEnd(&z);
	free(buf);
	if (rc == 0 && ftruncate(fd, (off_t)*out_len) != 0)
		return nm_fail(err, "gzip", "cannot size the inflated copy in %s: %s", temp_dir(), strerror(errno));
	return rc;
}

int nm_gzip_inflate_to_fd(const uint8_t *gz, size_t len, int fd, uint64_t limit,
			  uint64_t disk_budget, uint64_t *out_len, nm_error *err)
{
	return inflate_to_fd(gz, len, fd, limit, UINT64_MAX, disk_budget, out_len, err);
}

/* The inflated copy (its first NEED bytes at most), mapped; FD stays open
 * for readers that need one. */
static int inflate_and_map(const uint8_t *gz, size_t len, uint64_t need, int *fd, const uint8_t **data,
			   size_t *size, nm_error *err)
{
	uint64_t n = 0;
	void *p;

	*fd = nm_temp_file(err);
	if (*fd < 0)
		return -1;
	if (inflate_to_fd(gz, len, *fd, NM_GZIP_MAX_INFLATED, need, nm_temp_disk_budget(*fd), &n, err) != 0)
		goto fail;
	if (n == 0) {
		nm_fail(err, "gzip stream", "inflates to nothing");
		goto fail;
	}
	if (n > SIZE_MAX) {
		nm_fail(err, "gzip", "inflated size too large to map");
		goto fail;
	}
	p = mmap(NULL, (size_t)n, PROT_READ, MAP_PRIVATE, *fd, 0);
	if (p == MAP_FAILED) {
		nm_fail(err, "gzip", "cannot map the inflated copy: %s", strerror(errno));
		goto fail;
	}
	*data = p;
	*size = (size_t)n;
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return -1;
}

/* ---- read in place ---- */

struct nm_gzip_view {
	struct nm_gzip_index *ix;
	struct nm_gzip_reader *reader;
	uint8_t *map;		/* anonymous, the inflated size; pages filled on demand */
	size_t len;
	uint8_t *filled;	/* one bit per page of MAP */
	const uint8_t *gz;	/* the compressed bytes, */
	size_t gz_len;
	bool owns_gz;		/* a mapping the view unmaps on close */
};

void nm_gzip_view_free(struct nm_gzip_view *v)
{
	if (!v)
		return;
	if (v->map)
		munmap(v->map, v->len);
	nm_gzip_reader_free(v->reader);
	nm_gzip_index_free(v->ix);
	if (v->owns_gz)
		nm_unmap_guarded(v->gz, v->gz_len);
	free(v->filled);
	free(v);
}

static int fill(struct nm_gzip_view *v, uint64_t off, uint64_t n, nm_error *err)
{
	if (n == 0)
		return 0;
	for (uint64_t pg = off >> NM_PAGE_SHIFT; pg <= (off + n - 1) >> NM_PAGE_SHIFT; pg++) {
		uint64_t at = pg << NM_PAGE_SHIFT;
		size_t len = v->len - at < NM_PAGE_SIZE ? (size_t)(v->len - at) : NM_PAGE_SIZE;

		if (v->filled[pg >> 3] & (1u << (pg & 7)))
			continue;
		/* A zero block is already zero in an anonymous mapping. */
		if (!nm_gzip_index_zero(v->ix, at, len) &&
		    nm_gzip_reader_read(v->reader, at, v->map + at, len, err) != 0)
			return -1;
		v->filled[pg >> 3] |= (uint8_t)(1u << (pg & 7));
	}
	return 0;
}

int nm_gzip_view_fill(struct nm_gzip_view *v, const uint8_t *p, size_t n)
{
	nm_error err;
	uint64_t off = (uint64_t)(p - v->map);

	if (p < v->map || off > v->len || n > v->len - off)
		return -1;
	return fill(v, off, n, &err);
}

int nm_gzip_view_copy(struct nm_gzip_view *v, const uint8_t *p, void *dst, size_t n)
{
	nm_error err;
	uint64_t off = (uint64_t)(p - v->map), pg = off >> NM_PAGE_SHIFT;

	if (p < v->map || off > v->len || n > v->len - off)
		return -1;
	if (n && pg == (off + n - 1) >> NM_PAGE_SHIFT && (v->filled[pg >> 3] & (1u << (pg & 7)))) {
		memcpy(dst, p, n);
		return 0;
	}
	return nm_gzip_reader_read(v->reader, off, dst, n, &err);
}

static int view_open(const struct nm_input *in, uint64_t need, uint64_t head, struct nm_gzip_view **out,
		     nm_error *err)
{
	struct nm_gzip_view *v = calloc(1, sizeof(*v));
	void *map;

	*out = NULL;
	if (!v)
		return nm_fail(err, "memory", "out of memory");
	if (nm_gzip_index_open(in->data, in->len, need, in->identity, in->progress, &v->ix, err) != 0 ||
	    nm_gzip_reader_new(in->data, in->len, v->ix, &v->reader, err) != 0)
		goto fail;
	if (v->ix->total > SIZE_MAX) {
		nm_fail(err, "gzip", "inflated size too large to map");
		goto fail;
	}
	v->len = (size_t)v->ix->total;
	/* Address space only: what is never filled costs nothing. */
	map = mmap(NULL, v->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		nm_fail(err, "gzip", "cannot reserve %llu MiB of address space for the inflated data: %s",
			(unsigned long long)(v->len >> 20), strerror(errno));
		goto fail;
	}
	v->map = map;
	v->filled = calloc((v->len / NM_PAGE_SIZE + 1 + 7) / 8, 1);
	if (!v->filled) {
		nm_fail(err, "memory", "out of memory");
		goto fail;
	}
	if (fill(v, 0, head < v->len ? head : v->len, err) != 0)
		goto fail;
	*out = v;
	return 0;
fail:
	nm_gzip_view_free(v);
	return -1;
}

/* The zero map as the extents of the inflated data: scans skip zero blocks
 * as they skip the holes of an uncompressed file. */
static void zero_extents(const struct nm_gzip_index *ix, struct nm_extents *x)
{
	size_t cap = 0;

	nm_extents_free(x);
	x->known = true;
	for (uint64_t b = 0; b < ix->nblocks; ) {
		uint64_t e = b;

		if (ix->zero[b >> 3] & (1u << (b & 7))) {
			b++;
			continue;
		}
		while (e < ix->nblocks && !(ix->zero[e >> 3] & (1u << (e & 7))))
			e++;
		if (x->count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct nm_extent *items = realloc(x->items, ncap * sizeof(*items));

			if (!items) {
				nm_extents_free(x);	/* unknown: every byte counts as data */
				return;
			}
			x->items = items;
			cap = ncap;
		}
		x->items[x->count].start = b << NM_GZIX_ZERO_SHIFT;
		x->items[x->count].end = e << NM_GZIX_ZERO_SHIFT < ix->total ? e << NM_GZIX_ZERO_SHIFT : ix->total;
		x->count++;
		b = e;
	}
}

/* ELF cores are read by libkdumpfile through a descriptor: for them the
 * inflated copy on disk stays (docs/gzip-index.md). */
static int open_inflated_copy(struct nm_input *in, struct nm_input *inner, uint64_t need,
			      struct nm_source **out, nm_error *err)
{
	int rc;

	inner->owns_mapping = true;
	if (inflate_and_map(in->data, in->len, need, &inner->fd, &inner->data, &inner->len, err) != 0)
		return -1;
	rc = nm_open_input(inner, out, err);
	if (rc == 0 && (*out)->owns_mapping && (*out)->data == inner->data)
		nm_extents_read(inner->fd, inner->len, &(*out)->extents);	/* zero blocks were left as holes */
	nm_input_release(inner);
	close(inner->fd);
	return rc;
}

/* Opens what the gzip holds through the format table, with the forced
 * format (if any) applying to it, over the view of its inflated bytes. */
int nm_gzip_open(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	struct nm_input inner = { .path = NULL, .fd = -1, .owns_mapping = false,
				  .forced = in->forced, .depth = in->depth + 1 };
	struct nm_gzip_view *v;
	char name[4096];
	size_t n = in->name ? strlen(in->name) : 0;
	uint64_t need, head;
	bool elf;
	int rc;

	*out = NULL;
	/* "image.raw.gz" names what it holds as "image.raw". */
	if (n > 3 && n < sizeof(name) && strcasecmp(in->name + n - 3, ".gz") == 0) {
		memcpy(name, in->name, n - 3);
		name[n - 3] = '\0';
		inner.name = name;
	}
	if (in->depth > 0)
		return nm_fail(err, "gzip", "holds another gzip stream (inflate the outer one first)");
	if (nm_gzip_recognise(in->data, in->len, in->forced && strcmp(in->forced, "raw") == 0, &need, &head,
			      &elf, err) != 0)
		return -1;
	if (elf && !(in->forced && strcmp(in->forced, "elf") != 0))
		rc = open_inflated_copy(in, &inner, need, out, err);
	else {
		if (view_open(in, need, head, &v, err) != 0)
			return -1;
		inner.data = v->map;
		inner.len = v->len;
		rc = nm_open_input(&inner, out, err);
		if (rc == 0 && (*out)->data == v->map) {
			/* The reader keeps inflating from the compressed mapping. */
			v->gz = in->data;
			v->gz_len = in->len;
			v->owns_gz = in->owns_mapping;
			in->owns_mapping = false;
			(*out)->gzip = v;
			zero_extents(v->ix, &(*out)->extents);
			/* Readers of side structures (triage) read the file whole. */
			if ((*out)->layout == &nm_layout_none && v->len <= (UINT64_C(64) << 20) &&
			    fill(v, 0, v->len, err) != 0) {
				nm_source_close(*out);
				*out = NULL;
				return -1;
			}
		} else {
			nm_gzip_view_free(v);
		}
	}
	if (rc != 0)
		return -1;
	(*out)->facts.compression = NM_COMPRESSION_GZIP;
	return 0;
}
