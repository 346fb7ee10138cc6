/* ntmem pfn DUMP PFN...: the PFN database entry of each frame and the owner
 * of the page it backs (contract: pfn). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "crash_view.h"
#include "resolved_output.h"

static int parse_pfns(const struct cli *c, uint64_t *pfns)
{
	if (c->argc < 1)
		return cli_fail_usage("pfn: no PFN given (usage: ntmem pfn DUMP PFN...)");
	for (int i = 0; i < c->argc; i++)
		if (cli_parse_number(c->argv[i], &pfns[i]) != 0)
			return cli_fail_usage("pfn: '%s' is not a number", c->argv[i]);
	return CLI_EXIT_OK;
}

static void print_json(const struct cli *c, const struct pfn_result *res, int n)
{
	json_t *doc = cli_json_document(c);
	json_t *results = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(results, pfn_result_json(&res[i]));
	json_object_set_new(doc, "results", results);
	cli_json_print(doc);
}

int cmd_pfn(const struct cli *c)
{
	uint64_t pfns[CLI_MAX_ARGS];
	struct pfn_result *res;
	struct crash_view v;
	bool partial = false;
	int rc = parse_pfns(c, pfns);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = crash_view_open(c, &v);
	if (rc != CLI_EXIT_OK)
		return rc;
	res = calloc((size_t)c->argc, sizeof(*res));
	if (!res) {
		crash_view_close(&v);
		return cli_fail_usage("pfn: out of memory");
	}
	partial = !v.has_modules;
	if (!v.kernel.has_pfn_database)
		cli_warn(c, "pfn: the dump gives no PFN database (MmPfnDatabase)");
	for (int i = 0; i < c->argc; i++)
		if (!pfn_result_read(&v.kernel, &v.resolver, pfns[i], &res[i]))
			partial = true;
	if (c->json)
		print_json(c, res, c->argc);
	else
		for (int i = 0; i < c->argc; i++)
			pfn_result_print(stdout, "", &res[i]);
	free(res);
	crash_view_close(&v);
	return partial ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}
