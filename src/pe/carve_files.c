/* Output files of a carve: safe names, creation inside the output directory
 * only, and the writers of the image and of the hole map. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ntmem/carve_files.h>

static bool is_safe_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

void nm_safe_name(const char *name, char *out)
{
	size_t n = 0;

	for (; name && name[n] && n < NM_SAFE_NAME_MAX; n++)
		out[n] = is_safe_char((unsigned char)name[n]) ? name[n] : '_';
	out[n] = 0;
	if (n == 0)
		strcpy(out, "unnamed");
	if (out[0] == '.')
		out[0] = '_';
}

void nm_carve_stem(const char *name, uint64_t base, char *out)
{
	char safe[NM_SAFE_NAME_MAX + 1];

	nm_safe_name(name, safe);
	snprintf(out, NM_OUTPUT_NAME_MAX + 1, "%s@0x%llx", safe, (unsigned long long)base);
}

int nm_outdir_open(const char *path, int *dirfd, nm_error *err)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		return nm_fail(err, path, "cannot create the output directory: %s", strerror(errno));
	*dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return nm_fail(err, path, "cannot open the output directory: %s", strerror(errno));
	return 0;
}

static bool is_single_safe_component(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NM_OUTPUT_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_safe_char((unsigned char)name[i]) && name[i] != '@')
			return false;
	return true;
}

static int open_new(int dirfd, const char *name)
{
	return openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
}

/* --force: only a regular file is replaced; the unlink-then-O_EXCL order
 * means a link planted meanwhile makes the create fail, not follow it. */
static int replace_regular(int dirfd, const char *name, nm_error *err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return nm_fail(err, name, "cannot inspect the existing file: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return nm_fail(err, name, "exists and is not a regular file; not replaced");
	if (unlinkat(dirfd, name, 0) != 0)
		return nm_fail(err, name, "cannot replace the existing file: %s", strerror(errno));
	return 0;
}

int nm_outdir_create(int dirfd, const char *name, bool force, int *fd, nm_error *err)
{
	if (!is_single_safe_component(name))
		return nm_fail(err, "output", "'%s' is not a safe file name", name);
	*fd = open_new(dirfd, name);
	if (*fd < 0 && errno == EEXIST && force) {
		if (replace_regular(dirfd, name, err) != 0)
			return -1;
		*fd = open_new(dirfd, name);
	}
	if (*fd < 0)
		return nm_fail(err, name, "cannot create: %s%s", strerror(errno),
			       errno == EEXIST ? " (use --force to replace it)" : "");
	return 0;
}

/* ---- complete files only ------------------------------------------------ */

static int refuse_existing(int dirfd, const char *name, bool force, nm_error *err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : nm_fail(err, name, "cannot inspect: %s", strerror(errno));
	if (!force)
		return nm_fail(err, name, "cannot create: %s (use --force to replace it)", strerror(EEXIST));
	if (!S_ISREG(st.st_mode))
		return nm_fail(err, name, "exists and is not a regular file; not replaced");
	return 0;
}

static bool proc_fd_links(void)
{
	return access("/proc/self/fd", X_OK) == 0;
}

int nm_outfile_begin(int dirfd, const char *name, bool force, struct nm_outfile *o, nm_error *err)
{
	static const char partial[] = ".partial-";
	unsigned long pid = (unsigned long)getpid();

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->dirfd = dirfd;
	o->force = force;
	if (!*name || strchr(name, '/') || strlen(name) > NM_OUTPUT_NAME_MAX)
		return nm_fail(err, "output", "'%s' is not a file name of 1 to %d bytes", name, NM_OUTPUT_NAME_MAX);
	snprintf(o->name, sizeof(o->name), "%s", name);
	if (refuse_existing(dirfd, name, force, err) != 0)
		return -1;
	if (proc_fd_links()) {
		o->fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
		o->unnamed = o->fd >= 0;
	}
	/* No O_TMPFILE here: a name that says what it is, made unique by the
	 * process and a counter, created as exclusively as the final one. */
	for (unsigned n = 0; o->fd < 0 && n < 100; n++) {
		snprintf(o->temp, sizeof(o->temp), "%s%s%lu-%u", name, partial, pid, n);
		o->fd = openat(dirfd, o->temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (o->fd < 0 && errno != EEXIST)
			break;
	}
	if (o->fd < 0)
		return nm_fail(err, name, "cannot create: %s", strerror(errno));
	return 0;
}

static int link_final(struct nm_outfile *o, nm_error *err)
{
	char proc[64];

	if (o->force && refuse_existing(o->dirfd, o->name, true, err) != 0)
		return -1;
	if (o->force && unlinkat(o->dirfd, o->name, 0) != 0 && errno != ENOENT)
		return nm_fail(err, o->name, "cannot replace the existing file: %s", strerror(errno));
	if (o->unnamed) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
		if (linkat(AT_FDCWD, proc, o->dirfd, o->name, AT_SYMLINK_FOLLOW) != 0)
			return nm_fail(err, o->name, "cannot name the finished file: %s", strerror(errno));
		return 0;
	}
	/* link, not rename: a name that appeared meanwhile is not replaced. */
	if (linkat(o->dirfd, o->temp, o->dirfd, o->name, 0) != 0)
		return nm_fail(err, o->name, "cannot name the finished file: %s", strerror(errno));
	unlinkat(o->dirfd, o->temp, 0);
	o->temp[0] = 0;
	return 0;
}

int nm_outfile_commit(struct nm_outfile *o, nm_error *err)
{
	int rc = link_final(o, err);

	if (rc != 0) {
		nm_outfile_abandon(o);
		return -1;
	}
	if (close(o->fd) != 0) {
		int e = errno;

		o->fd = -1;
		unlinkat(o->dirfd, o->name, 0);
		return nm_fail(err, o->name, "write failed on close: %s", strerror(e));
	}
	o->fd = -1;
	return 0;
}

void nm_outfile_abandon(struct nm_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (!o->unnamed && o->temp[0])
		unlinkat(o->dirfd, o->temp, 0);
	o->temp[0] = 0;
}

/* Writes every byte of IOV[0..n) at OFF, resuming after short writes. */
static int write_iov_at(int fd, struct iovec *iov, int n, uint64_t off, nm_error *err)
{
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return nm_fail(err, "output", "write failed: %s", strerror(errno));
		}
		if (w == 0)
			return nm_fail(err, "output", "write failed: no progress");
		off += (uint64_t)w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

#define IOV_BATCH 512

/* Pages that would be written as zeros are not written at all: the file is
 * sized once at the end, so they read back as zeros, the page cache holds
 * less, and the copy into it (most of a carve's time) shrinks by their
 * share. A header page being rewritten is always written. */
static bool is_sparse(const struct nm_carve *c, unsigned i, uint8_t fill, uint32_t header_len)
{
	const struct nm_carve_page *p = &c->pages[i];

	if (i * 4096u < header_len)
		return false;
	return p->bytes ? p->zeros : fill == 0;
}

/* Appends page I's bytes to IOV (two vectors where HEADER covers part of
 * it); returns the number of vectors added. */
static int page_vectors(const struct nm_carve *c, unsigned i, const uint8_t *fill_page,
			const uint8_t *header, uint32_t header_len, struct iovec *iov)
{
	uint32_t start = i * 4096u, len = nm_carve_page_len(c, i), skip = 0;
	const uint8_t *bytes = c->pages[i].bytes ? c->pages[i].bytes : fill_page;
	int n = 0;

	if (header && start < header_len) {
		skip = header_len - start < len ? header_len - start : len;
		iov[n].iov_base = (void *)(header + start);
		iov[n++].iov_len = skip;
	}
	if (skip < len) {
		iov[n].iov_base = (void *)(bytes + skip);
		iov[n++].iov_len = len - skip;
	}
	return n;
}

int nm_carve_write_image(int fd, const struct nm_carve *c, uint8_t fill,
			 const uint8_t *header, uint32_t header_len, nm_error *err)
{
	uint8_t fill_page[4096];
	struct iovec iov[IOV_BATCH + 1];
	unsigned i = 0;

	memset(fill_page, fill, sizeof(fill_page));
	if (!header || header_len > c->size)
		header_len = header ? c->size : 0;
	while (i < c->npages) {
		uint64_t at = (uint64_t)i * 4096u;
		int n = 0;

		if (is_sparse(c, i, fill, header_len)) {
			i++;
			continue;
		}
		for (; i < c->npages && n < IOV_BATCH && !is_sparse(c, i, fill, header_len); i++)
			n += page_vectors(c, i, fill_page, header, header_len, iov + n);
		if (write_iov_at(fd, iov, n, at, err) != 0)
			return -1;
	}
	/* Skipped pages at the end: the size must still be the image's. */
	if (ftruncate(fd, c->size) != 0)
		return nm_fail(err, "output", "cannot set the file size: %s", strerror(errno));
	return 0;
}

/* Length of the valid UTF-8 sequence at S (1-4), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

void nm_utf8_sanitize(const char *s, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	while (*p) {
		size_t n = utf8_sequence(p);
		const char *add = n ? (const char *)p : "\xEF\xBF\xBD";
		size_t addlen = n ? n : 3;

		if (o + addlen >= outlen)
			break;
		memcpy(out + o, add, addlen);
		o += addlen;
		p += n ? n : 1;
	}
	if (outlen)
		out[o] = 0;
}

void nm_json_write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		size_t n = utf8_sequence(p);

		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
		} else if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20 || *p == 0x7F) {
			fprintf(f, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

static void write_section_name(FILE *f, const struct nm_carve *c, int section)
{
	if (section < 0)
		fputs("null", f);
	else
		nm_json_write_string(f, c->pe.sections[section].name);
}

static void write_reason(FILE *f, enum nm_hole_reason r)
{
	const char *name = nm_hole_reason_name(r);

	if (name)
		fprintf(f, "\"%s\"", name);
	else
		fputs("null", f);
}

/* Where a paged-out page's bytes are: its paging file and offset and, when
 * paging files were given, whether the carve holds the file's bytes there
 * (and which file) or why not. */
static void write_pagefile(FILE *f, const struct nm_carve *c, const struct nm_carve_page *p)
{
	struct nm_pagefile_lookup l;

	fprintf(f, ", \"pagefile\": {\"number\": %u, \"offset\": \"0x%llx\"",
		p->pagefile_number, (unsigned long long)p->pagefile_offset);
	if (c->pagefiles) {
		nm_pagefiles_lookup(c->pagefiles, p->pagefile_number, p->pagefile_offset, &l);
		fprintf(f, ", \"recovered\": %s", p->from_pagefile ? "true" : "false");
		if (l.path) {
			fputs(", \"file\": ", f);
			nm_json_write_string(f, l.path);
		}
		if (!p->from_pagefile)
			fprintf(f, ", \"reason\": \"%s\"",
				nm_pagefile_outcome_name((enum nm_pagefile_outcome)p->pagefile_outcome));
	}
	fputc('}', f);
}

static void write_page(FILE *f, const struct nm_carve *c, unsigned i)
{
	const struct nm_carve_page *p = &c->pages[i];

	fprintf(f, "    {\"rva\": \"0x%x\", \"state\": \"%s\", \"section\": ", i * 4096u,
		nm_page_state_name((enum nm_page_state)p->state));
	write_section_name(f, c, p->section);
	fputs(", \"reason\": ", f);
	write_reason(f, (enum nm_hole_reason)p->reason);
	if (p->has_pa)
		fprintf(f, ", \"pa\": \"0x%llx\"", (unsigned long long)p->pa);
	if (p->state == NM_PAGE_PAGEFILE || (p->in_pagefile && c->pagefiles))
		write_pagefile(f, c, p);
	fputs(i + 1 < c->npages ? "},\n" : "}\n", f);
}

struct hole_writer {
	FILE *f;
	const struct nm_carve *c;
	bool first;
};

static int write_hole(void *ctx, const struct nm_carve_hole *h)
{
	struct hole_writer *w = ctx;

	fprintf(w->f, "%s    {\"rva_start\": \"0x%x\", \"rva_end\": \"0x%x\", \"state\": \"%s\", \"section\": ",
		w->first ? "" : ",\n", h->rva_start, h->rva_end, nm_page_state_name(h->state));
	write_section_name(w->f, w->c, h->section);
	fputs(", \"reason\": ", w->f);
	write_reason(w->f, h->reason);
	fputc('}', w->f);
	w->first = false;
	return 0;
}

/* Pages whose bytes came from a paging file, merged like holes. */
static int write_pagefile_run(void *ctx, const struct nm_carve_pagefile_run *r)
{
	struct hole_writer *w = ctx;
	struct nm_pagefile_lookup l;

	nm_pagefiles_lookup(w->c->pagefiles, r->number, r->file_offset, &l);
	fprintf(w->f, "%s    {\"rva_start\": \"0x%x\", \"rva_end\": \"0x%x\", \"section\": ",
		w->first ? "" : ",\n", r->rva_start, r->rva_end);
	write_section_name(w->f, w->c, r->section);
	fprintf(w->f, ", \"pagefile\": %u, \"file_offset\": \"0x%llx\", \"file\": ", r->number,
		(unsigned long long)r->file_offset);
	nm_json_write_string(w->f, l.path);
	fputc('}', w->f);
	w->first = false;
	return 0;
}

int nm_carve_write_holes_json(FILE *f, const struct nm_carve *c, const char *name)
{
	struct hole_writer w = { f, c, true };

	fputs("{\n  \"name\": ", f);
	if (name)
		nm_json_write_string(f, name);
	else
		fputs("null", f);
	fprintf(f, ",\n  \"base\": \"0x%llx\",\n  \"size\": %u,\n  \"headers\": \"%s\",\n"
		   "  \"stale_checked\": %s,\n  \"pages\": [\n",
		(unsigned long long)c->base, c->size, nm_carve_headers_name(c->headers), c->stale_checked ? "true" : "false");
	for (unsigned i = 0; i < c->npages; i++)
		write_page(f, c, i);
	fputs("  ],\n  \"holes\": [\n", f);
	nm_carve_for_each_hole(c, write_hole, &w);
	fputs(w.first ? "  ]" : "\n  ]", f);
	if (c->pagefiles) {
		w.first = true;
		fputs(",\n  \"from_pagefile\": [\n", f);
		nm_carve_for_each_pagefile_run(c, write_pagefile_run, &w);
		fputs(w.first ? "  ]" : "\n  ]", f);
	}
	fputs("\n}\n", f);
	return ferror(f) ? -1 : 0;
}
