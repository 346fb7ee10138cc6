/* ntmem pte DUMP VA...: the page walk of each VA, every entry's physical
 * address and raw value, and the decoded final state. */
#include <stdio.h>

#include "cli.h"

static int parse_vas(const struct cli *c, uint64_t *vas)
{
	if (c->argc == 0)
		return cli_fail_usage("pte: no VA given (usage: ntmem pte DUMP VA...)");
	for (int i = 0; i < c->argc; i++) {
		if (cli_parse_number(c->argv[i], &vas[i]) != 0)
			return cli_fail_usage("pte: '%s' is not a number", c->argv[i]);
	}
	return CLI_EXIT_OK;
}

/* Each VA must be an address of the dump's paging mode (x86: 32 bits;
 * x64: canonical). */
static int check_vas(const struct cli *c, const struct nm_paging_mode *mode, const uint64_t *vas)
{
	for (int i = 0; i < c->argc; i++)
		if (!nm_mode_va_canonical(mode, vas[i]))
			return cli_fail_usage("pte: %s is not an address of this %s dump%s", c->argv[i],
					      mode->name, mode->va_bits == 32 ? " (not a 32-bit address)" : "");
	return CLI_EXIT_OK;
}

static void print_walk(const struct nm_pagefiles *pf, const struct nm_walk *w)
{
	char what[160];

	cli_walk_describe(pf, w, what, sizeof(what));
	printf("VA 0x%08llx: %s\n", (unsigned long long)w->va, what);
	for (unsigned i = 0; i < w->nentries; i++)
		printf("  %-5s at 0x%09llx = 0x%llx\n", nm_paging_level_name(w->entries[i].level),
		       (unsigned long long)w->entries[i].address, (unsigned long long)w->entries[i].value);
	if (w->state == NM_PAGE_PROTOTYPE && w->proto_resolved)
		printf("  proto at 0x%08llx = 0x%llx\n", (unsigned long long)w->sw.proto_address,
		       (unsigned long long)w->proto_pte);
}

int cmd_pte(const struct cli *c)
{
	uint64_t vas[CLI_MAX_ARGS];
	struct cli_memory m;
	json_t *doc = NULL, *results = NULL;
	int rc = parse_vas(c, vas);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_open_memory(c, &m);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = check_vas(c, m.kernel.mode, vas);
	if (rc != CLI_EXIT_OK) {
		cli_close_memory(&m);
		return rc;
	}
	if (c->json) {
		doc = cli_json_document(c);
		results = json_array();
		json_object_set_new(doc, "pfn_checked", json_boolean(m.pfn_checked));
		json_object_set_new(doc, "stale_checked", json_boolean(m.pfn_checked));	/* carve's name */
		cli_pagefiles_json(c, doc);
	}
	for (int i = 0; i < c->argc; i++) {
		struct nm_walk w;

		cli_memory_walk(&m, vas[i], &w);
		if (c->json)
			json_array_append_new(results, cli_walk_json(m.kernel.pagefiles, &w));
		else
			print_walk(m.kernel.pagefiles, &w);
	}
	if (c->json) {
		json_object_set_new(doc, "results", results);
		cli_json_print(doc);
	}
	cli_close_memory(&m);
	return CLI_EXIT_OK;
}
