/* The HTML renderer of a report: one self-contained file (inline SVG and
 * CSS, nothing fetched) with the kernel address space drawn to scale and,
 * per module, a grid of its pages coloured by state. */
#ifndef NTMEM_CLI_REPORT_HTML_H
#define NTMEM_CLI_REPORT_HTML_H

#include <stdio.h>

#include "carve_run.h"
#include "explain.h"

struct report_picture {
	const char *dump_path;
	const struct nm_dump_facts *facts;
	const struct nm_va_map *pools;	/* NULL: no map (no KDBG) */
	const struct carve_result *carve;	/* every module of the list, carved in memory */
	const struct explain *explain;		/* NULL: no bugcheck resolved */
};

/* Writes the page; returns 0, or -1 when F reports a write error. */
int report_write_html(FILE *f, const struct report_picture *p);

#endif
