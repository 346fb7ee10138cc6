/* The bugcheck named and its parameters labelled, for info (the table:
 * include/ntmem/bugcheck.h). */
#ifndef NTMEM_CLI_BUGCHECK_OUTPUT_H
#define NTMEM_CLI_BUGCHECK_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

#include <ntmem/bugcheck.h>

#include "cli.h"

/* {code, name, summary, cause, params: [{index, value, meaning, kind}]}. */
json_t *bugcheck_labels_json(const struct nm_dump_facts *f);
/* "  name:  PFN_LIST_CORRUPT" and one "  ArgN: value  meaning" line each. */
void bugcheck_labels_print(FILE *out, const struct nm_dump_facts *f);
/* Hex digits of a parameter in text: 16 on 64-bit machines (the header's
 * parameters are 64-bit there, as WinDbg prints them), 8 on x86. */
int bugcheck_param_width(const struct nm_dump_facts *f);

#endif
