#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "progress.h"

#define PROGRESS_DELAY_MS 1000
#define PROGRESS_PERIOD_MS 100

static int64_t ms_between(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

void progress_start(struct progress *p, const struct cli *c, const char *what)
{
	const char *delay = getenv("NTMEM_PROGRESS_DELAY_MS");

	p->enabled = !c->quiet && isatty(STDERR_FILENO);
	p->delay_ms = delay && *delay ? atoi(delay) : PROGRESS_DELAY_MS;
	p->shown = false;
	p->what = what;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

void progress_update(struct progress *p, uint64_t done, uint64_t total, const char *unit)
{
	struct timespec now;

	if (!p->enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ms_between(&p->start, &now) < p->delay_ms ||
	    (p->shown && ms_between(&p->last, &now) < PROGRESS_PERIOD_MS))
		return;
	p->last = now;
	p->shown = true;
	fprintf(stderr, "\r\033[Kntmem: %s: %llu/%llu %s", p->what, (unsigned long long)done,
		(unsigned long long)total, unit);
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

static void from_below(void *ctx, const char *what, uint64_t done, uint64_t total, const char *unit)
{
	struct progress *p = ctx;

	p->what = what;
	progress_update(p, done, total, unit);
}

void progress_bind(struct progress *p, struct nm_progress *out)
{
	out->update = from_below;
	out->ctx = p;
}
