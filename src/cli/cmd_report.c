/* ntmem report: the main job in one run: info, explain, pools and modules,
 * then, with -o DIR, a carve of every module and DIR/report.json, and with
 * --html FILE a picture of the address space and each module's pages
 * (contract: report).
 *
 * The dump is opened once: one source, one kernel view, one module list and
 * one address-space map serve every part. Each part is rendered by its own
 * command's renderers (parts.h), so the report says exactly what those
 * commands say: in text mode one after the other under a heading; in JSON
 * (--json, or report.json) each under the command's name. The carve is run
 * once into a carve_result that the text, JSON and HTML renderers all draw
 * from. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carve_run.h"
#include "crash_view.h"
#include "explain.h"
#include "modules_triage.h"
#include "parts.h"
#include "report_html.h"

#define REPORT_JSON "report.json"

struct report_args {
	const char *out_dir;
	const char *html;
	bool force, keep_stale;
};

static int parse_report_args(const struct cli *c, struct report_args *a)
{
	memset(a, 0, sizeof(*a));
	a->out_dir = c->opt.output;
	a->html = c->opt.html;
	a->force = c->opt.force;
	a->keep_stale = c->opt.keep_stale;
	if (c->argc > 0)
		return cli_fail_usage("report: unexpected argument '%s' (see ntmem help report)", c->argv[0]);
	return CLI_EXIT_OK;
}

/* What every part is drawn from: the source, and the kernel view with its
 * module list and map when the dump's memory can be read. */
struct report {
	const struct cli *c;
	nm_source *src;
	struct crash_view view;
	bool view_open;
	nm_error no_view;	/* why there is no view, when !view_open */
	json_t *doc;		/* the JSON report, or NULL when only text is made */
	int status;
};

static int worst(int a, int b)
{
	return a > b ? a : b;
}

/* A part after info that cannot be produced makes the report partial:
 * info was, and the part's line is on stderr. */
static void add_unavailable(struct report *r, const char *part, const char *why)
{
	if (r->doc)
		json_object_set_new(r->doc, part, json_pack("{s:s, s:i}", "unavailable", why,
							   "exit", CLI_EXIT_BAD_INPUT));
	if (!r->c->json)
		printf("(%s: not available: %s)\n", part, why);
	r->status = worst(r->status, CLI_EXIT_PARTIAL);
}

static void heading(const struct report *r, const char *title)
{
	if (!r->c->json)
		printf("\n==== %s ====\n", title);
}

static void add_part(struct report *r, const char *name, json_t *part)
{
	if (r->doc)
		json_object_set_new(r->doc, name, part);
	else
		json_decref(part);
}

static void report_info(struct report *r)
{
	struct nm_kernel *k = r->view_open ? &r->view.kernel : NULL;

	heading(r, "dump (ntmem info)");
	if (!r->c->json)
		info_print_text(r->c, r->src, k);
	if (r->doc) {
		json_t *part = json_object();

		info_add_json(r->c, r->src, k, part);
		add_part(r, "info", part);
	}
}

/* As explain: resolved through the view, or from the header alone when the
 * dump's memory is not usable (a triage dump still names its bugcheck). */
static void report_explain(struct report *r, bool memory_usable)
{
	struct explain *x;
	bool partial;

	heading(r, "crash (ntmem explain)");
	if (memory_usable && !r->view_open) {
		add_unavailable(r, "explain", r->no_view.why);
		return;
	}
	x = malloc(sizeof(*x));
	if (!x) {
		add_unavailable(r, "explain", "out of memory");
		return;
	}
	if (r->view_open) {
		explain_build(&r->view, x);
		partial = x->partial || !r->view.has_modules;
	} else {
		explain_build_from_header(nm_source_facts(r->src), x);
		explain_context64_from_header(r->src, x);
		partial = true;
	}
	if (!r->c->json)
		explain_print(stdout, x);
	if (r->doc) {
		json_t *part = json_object();

		explain_add_json(part, x);
		add_part(r, "explain", part);
	}
	if (partial)
		r->status = worst(r->status, CLI_EXIT_PARTIAL);
	free(x);
}

static void report_pools(struct report *r)
{
	const struct nm_kernel *k = &r->view.kernel;

	heading(r, "kernel address space (ntmem pools)");
	if (!r->view_open) {
		add_unavailable(r, "pools", r->no_view.why);
		return;
	}
	if (k->has_kdbg && !r->view.has_pools) {
		add_unavailable(r, "pools", r->view.pools_error.why);
		return;
	}
	if (!r->c->json)
		pools_print_text(k, &r->view.pools);
	if (r->doc) {
		json_t *part = json_object();

		pools_add_json(part, k, &r->view.pools);
		add_part(r, "pools", part);
	}
	r->status = worst(r->status, pools_warn_and_status(r->c, k, &r->view.pools));
}

/* modules says why the list stopped in the list itself; so does the view
 * when the walk failed outright. */
static void report_modules(struct report *r)
{
	struct cli quiet = *r->c;
	struct nm_module_list none = { 0 };
	const struct nm_module_list *l = &r->view.modules;

	heading(r, "loaded modules (ntmem modules)");
	if (cli_is_triage_dump(r->src)) {
		json_t *part = r->doc ? json_object() : NULL;
		int rc;

		if (!r->c->json)
			cli_modules_triage_render(r->c, r->src, NULL);
		rc = part ? cli_modules_triage_render(&quiet, r->src, part) : CLI_EXIT_OK;
		add_part(r, "modules", part);
		r->status = worst(r->status, rc == CLI_EXIT_BAD_INPUT ? CLI_EXIT_PARTIAL : rc);
		return;
	}
	if (!r->view_open) {
		add_unavailable(r, "modules", r->no_view.why);
		return;
	}
	if (r->view.kernel.has_kdbg && !r->view.has_modules) {
		none.incomplete = true;
		snprintf(none.stop_reason, sizeof(none.stop_reason), "%.60s: %.90s", r->view.modules_error.what,
			 r->view.modules_error.why);
		l = &none;
	}
	if (!r->c->json)
		modules_print_text(&r->view.kernel, l, &r->view.pools);
	if (r->doc) {
		json_t *part = json_object();

		modules_add_json(part, &r->view.kernel, l, &r->view.pools);
		add_part(r, "modules", part);
	}
	quiet.quiet = true;	/* the view said it when it walked the list */
	r->status = worst(r->status, modules_warn_and_status(&quiet, &r->view.kernel, l));
}

/* Opens the kernel view on the report's source; when it cannot be opened,
 * its line is printed once here and the parts that need it say so. Returns
 * whether the dump's memory is usable (as explain decides). */
static bool open_view(struct report *r)
{
	bool usable = nm_kernel_check_usable(nm_source_facts(r->src), &r->c->kopt, &r->no_view) == 0;

	if (crash_view_open_on(r->c, r->src, &r->view) == CLI_EXIT_OK) {
		r->view_open = true;
		return true;
	}
	if (usable)
		nm_fail(&r->no_view, "kernel", "the kernel view did not open (the line above says why)");
	return usable;
}

/* ---- the carve and the picture ---------------------------------------- */

struct report_carve {
	struct carve_result result;
	bool carved;
};

/* Carves every module once (into DIR with -o, else in memory for --html). */
static int carve_all(const struct cli *c, const struct report_args *a, struct crash_view *view,
		     struct report_carve *out)
{
	struct carve_request req = { a->out_dir, NULL, 0, a->force, a->keep_stale };
	struct cli quiet = *c;
	struct carve_target *t;
	unsigned n;
	int rc;

	quiet.quiet = true;	/* the parts above already warned about the list and the map */
	t = carve_all_targets(&view->modules, &n);
	if (!t)
		return CLI_EXIT_PARTIAL;
	rc = carve_targets(&quiet, &view->kernel, &req, t, n, &out->result);
	free(t);
	if (rc == CLI_EXIT_USAGE || rc == CLI_EXIT_BAD_INPUT)
		return CLI_EXIT_PARTIAL;
	out->carved = true;
	if (!view->has_modules || view->modules.incomplete)
		rc = worst(rc, CLI_EXIT_PARTIAL);
	return rc;
}

static json_t *carve_json(const struct report_carve *rc)
{
	return json_pack("{s:s, s:b, s:o}", "output_dir", rc->result.out_dir, "stale_checked",
			 rc->result.stale_checked, "modules", carve_modules_json(&rc->result));
}

/* Writes a file through a temporary name in the same directory, so that a
 * failed write never leaves a partial file under the final name. WRITE gets
 * the open stream; NOREPLACE keeps an existing file (no --force). */
static int write_whole_file(int dirfd, const char *dir_for_msg, const char *name, bool noreplace,
			    int (*write)(FILE *f, const void *ctx), const void *ctx)
{
	char tmpname[64];
	FILE *f;
	int fd, ok;

	snprintf(tmpname, sizeof(tmpname), "ntmem.%ld.partial", (long)getpid());
	fd = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "ntmem: %s/%s: cannot create: %s\n", dir_for_msg, name, strerror(errno));
		return -1;
	}
	ok = write(f, ctx) == 0;
	ok = (fclose(f) == 0) && ok;
	if (ok && renameat2(dirfd, tmpname, dirfd, name, noreplace ? RENAME_NOREPLACE : 0) != 0) {
		fprintf(stderr, "ntmem: %s/%s: %s%s\n", dir_for_msg, name, strerror(errno),
			errno == EEXIST ? " (--force replaces it)" : "");
		ok = 0;
	} else if (!ok) {
		fprintf(stderr, "ntmem: %s/%s: write failed\n", dir_for_msg, name);
	}
	if (!ok)
		unlinkat(dirfd, tmpname, 0);
	return ok ? 0 : -1;
}

static int write_json_doc(FILE *f, const void *doc)
{
	if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		return -1;
	return fputc('\n', f) == EOF ? -1 : 0;
}

static int write_report_json(const struct report_args *a, json_t *doc)
{
	int dirfd = open(a->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (dirfd < 0) {
		fprintf(stderr, "ntmem: %s: cannot open: %s\n", a->out_dir, strerror(errno));
		return CLI_EXIT_PARTIAL;
	}
	rc = write_whole_file(dirfd, a->out_dir, REPORT_JSON, !a->force, write_json_doc, doc);
	close(dirfd);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
}

static int write_html_page(FILE *f, const void *picture)
{
	return report_write_html(f, picture);
}

/* --html FILE: replaced like read -o FILE, but through a temporary name. */
static int write_html(const struct cli *c, const char *path, struct crash_view *view,
		      struct report_carve *rc)
{
	struct explain *x = malloc(sizeof(*x));
	struct report_picture pic = { c->dump_path, nm_source_facts(view->src),
				      view->has_pools ? &view->pools : NULL, &rc->result, x };
	char *dir = strdup(path);
	const char *slash = dir ? strrchr(dir, '/') : NULL;
	const char *name = slash ? slash + 1 : path;
	int dirfd, status;

	if (!x || !dir) {
		free(x);
		free(dir);
		return CLI_EXIT_PARTIAL;
	}
	if (slash)
		dir[slash - dir == 0 ? 1 : slash - dir] = 0;
	dirfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || !*name) {
		fprintf(stderr, "ntmem: %s: cannot write there: %s\n", path, dirfd < 0 ? strerror(errno) : "no file name");
		status = CLI_EXIT_PARTIAL;
	} else {
		explain_build(view, x);
		status = write_whole_file(dirfd, slash ? dir : ".", name, false, write_html_page, &pic) == 0
				 ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
	}
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	free(x);
	return status;
}

int cmd_report(const struct cli *c)
{
	struct report_args a;
	struct report r = { c, NULL, { 0 }, false, { { 0 }, { 0 } }, NULL, CLI_EXIT_OK };
	struct report_carve carve;
	bool memory_usable;
	int rc = parse_report_args(c, &a);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_open_source(c, &r.src);
	if (rc != CLI_EXIT_OK)
		return rc;	/* as info would say it */
	if (c->json || a.out_dir)
		r.doc = cli_json_document(c);
	memory_usable = open_view(&r);
	report_info(&r);
	report_explain(&r, memory_usable);
	report_pools(&r);
	report_modules(&r);
	memset(&carve, 0, sizeof(carve));
	if (a.out_dir || a.html) {
		if (!c->json && a.out_dir)
			printf("\n==== carved images (ntmem carve --all) ====\n");
		/* An unusable -o DIR (already named on stderr) is output that
		 * cannot be written: done in part, the parts above stand. */
		rc = r.view_open ? carve_all(c, &a, &r.view, &carve) : CLI_EXIT_PARTIAL;
		r.status = worst(r.status, rc == CLI_EXIT_OK ? rc : CLI_EXIT_PARTIAL);
		if (carve.carved && a.out_dir) {
			if (!c->json) {
				carve_print_text(stdout, &carve.result);
				carve_print_summary(stdout, &carve.result);
			}
			json_object_set_new(r.doc, "carve", carve_json(&carve));
		}
		if (carve.carved && a.html)
			r.status = worst(r.status, write_html(c, a.html, &r.view, &carve));
		else if (a.html)
			fprintf(stderr, "ntmem: %s: --html %s: not written: the dump has no kernel memory to draw\n",
				c->dump_path, a.html);
	} else if (!c->json) {
		printf("\n(no -o DIR: driver images not carved; `ntmem report DUMP -o DIR` writes them)\n");
	}
	if (a.out_dir && carve.carved)
		r.status = worst(r.status, write_report_json(&a, r.doc));
	if (c->json)
		cli_json_print(r.doc);
	else
		json_decref(r.doc);
	carve_result_free(&carve.result);
	if (r.view_open)
		crash_view_close(&r.view);
	nm_source_close(r.src);
	return r.status;
}
