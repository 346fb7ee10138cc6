/* Placeholder until the command lands: its owner replaces this file. */
#include <stdio.h>

#include "cli.h"

int cmd_info(const struct cli *c)
{
	(void)c;
	fprintf(stderr, "ntmem: info: not implemented yet\n");
	return CLI_EXIT_USAGE;
}
