/* JSON and text of a resolved address and of a PFN result, shared by pfn,
 * explain and report (contract: "resolved" and the pfn result object). */
#ifndef NTMEM_CLI_RESOLVED_OUTPUT_H
#define NTMEM_CLI_RESOLVED_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <ntmem/resolve.h>

#include "cli.h"

/* A PFN looked up: the database entry and where its PteAddress leads. */
struct pfn_result {
	struct nm_pfn_entry entry;
	bool has_database;		/* false: the dump gave no MmPfnDatabase */
	const struct nm_self_map *self_map;
	struct nm_pfn_owner owner;
};

/* Reads PFN's entry and follows it; false when what was asked for could not
 * be produced (out of range, entry unreadable, no database, PTE nowhere). */
bool pfn_result_read(struct nm_kernel *k, struct nm_resolver *r, uint64_t pfn,
		     struct pfn_result *out);

/* "entry_state" of the contract: a page state, "out_of_range" or "no_database". */
const char *pfn_result_entry_state(const struct pfn_result *p);

json_t *resolved_json(const struct nm_resolved *r);
json_t *pfn_result_json(const struct pfn_result *p);

/* "srv.sys+0x1234 (section .text, nonpaged)" or "region paged_pool" or "no module". */
void resolved_where_text(const struct nm_resolved *r, char *buf, size_t len);
/* One or two indented lines describing R / P. */
void resolved_print(FILE *f, const char *indent, const struct nm_resolved *r);
void pfn_result_print(FILE *f, const char *indent, const struct pfn_result *p);

#endif
