/* Carving selected images of a kernel view, into an output directory when
 * one is given: per module the carve, its three files and the optional
 * comparison with the original file, gathered as a carve_result that the
 * renderers print. */
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
#include <ntmem/mapped_file.h>
#include <ntmem/pe_rebuild.h>

#include "carve_run.h"
#include "progress.h"

#define MAX_ORIGINAL_FILE (64u << 20)

/* The images of one run together: a dump's module list can name thousands
 * of 256 MiB images over page tables that map every one of them to the
 * same frames, which would write terabytes. All drivers of a real 32-bit
 * system add up to a few hundred MiB (they share the 2 GiB kernel space);
 * an x64 system's loaded drivers add up to a few hundred MiB as well. */
#define MAX_RUN_IMAGE_BYTES (1ull << 30)

/* Modified ranges kept per module for the report (the count is exact). */
#define MAX_MODIFIED_KEPT 4096

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

const char *carve_page_class(const struct nm_carve_page *p)
{
	if (p->reason == NM_REASON_DISCARDED)
		return "discarded";
	return nm_page_state_name((enum nm_page_state)p->state);
}

/* ---- files ------------------------------------------------------------ */

/* Each file is written under a temporary name and named when complete:
 * a full disk leaves no truncated file under a final name. */
static int write_image_file(const struct carve_request *req, int dirfd, struct carve_module *m,
			    const char *fname, const uint8_t *header, uint32_t header_len, nm_error *err)
{
	struct nm_outfile o;

	if (nm_outfile_begin(dirfd, fname, req->force, &o, err) != 0)
		return -1;
	if (nm_carve_write_image(o.fd, &m->cv, req->fill, header, header_len, err) != 0) {
		nm_outfile_abandon(&o);
		snprintf(err->what, sizeof(err->what), "%s", fname);
		return -1;
	}
	return nm_outfile_commit(&o, err);
}

static int write_mem(const struct carve_request *req, int dirfd, struct carve_module *m, const char *fname,
		     nm_error *err)
{
	return write_image_file(req, dirfd, m, fname, NULL, 0, err);
}

static int write_pe(const struct carve_request *req, int dirfd, struct carve_module *m, const char *fname,
		    nm_error *err)
{
	uint8_t hdr[NM_PAGE_SIZE];
	uint32_t len = nm_carve_page_len(&m->cv, 0);

	if (m->cv.headers == NM_HEADERS_OK) {
		memcpy(hdr, m->cv.pages[0].bytes, len);
		nm_pe_rebuild_headers(hdr, len, &m->cv.pe, m->cv.base, m->cv.size);
	} else {
		nm_pe_synthesize_headers(hdr, m->cv.base, m->cv.size, m->cv.wide);
		m->synthesized_headers = true;
	}
	return write_image_file(req, dirfd, m, fname, hdr, len, err);
}

static int write_holes(const struct carve_request *req, int dirfd, struct carve_module *m, const char *fname,
		       nm_error *err)
{
	struct nm_outfile o;
	FILE *f;
	int dupfd, rc;

	if (nm_outfile_begin(dirfd, fname, req->force, &o, err) != 0)
		return -1;
	/* The stream writes through a duplicate: the file itself stays open
	 * until it has its name. */
	dupfd = dup(o.fd);
	f = dupfd >= 0 ? fdopen(dupfd, "w") : NULL;
	if (!f) {
		if (dupfd >= 0)
			close(dupfd);
		nm_outfile_abandon(&o);
		return nm_fail(err, fname, "cannot open a stream: %s", strerror(errno));
	}
	rc = nm_carve_write_holes_json(f, &m->cv, m->target.name);
	if (fflush(f) != 0 || rc != 0)
		rc = nm_fail(err, fname, "write failed: %s", strerror(errno ? errno : EIO));
	if (fclose(f) != 0 && rc == 0)
		rc = nm_fail(err, fname, "write failed: %s", strerror(errno));
	if (rc != 0) {
		nm_outfile_abandon(&o);
		return -1;
	}
	return nm_outfile_commit(&o, err);
}

static int write_files(const struct carve_request *req, int dirfd, struct carve_module *m, nm_error *err)
{
	static const char *const suffix[3] = { ".mem", ".pe", ".holes.json" };
	int (*const writer[3])(const struct carve_request *, int, struct carve_module *, const char *,
			       nm_error *) = { write_mem, write_pe, write_holes };

	for (int i = 0; i < 3; i++) {
		char fname[NM_OUTPUT_NAME_MAX + 16];

		snprintf(fname, sizeof(fname), "%s%s", m->stem, suffix[i]);
		if (writer[i](req, dirfd, m, fname, err) != 0)
			return -1;
	}
	m->files_written = true;
	return 0;
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

static int load_original(int dirfd, const char *fname, const char *compare_dir, uint64_t base,
			 struct nm_loaded_file *lf, nm_error *err)
{
	/* O_NONBLOCK: a FIFO named like the module must not hang the carve. */
	int fd = openat(dirfd, fname, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	char path[4096 + 256];
	struct stat st;
	const uint8_t *map;
	int rc;

	if (fd < 0)
		return nm_fail(err, fname, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > MAX_ORIGINAL_FILE) {
		close(fd);
		return nm_fail(err, fname, "not a regular file of 1 byte to %u MiB", MAX_ORIGINAL_FILE >> 20);
	}
	snprintf(path, sizeof(path), "%s/%s", compare_dir, fname);
	map = nm_map_guarded(fd, (size_t)st.st_size, path, err);
	close(fd);
	if (!map)
		return -1;
	rc = nm_pe_load_file(map, (size_t)st.st_size, base, lf, err);
	nm_unmap_guarded(map, (size_t)st.st_size);
	return rc;
}

struct modified_sink {
	const struct nm_loaded_file *lf;
	struct carve_compare *cmp;
	unsigned cap;
};

static int modified_range(void *ctx, const struct nm_modified_range *r)
{
	struct modified_sink *s = ctx;
	struct carve_compare *cmp = s->cmp;

	if (cmp->nmodified == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 16;
		struct carve_modified *grown;

		if (cap > MAX_MODIFIED_KEPT || !(grown = realloc(cmp->modified, cap * sizeof(*grown))))
			return 0;
		cmp->modified = grown;
		s->cap = cap;
	}
	cmp->modified[cmp->nmodified].rva_start = r->rva_start;
	cmp->modified[cmp->nmodified].rva_end = r->rva_end;
	snprintf(cmp->modified[cmp->nmodified].section, sizeof(cmp->modified[0].section), "%s",
		 s->lf->pe.sections[r->section].name);
	cmp->nmodified++;
	return 0;
}

static void compare_module(const struct cli *c, const struct carve_request *req, struct carve_module *m,
			   int cmpfd)
{
	struct carve_compare *cmp = &m->compare;
	struct nm_loaded_file lf;
	struct modified_sink sink = { &lf, cmp, 0 };
	nm_error err = { { 0 }, { 0 } };

	m->compared = true;
	if (!m->target.name || find_original(cmpfd, m->target.name, cmp->file, sizeof(cmp->file)) != 0) {
		cli_warn(c, "%s: no original file of that name in %s", m->display_name, req->compare_dir);
		snprintf(cmp->error, sizeof(cmp->error), "no file of that name");
		return;
	}
	cmp->found = true;
	if (load_original(cmpfd, cmp->file, req->compare_dir, m->cv.base, &lf, &err) != 0) {
		cli_warn(c, "%s: %s: %s", cmp->file, err.what, err.why);
		snprintf(cmp->error, sizeof(cmp->error), "%s", err.why);
		return;
	}
	nm_pe_compare(&m->cv, &lf, modified_range, &sink, &cmp->stats);
	cmp->has_relocations = lf.has_relocations;
	cmp->relocs_applied = lf.relocs_applied;
	cmp->relocs_truncated = lf.relocs_truncated;
	nm_loaded_file_free(&lf);
}

/* ---- one module ------------------------------------------------------ */

static void name_module(struct carve_module *m, const struct carve_target *t)
{
	m->target = *t;
	nm_carve_stem(t->name, t->base, m->stem);
	nm_utf8_sanitize(t->name ? t->name : "(unnamed)", m->display_name, sizeof(m->display_name));
}

static int carve_one(const struct cli *c, const struct carve_request *req, struct carve_module *m,
		     const struct nm_vmem *r, int dirfd, int cmpfd)
{
	struct nm_carve_options opt = { req->keep_stale };

	if (nm_carve_image(r, m->target.base, m->target.size, &opt, &m->cv, &m->error) != 0 ||
	    (dirfd >= 0 && write_files(req, dirfd, m, &m->error) != 0)) {
		cli_error_prefix(c);
		fprintf(stderr, "%s@0x%llx: %s: %s\n", m->display_name, (unsigned long long)m->target.base, m->error.what,
			m->error.why);
		nm_carve_free(&m->cv);
		return -1;
	}
	m->carved = true;
	if (cmpfd >= 0)
		compare_module(c, req, m, cmpfd);
	return 0;
}

/* A module past the run's budget: named in the result, not carved. */
static void refuse_over_budget(const struct cli *c, struct carve_module *m)
{
	nm_fail(&m->error, "carve", "the images of this run would exceed %llu MiB together; not carved",
		MAX_RUN_IMAGE_BYTES >> 20);
	cli_error_prefix(c);
	fprintf(stderr, "%s@0x%llx: carve: %s\n", m->display_name, (unsigned long long)m->target.base, m->error.why);
}

/* A list entry whose base another entry already has: said, not carved
 * twice (its files would be the same image under a second name). */
static void skip_same_base(const struct cli *c, struct carve_module *m)
{
	char other[128];

	nm_utf8_sanitize(m->target.same_base_as, other, sizeof(other));
	m->skipped = true;
	snprintf(m->skipped_why, sizeof(m->skipped_why), "same base as %s, carved once under that name", other);
	if (!c->quiet) {
		cli_error_prefix(c);
		fprintf(stderr, "%s@0x%llx: skipped: %s\n", m->display_name, (unsigned long long)m->target.base,
			m->skipped_why);
	}
}

static int open_compare_dir(const struct carve_request *req)
{
	if (!req->compare_dir)
		return -1;
	return open(req->compare_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int carve_targets(const struct cli *c, struct nm_kernel *k, const struct carve_request *req,
		  const struct carve_target *targets, unsigned ntargets, struct carve_result *result)
{
	struct nm_vmem r = nm_kernel_vmem(k);
	nm_error err = { { 0 }, { 0 } };
	struct progress progress;
	uint64_t image_bytes = 0;
	int dirfd = -1, cmpfd;

	memset(result, 0, sizeof(*result));
	result->out_dir = req->out_dir;
	result->stale_checked = r.stale_checked;
	result->wide = nm_vmem_pointer_size(&r) == 8;
	if (req->out_dir && nm_outdir_open(req->out_dir, &dirfd, &err) != 0) {
		cli_fail_output(req->out_dir, "output", err.why);
		return CLI_EXIT_OUTPUT;
	}
	cmpfd = open_compare_dir(req);
	if (req->compare_dir && cmpfd < 0) {
		int e = errno;

		if (dirfd >= 0)
			close(dirfd);
		return cli_fail_usage("--compare-with %s: cannot open the directory: %s", req->compare_dir,
				      strerror(e));
	}
	result->modules = calloc(ntargets ? ntargets : 1, sizeof(*result->modules));
	if (!result->modules) {
		if (cmpfd >= 0)
			close(cmpfd);
		if (dirfd >= 0)
			close(dirfd);
		return CLI_EXIT_PARTIAL;
	}
	if (!r.stale_checked)
		cli_warn(c, "no usable PFN database: stale (reused) pages cannot be detected");
	progress_start(&progress, c, "carving");
	for (unsigned i = 0; i < ntargets; i++) {
		struct carve_module *m = &result->modules[result->nmodules++];

		progress_update(&progress, i, ntargets, "modules");
		name_module(m, &targets[i]);
		if (targets[i].same_base_as) {
			skip_same_base(c, m);
			result->skipped++;
			continue;
		}
		image_bytes += targets[i].size;
		if (image_bytes > MAX_RUN_IMAGE_BYTES) {
			refuse_over_budget(c, m);
			result->failed++;
		} else if (carve_one(c, req, m, &r, dirfd, cmpfd) == 0) {
			result->carved++;
			result->bytes_recovered += m->cv.total.recovered;
			result->bytes_missing += m->cv.total.missing;
		} else {
			result->failed++;
		}
	}
	progress_end(&progress);
	if (cmpfd >= 0)
		close(cmpfd);
	if (dirfd >= 0)
		close(dirfd);
	return result->failed ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}

void carve_result_free(struct carve_result *r)
{
	for (unsigned i = 0; i < r->nmodules; i++) {
		if (r->modules[i].carved)
			nm_carve_free(&r->modules[i].cv);
		free(r->modules[i].compare.modified);
	}
	free(r->modules);
	memset(r, 0, sizeof(*r));
}
