/* The formats ntmem reads, tried in this order. A container (gzip) is
 * recognised by content whatever was forced, and opens what it holds through
 * this table again. Then, for the memory itself: the forced format (--format,
 * --raw); else the first signature that matches; else the file's name; else
 * a whole number of pages is a raw image. Adding a format is one file with a
 * probe and an open, and one line here. Sources: docs/containers.md. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "source_internal.h"

static const char *const elf_names[] = { ".elf", ".core", ".vmcore", NULL };
static const char *const kdump_names[] = { ".kdump", NULL };
static const char *const dmp_names[] = { ".dmp", NULL };
static const char *const raw_names[] = { ".raw", ".mem", ".bin", ".img", ".vmem", ".dd", NULL };

/* The raw entry is last: its probe is the size, not a signature. */
static const struct nm_format_entry formats[] = {
	{ "gzip", true, nm_gzip_magic, nm_gzip_open, NULL, "gzip magic 1f 8b at offset 0" },
	{ "elf", false, nm_elf_magic, nm_elf_open, elf_names, "ELF magic 7f 'ELF' at offset 0" },
	{ "kdump", false, nm_kdump_magic, nm_kdump_compressed_open, kdump_names,
	  "'KDUMP   ', 'DISKDUMP' or 'makedumpfile' at offset 0" },
	{ "dmp", false, nm_crash_dump_magic, nm_crash_dump_open, dmp_names, "'PAGE' at offset 0" },
	{ "raw", false, nm_raw_probe, nm_raw_open, raw_names, "no known signature, a whole number of pages" },
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))
#define RAW (&formats[NFORMATS - 1])

bool nm_format_known(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++) {
		if (!formats[i].wraps && strcmp(formats[i].name, name) == 0)
			return true;
	}
	return false;
}

static bool ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcasecmp(name + n - s, suffix) == 0;
}

static const struct nm_format_entry *by_name(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++) {
		if (!formats[i].wraps && strcmp(formats[i].name, name) == 0)
			return &formats[i];
	}
	return NULL;
}

static const struct nm_format_entry *by_file_name(const char *path, const char **suffix)
{
	if (!path)
		return NULL;
	for (size_t i = 0; i < NFORMATS; i++) {
		for (const char *const *s = formats[i].names; s && *s; s++) {
			if (ends_with(path, *s)) {
				*suffix = *s;
				return &formats[i];
			}
		}
	}
	return NULL;
}

/* Nothing matched: say why in the words a Windows dump reader would. */
static int unrecognised(const struct nm_input *in, nm_error *err)
{
	if (in->len < 8)
		return nm_fail(err, "file", "%zu bytes is too short for a dump header", in->len);
	return nm_fail(err, "header.Signature",
		       "no known signature (not a Windows crash dump, ELF core, kdump or gzip file), and %zu bytes is not a whole number of pages for a raw image (--format raw reads it as one)",
		       in->len);
}

int nm_open_input(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	const struct nm_format_entry *chosen = NULL;
	const char *basis = "content", *suffix = NULL;
	char why[sizeof((*out)->facts.format_why)];

	*out = NULL;
	for (size_t i = 0; i < NFORMATS && !chosen; i++) {
		if (formats[i].wraps && formats[i].probe(in->data, in->len))
			chosen = &formats[i];
	}
	if (chosen)
		return chosen->open(in, out, err);	/* what it holds says the rest */
	if (in->forced) {
		chosen = by_name(in->forced);
		if (!chosen)
			return nm_fail(err, "format", "'%s' is not a format ntmem reads (raw, elf, kdump, dmp)", in->forced);
		basis = "option";
		snprintf(why, sizeof(why), "--format %s", chosen->name);
	}
	for (size_t i = 0; i + 1 < NFORMATS && !chosen; i++) {
		if (formats[i].probe(in->data, in->len)) {
			chosen = &formats[i];
			snprintf(why, sizeof(why), "%s", chosen->why);
		}
	}
	if (!chosen && (chosen = by_file_name(in->name, &suffix)) != NULL) {
		basis = "name";
		snprintf(why, sizeof(why), "no known signature; the name ends in %s", suffix);
	}
	if (!chosen && RAW->probe(in->data, in->len)) {
		chosen = RAW;
		basis = "size";
		snprintf(why, sizeof(why), "%s (%zu)", RAW->why, in->len / NM_PAGE_SIZE);
	}
	if (!chosen)
		return unrecognised(in, err);
	if (chosen->open(in, out, err) != 0)
		return -1;
	/* The bytes this layer read (a container's reader set its own). */
	if ((*out)->facts.file_size == 0)
		(*out)->facts.file_size = in->len;
	(*out)->facts.format_basis = basis;
	memcpy((*out)->facts.format_why, why, sizeof(why));
	return 0;
}
