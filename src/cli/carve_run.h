/* Carving modules for the carve and report commands: the selection, the
 * files, the JSON objects and the text summary (docs/carving.md). */
#ifndef NTMEM_CLI_CARVE_RUN_H
#define NTMEM_CLI_CARVE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli.h"

#include <ntmem/carve.h>

struct carve_request {
	const char *out_dir;
	const char *compare_dir;	/* --compare-with, or NULL */
	uint8_t fill;
	bool force;
	bool keep_stale;
};

/* One image to carve: a listed module, or an unlisted image at --base. */
struct carve_target {
	const char *name;		/* BaseDllName (UTF-8) or NULL */
	uint32_t base, size;
	bool listed;
};

/* What a run produced, for the caller's document. */
struct carve_outcome {
	json_t *modules;		/* the contract's modules[] */
	unsigned carved, failed;
	uint64_t bytes_recovered, bytes_missing;
};

/* Carves every target into REQ->out_dir. Returns CLI_EXIT_OK, or
 * CLI_EXIT_PARTIAL when a module could not be carved or written (the others
 * still are), or CLI_EXIT_USAGE when the output directory is unusable.
 * Text output (unless --json) goes to OUT. */
int carve_targets(const struct cli *c, struct nm_kernel *k, const struct carve_request *req,
		  const struct carve_target *targets, unsigned ntargets, FILE *out,
		  struct carve_outcome *outcome);

/* The page source of a kernel view (nm_kernel_walk + page bytes). */
struct nm_page_reader carve_kernel_reader(struct nm_kernel *k);

/* Every module of the list as targets (caller frees the array). */
struct carve_target *carve_all_targets(const struct nm_module_list *l, unsigned *n);

#endif
