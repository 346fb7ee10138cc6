/* ntmem read: the page walk lands in the next commit; the dump is already
 * opened and checked so that bad input is refused the contract's way. */
#include <stdio.h>

#include "cli.h"

int cmd_read(const struct cli *c)
{
	nm_source *src;
	int rc = cli_open_memory(c, &src);

	if (rc != CLI_EXIT_OK)
		return rc;
	nm_source_close(src);
	fprintf(stderr, "ntmem: read: not implemented yet\n");
	return CLI_EXIT_USAGE;
}
