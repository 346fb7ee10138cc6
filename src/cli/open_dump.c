#include "cli.h"

int cli_open_source(const struct cli *c, nm_source **src)
{
	nm_error err = { { 0 }, { 0 } };

	if (nm_source_open(c->dump_path, c->raw, src, &err) != 0)
		return cli_fail_input(c, &err);
	return CLI_EXIT_OK;
}

int cli_open_kernel(const struct cli *c, nm_source **src, struct nm_kernel *k)
{
	nm_error err = { { 0 }, { 0 } };
	int rc = cli_open_source(c, src);

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
