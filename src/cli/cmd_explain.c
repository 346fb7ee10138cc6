/* Placeholder until the command lands: its owner replaces this file. */
#include <stdio.h>

#include "cli.h"

int cmd_explain(const struct cli *c)
{
	(void)c;
	fprintf(stderr, "ntmem: explain: not implemented yet\n");
	return CLI_EXIT_USAGE;
}
