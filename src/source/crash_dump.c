/* Windows crash dumps ("PAGEDUMP", "PAGEDU64"): the header readers
 * (header32.c, header64.c) fill the facts and choose the page layout. */
#include <string.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

bool nm_crash_dump_magic(const uint8_t *data, size_t len)
{
	return len >= 4 && nm_le32(data) == NM_SIG_PAGE;
}

static int read_header(struct nm_source *src, nm_error *err)
{
	if (src->len < 8)
		return nm_fail(err, "file", "%zu bytes is too short for a dump header", src->len);
	if (nm_le32(src->data) != NM_SIG_PAGE)
		return nm_fail(err, "header.Signature",
			       "not a Windows crash dump (no 'PAGE' at offset 0; use --raw for a flat physical image)");
	switch (nm_le32(src->data + 4)) {
	case NM_SIG_DUMP:
		return nm_read_header32(src, err);
	case NM_SIG_DU64:
		return nm_read_header64(src, err);
	default:
		return nm_fail(err, "header.ValidDump",
			       "0x%08x at offset 0x4 is neither 'DUMP' nor 'DU64'",
			       nm_le32(src->data + 4));
	}
}

int nm_crash_dump_open(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	struct nm_source *src = nm_source_new(err);

	if (!src)
		return -1;
	nm_input_give(in, src);
	if (read_header(src, err) != 0) {
		nm_source_close(src);
		return -1;
	}
	*out = src;
	return 0;
}
