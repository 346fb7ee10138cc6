/* modules on a triage dump: the dump's own driver list. */
#ifndef NTMEM_CLI_MODULES_TRIAGE_H
#define NTMEM_CLI_MODULES_TRIAGE_H

#include <stdbool.h>

#include "cli.h"

/* When DUMP is a triage dump, prints its driver list and sets *HANDLED;
 * otherwise *HANDLED is false and nothing is printed (returns 0). */
int cli_modules_from_triage(const struct cli *c, bool *handled);

#endif
