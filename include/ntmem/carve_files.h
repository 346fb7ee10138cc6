/* Layer 4: the files a carve writes, created safely: names from the dump are
 * untrusted (contract: file-name safety), files are created only inside the
 * output directory, never through a link, never over a file without force. */
#ifndef NTMEM_CARVE_FILES_H
#define NTMEM_CARVE_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ntmem/carve.h>
#include <ntmem/error.h>

/* Longest file name written (contract: at most 100 bytes). */
#define NM_OUTPUT_NAME_MAX 100
/* Longest module-name part: leaves room for "@0xfffff88001000000" (an x64
 * base, 16 hex digits) and ".holes.json": 64 + 19 + 11 <= 100. */
#define NM_SAFE_NAME_MAX 64

/* NAME sanitised: only [A-Za-z0-9._-] kept, every other byte '_', a leading
 * '.' becomes '_', at most NM_SAFE_NAME_MAX bytes, NULL or empty -> "unnamed".
 * OUT must hold NM_SAFE_NAME_MAX + 1 bytes. */
void nm_safe_name(const char *name, char *out);

/* "NAME@0xBASE" with NAME sanitised; OUT holds NM_OUTPUT_NAME_MAX + 1 bytes. */
void nm_carve_stem(const char *name, uint64_t base, char *out);

/* Opens (creating it when absent, one level only) the output directory. */
int nm_outdir_open(const char *path, int *dirfd, nm_error *err);

/* Creates NAME inside DIRFD for writing: O_CREAT|O_EXCL|O_NOFOLLOW; with
 * FORCE an existing regular file is replaced, anything else is refused.
 * NAME must be a single safe component (checked again here). */
int nm_outdir_create(int dirfd, const char *name, bool force, int *fd, nm_error *err);

/* A file written under a temporary name and given its final name only when
 * complete, so that a full disk, a failed write or the process ending
 * (the fault guard of mapped_file.h) never leaves a partial file under the
 * name a complete one would have. The temporary is unnamed (O_TMPFILE)
 * where the file system allows, else NAME.partial-PID-N beside it. */
struct nm_outfile {
	int dirfd;
	int fd;
	bool force;
	bool unnamed;		/* O_TMPFILE: nothing to remove on failure */
	char name[NM_OUTPUT_NAME_MAX + 1];	/* final name, inside dirfd */
	char temp[NM_OUTPUT_NAME_MAX + 48];	/* named temporary, when !unnamed */
};

/* Starts NAME inside DIRFD (a single component, any bytes but '/'): an
 * existing NAME is refused unless FORCE, and with FORCE only a regular file
 * is replaced. O->fd is where to write. */
int nm_outfile_begin(int dirfd, const char *name, bool force, struct nm_outfile *o, nm_error *err);
/* Gives the complete file its name and closes it; on failure nothing is
 * left under either name. */
int nm_outfile_commit(struct nm_outfile *o, nm_error *err);
/* Closes and removes the unfinished file (after a failed write). */
void nm_outfile_abandon(struct nm_outfile *o);

/* Writes the image in memory layout: holes as FILL; when HEADER is not NULL
 * its HEADER_LEN bytes replace the image's first bytes (the .pe file). */
int nm_carve_write_image(int fd, const struct nm_carve *c, uint8_t fill,
			 const uint8_t *header, uint32_t header_len, nm_error *err);

/* The .holes.json document (contract: carve). */
int nm_carve_write_holes_json(FILE *f, const struct nm_carve *c, const char *name);

/* Writes S as a JSON string (quotes included): escapes, and bytes that are
 * not valid UTF-8 become U+FFFD, so any dump-supplied name gives valid JSON. */
void nm_json_write_string(FILE *f, const char *s);

/* Copies S into OUT (OUTLEN bytes) as valid UTF-8 (invalid bytes -> U+FFFD). */
void nm_utf8_sanitize(const char *s, char *out, size_t outlen);

#endif
