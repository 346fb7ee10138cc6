#include "crash_view.h"

#include <string.h>

static void load_modules(const struct cli *c, struct crash_view *v)
{
	nm_error *err = &v->modules_error;

	if (nm_modules_read(&v->kernel, &v->modules, err) != 0) {
		cli_warn(c, "modules: %s: %s", err->what, err->why);
		v->partial = true;
		return;
	}
	v->has_modules = true;
	if (v->modules.incomplete) {
		cli_warn(c, "modules: list incomplete: %s", v->modules.stop_reason);
		v->partial = true;
	}
}

static void load_pools(const struct cli *c, struct crash_view *v)
{
	nm_error *err = &v->pools_error;

	if (nm_va_map_read(&v->kernel, v->has_modules ? &v->modules : NULL, &v->pools, err) != 0) {
		cli_warn(c, "pools: %s: %s", err->what, err->why);
		v->partial = true;
		return;
	}
	v->has_pools = true;
	if (v->pools.incomplete)
		v->partial = true;
}

/* Everything after the source: the kernel view, then what hangs off it. */
static int open_on_source(const struct cli *c, struct crash_view *v)
{
	nm_error err = { { 0 }, { 0 } };
	struct nm_vmem mem;
	int rc;

	rc = cli_open_kernel_on(c, v->src, &v->kernel);
	if (rc != CLI_EXIT_OK) {
		crash_view_close(v);
		return rc;
	}
	v->kernel_open = true;
	if (v->kernel.has_kdbg) {
		load_modules(c, v);
		load_pools(c, v);
	} else {
		v->partial = true;
	}
	mem = nm_kernel_vmem(&v->kernel);
	if (nm_resolver_init(&v->resolver, &mem, v->has_modules ? &v->modules : NULL,
			     v->has_pools ? &v->pools : NULL, &err) != 0) {
		crash_view_close(v);
		return cli_fail_input(c, &err);
	}
	v->resolver_ready = true;
	return CLI_EXIT_OK;
}

int crash_view_open(const struct cli *c, struct crash_view *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	rc = cli_open_source(c, &v->src);
	if (rc != CLI_EXIT_OK)
		return rc;
	v->owns_src = true;
	return open_on_source(c, v);
}

int crash_view_open_on(const struct cli *c, nm_source *src, struct crash_view *v)
{
	memset(v, 0, sizeof(*v));
	v->src = src;
	return open_on_source(c, v);
}

void crash_view_close(struct crash_view *v)
{
	if (v->resolver_ready)
		nm_resolver_free(&v->resolver);
	if (v->has_modules)
		nm_modules_free(&v->modules);
	if (v->kernel_open)
		nm_kernel_close(&v->kernel);
	if (v->src && v->owns_src)
		nm_source_close(v->src);
	memset(v, 0, sizeof(*v));
}
