#include "cli.h"

/* The kernel layer (src/nt/) lands separately; until it is linked in, the
 * commands that need it say so instead of the build failing. */
#pragma weak nm_kernel_open

int cli_open_source(const struct cli *c, nm_source **src)
{
	nm_error err = { { 0 }, { 0 } };

	if (nm_source_open(c->dump_path, c->raw, src, &err) != 0)
		return cli_fail_input(c, &err);
	return CLI_EXIT_OK;
}

int cli_open_memory(const struct cli *c, nm_source **src)
{
	nm_error err = { { 0 }, { 0 } };
	const struct nm_dump_facts *f;
	int rc = cli_open_source(c, src);

	if (rc != CLI_EXIT_OK)
		return rc;
	f = nm_source_facts(*src);
	if (f->max_pfn == 0) {
		nm_fail(&err, "dump", "dump holds no physical memory this command can use (%s %s dump)",
			nm_arch_name(f->arch), nm_dump_type_name(f->type));
		nm_source_close(*src);
		*src = NULL;
		return cli_fail_input(c, &err);
	}
	return CLI_EXIT_OK;
}

int cli_open_kernel(const struct cli *c, nm_source **src, struct nm_kernel *k)
{
	nm_error err = { { 0 }, { 0 } };
	int rc;

	if (!nm_kernel_open) {
		nm_fail(&err, "kernel", "this build of ntmem has no kernel layer");
		return cli_fail_input(c, &err);
	}
	rc = cli_open_source(c, src);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (nm_kernel_open(*src, &c->kopt, k, &err) != 0) {
		nm_source_close(*src);
		*src = NULL;
		return cli_fail_input(c, &err);
	}
	if (!k->has_kdbg)
		cli_warn(c, "%s: %s", k->kdbg_error.what, k->kdbg_error.why);
	return CLI_EXIT_OK;
}
