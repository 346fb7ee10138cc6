/* The formats ntmem reads, tried in this order. A container (gzip) is
 * recognised by content whatever was forced, and opens what it holds through
 * this table again; then the memory formats, by signature. Adding a format
 * is one file with a probe and an open, and one line here. */
#include <string.h>

#include "source_internal.h"

static const struct nm_format_entry formats[] = {
	{ "gzip", true, nm_gzip_magic, nm_gzip_open },
	{ "elf", false, nm_elf_magic, nm_elf_open },
	{ "kdump", false, nm_kdump_magic, nm_kdump_compressed_open },
	{ "dmp", false, nm_crash_dump_magic, nm_crash_dump_open },
};

static const struct nm_format_entry raw_format = { "raw", false, nm_raw_probe, nm_raw_open };

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static const struct nm_format_entry *by_name(const char *name)
{
	if (strcmp(name, raw_format.name) == 0)
		return &raw_format;
	for (size_t i = 0; i < NFORMATS; i++) {
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	}
	return NULL;
}

/* Nothing matched: say why in the words a Windows dump reader would. */
static int unrecognised(const struct nm_input *in, nm_error *err)
{
	if (in->len < 8)
		return nm_fail(err, "file", "%zu bytes is too short for a dump header", in->len);
	return nm_fail(err, "header.Signature",
		       "not a Windows crash dump (no 'PAGE' at offset 0; use --raw for a flat physical image)");
}

int nm_open_input(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	const struct nm_format_entry *chosen = NULL;

	*out = NULL;
	for (size_t i = 0; i < NFORMATS && !chosen; i++) {
		if (formats[i].wraps && formats[i].probe(in->data, in->len))
			chosen = &formats[i];
	}
	if (!chosen && in->forced) {
		chosen = by_name(in->forced);
		if (!chosen)
			return nm_fail(err, "format", "'%s' is not a format ntmem reads", in->forced);
	}
	for (size_t i = 0; i < NFORMATS && !chosen; i++) {
		if (formats[i].probe(in->data, in->len))
			chosen = &formats[i];
	}
	if (!chosen)
		return unrecognised(in, err);
	if (chosen->open(in, out, err) != 0)
		return -1;
	/* The bytes this layer read (a container's reader set its own). */
	if ((*out)->facts.file_size == 0)
		(*out)->facts.file_size = in->len;
	return 0;
}
