/* kdump-compressed ("KDUMP   "), diskdump ("DISKDUMP") and makedumpfile's
 * flattened stream ("makedumpfile"): recognised so that the refusal says
 * what the file is (why they are not read: docs/containers.md). */
#include <string.h>

#include "source_internal.h"

bool nm_kdump_magic(const uint8_t *data, size_t len)
{
	return (len >= 8 && (memcmp(data, "KDUMP   ", 8) == 0 || memcmp(data, "DISKDUMP", 8) == 0)) ||
	       (len >= 12 && memcmp(data, "makedumpfile", 12) == 0);
}

int nm_kdump_refuse(nm_error *err)
{
	return nm_fail(err, "format", "kdump-compressed (makedumpfile/diskdump) file: recognised, not read by this version");
}

int nm_kdump_compressed_open(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	(void)in;
	*out = NULL;
	return nm_kdump_refuse(err);
}
