/* Results kept between commands on the same input file (a DTB scan's, a gzip
 * index), in $XDG_CACHE_HOME/ntmem/ (else ~/.cache/ntmem/), keyed by the
 * file's identity. The cache is an optimisation only: nothing fails when it
 * cannot be read or written, and what is read back is checked like input. */
#ifndef NTMEM_CACHE_H
#define NTMEM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What names one version of one file: a rewrite changes size or mtime, a
 * different file has another device/inode. */
struct nm_file_identity {
	bool known;		/* false for buffers: nothing is cached */
	uint64_t dev, ino, size;
	int64_t mtime_sec;
	int64_t mtime_nsec;
};

/* The cache file for KIND ("dtb", "gzidx") of the file ID, in BUF; false
 * when ID is unknown or no cache folder can be named. */
bool nm_cache_path(const struct nm_file_identity *id, const char *kind, char *buf, size_t size);

/* Reads at most CAP bytes of the cache file for KIND; returns the length, or
 * -1 when there is none (or it is larger than CAP). */
long nm_cache_read(const struct nm_file_identity *id, const char *kind, void *buf, size_t cap);

/* Writes LEN bytes as the cache file for KIND, whole or not at all (a
 * temporary file renamed into place); failures are ignored. */
void nm_cache_write(const struct nm_file_identity *id, const char *kind, const void *data, size_t len);

/* For results too large to hold in memory (a gzip index): the cache file
 * for KIND opened read-only (a regular file only), or -1 when there is none. */
int nm_cache_open(const struct nm_file_identity *id, const char *kind);

/* A new temporary file beside the cache file for KIND, its name in TMP,
 * opened read-write; -1 when ID is unknown or there is no cache folder.
 * nm_cache_commit renames it into place (whole or not at all: the caller
 * has written it completely) and may drop the oldest entry; nm_cache_abandon
 * removes it. The descriptor stays valid either way. */
int nm_cache_create(const struct nm_file_identity *id, const char *kind, char *tmp, size_t size);
void nm_cache_commit(const struct nm_file_identity *id, const char *kind, const char *tmp);
void nm_cache_abandon(const char *tmp);

#endif
