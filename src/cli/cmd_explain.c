/* ntmem explain DUMP: the bugcheck with each parameter named and resolved,
 * the context record's EIP and ESP, stack words in modules, and what it
 * means (contract: explain). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "explain.h"

/* A dump the header describes but whose memory cannot be translated (a
 * triage dump) still names its bugcheck: that much is done, in part. */
static bool memory_usable(const struct cli *c, int *rc, nm_error *why)
{
	nm_source *src;
	bool usable;

	*rc = cli_open_source(c, &src);
	if (*rc != CLI_EXIT_OK)
		return false;
	usable = nm_kernel_check_usable(nm_source_facts(src), &c->kopt, why) == 0;
	nm_source_close(src);
	return usable;
}

static void print(const struct cli *c, const struct explain *x)
{
	if (c->json) {
		json_t *doc = cli_json_document(c);

		explain_add_json(doc, x);
		cli_json_print(doc);
	} else {
		explain_print(stdout, x);
	}
}

/* Builds and prints X; the view stays open until then because X points
 * into its module list. */
static int explain_and_print(const struct cli *c, struct explain *x, bool *partial)
{
	struct crash_view v;
	nm_error why = { { 0 }, { 0 } };
	nm_source *src;
	int rc;

	if (!memory_usable(c, &rc, &why)) {
		if (rc != CLI_EXIT_OK)
			return rc;
		rc = cli_open_source(c, &src);
		if (rc != CLI_EXIT_OK)
			return rc;
		if (!c->kernel_said)
			cli_warn(c, "%s: %s: %s (the bugcheck parameters are not resolved)", c->dump_path, why.what,
				 why.why);
		explain_build_from_header(nm_source_facts(src), x);
		explain_context64_from_header(src, x);
		print(c, x);
		nm_source_close(src);
		*partial = true;
		return CLI_EXIT_OK;
	}
	rc = crash_view_open(c, &v);
	if (rc != CLI_EXIT_OK)
		return rc;
	explain_build(&v, x);
	print(c, x);
	*partial = x->partial || !v.has_modules;
	crash_view_close(&v);
	return CLI_EXIT_OK;
}

int cmd_explain(const struct cli *c)
{
	struct explain *x;
	bool partial;
	int rc;

	if (c->argc > 0)
		return cli_fail_usage("explain: unexpected argument '%s' (usage: ntmem explain DUMP)",
				      c->argv[0]);
	x = malloc(sizeof(*x));
	if (!x)
		return cli_fail_usage("explain: out of memory");
	rc = explain_and_print(c, x, &partial);
	if (rc == CLI_EXIT_OK && partial)
		rc = CLI_EXIT_PARTIAL;
	free(x);
	return rc;
}
