/* modules on a triage dump: the dump's own driver list. */
#ifndef NTMEM_CLI_MODULES_TRIAGE_H
#define NTMEM_CLI_MODULES_TRIAGE_H

#include <stdbool.h>

#include "cli.h"

/* When DUMP is a triage dump, prints its driver list and sets *HANDLED;
 * otherwise *HANDLED is false and nothing is printed (returns 0). */
int cli_modules_from_triage(const struct cli *c, bool *handled);

/* Whether SRC is a Windows triage dump (its modules are its driver list). */
bool cli_is_triage_dump(const nm_source *src);

/* The driver list of the triage dump SRC into DOC, or as text when DOC is
 * NULL; returns the exit status (bad input already said). */
int cli_modules_triage_render(const struct cli *c, const nm_source *src, json_t *doc);

#endif
