/* Files that wrap physical memory in another format: gzip (any content) and,
 * through libkdumpfile, ELF cores and kdump-compressed files. Each reader
 * makes its own view of the data, so the caller's buffer or mapping is no
 * longer needed once one of them has opened the source. */
#include <string.h>

#include "source_internal.h"

/* An ELF core: its headers are checked on DATA, then libkdumpfile reads the
 * same bytes through a descriptor (PATH reopened, FD duplicated, or a copy). */
static int open_elf(const char *path, int fd, const uint8_t *data, size_t len,
		    struct nm_source **out, nm_error *err)
{
	struct nm_elf_info info;
	int own;

	if (nm_elf_check(data, len, &info, err) != 0)
		return -1;
	own = nm_container_fd(path, fd, data, len, err);
	if (own < 0)
		return -1;
	return nm_kdump_open(own, &info, out, err);
}

/* kdump-compressed ("KDUMP   "), diskdump ("DISKDUMP") and makedumpfile's
 * flattened stream ("makedumpfile"): recognised so that the refusal says
 * what the file is (why they are not read: docs/containers.md). */
static bool kdump_magic(const uint8_t *data, size_t len)
{
	return (len >= 8 && (memcmp(data, "KDUMP   ", 8) == 0 || memcmp(data, "DISKDUMP", 8) == 0)) ||
	       (len >= 12 && memcmp(data, "makedumpfile", 12) == 0);
}

static int refuse_kdump(nm_error *err)
{
	return nm_fail(err, "format", "kdump-compressed (makedumpfile/diskdump) file: recognised, not read by this version");
}

int nm_container_open(const char *path, const uint8_t *data, size_t len, bool raw,
		      struct nm_source **out, nm_error *err)
{
	*out = NULL;
	if (nm_gzip_magic(data, len))
		return nm_gzip_open(data, len, raw, out, err);
	if (nm_elf_magic(data, len))
		return open_elf(path, -1, data, len, out, err);
	if (kdump_magic(data, len))
		return refuse_kdump(err);
	return 1;
}

int nm_container_open_inner(int fd, const uint8_t *data, size_t len, bool raw,
			    struct nm_source **out, nm_error *err)
{
	*out = NULL;
	if (nm_elf_magic(data, len))
		return open_elf(NULL, fd, data, len, out, err);
	if (kdump_magic(data, len))
		return refuse_kdump(err);
	return nm_source_open_buffer(data, len, raw, out, err);
}
