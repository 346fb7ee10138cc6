/* ntmem read DUMP VA LEN [-o FILE]: LEN bytes of kernel virtual memory, as a
 * hex dump on stdout or raw into FILE. A page that cannot be read is named
 * on stderr (and in JSON), shown as "??" in the hex dump, zero in FILE, and
 * makes the exit status 3: it is never silently zero. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntmem/carve_files.h>

#include "cli.h"

#define JSON_DATA_MAX (1u << 20)	/* hex in a JSON document: beyond that, use -o */

struct read_args {
	uint64_t va;
	uint64_t len;
	const char *out_path;
};

static int parse_args(const struct cli *c, struct read_args *a)
{
	const char *pos[2] = { NULL, NULL };
	int npos = 0;

	a->out_path = c->opt.output;
	for (int i = 0; i < c->argc; i++) {
		if (npos >= 2)
			return cli_fail_usage("read: unexpected argument '%s'", c->argv[i]);
		pos[npos++] = c->argv[i];
	}
	if (npos < 2)
		return cli_fail_usage("read: usage: ntmem read DUMP VA LEN [-o FILE]");
	if (cli_parse_number(pos[0], &a->va) != 0)
		return cli_fail_usage("read: VA '%s' is not a number", pos[0]);
	if (cli_parse_number(pos[1], &a->len) != 0)
		return cli_fail_usage("read: LEN '%s' is not a number", pos[1]);
	if (a->len > 0x100000000u)
		return cli_fail_usage("read: LEN %llu is above 4 GiB", (unsigned long long)a->len);
	if (c->json && !a->out_path && a->len > JSON_DATA_MAX)
		return cli_fail_usage("read: more than %u bytes in JSON: use -o FILE", JSON_DATA_MAX);
	return CLI_EXIT_OK;
}

/* Hex dump lines of 16 bytes; unknown bytes print as "??". */
struct hexdump {
	uint64_t line_va;
	unsigned n;
	uint8_t bytes[16];
	bool known[16];
};

static void hexdump_flush(struct hexdump *h)
{
	if (h->n == 0)
		return;
	printf("%08llx ", (unsigned long long)h->line_va);
	for (unsigned i = 0; i < 16; i++) {
		if (i >= h->n)
			printf("   ");
		else if (h->known[i])
			printf(" %02x", h->bytes[i]);
		else
			printf(" ??");
	}
	printf("  |");
	for (unsigned i = 0; i < h->n; i++) {
		uint8_t b = h->bytes[i];

		putchar(!h->known[i] ? ' ' : (b >= 0x20 && b < 0x7F) ? b : '.');
	}
	printf("|\n");
	h->n = 0;
}

static void hexdump_add(struct hexdump *h, uint64_t va, const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (h->n == 16)
			hexdump_flush(h);
		if (h->n == 0)
			h->line_va = va + i;
		h->known[h->n] = bytes != NULL;
		h->bytes[h->n] = bytes ? bytes[i] : 0;
		h->n++;
	}
}

struct read_state {
	const struct cli *c;
	struct hexdump hex;
	int fd;			/* -o FILE, or -1 */
	char *json_hex;		/* --json without -o */
	size_t json_pos;
	json_t *unreadable;	/* --json */
	json_t *from_pagefile;	/* --json with --pagefile: ranges read from a paging file */
	uint64_t readable_bytes;
	bool partial;
	int io_error;		/* errno of a failed write */
};

static void name_unreadable(struct read_state *st, const struct nm_walk *w, uint64_t va, size_t chunk)
{
	char what[160];

	cli_walk_describe(st->c->kopt.pagefiles, w, what, sizeof(what));
	cli_error_prefix(st->c);
	fprintf(stderr, "0x%08llx-0x%08llx: not read: %s\n",
		(unsigned long long)va, (unsigned long long)(va + chunk), what);
	if (st->unreadable) {
		json_t *page = cli_walk_json(st->c->kopt.pagefiles, w);

		json_object_set_new(page, "start", cli_json_hex(va));
		json_object_set_new(page, "end", cli_json_hex(va + chunk));
		json_array_append_new(st->unreadable, page);
	}
	st->partial = true;
}

static void emit(struct read_state *st, uint64_t va, const uint8_t *bytes, size_t chunk)
{
	static const uint8_t zeros[NM_PAGE_SIZE];
	static const char digits[] = "0123456789abcdef";

	if (st->fd >= 0) {
		const uint8_t *p = bytes ? bytes : zeros;

		for (size_t done = 0; !st->io_error && done < chunk;) {
			ssize_t w = write(st->fd, p + done, chunk - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				st->io_error = w < 0 ? errno : EIO;
			else
				done += (size_t)w;
		}
	} else if (st->json_hex) {
		for (size_t i = 0; i < chunk; i++) {
			uint8_t b = bytes ? bytes[i] : 0;

			st->json_hex[st->json_pos++] = digits[b >> 4];
			st->json_hex[st->json_pos++] = digits[b & 15];
		}
	} else if (!st->c->json) {
		hexdump_add(&st->hex, va, bytes, chunk);
	}
}

/* Bytes that came from a paging file, not the dump: said on stderr (unless
 * -q) and, in JSON, listed with the file and offset they were read at. */
static void name_recovered(struct read_state *st, const struct nm_walk *w, uint64_t va, size_t chunk)
{
	struct nm_vmem m = { .pagefiles = st->c->kopt.pagefiles };
	struct nm_pagefile_lookup l;
	char what[400];

	if (!m.pagefiles || !nm_vmem_pagefile(&m, w, &l) || l.outcome != NM_PAGEFILE_READ)
		return;
	if (!st->c->quiet && !st->c->json) {
		cli_walk_describe(m.pagefiles, w, what, sizeof(what));
		cli_error_prefix(st->c);
		fprintf(stderr, "0x%08llx-0x%08llx: %s\n", (unsigned long long)va,
			(unsigned long long)(va + chunk), what);
	}
	if (st->from_pagefile) {
		json_t *o = json_pack("{s:o, s:o, s:I, s:o}", "start", cli_json_hex(va),
				      "end", cli_json_hex(va + chunk), "number", (json_int_t)l.number,
				      "file_offset", cli_json_hex(l.offset + (va & (NM_PAGE_SIZE - 1))));

		cli_json_set_path(o, "file", l.path);
		json_array_append_new(st->from_pagefile, o);
	}
}

static int read_chunk(void *ctx, uint64_t va, const struct nm_walk *w, const uint8_t *bytes, size_t len)
{
	struct read_state *st = ctx;

	if (bytes && nm_walk_pagefile(w, &(unsigned){ 0 }, &(uint64_t){ 0 }, &(bool){ false }))
		name_recovered(st, w, va, len);
	if (bytes)
		st->readable_bytes += len;
	else
		name_unreadable(st, w, va, len);
	emit(st, va, bytes, len);
	return 0;
}

/* Every page of the range, readable or not, through the one page loop
 * (vmem.h); a stale page is not read. */
static void read_range(struct cli_memory *m, const struct read_args *a, struct read_state *st)
{
	struct nm_vmem mem = nm_kernel_vmem(&m->kernel);

	nm_vmem_for_each_chunk(&mem, a->va, a->len, NM_STALE_REFUSE, read_chunk, st);
	hexdump_flush(&st->hex);
}

/* -o FILE: a regular file is written under a temporary name beside it and
 * named when complete (replacing an older regular file, as before); a path
 * that names something else (/dev/null, a FIFO the user made) is written
 * directly, since it holds no file to leave half-written. */
struct read_output {
	int dirfd;
	bool direct;
	struct nm_outfile file;
};

static int open_output(const char *path, struct read_output *ro, int *fd)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat st;
	nm_error err = { { 0 }, { 0 } };

	ro->dirfd = -1;
	ro->direct = stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
	if (ro->direct) {
		*fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (*fd < 0)
			return cli_fail_output(path, "output", strerror(errno));
		return CLI_EXIT_OK;
	}
	if (slash && (size_t)(slash - path) >= sizeof(dir))
		return cli_fail_output(path, "output", "directory name too long");
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	ro->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ro->dirfd < 0)
		return cli_fail_output(path, "output", strerror(errno));
	if (nm_outfile_begin(ro->dirfd, slash ? slash + 1 : path, true, &ro->file, &err) != 0) {
		close(ro->dirfd);
		ro->dirfd = -1;
		return cli_fail_output(path, "output", err.why);
	}
	*fd = ro->file.fd;
	return CLI_EXIT_OK;
}

/* Names the file (or closes the device); IO_ERROR is the first write's
 * errno. The output is removed on any failure. */
static int close_output(const char *path, struct read_output *ro, int io_error)
{
	nm_error err = { { 0 }, { 0 } };
	int rc = CLI_EXIT_OK;

	if (ro->direct)
		return CLI_EXIT_OK;
	if (io_error) {
		nm_outfile_abandon(&ro->file);
		{
		char why[160];

		snprintf(why, sizeof(why), "write failed: %s", strerror(io_error));
		rc = cli_fail_output(path, "output", why);
	}
	} else if (nm_outfile_commit(&ro->file, &err) != 0) {
		rc = cli_fail_output(path, "output", err.why);
	}
	close(ro->dirfd);
	ro->dirfd = -1;
	return rc;
}

static void print_json(const struct cli *c, const struct read_args *a, struct read_state *st)
{
	json_t *doc = cli_json_document(c);

	json_object_set_new(doc, "va", cli_json_hex(a->va));
	json_object_set_new(doc, "length", json_integer((json_int_t)a->len));
	json_object_set_new(doc, "readable_bytes", json_integer((json_int_t)st->readable_bytes));
	json_object_set_new(doc, "unreadable", st->unreadable);
	st->unreadable = NULL;
	if (st->from_pagefile) {
		cli_pagefiles_json(c, doc);
		json_object_set_new(doc, "from_pagefile", st->from_pagefile);
		st->from_pagefile = NULL;
	}
	if (a->out_path) {
		cli_json_set_path(doc, "output", a->out_path);
	} else {
		st->json_hex[st->json_pos] = '\0';
		json_object_set_new(doc, "data", json_string(st->json_hex));
	}
	cli_json_print(doc);
}

int cmd_read(const struct cli *c)
{
	struct read_args a;
	struct read_state st = { .c = c, .fd = -1 };
	struct read_output ro = { .dirfd = -1, .direct = false };
	struct cli_memory m;
	int rc = parse_args(c, &a);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_open_memory(c, &m);
	if (rc != CLI_EXIT_OK)
		return rc;
	/* The whole range lies in the dump's address space: below 4 GiB on
	 * x86, in one canonical half on x64. */
	if (a.len > 0 && (!nm_mode_va_canonical(m.kernel.mode, a.va) || a.va + (a.len - 1) < a.va ||
			  !nm_mode_va_canonical(m.kernel.mode, a.va + (a.len - 1)) ||
			  ((a.va ^ (a.va + (a.len - 1))) >> 63) != 0)) {
		rc = cli_fail_usage("read: 0x%llx + %llu leaves the %s address space",
				    (unsigned long long)a.va, (unsigned long long)a.len,
				    m.kernel.mode->va_bits == 32 ? "32-bit" : m.kernel.mode->name);
		goto out;
	}
	if (a.out_path && (rc = open_output(a.out_path, &ro, &st.fd)) != CLI_EXIT_OK)
		goto out;
	if (c->json) {
		st.unreadable = json_array();
		if (c->kopt.pagefiles)
			st.from_pagefile = json_array();
		if (!a.out_path && !(st.json_hex = malloc(2 * a.len + 1))) {
			rc = cli_fail_usage("read: out of memory");
			goto out;
		}
	}
	read_range(&m, &a, &st);
	if (ro.direct && close(st.fd) != 0 && !st.io_error)
		st.io_error = errno;
	st.fd = -1;
	if (a.out_path && (rc = close_output(a.out_path, &ro, st.io_error)) != CLI_EXIT_OK)
		goto out;
	if (c->json)
		print_json(c, &a, &st);
	else if (a.out_path) {
		printf("wrote %llu bytes to ", (unsigned long long)a.len);
		cli_put_path(stdout, a.out_path);
		printf(" (%llu readable)\n", (unsigned long long)st.readable_bytes);
	}
	rc = st.partial ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
	if (ro.direct && st.fd >= 0)
		close(st.fd);
	else if (ro.dirfd >= 0) {
		nm_outfile_abandon(&ro.file);
		close(ro.dirfd);
	}
	json_decref(st.unreadable);
	json_decref(st.from_pagefile);
	free(st.json_hex);
	cli_close_memory(&m);
	return rc;
}
