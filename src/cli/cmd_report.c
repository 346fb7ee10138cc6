/* ntmem report: the main job in one run: info, explain, pools and modules,
 * then, with -o DIR, a carve of every module and DIR/report.json, and with
 * --html FILE a picture of the address space and each module's pages
 * (contract: report).
 *
 * info, explain, pools and modules are produced by their own commands, so
 * the report says exactly what those commands say: in text mode they print
 * one after the other under a heading; for JSON (--json, or report.json)
 * each command's document is caught and placed under the command's name
 * (its "schema", "command" and "ntmem_version" keys dropped). The carve is run once into a
 * carve_result that the text, JSON and HTML renderers all draw from. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "carve_run.h"
#include "crash_view.h"
#include "explain.h"
#include "report_html.h"

#define REPORT_JSON "report.json"

struct report_part {
	const char *name;
	int (*run)(const struct cli *c);
	const char *title;
};

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

/* The part's document without the envelope, or an object saying why not. */
static json_t *part_json(int rc, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *doc = text && len ? json_loadb(text, len, 0, &jerr) : NULL;

	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return json_pack("{s:s, s:i}", "unavailable",
				 rc == CLI_EXIT_USAGE ? "command not available in this build" : "no output",
				 "exit", rc);
	}
	json_object_del(doc, "schema");
	json_object_del(doc, "command");
	json_object_del(doc, "ntmem_version");
	return doc;
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

/* Exit statuses of parts after info: a part refusing the dump (bad input:
 * its line is on stderr) makes the report partial, since info was produced.
 * A part this build does not have (usage status of a placeholder) is marked
 * unavailable in the output and does not change the status: the dump is
 * not at fault. */
static int part_status(int rc)
{
	if (rc == CLI_EXIT_USAGE)
		return CLI_EXIT_OK;
	return rc == CLI_EXIT_BAD_INPUT ? CLI_EXIT_PARTIAL : rc;
}

/* Prints the part as text unless --json; adds its JSON to DOC when there is
 * one (--json or report.json). When both are made, the JSON run is silent:
 * the text run already said what there was to say on stderr. */
static int run_part(const struct cli *c, const struct report_part *p, json_t *doc)
{
	struct cli sub = *c;
	int rc = CLI_EXIT_OK;

	sub.command = p->name;
	sub.argv = NULL;
	sub.argc = 0;
	memset(&sub.opt, 0, sizeof(sub.opt));
	if (!c->json) {
		sub.json = false;
		printf("\n==== %s ====\n", p->title);
		fflush(stdout);
		rc = p->run(&sub);
		fflush(stdout);
		if (rc == CLI_EXIT_USAGE)
			printf("(%s: not available in this build)\n", p->name);
	}
	if (doc) {
		struct captured cap;

		sub.json = true;
		cli_run_captured(&sub, p->run, !c->json, &cap);
		json_object_set_new(doc, p->name, part_json(cap.status, cap.out, cap.out_len));
		if (c->json)
			rc = cap.status;
		captured_free(&cap);
	}
	return rc;
}

/* Every part after info opens the kernel view; why it is unusable, or why
 * it has no KDBG, is said once here rather than once per part. */
static void say_kernel_once(const struct cli *c)
{
	nm_source *src;
	struct nm_kernel k;

	if (cli_open_kernel(c, &src, &k) != CLI_EXIT_OK)
		return;
	nm_kernel_close(&k);
	nm_source_close(src);
}

/* ---- the carve and the picture ---------------------------------------- */

struct report_carve {
	struct crash_view view;
	bool view_open;
	struct carve_result result;
	bool carved;
};

/* Whether the dump has kernel memory this build translates (as explain
 * asks before it resolves anything). */
static bool memory_usable(const struct cli *c)
{
	nm_source *src;
	bool usable;

	if (cli_open_source(c, &src) != CLI_EXIT_OK)
		return false;
	usable = nm_source_facts(src)->max_pfn > 0 && nm_source_facts(src)->arch == NM_ARCH_X86;
	nm_source_close(src);
	return usable;
}

/* Carves every module once (into DIR with -o, else in memory for --html). */
static int carve_all(const struct cli *c, const struct report_args *a, struct report_carve *rc_out)
{
	struct carve_request req = { a->out_dir, NULL, 0, a->force, a->keep_stale };
	struct cli quiet = *c;
	struct carve_target *t;
	unsigned n;
	int rc;

	quiet.quiet = true;	/* the parts above already warned about the list and the map */
	if (!memory_usable(c))	/* and said why there is no memory (triage, 64-bit) */
		return CLI_EXIT_PARTIAL;
	rc = crash_view_open(&quiet, &rc_out->view);
	if (rc != CLI_EXIT_OK)
		return CLI_EXIT_PARTIAL;
	rc_out->view_open = true;
	t = carve_all_targets(&rc_out->view.modules, &n);
	if (!t)
		return CLI_EXIT_PARTIAL;
	rc = carve_targets(c, &rc_out->view.kernel, &req, t, n, &rc_out->result);
	free(t);
	if (rc == CLI_EXIT_USAGE || rc == CLI_EXIT_OUTPUT)
		return CLI_EXIT_USAGE;
	rc_out->carved = true;
	if (!rc_out->view.has_modules || rc_out->view.modules.incomplete)
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
static int write_html(const struct cli *c, const char *path, struct report_carve *rc)
{
	struct explain *x = malloc(sizeof(*x));
	struct report_picture pic = { c->dump_path, nm_source_facts(rc->view.src),
				      rc->view.has_pools ? &rc->view.pools : NULL, &rc->result, x };
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
		explain_build(&rc->view, x);
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
	static const struct report_part parts[] = {
		{ "info", cmd_info, "dump (ntmem info)" },
		{ "explain", cmd_explain, "crash (ntmem explain)" },
		{ "pools", cmd_pools, "kernel address space (ntmem pools)" },
		{ "modules", cmd_modules, "loaded modules (ntmem modules)" },
	};
	struct report_args a;
	struct report_carve carve;
	json_t *doc = NULL;
	int rc = parse_report_args(c, &a), status = CLI_EXIT_OK;
	struct cli quiet = *c;

	quiet.kernel_said = true;

	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->json || a.out_dir)
		doc = cli_json_document(c);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		rc = run_part(&quiet, &parts[i], doc);
		if (i == 0 && rc == CLI_EXIT_BAD_INPUT) {	/* info already said why */
			json_decref(doc);
			return rc;
		}
		if (i == 0)
			say_kernel_once(c);
		status = worst(status, part_status(rc));
	}
	memset(&carve, 0, sizeof(carve));
	if (a.out_dir || a.html) {
		if (!c->json && a.out_dir)
			printf("\n==== carved images (ntmem carve --all) ====\n");
		/* An unusable -o DIR (already named on stderr) is output that
		 * cannot be written: done in part, the parts above stand. */
		rc = carve_all(&quiet, &a, &carve);
		if (rc == CLI_EXIT_USAGE) {
			status = worst(status, CLI_EXIT_PARTIAL);
		} else {
			status = worst(status, rc);
			if (carve.carved && a.out_dir) {
				if (!c->json) {
					carve_print_text(stdout, &carve.result);
					carve_print_summary(stdout, &carve.result);
				}
				json_object_set_new(doc, "carve", carve_json(&carve));
			}
			if (carve.view_open && a.html)
				status = worst(status, write_html(c, a.html, &carve));
			else if (a.html)
				fprintf(stderr, "ntmem: %s: --html %s: not written: the dump has no kernel memory to draw\n",
					c->dump_path, a.html);
		}
	} else if (!c->json) {
		printf("\n(no -o DIR: driver images not carved; `ntmem report DUMP -o DIR` writes them)\n");
	}
	if (a.out_dir && carve.carved)
		status = worst(status, write_report_json(&a, doc));
	if (c->json)
		cli_json_print(doc);
	else
		json_decref(doc);
	carve_result_free(&carve.result);
	if (carve.view_open)
		crash_view_close(&carve.view);
	return status;
}
