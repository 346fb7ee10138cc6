/* ntmem carve: driver images out of kernel memory, page by page, with a hole
 * map (contract: carve; docs/carving.md). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carve_run.h"

#define MAX_SELECTORS CLI_MAX_ARGS

struct carve_args {
	struct carve_request req;
	bool all;
	unsigned nnames, nbases;
	const char *names[MAX_SELECTORS];
	uint32_t bases[MAX_SELECTORS];
};

static int take_value(const struct cli *c, int *i, const char **value)
{
	if (*i + 1 >= c->argc)
		return cli_fail_usage("carve: %s needs a value", c->argv[*i]);
	*value = c->argv[++*i];
	return 0;
}

static int take_number(const struct cli *c, int *i, uint64_t max, uint64_t *v)
{
	const char *s = NULL;

	if (take_value(c, i, &s) != 0)
		return CLI_EXIT_USAGE;
	if (cli_parse_number(s, v) != 0 || *v > max)
		return cli_fail_usage("carve: %s: '%s' is not a number up to 0x%llx", c->argv[*i - 1], s,
				      (unsigned long long)max);
	return 0;
}

static int parse_option(const struct cli *c, int *i, struct carve_args *a)
{
	const char *opt = c->argv[*i];
	uint64_t v;

	if (strcmp(opt, "--all") == 0)
		a->all = true;
	else if (strcmp(opt, "--force") == 0)
		a->req.force = true;
	else if (strcmp(opt, "--keep-stale") == 0)
		a->req.keep_stale = true;
	else if (strcmp(opt, "-o") == 0)
		return take_value(c, i, &a->req.out_dir);
	else if (strcmp(opt, "--compare-with") == 0)
		return take_value(c, i, &a->req.compare_dir);
	else if (strcmp(opt, "--module") == 0)
		return take_value(c, i, &a->names[a->nnames++]);
	else if (strcmp(opt, "--fill") == 0) {
		if (take_number(c, i, 0xFF, &v) != 0)
			return CLI_EXIT_USAGE;
		a->req.fill = (uint8_t)v;
	} else if (strcmp(opt, "--base") == 0) {
		if (take_number(c, i, 0xFFFFFFFFu, &v) != 0)
			return CLI_EXIT_USAGE;
		a->bases[a->nbases++] = (uint32_t)v;
	} else {
		return cli_fail_usage("carve: unknown argument '%s'", opt);
	}
	return 0;
}

static int parse_args(const struct cli *c, struct carve_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < c->argc; i++)
		if (parse_option(c, &i, a) != 0)
			return CLI_EXIT_USAGE;
	if (!a->req.out_dir)
		return cli_fail_usage("carve: -o DIR is required");
	if (!a->all && a->nnames == 0 && a->nbases == 0)
		return cli_fail_usage("carve: say which modules: --module NAME, --base VA or --all");
	return 0;
}

static bool already_chosen(const struct carve_target *t, unsigned n, uint32_t base)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].base == base)
			return true;
	return false;
}

static void add_target(struct carve_target *t, unsigned *n, const struct nm_module *m)
{
	if (already_chosen(t, *n, m->base))
		return;
	t[*n].name = m->name;
	t[*n].base = m->base;
	t[*n].size = m->size;
	t[*n].listed = true;
	(*n)++;
}

/* An image at VA that no list entry names (an unlinked driver): carved with
 * its own header's SizeOfImage when its header page parses. */
static int add_unlisted(struct nm_kernel *k, uint32_t va, struct carve_target *t, unsigned *n)
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

static int select_targets(const struct cli *c, struct nm_kernel *k, const struct carve_args *a,
			  const struct nm_module_list *l, struct carve_target *t, unsigned *n)
{
	int rc = CLI_EXIT_OK;

	*n = 0;
	for (unsigned i = 0; i < l->count; i++) {
		const struct nm_module *m = &l->items[i];
		bool chosen = a->all;

		for (unsigned j = 0; j < a->nnames && !chosen; j++)
			chosen = m->name && strcasecmp(m->name, a->names[j]) == 0;
		for (unsigned j = 0; j < a->nbases && !chosen; j++)
			chosen = m->base == a->bases[j];
		if (chosen)
			add_target(t, n, m);
	}
	for (unsigned j = 0; j < a->nnames; j++) {
		bool found = false;

		for (unsigned i = 0; i < l->count && !found; i++)
			found = l->items[i].name && strcasecmp(l->items[i].name, a->names[j]) == 0;
		if (!found) {
			fprintf(stderr, "ntmem: %s: module '%s' is not in the module list\n", c->dump_path,
				a->names[j]);
			rc = CLI_EXIT_PARTIAL;
		}
	}
	for (unsigned j = 0; j < a->nbases; j++) {
		if (already_chosen(t, *n, a->bases[j]))
			continue;
		if (add_unlisted(k, a->bases[j], t, n) != 0) {
			fprintf(stderr, "ntmem: %s: no module and no readable PE header at 0x%x\n", c->dump_path,
				a->bases[j]);
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
	struct carve_outcome o;
	unsigned n;
	int rc = CLI_EXIT_OK, rc2;

	/* A list that cannot be read, or ends early, leaves --all short of
	 * modules (exit 3); named selections fail only when not found. */
	if (nm_modules_read(k, &l, &err) != 0) {
		fprintf(stderr, "ntmem: %s: %s: %s\n", c->dump_path, err.what, err.why);
		rc = a->all ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
	} else if (l.incomplete) {
		cli_warn(c, "module list incomplete: %s", l.stop_reason);
		rc = a->all ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
	}
	t = calloc(l.count + MAX_SELECTORS + 1, sizeof(*t));
	if (!t) {
		nm_modules_free(&l);
		return CLI_EXIT_PARTIAL;
	}
	rc = worst(rc, select_targets(c, k, a, &l, t, &n));
	rc2 = carve_targets(c, k, &a->req, t, n, c->json ? NULL : stdout, &o);
	if (rc2 == CLI_EXIT_USAGE) {
		rc = rc2;
	} else {
		rc = worst(rc, rc2);
		if (c->json) {
			json_t *doc = cli_json_document(c);

			json_object_set_new(doc, "output_dir", json_string(a->req.out_dir));
			json_object_set_new(doc, "stale_checked", json_boolean(k->has_pfn_database));
			json_object_set_new(doc, "modules", o.modules);
			cli_json_print(doc);
		} else {
			printf("carved %u module(s) into %s: %llu bytes recovered, %llu missing%s\n", o.carved,
			       a->req.out_dir, (unsigned long long)o.bytes_recovered,
			       (unsigned long long)o.bytes_missing, o.failed ? " (some modules failed: see above)" : "");
			json_decref(o.modules);
		}
	}
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
