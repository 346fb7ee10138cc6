/* Errors that end a command: what was at fault and why, for the one-line
 * message of the contract ("ntmem: FILE: WHAT: WHY"). */
#ifndef NTMEM_ERROR_H
#define NTMEM_ERROR_H

#include <stdarg.h>

typedef struct nm_error {
	char what[128];	/* the field or file offset at fault, e.g. "header.NumberOfRuns" */
	char why[256];	/* what is wrong with it */
} nm_error;

/* Fills err (when not NULL) and returns -1, so that callers can write
 * "return nm_fail(err, "header.DumpType", "value %u is not known", v);". */
int nm_fail(nm_error *err, const char *what, const char *why_fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
