/* Running a command with its standard output (and, on request, its standard
 * error) caught in memory: report gathers its parts' JSON this way, and
 * --expect and --jsonl compare or reframe a command's document. */
#ifndef NTMEM_CLI_CAPTURE_H
#define NTMEM_CLI_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct captured {
	int status;			/* the command's exit status */
	char *out;			/* its stdout (NUL-terminated; NULL when nothing) */
	size_t out_len;
	char *err;			/* its stderr when caught, else NULL */
	size_t err_len;
};

/* Runs RUN(SUB). With CATCH_STDERR, stderr is caught too (and not shown).
 * A capture that cannot be set up is status CLI_EXIT_PARTIAL with nothing
 * caught. Free with captured_free. */
void cli_run_captured(const struct cli *sub, int (*run)(const struct cli *), bool catch_stderr,
		      struct captured *out);
void captured_free(struct captured *c);

#endif
