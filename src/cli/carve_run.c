/* Carving selected images of a kernel view into an output directory: per
 * module the carve, its three files, the optional comparison with the
 * original file, its JSON object and its text summary. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntmem/carve_files.h>
#include <ntmem/pe_rebuild.h>
#include <ntmem/reloc.h>

#include "carve_run.h"

#define MAX_ORIGINAL_FILE (64u << 20)

/* The images of one run together: a dump's module list can name thousands
 * of 256 MiB images over page tables that map every one of them to the
 * same frames, which would write terabytes. All drivers of a real 32-bit
 * system add up to a few hundred MiB (they share the 2 GiB kernel space). */
#define MAX_RUN_IMAGE_BYTES (1ull << 30)

static void walk_kernel(void *ctx, uint64_t va, struct nm_walk *out)
{
	nm_kernel_walk(ctx, va, out);
}

/* A stale page's bytes exist (they belong to another page now): they are
 * served so that --keep-stale can write them. */
static const uint8_t *kernel_page_bytes(void *ctx, const struct nm_walk *w)
{
	struct nm_kernel *k = ctx;

	if (w->state == NM_PAGE_STALE)
		return w->has_pa ? nm_source_page(k->src, w->pa >> NM_PAGE_SHIFT) : NULL;
	return nm_xlat_page_bytes(k->xlat, w);
}

struct nm_page_reader carve_kernel_reader(struct nm_kernel *k)
{
	struct nm_page_reader r = { k, walk_kernel, kernel_page_bytes, k->has_pfn_database };

	return r;
}

struct carve_target *carve_all_targets(const struct nm_module_list *l, unsigned *n)
{
	struct carve_target *t = calloc(l->count ? l->count : 1, sizeof(*t));

	*n = 0;
	if (!t)
		return NULL;
	for (unsigned i = 0; i < l->count; i++) {
		t[i].name = l->items[i].name;
		t[i].base = l->items[i].base;
		t[i].size = l->items[i].size;
		t[i].listed = true;
	}
	*n = l->count;
	return t;
}

/* ---- per-module state ------------------------------------------------ */

struct module_run {
	const struct cli *c;
	const struct carve_request *req;
	const struct carve_target *t;
	int dirfd;
	char stem[NM_OUTPUT_NAME_MAX + 1];
	char display_name[256];
	struct nm_carve cv;
	bool synthesized_headers;
	json_t *obj;
	FILE *out;
	FILE *details;			/* text printed after the table */
};

static json_t *name_json(const char *name)
{
	char buf[1024];

	if (!name)
		return json_null();
	nm_utf8_sanitize(name, buf, sizeof(buf));
	return json_string(buf);
}

static int write_mem(struct module_run *m, const char *fname, nm_error *err)
{
	int fd, rc;

	if (nm_outdir_create(m->dirfd, fname, m->req->force, &fd, err) != 0)
		return -1;
	rc = nm_carve_write_image(fd, &m->cv, m->req->fill, NULL, 0, err);
	if (close(fd) != 0 && rc == 0)
		rc = nm_fail(err, fname, "close failed");
	return rc;
}

static int write_pe(struct module_run *m, const char *fname, nm_error *err)
{
	uint8_t hdr[NM_PAGE_SIZE];
	uint32_t len = nm_carve_page_len(&m->cv, 0);
	int fd, rc;

	if (m->cv.headers == NM_HEADERS_OK) {
		memcpy(hdr, m->cv.pages[0].bytes, len);
		nm_pe_rebuild_headers(hdr, len, &m->cv.pe, m->cv.base, m->cv.size);
	} else {
		nm_pe_synthesize_headers(hdr, m->cv.base, m->cv.size);
		m->synthesized_headers = true;
	}
	if (nm_outdir_create(m->dirfd, fname, m->req->force, &fd, err) != 0)
		return -1;
	rc = nm_carve_write_image(fd, &m->cv, m->req->fill, hdr, len, err);
	if (close(fd) != 0 && rc == 0)
		rc = nm_fail(err, fname, "close failed");
	return rc;
}

static int write_holes(struct module_run *m, const char *fname, nm_error *err)
{
	FILE *f;
	int fd, rc;

	if (nm_outdir_create(m->dirfd, fname, m->req->force, &fd, err) != 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return nm_fail(err, fname, "cannot open a stream");
	}
	rc = nm_carve_write_holes_json(f, &m->cv, m->t->name);
	if (fclose(f) != 0 || rc != 0)
		return nm_fail(err, fname, "write failed");
	return 0;
}

static int write_files(struct module_run *m, nm_error *err)
{
	static const char *const suffix[3] = { ".mem", ".pe", ".holes.json" };
	static const char *const key[3] = { "mem", "pe", "holes" };
	int (*const writer[3])(struct module_run *, const char *, nm_error *) = {
		write_mem, write_pe, write_holes
	};
	json_t *files = json_object();

	json_object_set_new(m->obj, "files", files);
	for (int i = 0; i < 3; i++) {
		char fname[NM_OUTPUT_NAME_MAX + 16];

		snprintf(fname, sizeof(fname), "%s%s", m->stem, suffix[i]);
		if (writer[i](m, fname, err) != 0)
			return -1;
		json_object_set_new(files, key[i], json_string(fname));
	}
	return 0;
}

/* ---- JSON ------------------------------------------------------------ */

static json_t *pages_json(const struct nm_carve *cv)
{
	json_t *o = json_object();

	for (int s = 0; s < NM_PAGE_STATE_COUNT; s++)
		if (cv->state_count[s])
			json_object_set_new(o, nm_page_state_name((enum nm_page_state)s),
					    json_integer((json_int_t)cv->state_count[s]));
	return o;
}

static json_t *sections_json(const struct nm_carve *cv)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < cv->pe.nsections; i++) {
		const struct nm_pe_section *s = &cv->pe.sections[i];

		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:o, s:s, s:I, s:I}",
			"name", s->name, "va", cli_json_hex((uint64_t)cv->base + s->virtual_address),
			"size", (json_int_t)s->virtual_size, "characteristics", cli_json_hex(s->characteristics),
			"kind", nm_section_kind_name(s->kind),
			"bytes_recovered", (json_int_t)cv->sections[i].recovered,
			"bytes_missing", (json_int_t)cv->sections[i].missing));
	}
	return a;
}

static json_t *section_name_json(const struct nm_carve *cv, int section)
{
	return section < 0 ? json_null() : json_string(cv->pe.sections[section].name);
}

static int hole_json(void *ctx, const struct nm_carve_hole *h)
{
	const struct module_run *m = ctx;
	json_t *holes = json_object_get(m->obj, "holes");

	json_array_append_new(holes, json_pack("{s:o, s:o, s:s, s:o, s:s}",
		"rva_start", cli_json_hex(h->rva_start), "rva_end", cli_json_hex(h->rva_end),
		"state", nm_page_state_name(h->state), "section", section_name_json(&m->cv, h->section),
		"reason", nm_hole_reason_name(h->reason)));
	return 0;
}

static json_t *kinds_json(const struct nm_carve *cv)
{
	json_t *o = json_object();

	for (int k = 0; k < 3; k++)
		json_object_set_new(o, nm_section_kind_name((enum nm_section_kind)k),
				    json_pack("{s:I, s:I}", "bytes_recovered", (json_int_t)cv->kinds[k].recovered,
					      "bytes_missing", (json_int_t)cv->kinds[k].missing));
	json_object_set_new(o, "headers_other", json_pack("{s:I, s:I}",
			    "bytes_recovered", (json_int_t)cv->outside.recovered,
			    "bytes_missing", (json_int_t)cv->outside.missing));
	return o;
}

static void fill_module_json(struct module_run *m)
{
	const struct nm_carve *cv = &m->cv;

	json_object_set_new(m->obj, "pages", pages_json(cv));
	json_object_set_new(m->obj, "sections", sections_json(cv));
	json_object_set_new(m->obj, "headers", json_string(nm_carve_headers_name(cv->headers)));
	if (cv->headers != NM_HEADERS_OK)
		json_object_set_new(m->obj, "headers_error", json_pack("{s:s, s:s}",
				    "what", cv->header_error.what, "why", cv->header_error.why));
	json_object_set_new(m->obj, "pe_headers", json_string(m->synthesized_headers ? "synthesized" : "rebuilt"));
	json_object_set_new(m->obj, "bytes_recovered", json_integer((json_int_t)cv->total.recovered));
	json_object_set_new(m->obj, "bytes_missing", json_integer((json_int_t)cv->total.missing));
	json_object_set_new(m->obj, "kinds", kinds_json(cv));
	json_object_set_new(m->obj, "holes", json_array());
	nm_carve_for_each_hole(cv, hole_json, m);
}

/* ---- --compare-with ---------------------------------------------------- */

/* How well entry E matches module NAME: 3 same name, 2 same name ignoring
 * case, 1 same stem before the extension followed by '_' or '-' (the shape
 * of versioned file names such as npf_x86_4.1.0.2980.sys), 0 none. */
static int match_quality(const char *e, const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);

	if (strcmp(e, name) == 0)
		return 3;
	if (strcasecmp(e, name) == 0)
		return 2;
	if (stem > 0 && strncasecmp(e, name, stem) == 0 && (e[stem] == '_' || e[stem] == '-'))
		return 1;
	return 0;
}

/* The entry of DIR that best matches NAME; a stem match counts only when it
 * is the only one. The name from the dump is only compared with DIR's
 * entries, never used as a path. */
static int find_original(int dirfd, const char *name, char *found, size_t size)
{
	int dup_fd = dup(dirfd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *e;
	int best = 0, ties = 0;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	rewinddir(d);	/* the duplicate shares the offset an earlier scan left at the end */
	for (unsigned n = 0; (e = readdir(d)) != NULL && n < 1000000; n++) {
		int q;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		q = match_quality(e->d_name, name);
		if (q > best) {
			best = q;
			ties = 1;
			snprintf(found, size, "%s", e->d_name);
		} else if (q == best && q > 0) {
			ties++;
		}
	}
	closedir(d);
	return best >= 2 || (best == 1 && ties == 1) ? 0 : -1;
}

static int load_original(int dirfd, const char *fname, uint32_t base, struct nm_loaded_file *lf,
			 nm_error *err)
{
	int fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *map;
	int rc;

	if (fd < 0)
		return nm_fail(err, fname, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > MAX_ORIGINAL_FILE) {
		close(fd);
		return nm_fail(err, fname, "not a regular file of 1 byte to %u MiB", MAX_ORIGINAL_FILE >> 20);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return nm_fail(err, fname, "cannot map: %s", strerror(errno));
	rc = nm_pe_load_file(map, (size_t)st.st_size, base, lf, err);
	munmap(map, (size_t)st.st_size);
	return rc;
}

struct modified_sink {
	const struct nm_loaded_file *lf;
	json_t *list;
};

static int modified_range(void *ctx, const struct nm_modified_range *r)
{
	struct modified_sink *s = ctx;
	const char *section = s->lf->pe.sections[r->section].name;

	json_array_append_new(s->list, json_pack("{s:o, s:o, s:s}", "rva_start", cli_json_hex(r->rva_start),
						 "rva_end", cli_json_hex(r->rva_end), "section", section));
	return 0;
}

static json_t *compare_json(struct module_run *m, int cmpfd)
{
	char fname[256];
	struct nm_loaded_file lf;
	struct nm_compare_stats st;
	struct modified_sink sink;
	nm_error err = { { 0 }, { 0 } };
	json_t *o;

	if (!m->t->name || find_original(cmpfd, m->t->name, fname, sizeof(fname)) != 0) {
		cli_warn(m->c, "%s: no original file of that name in %s", m->display_name, m->req->compare_dir);
		return json_pack("{s:n, s:s}", "file", "error", "no file of that name");
	}
	if (load_original(cmpfd, fname, m->cv.base, &lf, &err) != 0) {
		cli_warn(m->c, "%s: %s: %s", fname, err.what, err.why);
		return json_pack("{s:s, s:s}", "file", fname, "error", err.why);
	}
	sink.lf = &lf;
	sink.list = json_array();
	nm_pe_compare(&m->cv, &lf, modified_range, &sink, &st);
	o = json_pack("{s:s, s:b, s:I, s:b, s:I, s:I, s:I, s:I, s:o}", "file", fname,
		      "relocations", lf.has_relocations, "relocations_applied", (json_int_t)lf.relocs_applied,
		      "relocations_truncated", lf.relocs_truncated,
		      "bytes_compared", (json_int_t)st.bytes_compared,
		      "bytes_skipped_holes", (json_int_t)st.bytes_skipped_holes,
		      "bytes_skipped_iat", (json_int_t)st.bytes_skipped_iat,
		      "bytes_modified", (json_int_t)st.bytes_modified, "modified", sink.list);
	nm_loaded_file_free(&lf);
	return o;
}

/* ---- text ------------------------------------------------------------ */

static void print_table_header(FILE *out)
{
	fprintf(out, "%-22s %-10s %9s %9s %9s  %-15s %-15s %-15s %-13s %s\n", "module", "base", "size",
		"recovered", "missing", "nonpaged", "pageable", "discardable", "headers/other", "headers");
}

static void print_pair(FILE *out, const struct nm_byte_tally *t)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%llu/%llu", (unsigned long long)t->recovered, (unsigned long long)t->missing);
	fprintf(out, " %-15s", buf);
}

static void print_module_row(FILE *out, const struct module_run *m)
{
	const struct nm_carve *cv = &m->cv;

	fprintf(out, "%-22.22s 0x%08x %9u %9llu %9llu ", m->display_name, cv->base, cv->size,
		(unsigned long long)cv->total.recovered, (unsigned long long)cv->total.missing);
	print_pair(out, &cv->kinds[NM_SECTION_NONPAGED]);
	print_pair(out, &cv->kinds[NM_SECTION_PAGEABLE]);
	print_pair(out, &cv->kinds[NM_SECTION_DISCARDABLE]);
	print_pair(out, &cv->outside);
	fprintf(out, "%s\n", nm_carve_headers_name(cv->headers));
}

static void print_pagefile_pages(FILE *out, const struct nm_carve *cv, const struct nm_carve_hole *h)
{
	unsigned shown = 0;

	for (uint32_t rva = h->rva_start; rva < h->rva_end && shown < 4; rva += NM_PAGE_SIZE, shown++) {
		const struct nm_carve_page *p = &cv->pages[rva >> NM_PAGE_SHIFT];

		fprintf(out, "%s page file %u @0x%llx", shown ? "," : "   ", p->pagefile_number,
			(unsigned long long)p->pagefile_offset);
	}
	if (h->rva_start + shown * NM_PAGE_SIZE < h->rva_end)
		fprintf(out, ", ...");
}

static int print_hole_detail(void *ctx, const struct nm_carve_hole *h)
{
	const struct module_run *m = ctx;

	fprintf(m->details, "  hole     0x%05x-0x%05x  %-8s %-15s (%s)", h->rva_start, h->rva_end,
		h->section >= 0 ? m->cv.pe.sections[h->section].name : "-", nm_hole_reason_name(h->reason),
		nm_page_state_name(h->state));
	if (h->state == NM_PAGE_PAGEFILE)
		print_pagefile_pages(m->details, &m->cv, h);
	fputc('\n', m->details);
	return 0;
}

static void print_compare_detail(FILE *out, json_t *cmp)
{
	json_t *h;
	size_t j;

	if (!json_is_string(json_object_get(cmp, "file")))
		fprintf(out, "  compare: no original file of that name\n");
	else if (json_object_get(cmp, "error"))
		fprintf(out, "  compare: %s\n", json_string_value(json_object_get(cmp, "error")));
	else
		fprintf(out, "  compared with %s (relocated): %lld bytes, %lld modified\n",
			json_string_value(json_object_get(cmp, "file")),
			json_integer_value(json_object_get(cmp, "bytes_compared")),
			json_integer_value(json_object_get(cmp, "bytes_modified")));
	json_array_foreach(json_object_get(cmp, "modified"), j, h)
		fprintf(out, "  modified 0x%05llx-0x%05llx  %s\n",
			strtoull(json_string_value(json_object_get(h, "rva_start")), NULL, 16),
			strtoull(json_string_value(json_object_get(h, "rva_end")), NULL, 16),
			json_string_value(json_object_get(h, "section")));
}

/* What follows the table for one module: its holes and its comparison. */
static void print_details(struct module_run *m)
{
	json_t *cmp = json_object_get(m->obj, "compare");

	if (json_array_size(json_object_get(m->obj, "holes")) == 0 && !cmp)
		return;
	fprintf(m->details, "\n%s at 0x%08x:\n", m->display_name, m->cv.base);
	nm_carve_for_each_hole(&m->cv, print_hole_detail, m);
	if (cmp)
		print_compare_detail(m->details, cmp);
}

/* ---- one module ------------------------------------------------------ */

static int carve_one(struct module_run *m, const struct nm_page_reader *r, int cmpfd)
{
	struct nm_carve_options opt = { m->req->keep_stale };
	nm_error err = { { 0 }, { 0 } };

	nm_carve_stem(m->t->name, m->t->base, m->stem);
	nm_utf8_sanitize(m->t->name ? m->t->name : "(unnamed)", m->display_name, sizeof(m->display_name));
	m->obj = json_pack("{s:o, s:o, s:I}", "name", name_json(m->t->name), "base", cli_json_hex(m->t->base),
			   "size", (json_int_t)m->t->size);
	if (nm_carve_image(r, m->t->base, m->t->size, &opt, &m->cv, &err) != 0 || write_files(m, &err) != 0) {
		fprintf(stderr, "ntmem: %s: %s@0x%x: %s: %s\n", m->c->dump_path, m->display_name, m->t->base,
			err.what, err.why);
		json_object_set_new(m->obj, "error", json_pack("{s:s, s:s}", "what", err.what, "why", err.why));
		nm_carve_free(&m->cv);
		return -1;
	}
	fill_module_json(m);
	if (m->out)
		print_module_row(m->out, m);
	if (cmpfd >= 0)
		json_object_set_new(m->obj, "compare", compare_json(m, cmpfd));
	if (m->details)
		print_details(m);
	nm_carve_free(&m->cv);
	return 0;
}

/* A module past the run's budget: named in the document, not carved. */
static void refuse_over_budget(struct module_run *m)
{
	char why[160];

	nm_utf8_sanitize(m->t->name ? m->t->name : "(unnamed)", m->display_name, sizeof(m->display_name));
	snprintf(why, sizeof(why), "the images of this run would exceed %llu MiB together; not carved",
		 MAX_RUN_IMAGE_BYTES >> 20);
	fprintf(stderr, "ntmem: %s: %s@0x%x: carve: %s\n", m->c->dump_path, m->display_name, m->t->base, why);
	m->obj = json_pack("{s:o, s:o, s:I, s:{s:s, s:s}}", "name", name_json(m->t->name),
			   "base", cli_json_hex(m->t->base), "size", (json_int_t)m->t->size,
			   "error", "what", "carve", "why", why);
}

static int open_compare_dir(const struct carve_request *req)
{
	if (!req->compare_dir)
		return -1;
	return open(req->compare_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int carve_targets(const struct cli *c, struct nm_kernel *k, const struct carve_request *req,
		  const struct carve_target *targets, unsigned ntargets, FILE *out,
		  struct carve_outcome *outcome)
{
	struct nm_page_reader r = carve_kernel_reader(k);
	nm_error err = { { 0 }, { 0 } };
	FILE *details = NULL;
	char *details_text = NULL;
	size_t details_len = 0;
	uint64_t image_bytes = 0;
	int dirfd, cmpfd;

	memset(outcome, 0, sizeof(*outcome));
	outcome->modules = json_array();
	if (nm_outdir_open(req->out_dir, &dirfd, &err) != 0)
		return cli_fail_usage("-o %s: %s", err.what, err.why);
	cmpfd = open_compare_dir(req);
	if (req->compare_dir && cmpfd < 0) {
		close(dirfd);
		return cli_fail_usage("--compare-with %s: cannot open the directory: %s", req->compare_dir,
				      strerror(errno));
	}
	if (!r.stale_checked)
		cli_warn(c, "no usable PFN database: stale (reused) pages cannot be detected");
	if (out) {
		print_table_header(out);
		details = open_memstream(&details_text, &details_len);
	}
	for (unsigned i = 0; i < ntargets; i++) {
		struct module_run *m = calloc(1, sizeof(*m));

		if (!m)
			break;
		m->c = c;
		m->req = req;
		m->t = &targets[i];
		m->dirfd = dirfd;
		m->out = out;
		m->details = details;
		image_bytes += targets[i].size;
		if (image_bytes > MAX_RUN_IMAGE_BYTES) {
			refuse_over_budget(m);
			outcome->failed++;
		} else if (carve_one(m, &r, cmpfd) == 0) {
			outcome->carved++;
			outcome->bytes_recovered += json_integer_value(json_object_get(m->obj, "bytes_recovered"));
			outcome->bytes_missing += json_integer_value(json_object_get(m->obj, "bytes_missing"));
		} else {
			outcome->failed++;
		}
		json_array_append_new(outcome->modules, m->obj);
		free(m);
	}
	if (details) {
		fclose(details);
		fwrite(details_text, 1, details_len, out);
		if (details_len)
			fprintf(out, "\nreasons: discarded = INIT/discardable pages freed after DriverEntry; "
				"paged_out = pageable (PAGE*) pages in a page file;\n"
				"stale = the frame was reused (PFN database); not_in_dump = mapped but absent "
				"from this dump; headers_missing = no PE header page\n");
		free(details_text);
	}
	if (cmpfd >= 0)
		close(cmpfd);
	close(dirfd);
	return outcome->failed ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}
