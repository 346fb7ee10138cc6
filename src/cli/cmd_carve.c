/* ntmem carve: driver images out of kernel memory, page by page, with a hole
 * map (contract: carve; docs/carving.md). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carve_run.h"

#define MAX_SELECTORS CLI_MAX_ARGS	/* --base VAs that no list entry names */

struct carve_args {
	struct carve_request req;
	const struct cli_command_options *opt;	/* --all, --module, --base */
};

static int parse_args(const struct cli *c, struct carve_args *a)
{
	memset(a, 0, sizeof(*a));
	a->opt = &c->opt;
	a->req.out_dir = c->opt.output;
	a->req.compare_dir = c->opt.compare_with;
	a->req.force = c->opt.force;
	a->req.keep_stale = c->opt.keep_stale;
	a->req.fill = c->opt.has_fill ? c->opt.fill : 0;
	if (c->argc > 0)
		return cli_fail_usage("carve: unexpected argument '%s' (see ntmem help carve)", c->argv[0]);
	if (!a->req.out_dir)
		return cli_fail_usage("carve: -o DIR is required");
	if (!a->opt->all && a->opt->nmodules == 0 && a->opt->nbases == 0)
		return cli_fail_usage("carve: say which modules: --module NAME, --base VA or --all");
	return 0;
}

static bool already_chosen(const struct carve_target *t, unsigned n, uint64_t base)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].base == base)
			return true;
	return false;
}

static void add_target(struct carve_target *t, unsigned *n, const struct nm_module *m)
{
	for (unsigned i = 0; i < *n; i++) {
		if (t[i].base != m->base)
			continue;
		/* A second list entry at a base already chosen: the image is
		 * carved once; this entry is named in the output as skipped. */
		t[*n] = t[i];
		t[*n].name = m->name;
		t[*n].size = m->size;
		t[*n].same_base_as = t[i].name ? t[i].name : "unnamed";
		(*n)++;
		return;
	}
	t[*n].name = m->name;
	t[*n].base = m->base;
	t[*n].size = m->size;
	t[*n].listed = true;
	(*n)++;
}

/* An image at VA that no list entry names (an unlinked driver): carved with
 * its own header's SizeOfImage when its header page parses. */
static int add_unlisted(struct nm_kernel *k, uint64_t va, struct carve_target *t, unsigned *n)
{
	struct nm_walk w;
	struct nm_pe_image pe;
	nm_error err;
	const uint8_t *page;

	nm_kernel_walk(k, va, &w);
	page = nm_page_state_readable(w.state) ? nm_xlat_page_bytes(k->xlat, &w) : NULL;
	if ((va & 0xFFFu) != 0 || !page || nm_pe_parse(page, NM_PAGE_SIZE, &pe, &err) != 0)
		return -1;
	t[*n].name = "unlisted";
	t[*n].base = va;
	t[*n].size = pe.size_of_image;
	t[*n].listed = false;
	(*n)++;
	return 0;
}

/* "npf" for "npf.sys", "ntfs.sy" for "Ntfs.sys": the listed name meant. */
static const char *nearest_module(const struct nm_module_list *l, const char *typed)
{
	const char **names = calloc(l->count + 1, sizeof(*names));
	const char *near;

	if (!names)
		return NULL;
	for (unsigned i = 0; i < l->count; i++)
		names[i] = l->items[i].name;
	near = cli_nearest(typed, names, l->count);
	free(names);
	return near;
}

static int select_targets(const struct cli *c, struct nm_kernel *k, const struct carve_args *a,
			  const struct nm_module_list *l, struct carve_target *t, unsigned *n)
{
	int rc = CLI_EXIT_OK;

	*n = 0;
	for (unsigned i = 0; i < l->count; i++) {
		const struct nm_module *m = &l->items[i];
		bool chosen = a->opt->all;

		for (unsigned j = 0; j < a->opt->nmodules && !chosen; j++)
			chosen = m->name && strcasecmp(m->name, a->opt->modules[j]) == 0;
		for (unsigned j = 0; j < a->opt->nbases && !chosen; j++)
			chosen = m->base == a->opt->bases[j];
		if (chosen)
			add_target(t, n, m);
	}
	for (unsigned j = 0; j < a->opt->nmodules; j++) {
		bool found = false;

		for (unsigned i = 0; i < l->count && !found; i++)
			found = l->items[i].name && strcasecmp(l->items[i].name, a->opt->modules[j]) == 0;
		if (!found) {
			const char *near = nearest_module(l, a->opt->modules[j]);

			cli_error_prefix(c);
			fprintf(stderr, "module '%s' is not in the module list%s%s%s\n",
				a->opt->modules[j], near ? " (did you mean '" : "", near ? near : "",
				near ? "'?)" : "");
			rc = CLI_EXIT_PARTIAL;
		}
	}
	for (unsigned j = 0; j < a->opt->nbases; j++) {
		if (already_chosen(t, *n, a->opt->bases[j]))
			continue;
		if (add_unlisted(k, a->opt->bases[j], t, n) != 0) {
			cli_error_prefix(c);
			fprintf(stderr, "no module and no readable PE header at 0x%llx\n",
				(unsigned long long)a->opt->bases[j]);
			rc = CLI_EXIT_PARTIAL;
		}
	}
	return rc;
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

static int run_carve(const struct cli *c, struct nm_kernel *k, const struct carve_args *a)
{
	struct nm_module_list l = { 0 };
	nm_error err = { { 0 }, { 0 } };
	struct carve_target *t;
	struct carve_result res;
	unsigned n;
	int rc = CLI_EXIT_OK, rc2;

	/* A list that cannot be read, or ends early, leaves --all short of
	 * modules (exit 3); named selections fail only when not found. */
	if (nm_modules_read(k, &l, &err) != 0) {
		cli_error_prefix(c);
		fprintf(stderr, "%s: %s\n", err.what, err.why);
		rc = a->opt->all ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
	} else if (l.incomplete) {
		cli_warn(c, "module list incomplete: %s", l.stop_reason);
		rc = a->opt->all ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
	}
	t = calloc(l.count + MAX_SELECTORS + 1, sizeof(*t));
	if (!t) {
		nm_modules_free(&l);
		return CLI_EXIT_PARTIAL;
	}
	rc = worst(rc, select_targets(c, k, a, &l, t, &n));
	rc2 = carve_targets(c, k, &a->req, t, n, &res);
	if (rc2 == CLI_EXIT_USAGE || rc2 == CLI_EXIT_OUTPUT) {
		rc = rc2;
	} else {
		rc = worst(rc, rc2);
		if (c->json) {
			json_t *doc = cli_json_document(c);

			cli_json_set_path(doc, "output_dir", a->req.out_dir);
			json_object_set_new(doc, "stale_checked", json_boolean(res.stale_checked));
			json_object_set_new(doc, "pfn_checked", json_boolean(res.stale_checked));	/* pte's name */
			cli_pagefiles_json(c, doc);
			json_object_set_new(doc, "modules", carve_modules_json(&res));
			cli_json_print(doc);
		} else {
			carve_print_text(stdout, &res);
			carve_print_summary(stdout, &res);
		}
	}
	carve_result_free(&res);
	free(t);
	nm_modules_free(&l);
	return rc;
}

int cmd_carve(const struct cli *c)
{
	struct carve_args *a = calloc(1, sizeof(*a));
	nm_source *src = NULL;
	struct nm_kernel k;
	int rc;

	if (!a)
		return CLI_EXIT_PARTIAL;
	rc = parse_args(c, a);
	if (rc == 0)
		rc = cli_open_kernel(c, &src, &k);
	if (rc == 0) {
		rc = run_carve(c, &k, a);
		nm_kernel_close(&k);
		nm_source_close(src);
	}
	free(a);
	return rc;
}
