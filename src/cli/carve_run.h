/* Carving modules for the carve and report commands: the selection, the
 * files, and the result of a run as plain structs that three renderers
 * print (carve_json.c, carve_text.c, report_html.c; docs/carving.md). */
#ifndef NTMEM_CLI_CARVE_RUN_H
#define NTMEM_CLI_CARVE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli.h"

#include <ntmem/carve.h>
#include <ntmem/carve_files.h>
#include <ntmem/reloc.h>

struct carve_request {
	const char *out_dir;		/* NULL: carve in memory only (report --html) */
	const char *compare_dir;	/* --compare-with, or NULL */
	uint8_t fill;
	bool force;
	bool keep_stale;
};

/* One image to carve: a listed module, or an unlisted image at --base. */
struct carve_target {
	const char *name;		/* BaseDllName (UTF-8) or NULL */
	uint64_t base;
	uint32_t size;
	bool listed;
	const char *same_base_as;	/* not carved: another target has this base
					 * (its name, or "unnamed"); named as skipped */
};

/* A range of the carved image that differs from the original file. */
struct carve_modified {
	uint32_t rva_start, rva_end;
	char section[9];
};

/* --compare-with for one module. */
struct carve_compare {
	bool found;			/* a file of that name was in the directory */
	char file[256];
	char error[sizeof(((nm_error *)0)->why)];		/* why it could not be loaded; "" when it was */
	bool has_relocations, relocs_truncated;
	uint64_t relocs_applied;
	struct nm_compare_stats stats;
	unsigned nmodified;
	struct carve_modified *modified;
};

/* One module of a run. cv stays allocated (pages, sections, tallies) until
 * carve_result_free; its page bytes point into the dump and are not used
 * after the run. */
struct carve_module {
	struct carve_target target;
	char display_name[256];		/* valid UTF-8, "(unnamed)" for none */
	char stem[NM_OUTPUT_NAME_MAX + 1];	/* NAME@0xBASE */
	bool carved;			/* false: error says why (or skipped) */
	bool skipped;			/* same base as another target: not carved */
	char skipped_why[200];
	nm_error error;
	bool files_written;		/* out_dir was given */
	bool synthesized_headers;	/* the .pe got made-up headers */
	struct nm_carve cv;
	bool compared;
	struct carve_compare compare;
};

struct carve_result {
	const char *out_dir;
	bool stale_checked;
	bool wide;			/* a 64-bit kernel: bases are printed with 16 digits */
	unsigned nmodules;
	struct carve_module *modules;
	unsigned carved, failed, skipped;	/* skipped: same base as another */
	uint64_t bytes_recovered, bytes_missing;
};

/* Carves every target (into REQ->out_dir when set). Returns CLI_EXIT_OK, or
 * CLI_EXIT_PARTIAL when a module could not be carved or written (the others
 * still are), CLI_EXIT_OUTPUT when the output directory is unusable (its line
 * printed), or CLI_EXIT_USAGE for --compare-with.
 * RESULT is filled in every case; free it with carve_result_free. */
int carve_targets(const struct cli *c, struct nm_kernel *k, const struct carve_request *req,
		  const struct carve_target *targets, unsigned ntargets, struct carve_result *result);
void carve_result_free(struct carve_result *r);

/* The page source of a kernel view (nm_kernel_walk + page bytes). */

/* Every module of the list as targets (caller frees the array). */
struct carve_target *carve_all_targets(const struct nm_module_list *l, unsigned *n);

/* Renderers of one result. */
json_t *carve_modules_json(const struct carve_result *r);	/* the contract's modules[] */
void carve_print_text(FILE *out, const struct carve_result *r);	/* table, holes, reasons */
void carve_print_summary(FILE *out, const struct carve_result *r);	/* "carved N module(s) into DIR" */

/* The state a page is drawn and counted as: "discarded" for a discardable
 * section's freed page, else the page state's name. */
const char *carve_page_class(const struct nm_carve_page *p);

#endif
