/* Files opened for reading the way every hostile-input rule needs: only a
 * regular file, opened without blocking (a FIFO would hang open()), and
 * mapped with a guard that turns a fault on a page the file no longer has
 * (it shrank after it was opened) into the contract's error line and exit
 * status 2 instead of SIGBUS. Why a guard and not pread: docs/robustness.md. */
#ifndef NTMEM_MAPPED_FILE_H
#define NTMEM_MAPPED_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <ntmem/error.h>

/* Opens PATH read-only. Anything but a regular file is refused, naming what
 * it is ("a FIFO", "a directory", ...). *SIZE is its size. */
int nm_open_regular(const char *path, int *fd, uint64_t *size, nm_error *err);

/* Maps LEN bytes of FD read-only, guarded: a fault inside the mapping
 * prints "ntmem: NAME: file: ..." naming the offset, and exits with status 2.
 * NAME must outlive the mapping (argv strings do). NULL with ERR set on
 * failure. At most NM_GUARDED_MAX mappings are guarded at once. */
#define NM_GUARDED_MAX 16
const uint8_t *nm_map_guarded(int fd, size_t len, const char *name, nm_error *err);
void nm_unmap_guarded(const uint8_t *p, size_t len);

/* Writes S to FD with control characters shown as '?' (paths in one-line
 * messages). Async-signal-safe. */
void nm_write_printable(int fd, const char *s);

#endif
