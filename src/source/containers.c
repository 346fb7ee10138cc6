/* Files that wrap physical memory in another format: gzip (any content) and,
 * through libkdumpfile, ELF cores and kdump-compressed files. Each reader
 * makes its own view of the data, so the caller's buffer or mapping is no
 * longer needed once one of them has opened the source. */
#include "source_internal.h"

int nm_container_open(const char *path, const uint8_t *data, size_t len, bool raw,
		      struct nm_source **out, nm_error *err)
{
	(void)path;
	*out = NULL;
	if (nm_gzip_magic(data, len))
		return nm_gzip_open(data, len, raw, out, err);
	return 1;
}

int nm_container_open_inner(int fd, const uint8_t *data, size_t len, bool raw,
			    struct nm_source **out, nm_error *err)
{
	(void)fd;
	return nm_source_open_buffer(data, len, raw, out, err);
}
