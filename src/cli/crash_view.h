/* What pfn and explain (and report) need open at once: the dump, the kernel
 * view, the module list, the pool map, and a resolver over all of them. */
#ifndef NTMEM_CLI_CRASH_VIEW_H
#define NTMEM_CLI_CRASH_VIEW_H

#include <stdbool.h>

#include <ntmem/resolve.h>

#include "cli.h"

struct crash_view {
	nm_source *src;
	bool owns_src;		/* false: crash_view_open_on borrowed it */
	struct nm_kernel kernel;
	bool kernel_open;
	bool has_modules;
	struct nm_module_list modules;
	nm_error modules_error;	/* why there is no list, when !has_modules */
	bool has_pools;
	struct nm_va_map pools;
	nm_error pools_error;	/* why there is no map, when !has_pools */
	struct nm_resolver resolver;
	bool resolver_ready;
	bool partial;		/* modules or pools missing or incomplete: exit 3 */
};

/* Opens everything; returns CLI_EXIT_OK or the exit status of a fatal error
 * (already printed). Missing modules or pools are warnings and set partial. */
int crash_view_open(const struct cli *c, struct crash_view *v);
/* The same on SRC, which stays the caller's (closed after the view). */
int crash_view_open_on(const struct cli *c, nm_source *src, struct crash_view *v);
void crash_view_close(struct crash_view *v);

#endif
