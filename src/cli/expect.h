/* --expect FILE.json and --jsonl: a command's JSON document compared with a
 * stored one (a CI verdict), or reframed as one compact line per dump. Both
 * run the command as it is, with its stdout caught (capture.h). */
#ifndef NTMEM_CLI_EXPECT_H
#define NTMEM_CLI_EXPECT_H

#include <jansson.h>

#include "cli.h"

#define CLI_EXIT_DIFFERENT 4	/* --expect found a difference */

/* Runs RUN(C) for its JSON and compares it with the document in
 * EXPECT_PATH, keys that change from run to run left out (see expect.c).
 * Each difference is one line on stderr: "ntmem: expect: PATH: expected
 * X, got Y". The document goes to stdout when C->json. Returns the
 * command's status when it produced no document or nothing differs, else
 * CLI_EXIT_DIFFERENT. */
int cli_run_expect(const struct cli *c, int (*run)(const struct cli *), const char *expect_path);

/* Calls REPORT(ctx, line) for each difference between EXPECTED and GOT
 * (volatile keys skipped); returns the number of differences. */
unsigned json_differences(const json_t *expected, const json_t *got,
			  void (*report)(void *ctx, const char *line), void *ctx);

/* Runs RUN once per dump of DUMPS (each as C->dump_path) and prints one
 * compact JSON object per line: the command's document with "file" and
 * "exit" added, or, when it made none, {"file", "exit", "error"} with the
 * error line it printed. Returns the worst exit status. */
int cli_run_jsonl(const struct cli *c, int (*run)(const struct cli *), char **dumps, int ndumps);

#endif
