/* --pagefile [N=]FILE: the paging files a command reads paged-out pages
 * from (pagefile.h). Specs are read with the options; the files are opened
 * once, before the command runs, and closed after it. */
#include <stdio.h>

#include "cli.h"

int cli_pagefile_spec(struct cli *c, const char *value)
{
	nm_error err = { { 0 }, { 0 } };
	unsigned number;
	const char *path;

	if (nm_pagefile_parse_spec(value, &number, &path, &err) != 0)
		return cli_fail_usage("--pagefile: %s", err.why);
	for (unsigned i = 0; i < c->npagefile_specs; i++)
		if (c->pagefile_numbers[i] == number)
			return cli_fail_usage("--pagefile: paging file %u given twice", number);
	if (c->npagefile_specs >= NM_PAGEFILES_MAX)
		return cli_fail_usage("--pagefile: at most %u paging files", NM_PAGEFILES_MAX);
	c->pagefile_numbers[c->npagefile_specs] = number;
	c->pagefile_paths[c->npagefile_specs] = path;
	c->npagefile_specs++;
	return CLI_EXIT_OK;
}

int cli_open_pagefiles(struct cli *c)
{
	nm_error err = { { 0 }, { 0 } };

	for (unsigned i = 0; i < c->npagefile_specs; i++) {
		if (nm_pagefiles_add(&c->pagefiles, c->pagefile_numbers[i], c->pagefile_paths[i], &err) != 0) {
			fputs("ntmem: ", stderr);
			cli_put_path(stderr, c->pagefile_paths[i]);
			fprintf(stderr, ": %s: %s\n", err.what, err.why);
			nm_pagefiles_close(&c->pagefiles);
			return CLI_EXIT_BAD_INPUT;
		}
	}
	c->kopt.pagefiles = c->npagefile_specs ? &c->pagefiles : NULL;
	return CLI_EXIT_OK;
}

void cli_close_pagefiles(struct cli *c)
{
	nm_pagefiles_close(&c->pagefiles);
	c->kopt.pagefiles = NULL;
}

void cli_pagefiles_json(const struct cli *c, json_t *doc)
{
	const struct nm_pagefiles *pf = c->kopt.pagefiles;
	json_t *a;

	if (!pf)
		return;
	a = json_array();
	for (unsigned n = 0; n < NM_PAGEFILE_NUMBERS; n++) {
		json_t *o;

		if (!pf->given[n])
			continue;
		o = json_pack("{s:I, s:I}", "number", (json_int_t)n, "size", (json_int_t)pf->file[n].size);
		cli_json_set_path(o, "file", pf->file[n].path);
		json_array_append_new(a, o);
	}
	json_object_set_new(doc, "pagefiles", a);
}
