/* Reads of a gzip file's inflated bytes at any offset, through its index:
 * the inflated data is cut into CHUNK-sized pieces; a piece is inflated
 * from the nearest checkpoint before it (or from where the last inflation
 * stopped, when that is nearer: sequential reads never start over), or taken
 * from the index's literal copy of it (far inside a long deflate block), and
 * the last NCHUNKS pieces are kept, least recently used out first. Blocks the
 * index knows are all zero are never inflated. Memory: NCHUNKS * CHUNK plus
 * one zlib stream, whatever the file's size. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "gzip_index.h"
#include "source_internal.h"

#define CHUNK NM_GZIX_CHUNK
#define NCHUNKS 16u
#define INPUT_STEP (UINT64_C(1) << 30)

struct chunk {
	uint64_t start;		/* inflated offset, a multiple of CHUNK; UINT64_MAX: empty */
	uint64_t used;		/* tick of the last use */
	uint8_t *bytes;
};

struct nm_gzip_reader {
	const uint8_t *gz;
	size_t len;
	const struct nm_gzip_index *ix;
	z_stream z;
	bool live;		/* Z stands at inflated offset POS */
	bool raw;		/* Z inflates deflate data without the gzip wrapper */
	uint64_t pos;
	uint64_t tick;
	struct chunk chunks[NCHUNKS];
	uint8_t window[NM_GZIX_WINDOW];
};

int nm_gzip_reader_new(const uint8_t *gz, size_t len, const struct nm_gzip_index *ix,
		       struct nm_gzip_reader **out, nm_error *err)
{
	struct nm_gzip_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return nm_fail(err, "memory", "out of memory");
	r->gz = gz;
	r->len = len;
	r->ix = ix;
	for (unsigned i = 0; i < NCHUNKS; i++)
		r->chunks[i].start = UINT64_MAX;
	if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK) {
		free(r);
		return nm_fail(err, "gzip", "cannot start zlib");
	}
	*out = r;
	return 0;
}

void nm_gzip_reader_free(struct nm_gzip_reader *r)
{
	if (!r)
		return;
	inflateEnd(&r->z);
	for (unsigned i = 0; i < NCHUNKS; i++)
		free(r->chunks[i].bytes);
	free(r);
}

/* Any failure here means the file changed under us or the index lies:
 * the stream was inflated whole when the index was built. */
static int broken(struct nm_gzip_reader *r, nm_error *err)
{
	r->live = false;
	return nm_fail(err, "gzip stream", "cannot inflate at compressed offset 0x%llx: %s (the file changed since it was indexed?)",
		       (unsigned long long)(r->z.next_in - r->gz), r->z.msg ? r->z.msg : "no progress");
}

static int start_at(struct nm_gzip_reader *r, uint32_t i, nm_error *err)
{
	const struct nm_gzip_checkpoint *cp = &r->ix->cps[i];

	r->live = false;
	if (inflateReset2(&r->z, cp->member_start ? 16 + MAX_WBITS : -MAX_WBITS) != Z_OK)
		return nm_fail(err, "gzip", "cannot restart zlib");
	r->z.next_in = (Bytef *)r->gz + cp->in;
	r->z.avail_in = 0;
	if (cp->bits && inflatePrime(&r->z, cp->bits, r->gz[cp->in - 1] >> (8 - cp->bits)) != Z_OK)
		return nm_fail(err, "gzip index", "checkpoint %u cannot be resumed", i);
	if (cp->window_len) {
		if (nm_gzip_index_window(r->ix, i, r->window, err) != 0)
			return -1;
		if (inflateSetDictionary(&r->z, r->window, cp->window_len) != Z_OK)
			return nm_fail(err, "gzip index", "checkpoint %u's window is refused by zlib", i);
	}
	r->raw = !cp->member_start;
	r->pos = cp->out;
	r->live = true;
	return 0;
}

/* After a member's end: past its trailer (a raw inflation leaves it to
 * us; the wrapper has read its own), onto the next member's header. False
 * when no member follows. */
static bool next_member(struct nm_gzip_reader *r)
{
	uint64_t at = (uint64_t)(r->z.next_in - r->gz);

	if (r->raw) {
		if (r->len - at < 8)
			return false;
		at += 8;
	}
	r->z.next_in = (Bytef *)r->gz + at;
	r->z.avail_in = 0;
	if (r->len - at < 2 || r->gz[at] != 0x1F || r->gz[at + 1] != 0x8B)
		return false;
	if (inflateReset2(&r->z, 16 + MAX_WBITS) != Z_OK)
		return false;
	r->raw = false;
	return true;
}

/* Inflates the next N bytes into DST (NULL: into SCRATCH, discarded),
 * crossing member boundaries. Each turn consumes input or produces output,
 * or fails; N bounds the output. */
static int produce(struct nm_gzip_reader *r, uint8_t *dst, uint8_t *scratch, uint64_t n, nm_error *err)
{
	while (n) {
		uint64_t at = (uint64_t)(r->z.next_in - r->gz), left = r->len - at;
		size_t want = n > CHUNK ? CHUNK : (size_t)n;
		size_t got;
		int zrc;

		if (r->z.avail_in == 0)
			r->z.avail_in = (uInt)(left > INPUT_STEP ? INPUT_STEP : left);
		r->z.next_out = dst ? dst : scratch;
		r->z.avail_out = (uInt)want;
		zrc = inflate(&r->z, Z_NO_FLUSH);
		got = want - r->z.avail_out;
		r->pos += got;
		n -= got;
		if (dst)
			dst += got;
		if (zrc == Z_STREAM_END) {
			if (!next_member(r) && n)
				return broken(r, err);
			continue;
		}
		if (zrc == Z_OK || (zrc == Z_BUF_ERROR && (got || (uint64_t)(r->z.next_in - r->gz) != at)))
			continue;
		return broken(r, err);
	}
	return 0;
}

static struct chunk *cached(struct nm_gzip_reader *r, uint64_t start)
{
	for (unsigned i = 0; i < NCHUNKS; i++) {
		if (r->chunks[i].start == start) {
			r->chunks[i].used = ++r->tick;
			return &r->chunks[i];
		}
	}
	return NULL;
}

static struct chunk *victim(struct nm_gzip_reader *r, nm_error *err)
{
	struct chunk *c = &r->chunks[0];

	for (unsigned i = 1; i < NCHUNKS; i++) {
		if (r->chunks[i].used < c->used)
			c = &r->chunks[i];
	}
	if (!c->bytes && !(c->bytes = malloc(CHUNK))) {
		nm_fail(err, "memory", "out of memory");
		return NULL;
	}
	c->start = UINT64_MAX;
	return c;
}

/* The chunk at START, inflated if it is not kept. */
static struct chunk *load_chunk(struct nm_gzip_reader *r, uint64_t start, nm_error *err)
{
	const struct nm_gzip_index *ix = r->ix;
	struct chunk *c = cached(r, start);
	uint64_t n = ix->total - start < CHUNK ? ix->total - start : CHUNK;
	uint32_t cp;

	int lit;

	if (c)
		return c;
	c = victim(r, err);
	if (!c)
		return NULL;
	lit = nm_gzip_index_literal(ix, start, c->bytes, (size_t)n, err);
	if (lit < 0)
		return NULL;
	if (lit) {
		c->start = start;
		c->used = ++r->tick;
		return c;
	}
	cp = nm_gzip_index_find(ix, start);
	/* Resume the live inflation when it is at or before START and no
	 * checkpoint lies between: it is never further from START than one. */
	if (!(r->live && r->pos <= start && r->pos >= ix->cps[cp].out) && start_at(r, cp, err) != 0)
		return NULL;
	/* To the first chunk boundary, then whole chunks up to START: those
	 * that hold data are kept (a later read of them costs nothing), the
	 * all-zero ones are read without inflating anyway. */
	if (produce(r, NULL, c->bytes, (CHUNK - r->pos % CHUNK) % CHUNK < start - r->pos
					    ? (CHUNK - r->pos % CHUNK) % CHUNK : start - r->pos, err) != 0)
		return NULL;
	while (r->pos < start) {
		uint64_t at = r->pos;

		if (produce(r, c->bytes, NULL, CHUNK, err) != 0)
			return NULL;
		if (!nm_gzip_index_zero(ix, at, CHUNK) && !cached(r, at)) {
			c->start = at;
			c->used = ++r->tick;
			c = victim(r, err);
			if (!c)
				return NULL;
		}
	}
	if (produce(r, c->bytes, NULL, n, err) != 0)
		return NULL;
	c->start = start;
	c->used = ++r->tick;
	return c;
}

int nm_gzip_reader_read(struct nm_gzip_reader *r, uint64_t off, void *buf, size_t len, nm_error *err)
{
	uint8_t *dst = buf;

	if (off > r->ix->total || len > r->ix->total - off)
		return nm_fail(err, "gzip", "read of 0x%zx bytes at 0x%llx is past the inflated data", len,
			       (unsigned long long)off);
	while (len) {
		uint64_t start = off - off % CHUNK;
		size_t in = (size_t)(off - start), n = CHUNK - in < len ? CHUNK - in : len;

		if (nm_gzip_index_zero(r->ix, off, n)) {
			memset(dst, 0, n);
		} else {
			struct chunk *c = load_chunk(r, start, err);

			if (!c)
				return -1;
			memcpy(dst, c->bytes + in, n);
		}
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}
