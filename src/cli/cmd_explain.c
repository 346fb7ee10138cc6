/* ntmem explain DUMP: the bugcheck with each parameter named and resolved,
 * the context record's EIP and ESP, stack words in modules, and what it
 * means (contract: explain). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "explain.h"

int cmd_explain(const struct cli *c)
{
	struct crash_view v;
	struct explain *x;
	bool partial;
	int rc;

	if (c->argc > 0)
		return cli_fail_usage("explain: unexpected argument '%s' (usage: ntmem explain DUMP)",
				      c->argv[0]);
	rc = crash_view_open(c, &v);
	if (rc != CLI_EXIT_OK)
		return rc;
	x = malloc(sizeof(*x));
	if (!x) {
		crash_view_close(&v);
		return cli_fail_usage("explain: out of memory");
	}
	explain_build(&v, x);
	if (c->json) {
		json_t *doc = cli_json_document(c);

		explain_add_json(doc, x);
		cli_json_print(doc);
	} else {
		explain_print(stdout, x);
	}
	partial = x->partial || !v.has_modules;
	free(x);
	crash_view_close(&v);
	return partial ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}
