/* The gzip index: one pass over the stream records, every NM_GZIX_SPACING
 * inflated bytes or so, a checkpoint at a deflate block boundary with the
 * 32 KiB of history inflation needs to resume there (compressed: mostly-zero
 * memory makes them tiny), and a map of the 64 KiB blocks that are all zero
 * (read without inflating, skipped by scans). The index is kept in the
 * per-file cache keyed by the compressed file's identity; what is read back
 * is hostile input like the dump: a whole-file CRC, then every field checked
 * against the stream and the other fields, and anything wrong means
 * "build it again", never "trust it". File format: docs/gzip-index.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <ntmem/bytes.h>

#include "gzip_index.h"
#include "source_internal.h"

#define KIND "gzidx"
#define MAGIC "NTMGZIX2"
#define HEADER_SIZE 64u
#define ENTRY_SIZE 48u
#define LITERAL_SIZE 24u
#define MAX_LITERALS ((uint32_t)(NM_GZIP_MAX_INFLATED / NM_GZIX_CHUNK))
#define INPUT_STEP (UINT64_C(1) << 30)	/* zlib counts input in uInt */
#define PROGRESS_STEP (UINT64_C(16) << 20)
/* A checkpoint is at least NM_GZIX_SPACING past the one before, so an
 * inflated size of at most NM_GZIP_MAX_INFLATED has at most this many (plus
 * one per member start: members are not checkpoints of their own). */
#define MAX_CHECKPOINTS ((uint32_t)(NM_GZIP_MAX_INFLATED / NM_GZIX_SPACING) + 1)

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t blocks_for(uint64_t total)
{
	return (total + (UINT64_C(1) << NM_GZIX_ZERO_SHIFT) - 1) >> NM_GZIX_ZERO_SHIFT;
}

void nm_gzip_index_free(struct nm_gzip_index *ix)
{
	if (!ix)
		return;
	if (ix->fd >= 0)
		close(ix->fd);
	free(ix->cps);
	free(ix->zero);
	free(ix->literals);
	free(ix);
}

static struct nm_gzip_index *index_new(nm_error *err)
{
	struct nm_gzip_index *ix = calloc(1, sizeof(*ix));

	if (!ix) {
		nm_fail(err, "memory", "out of memory");
		return NULL;
	}
	ix->fd = -1;
	return ix;
}

bool nm_gzip_index_zero(const struct nm_gzip_index *ix, uint64_t off, uint64_t len)
{
	uint64_t first = off >> NM_GZIX_ZERO_SHIFT, last;

	if (len == 0 || off >= ix->total || len > ix->total - off)
		return false;
	last = (off + len - 1) >> NM_GZIX_ZERO_SHIFT;
	for (uint64_t b = first; b <= last; b++) {
		if (!(ix->zero[b >> 3] & (1u << (b & 7))))
			return false;
	}
	return true;
}

uint32_t nm_gzip_index_find(const struct nm_gzip_index *ix, uint64_t off)
{
	uint32_t lo = 0, hi = ix->count;	/* cps[0].out == 0 <= off */

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ix->cps[mid].out <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len; ) {
		ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len; ) {
		ssize_t w = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

int nm_gzip_index_window(const struct nm_gzip_index *ix, uint32_t i, uint8_t *window, nm_error *err)
{
	const struct nm_gzip_checkpoint *cp = &ix->cps[i];
	uint8_t *packed;
	uLongf n = NM_GZIX_WINDOW;
	int rc = 0;

	if (cp->window_len == 0)
		return 0;
	packed = malloc(cp->window_clen);
	if (!packed)
		return nm_fail(err, "memory", "out of memory");
	if (pread_all(ix->fd, packed, cp->window_clen, cp->window_off) != 0 ||
	    crc32(0, packed, cp->window_clen) != cp->window_crc ||
	    uncompress(window, &n, packed, cp->window_clen) != Z_OK || n != cp->window_len)
		rc = nm_fail(err, "gzip index", "checkpoint %u's window cannot be read back from the index file", i);
	free(packed);
	return rc;
}

int nm_gzip_index_literal(const struct nm_gzip_index *ix, uint64_t start, uint8_t *out, size_t n, nm_error *err)
{
	uint32_t lo = 0, hi = ix->nliterals;
	const struct nm_gzip_literal *l;
	uint8_t *packed;
	uLongf got = n;
	int rc = 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ix->literals[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->nliterals || ix->literals[lo].start != start)
		return 0;
	l = &ix->literals[lo];
	packed = malloc(l->clen);
	if (!packed)
		return nm_fail(err, "memory", "out of memory");
	if (pread_all(ix->fd, packed, l->clen, l->off) != 0 || crc32(0, packed, l->clen) != l->crc ||
	    uncompress(out, &got, packed, l->clen) != Z_OK || got != n)
		rc = nm_fail(err, "gzip index", "the copy of the chunk at 0x%llx cannot be read back from the index file",
			     (unsigned long long)start);
	free(packed);
	return rc;
}

/* ---- building ---- */

struct builder {
	struct nm_gzip_index *ix;
	const uint8_t *gz;
	size_t len;
	z_stream z;		/* inflating the stream */
	z_stream d;		/* deflating windows */
	uint8_t ring[NM_GZIX_WINDOW];	/* the last 32 KiB inflated; output goes here */
	size_t have;		/* bytes of RING filled since its last wrap */
	uint64_t member_out;	/* inflated offset where the current member began */
	uint64_t next_window;	/* index file offset for the next window */
	uint32_t cap;
	uint64_t zero_cap;	/* bytes allocated for ix->zero */
	uint8_t packed[NM_GZIX_WINDOW + 1024];
	uint8_t *chunk;		/* the chunk being copied for a literal, or NULL */
	bool copying;		/* the current chunk is being copied */
	uint8_t *chunk_packed;
	uint32_t lit_cap;
	uint64_t lit_bytes;	/* compressed literal bytes written */
	const struct nm_progress *progress;
	uint64_t reported;
};

static uint64_t in_pos(const struct builder *b)
{
	return (uint64_t)(b->z.next_in - b->gz);
}

static void refill(z_stream *z, const uint8_t *gz, size_t len)
{
	uint64_t at = (uint64_t)(z->next_in - gz), left = len - at;

	if (z->avail_in == 0)
		z->avail_in = (uInt)(left > INPUT_STEP ? INPUT_STEP : left);
}

/* Marks the blocks PIECE (inflated at offset AT) touches: a block stays
 * "zero" only while every byte seen of it is zero. */
static int mark_zero(struct builder *b, const uint8_t *piece, size_t n, uint64_t at, nm_error *err)
{
	struct nm_gzip_index *ix = b->ix;
	uint64_t need = (blocks_for(at + n) + 7) / 8;

	if (need > b->zero_cap) {
		uint64_t cap = b->zero_cap ? b->zero_cap : 1024;
		uint8_t *z;

		while (cap < need)
			cap *= 2;
		z = realloc(ix->zero, cap);
		if (!z)
			return nm_fail(err, "memory", "out of memory");
		memset(z + b->zero_cap, 0, cap - b->zero_cap);
		ix->zero = z;
		b->zero_cap = cap;
	}
	while (n) {
		uint64_t blk = at >> NM_GZIX_ZERO_SHIFT;
		size_t in_blk = (size_t)(((blk + 1) << NM_GZIX_ZERO_SHIFT) - at);
		size_t seg = in_blk < n ? in_blk : n;
		bool starts = (at & ((UINT64_C(1) << NM_GZIX_ZERO_SHIFT) - 1)) == 0;
		bool zero = nm_all_zero(piece, seg);

		if (starts && zero)
			ix->zero[blk >> 3] |= (uint8_t)(1u << (blk & 7));
		else if (!zero)
			ix->zero[blk >> 3] &= (uint8_t)~(1u << (blk & 7));
		piece += seg;
		at += seg;
		n -= seg;
	}
	return 0;
}

static int add_checkpoint(struct builder *b, uint64_t out, bool member_start, nm_error *err)
{
	struct nm_gzip_index *ix = b->ix;
	struct nm_gzip_checkpoint *cp;
	uint8_t window[NM_GZIX_WINDOW];
	uint64_t since = out - b->member_out;
	uint32_t wlen = member_start ? 0 : (uint32_t)(since < NM_GZIX_WINDOW ? since : NM_GZIX_WINDOW);

	if (ix->count == MAX_CHECKPOINTS)
		return 0;	/* cannot happen within the inflation limit; stay bounded anyway */
	if (ix->count == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 64;
		struct nm_gzip_checkpoint *c = realloc(ix->cps, (size_t)cap * sizeof(*c));

		if (!c)
			return nm_fail(err, "memory", "out of memory");
		ix->cps = c;
		b->cap = cap;
	}
	cp = &ix->cps[ix->count];
	memset(cp, 0, sizeof(*cp));
	cp->out = out;
	cp->in = in_pos(b);
	cp->bits = member_start ? 0 : (uint8_t)(b->z.data_type & 7);
	cp->member_start = member_start;
	cp->window_len = wlen;
	if (wlen) {
		/* The last WLEN bytes of the ring, oldest first. */
		if (wlen <= b->have) {
			memcpy(window, b->ring + b->have - wlen, wlen);
		} else {
			size_t older = wlen - b->have;

			memcpy(window, b->ring + NM_GZIX_WINDOW - older, older);
			memcpy(window + older, b->ring, b->have);
		}
		if (deflateReset(&b->d) != Z_OK)
			return nm_fail(err, "gzip index", "cannot restart zlib's deflate");
		b->d.next_in = window;
		b->d.avail_in = wlen;
		b->d.next_out = b->packed;
		b->d.avail_out = sizeof(b->packed);
		if (deflate(&b->d, Z_FINISH) != Z_STREAM_END)
			return nm_fail(err, "gzip index", "cannot compress a window");
		cp->window_clen = (uint32_t)(sizeof(b->packed) - b->d.avail_out);
		cp->window_crc = (uint32_t)crc32(0, b->packed, cp->window_clen);
		cp->window_off = b->next_window;
		if (pwrite_all(ix->fd, b->packed, cp->window_clen, cp->window_off) != 0)
			return nm_fail(err, "gzip index", "cannot write the index file: %s", strerror(errno));
		b->next_window += cp->window_clen;
	}
	ix->count++;
	return 0;
}

static int add_literal(struct builder *b, uint64_t start, size_t n, nm_error *err)
{
	struct nm_gzip_index *ix = b->ix;
	struct nm_gzip_literal *l;
	uLong cap = compressBound(NM_GZIX_CHUNK);

	if (!b->chunk_packed && !(b->chunk_packed = malloc(cap)))
		return nm_fail(err, "memory", "out of memory");
	if (ix->nliterals == b->lit_cap) {
		uint32_t ncap = b->lit_cap ? b->lit_cap * 2 : 64;
		struct nm_gzip_literal *x = realloc(ix->literals, (size_t)ncap * sizeof(*x));

		if (!x)
			return nm_fail(err, "memory", "out of memory");
		ix->literals = x;
		b->lit_cap = ncap;
	}
	if (deflateReset(&b->d) != Z_OK)
		return nm_fail(err, "gzip index", "cannot restart zlib's deflate");
	b->d.next_in = b->chunk;
	b->d.avail_in = (uInt)n;
	b->d.next_out = b->chunk_packed;
	b->d.avail_out = (uInt)cap;
	if (deflate(&b->d, Z_FINISH) != Z_STREAM_END)
		return nm_fail(err, "gzip index", "cannot compress a chunk");
	l = &ix->literals[ix->nliterals];
	l->start = start;
	l->off = b->next_window;
	l->clen = (uint32_t)(cap - b->d.avail_out);
	l->crc = (uint32_t)crc32(0, b->chunk_packed, l->clen);
	if (pwrite_all(ix->fd, b->chunk_packed, l->clen, l->off) != 0)
		return nm_fail(err, "gzip index", "cannot write the index file: %s", strerror(errno));
	b->next_window += l->clen;
	b->lit_bytes += l->clen;
	ix->nliterals++;
	return 0;
}

/* Copies what was just inflated (N bytes at AT, ix->total already past it)
 * into the chunk being kept as a literal, deciding at each chunk's start
 * whether it is far enough from the last checkpoint, and writing it at its
 * end when it holds data. */
static int feed_literal(struct builder *b, const uint8_t *piece, size_t n, uint64_t at, nm_error *err)
{
	struct nm_gzip_index *ix = b->ix;

	while (n) {
		uint64_t start = at - at % NM_GZIX_CHUNK;
		size_t in = (size_t)(at - start), seg = NM_GZIX_CHUNK - in < n ? NM_GZIX_CHUNK - in : n;

		if (in == 0) {
			b->copying = at - ix->cps[ix->count - 1].out >= NM_GZIX_LITERAL_DISTANCE &&
				     b->lit_bytes < NM_GZIX_LITERAL_MAX;
			if (b->copying && !b->chunk && !(b->chunk = malloc(NM_GZIX_CHUNK)))
				return nm_fail(err, "memory", "out of memory");
		}
		if (b->copying) {
			memcpy(b->chunk + in, piece, seg);
			if (in + seg == NM_GZIX_CHUNK && !nm_gzip_index_zero(ix, start, NM_GZIX_CHUNK) &&
			    add_literal(b, start, NM_GZIX_CHUNK, err) != 0)
				return -1;
		}
		piece += seg;
		at += seg;
		n -= seg;
	}
	return 0;
}

/* zlib's verdict in the contract's words, with where in the file. */
static int stream_error(struct builder *b, int zrc, nm_error *err)
{
	const char *msg = b->z.msg ? b->z.msg : "corrupt compressed data";
	unsigned long long at = (unsigned long long)in_pos(b);
	unsigned long long out = (unsigned long long)b->ix->total;

	if (zrc == Z_MEM_ERROR)
		return nm_fail(err, "gzip stream", "out of memory");
	if (zrc == Z_BUF_ERROR)
		return nm_fail(err, "gzip stream", "truncated: the file ends inside the compressed data at offset 0x%llx (0x%llx bytes inflated)", at, out);
	if (strcmp(msg, "incorrect length check") == 0)
		return nm_fail(err, "gzip trailer.ISIZE", "incorrect length check at offset 0x%llx: the trailer's length is not the inflated size (mod 2^32)", at);
	if (strcmp(msg, "incorrect data check") == 0)
		return nm_fail(err, "gzip trailer.CRC32", "incorrect data check at offset 0x%llx: the trailer's CRC-32 is not the inflated data's", at);
	return nm_fail(err, "gzip stream", "%s at compressed offset 0x%llx (0x%llx bytes inflated)", msg, at, out);
}

/* After a member: another member, zero padding (tape blocks, ignored as
 * gzip ignores them), or data that is refused naming where it starts. */
static int after_member(struct builder *b, bool *another, nm_error *err)
{
	uint64_t at = in_pos(b), left = b->len - at;

	*another = left >= 2 && b->gz[at] == 0x1F && b->gz[at + 1] == 0x8B;
	if (*another || nm_all_zero(b->gz + at, (size_t)left))
		return 0;
	return nm_fail(err, "gzip stream", "%llu bytes of data that is not gzip after the member ending at offset 0x%llx",
		       (unsigned long long)left, (unsigned long long)at);
}

/* At the limit: the stream may end right here (its trailer is then still
 * checked); if it holds more, the rest is what no header asked for. */
static int at_limit(struct builder *b, bool *done, nm_error *err)
{
	uint8_t probe[1];
	int zrc;

	*done = true;
	for (;;) {
		refill(&b->z, b->gz, b->len);
		b->z.next_out = probe;
		b->z.avail_out = 1;
		zrc = inflate(&b->z, Z_NO_FLUSH);
		if (zrc == Z_STREAM_END && b->z.avail_out == 1) {
			bool another;

			if (after_member(b, &another, err) != 0)
				return -1;
			if (!another)
				return 0;
			*done = false;	/* an empty member may follow: let the loop see it */
			if (inflateReset(&b->z) != Z_OK)
				return nm_fail(err, "gzip stream", "cannot restart for the next member");
			b->member_out = b->ix->total;
			return 0;
		}
		if (zrc == Z_DATA_ERROR || zrc == Z_NEED_DICT || zrc == Z_MEM_ERROR || zrc == Z_STREAM_ERROR)
			return stream_error(b, zrc, err);	/* a bad trailer is still refused */
		if (zrc != Z_OK || b->z.avail_out == 0 || (b->z.avail_in == 0 && in_pos(b) == b->len))
			return 0;
	}
}

static int build_pass(struct builder *b, nm_error *err)
{
	struct nm_gzip_index *ix = b->ix;

	if (add_checkpoint(b, 0, true, err) != 0)
		return -1;
	for (;;) {
		size_t room;
		uint64_t produced;
		int zrc;

		if (ix->total >= ix->limit) {
			bool done;

			if (at_limit(b, &done, err) != 0)
				return -1;
			if (done)
				return 0;
		}
		refill(&b->z, b->gz, b->len);
		if (b->have == NM_GZIX_WINDOW)
			b->have = 0;
		room = NM_GZIX_WINDOW - b->have;
		if (room > ix->limit - ix->total)
			room = (size_t)(ix->limit - ix->total);
		b->z.next_out = b->ring + b->have;
		b->z.avail_out = (uInt)room;
		zrc = inflate(&b->z, Z_BLOCK);
		produced = room - b->z.avail_out;
		if (produced && mark_zero(b, b->ring + b->have, (size_t)produced, ix->total, err) != 0)
			return -1;
		b->have += (size_t)produced;
		ix->total += produced;
		if (produced && feed_literal(b, b->ring + b->have - produced, (size_t)produced, ix->total - produced, err) != 0)
			return -1;
		if (in_pos(b) - b->reported >= PROGRESS_STEP) {
			b->reported = in_pos(b);
			nm_progress_report(b->progress, "indexing the gzip file", b->reported >> 20, b->len >> 20, "MiB");
		}
		if (zrc == Z_STREAM_END) {
			bool another;

			if (after_member(b, &another, err) != 0)
				return -1;
			if (!another)
				return 0;
			if (inflateReset(&b->z) != Z_OK)
				return nm_fail(err, "gzip stream", "cannot restart for the next member");
			b->member_out = ix->total;
			continue;
		}
		if (zrc == Z_BUF_ERROR && b->z.avail_in == 0 && in_pos(b) == b->len)
			return stream_error(b, Z_BUF_ERROR, err);
		if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			return stream_error(b, zrc, err);
		/* A block boundary that is not the last block's end (zran's test). */
		if ((b->z.data_type & 128) && !(b->z.data_type & 64) &&
		    ix->total - ix->cps[ix->count - 1].out >= NM_GZIX_SPACING &&
		    add_checkpoint(b, ix->total, false, err) != 0)
			return -1;
	}
}

/* ---- the index file ---- */

static void encode_header(const struct nm_gzip_index *ix, uint64_t table_off, uint8_t *h)
{
	memset(h, 0, HEADER_SIZE);
	memcpy(h, MAGIC, 8);
	put32(h + 8, HEADER_SIZE);
	put32(h + 12, ENTRY_SIZE);
	put64(h + 16, ix->gz_len);
	put64(h + 24, ix->limit);
	put64(h + 32, ix->total);
	put32(h + 40, ix->count);
	put32(h + 44, NM_GZIX_ZERO_SHIFT);
	put64(h + 48, table_off);
	put32(h + 56, ix->nliterals);
	put32(h + 60, LITERAL_SIZE);
}

static void encode_literal(const struct nm_gzip_literal *l, uint8_t *e)
{
	memset(e, 0, LITERAL_SIZE);
	put64(e, l->start);
	put64(e + 8, l->off);
	put32(e + 16, l->clen);
	put32(e + 20, l->crc);
}

static void encode_entry(const struct nm_gzip_checkpoint *cp, uint8_t *e)
{
	memset(e, 0, ENTRY_SIZE);
	put64(e, cp->out);
	put64(e + 8, cp->in);
	e[16] = cp->bits;
	e[17] = cp->member_start;
	put32(e + 20, cp->window_len);
	put32(e + 24, cp->window_crc);
	put32(e + 28, cp->window_clen);
	put64(e + 32, cp->window_off);
}

/* Writes the table, the zero map, the header and the whole-file CRC. */
static int write_index(struct builder *b, nm_error *err)
{
	struct nm_gzip_index *ix = b->ix;
	uint64_t table_off = b->next_window, zero_len = (ix->nblocks + 7) / 8;
	uint64_t lit_off = table_off + (uint64_t)ix->count * ENTRY_SIZE;
	uint64_t end = lit_off + (uint64_t)ix->nliterals * LITERAL_SIZE + zero_len;
	uint8_t h[HEADER_SIZE], e[ENTRY_SIZE], buf[64 << 10], crc_le[4];
	uLong crc = crc32(0, NULL, 0);

	for (uint32_t i = 0; i < ix->count; i++) {
		encode_entry(&ix->cps[i], e);
		if (pwrite_all(ix->fd, e, ENTRY_SIZE, table_off + (uint64_t)i * ENTRY_SIZE) != 0)
			goto fail;
	}
	for (uint32_t i = 0; i < ix->nliterals; i++) {
		encode_literal(&ix->literals[i], e);
		if (pwrite_all(ix->fd, e, LITERAL_SIZE, lit_off + (uint64_t)i * LITERAL_SIZE) != 0)
			goto fail;
	}
	if (pwrite_all(ix->fd, ix->zero, (size_t)zero_len, end - zero_len) != 0)
		goto fail;
	encode_header(ix, table_off, h);
	if (pwrite_all(ix->fd, h, HEADER_SIZE, 0) != 0)
		goto fail;
	for (uint64_t at = 0; at < end; ) {
		size_t n = end - at < sizeof(buf) ? (size_t)(end - at) : sizeof(buf);

		if (pread_all(ix->fd, buf, n, at) != 0)
			goto fail;
		crc = crc32(crc, buf, (uInt)n);
		at += n;
	}
	put32(crc_le, (uint32_t)crc);
	if (pwrite_all(ix->fd, crc_le, 4, end) != 0)
		goto fail;
	return 0;
fail:
	return nm_fail(err, "gzip index", "cannot write the index file: %s", strerror(errno));
}

static int build(const uint8_t *gz, size_t len, uint64_t limit, int fd, const struct nm_progress *progress,
		 struct nm_gzip_index *ix, nm_error *err)
{
	struct builder *b = calloc(1, sizeof(*b));
	int rc = -1;

	if (!b)
		return nm_fail(err, "memory", "out of memory");
	ix->fd = fd;
	ix->gz_len = len;
	ix->limit = limit;
	b->ix = ix;
	b->gz = gz;
	b->len = len;
	b->next_window = HEADER_SIZE;
	b->progress = progress;
	/* 16 + MAX_WBITS: the gzip wrapper, with each member's CRC-32 and
	 * length checked as the pass goes. */
	if (inflateInit2(&b->z, 16 + MAX_WBITS) != Z_OK) {
		free(b);
		return nm_fail(err, "gzip", "cannot start zlib");
	}
	if (deflateInit(&b->d, 1) != Z_OK) {
		inflateEnd(&b->z);
		free(b);
		return nm_fail(err, "gzip", "cannot start zlib");
	}
	b->z.next_in = (Bytef *)gz;
	if (build_pass(b, err) == 0) {
		if (ix->total == 0)
			nm_fail(err, "gzip stream", "inflates to nothing");
		else {
			uint64_t last = ix->total - ix->total % NM_GZIX_CHUNK;

			ix->nblocks = blocks_for(ix->total);
			if (mark_zero(b, NULL, 0, ix->total, err) == 0 &&	/* map sized to the end */
			    (!b->copying || last == ix->total || nm_gzip_index_zero(ix, last, ix->total - last) ||
			     add_literal(b, last, (size_t)(ix->total - last), err) == 0))
				rc = write_index(b, err);
		}
	}
	if (rc == 0)
		nm_progress_report(progress, "indexing the gzip file", len >> 20, len >> 20, "MiB");
	inflateEnd(&b->z);
	deflateEnd(&b->d);
	free(b->chunk);
	free(b->chunk_packed);
	free(b);
	return rc;
}

/* ---- reading it back ---- */

static int check_entry(const struct nm_gzip_index *ix, uint32_t i, uint64_t table_off)
{
	const struct nm_gzip_checkpoint *cp = &ix->cps[i];

	if (i == 0 && (cp->out != 0 || cp->in != 0 || !cp->member_start))
		return -1;
	if (i > 0 && (cp->out <= ix->cps[i - 1].out || cp->in < ix->cps[i - 1].in))
		return -1;
	if (cp->out >= ix->total || cp->in > ix->gz_len || cp->bits > 7 || (cp->bits && cp->in == 0))
		return -1;
	if (cp->window_len > NM_GZIX_WINDOW || cp->window_len > cp->out ||
	    (cp->member_start && cp->window_len != 0))
		return -1;
	if (cp->window_len && (cp->window_clen == 0 || cp->window_clen > compressBound(NM_GZIX_WINDOW) ||
			       cp->window_off < HEADER_SIZE || cp->window_off > table_off ||
			       cp->window_clen > table_off - cp->window_off))
		return -1;
	return 0;
}

static int decode(struct nm_gzip_index *ix, const uint8_t *h, uint64_t file_len, uint64_t gz_len,
		  uint64_t limit, uint64_t *table_off)
{
	uint64_t zero_len;

	if (memcmp(h, MAGIC, 8) != 0 || nm_le32(h + 8) != HEADER_SIZE || nm_le32(h + 12) != ENTRY_SIZE ||
	    nm_le32(h + 44) != NM_GZIX_ZERO_SHIFT)
		return -1;
	ix->gz_len = nm_le64(h + 16);
	ix->limit = nm_le64(h + 24);
	ix->total = nm_le64(h + 32);
	ix->count = nm_le32(h + 40);
	*table_off = nm_le64(h + 48);
	ix->nliterals = nm_le32(h + 56);
	if (ix->gz_len != gz_len || ix->limit != limit || ix->total == 0 || ix->total > limit ||
	    ix->count == 0 || ix->count > MAX_CHECKPOINTS || ix->nliterals > MAX_LITERALS ||
	    nm_le32(h + 60) != LITERAL_SIZE)
		return -1;
	ix->nblocks = blocks_for(ix->total);
	zero_len = (ix->nblocks + 7) / 8;
	if (*table_off < HEADER_SIZE || *table_off > file_len ||
	    file_len - *table_off != (uint64_t)ix->count * ENTRY_SIZE + (uint64_t)ix->nliterals * LITERAL_SIZE +
					 zero_len + 4)
		return -1;
	return 0;
}

static int verify_crc(int fd, uint64_t file_len)
{
	uint8_t buf[64 << 10], tail[4];
	uLong crc = crc32(0, NULL, 0);

	for (uint64_t at = 0; at < file_len - 4; ) {
		size_t n = file_len - 4 - at < sizeof(buf) ? (size_t)(file_len - 4 - at) : sizeof(buf);

		if (pread_all(fd, buf, n, at) != 0)
			return -1;
		crc = crc32(crc, buf, (uInt)n);
		at += n;
	}
	if (pread_all(fd, tail, 4, file_len - 4) != 0)
		return -1;
	return nm_le32(tail) == (uint32_t)crc ? 0 : -1;
}

/* The cached index, or -1 (nothing is said: building it again is the answer). */
static int load(int fd, uint64_t gz_len, uint64_t limit, struct nm_gzip_index *ix)
{
	struct stat st;
	uint8_t h[HEADER_SIZE], e[ENTRY_SIZE];
	uint64_t table_off, zero_len;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)(HEADER_SIZE + 4))
		return -1;
	if (pread_all(fd, h, HEADER_SIZE, 0) != 0 ||
	    decode(ix, h, (uint64_t)st.st_size, gz_len, limit, &table_off) != 0 ||
	    verify_crc(fd, (uint64_t)st.st_size) != 0)
		return -1;
	zero_len = (ix->nblocks + 7) / 8;
	ix->cps = calloc(ix->count, sizeof(*ix->cps));
	ix->zero = malloc(zero_len ? zero_len : 1);
	if (!ix->cps || !ix->zero)
		return -1;
	for (uint32_t i = 0; i < ix->count; i++) {
		struct nm_gzip_checkpoint *cp = &ix->cps[i];

		if (pread_all(fd, e, ENTRY_SIZE, table_off + (uint64_t)i * ENTRY_SIZE) != 0 || e[17] > 1)
			return -1;
		cp->out = nm_le64(e);
		cp->in = nm_le64(e + 8);
		cp->bits = e[16];
		cp->member_start = e[17];
		cp->window_len = nm_le32(e + 20);
		cp->window_crc = nm_le32(e + 24);
		cp->window_clen = nm_le32(e + 28);
		cp->window_off = nm_le64(e + 32);
		if (check_entry(ix, i, table_off) != 0)
			return -1;
	}
	if (ix->nliterals && !(ix->literals = calloc(ix->nliterals, sizeof(*ix->literals))))
		return -1;
	for (uint32_t i = 0; i < ix->nliterals; i++) {
		struct nm_gzip_literal *l = &ix->literals[i];
		uint64_t at = table_off + (uint64_t)ix->count * ENTRY_SIZE + (uint64_t)i * LITERAL_SIZE;

		if (pread_all(fd, e, LITERAL_SIZE, at) != 0)
			return -1;
		l->start = nm_le64(e);
		l->off = nm_le64(e + 8);
		l->clen = nm_le32(e + 16);
		l->crc = nm_le32(e + 20);
		if (l->start % NM_GZIX_CHUNK || l->start >= ix->total || (i && l->start <= ix->literals[i - 1].start) ||
		    l->clen == 0 || l->clen > compressBound(NM_GZIX_CHUNK) || l->off < HEADER_SIZE ||
		    l->off > table_off || l->clen > table_off - l->off)
			return -1;
	}
	if (pread_all(fd, ix->zero, (size_t)zero_len,
		      table_off + (uint64_t)ix->count * ENTRY_SIZE + (uint64_t)ix->nliterals * LITERAL_SIZE) != 0)
		return -1;
	ix->fd = fd;
	ix->reused = true;
	return 0;
}

int nm_gzip_index_open(const uint8_t *gz, size_t len, uint64_t limit, const struct nm_file_identity *id,
		       const struct nm_progress *progress, struct nm_gzip_index **out, nm_error *err)
{
	struct nm_gzip_index *ix;
	char tmp[4200];
	int fd;

	*out = NULL;
	if (limit > NM_GZIP_MAX_INFLATED)
		limit = NM_GZIP_MAX_INFLATED;
	fd = nm_cache_open(id, KIND);
	if (fd >= 0) {
		ix = index_new(err);
		if (!ix) {
			close(fd);
			return -1;
		}
		if (load(fd, len, limit, ix) == 0) {
			*out = ix;
			return 0;
		}
		close(fd);
		ix->fd = -1;
		nm_gzip_index_free(ix);
	}
	ix = index_new(err);
	if (!ix)
		return -1;
	/* Built where it will be kept; without a cache folder, in an unlinked
	 * temporary file that lives as long as this source. */
	fd = nm_cache_create(id, KIND, tmp, sizeof(tmp));
	if (fd < 0) {
		tmp[0] = '\0';
		fd = nm_temp_file(err);
		if (fd < 0) {
			nm_gzip_index_free(ix);
			return -1;
		}
	}
	if (build(gz, len, limit, fd, progress, ix, err) != 0) {
		if (tmp[0])
			nm_cache_abandon(tmp);
		nm_gzip_index_free(ix);
		return -1;
	}
	if (tmp[0])
		nm_cache_commit(id, KIND, tmp);
	*out = ix;
	return 0;
}
