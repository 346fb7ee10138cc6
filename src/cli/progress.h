/* A progress line on stderr for work that can take more than a second
 * (carving hundreds of modules): shown only when stderr is a terminal and
 * not with -q, only once the work has run for a second, redrawn at most ten
 * times a second, and erased when the work ends, so that short runs, pipes
 * and logs never see it. The environment variable NTMEM_PROGRESS_DELAY_MS
 * replaces the one-second delay (tests set 0 to see the line at once). */
#ifndef NTMEM_CLI_PROGRESS_H
#define NTMEM_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <ntmem/source.h>

#include "cli.h"

struct progress {
	bool enabled;
	bool shown;			/* a line is on the terminal */
	const char *what;
	int delay_ms;
	struct timespec start, last;
};

void progress_start(struct progress *p, const struct cli *c, const char *what);
/* "carving: 120/460 modules"; DONE of TOTAL UNIT. */
void progress_update(struct progress *p, uint64_t done, uint64_t total, const char *unit);
void progress_end(struct progress *p);
/* OUT, for the layers below the CLI (struct nm_progress), draws on P with
 * the words and units the caller passes. P must outlive OUT's use. */
void progress_bind(struct progress *p, struct nm_progress *out);

#endif
