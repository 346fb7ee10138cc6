/* Random access into a gzip file (private to src/source/): an index of
 * checkpoints built in one pass over the stream (gzip_index.c), kept in the
 * per-file cache, and a reader that inflates from the nearest checkpoint
 * into a few cached chunks (gzip_reader.c). The approach is the one zlib's
 * examples/zran.c describes; the format and code are ntmem's. Sources and
 * the file format: docs/gzip-index.md. */
#ifndef NTMEM_GZIP_INDEX_H
#define NTMEM_GZIP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/cache.h>
#include <ntmem/error.h>
#include <ntmem/source.h>

#define NM_GZIX_WINDOW 32768u		/* deflate's history: what a checkpoint must carry */
#define NM_GZIX_SPACING (UINT64_C(1) << 20)	/* inflated bytes between checkpoints, at least */
#define NM_GZIX_ZERO_SHIFT 16		/* the zero map's block: 64 KiB */
#define NM_GZIX_CHUNK (256u << 10)	/* the reader's unit, and a literal copy's */
/* A chunk that holds data and starts this far past the last checkpoint
 * (inside a long deflate block: no boundary to put one at) is also kept as
 * a compressed copy, at most NM_GZIX_LITERAL_MAX bytes of them per index. */
#define NM_GZIX_LITERAL_DISTANCE (UINT64_C(2) << 20)
#define NM_GZIX_LITERAL_MAX (UINT64_C(64) << 20)

struct nm_gzip_checkpoint {
	uint64_t out;		/* inflated offset */
	uint64_t in;		/* compressed offset of the first whole byte to read */
	uint8_t bits;		/* bits of the byte before IN still to be read (0-7) */
	bool member_start;	/* a gzip member's header starts at IN: no window */
	uint32_t window_len;	/* history bytes (< 32 KiB only near a member's start) */
	uint32_t window_crc;	/* CRC-32 of the compressed window */
	uint64_t window_off;	/* where the compressed window lies in the index file */
	uint32_t window_clen;
};

struct nm_gzip_literal {
	uint64_t start;		/* inflated offset of the chunk (a multiple of NM_GZIX_CHUNK) */
	uint64_t off;		/* its compressed copy in the index file */
	uint32_t clen;
	uint32_t crc;		/* CRC-32 of the compressed copy */
};

struct nm_gzip_index {
	uint64_t gz_len;	/* compressed bytes the index was built over */
	uint64_t limit;		/* inflation stopped here at most (what the header needs) */
	uint64_t total;		/* inflated bytes */
	uint32_t count;
	struct nm_gzip_checkpoint *cps;	/* ascending by out; cps[0] is offset 0 */
	uint64_t nblocks;	/* zero-map blocks: total rounded up to 64 KiB */
	uint8_t *zero;		/* one bit per block, set when every byte of it is zero */
	uint32_t nliterals;
	struct nm_gzip_literal *literals;	/* ascending by start */
	int fd;			/* the index file the windows are read from */
	bool reused;		/* read back from the cache rather than built */
};

/* The index of the gzip data GZ (LEN bytes) inflated to LIMIT bytes at
 * most: the cached one for ID when it is whole and matches, else built in
 * one pass (reporting through PROGRESS, which may be NULL) and cached. A
 * corrupt or truncated stream fails naming the compressed offset. */
int nm_gzip_index_open(const uint8_t *gz, size_t len, uint64_t limit, const struct nm_file_identity *id,
		       const struct nm_progress *progress, struct nm_gzip_index **out, nm_error *err);
void nm_gzip_index_free(struct nm_gzip_index *ix);

/* Checkpoint I's window, inflated into WINDOW (NM_GZIX_WINDOW bytes). */
int nm_gzip_index_window(const struct nm_gzip_index *ix, uint32_t i, uint8_t *window, nm_error *err);

/* The chunk at START from its literal copy into OUT (N bytes: the chunk's
 * length): 1, or 0 when there is none, or -1 with ERR set. */
int nm_gzip_index_literal(const struct nm_gzip_index *ix, uint64_t start, uint8_t *out, size_t n, nm_error *err);

/* True when every inflated byte in [OFF, OFF+LEN) lies in an all-zero block. */
bool nm_gzip_index_zero(const struct nm_gzip_index *ix, uint64_t off, uint64_t len);

/* The last checkpoint at or before OFF. */
uint32_t nm_gzip_index_find(const struct nm_gzip_index *ix, uint64_t off);

/* Reads of the inflated data at any offset (gzip_reader.c). */
struct nm_gzip_reader;
int nm_gzip_reader_new(const uint8_t *gz, size_t len, const struct nm_gzip_index *ix,
		       struct nm_gzip_reader **out, nm_error *err);
/* Copies LEN bytes at inflated offset OFF (all below ix->total) into BUF. */
int nm_gzip_reader_read(struct nm_gzip_reader *r, uint64_t off, void *buf, size_t len, nm_error *err);
void nm_gzip_reader_free(struct nm_gzip_reader *r);

#endif
