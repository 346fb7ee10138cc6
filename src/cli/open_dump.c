#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cli.h"
#include "progress.h"

int cli_open_source(const struct cli *c, nm_source **src)
{
	nm_error err = { { 0 }, { 0 } };
	struct progress p;
	struct nm_progress below;
	struct nm_open_options opt = { .format = c->format, .progress = &below };
	int rc;

	/* Indexing a gzip file the first time can take a while. */
	progress_start(&p, c, "opening");
	progress_bind(&p, &below);
	rc = nm_source_open_with(c->dump_path, &opt, src, &err);
	progress_end(&p);
	if (rc != 0)
		return cli_fail_input(c, &err);
	return CLI_EXIT_OK;
}

int cli_kernel_open(const struct cli *c, const nm_source *src, struct nm_kernel *k, nm_error *err)
{
	struct nm_kernel_options opt = c->kopt;
	struct progress p;
	struct nm_progress below;
	int rc;

	progress_start(&p, c, "scanning");
	progress_bind(&p, &below);
	opt.progress = &below;
	rc = nm_kernel_open(src, &opt, k, err);
	progress_end(&p);
	return rc;
}

/* Before anything reads memory: a machine whose page tables ntmem does not
 * walk (ARM, ARM64) and a file cut short of its header's page layout are
 * refused with one line that names the machine or the truncation. */
static int refuse_unreadable_memory(const struct nm_dump_facts *f, nm_error *err)
{
	if (!nm_arch_has_walks(f->arch))
		return nm_fail(err, "header.MachineImageType",
			       "%s (0x%x) dump: ntmem walks only x86 and x64 page tables; info and a triage dump's modules still work",
			       nm_machine_name(f->machine), f->machine);
	if (nm_source_truncated(f))
		return nm_fail(err, "file", "truncated: the header's %s layout needs %llu bytes, the file holds %llu (%llu missing)",
			       nm_dump_type_name(f->type), (unsigned long long)f->size_needed,
			       (unsigned long long)f->file_size,
			       (unsigned long long)(f->size_needed - f->file_size));
	return 0;
}

/* Memory commands go through the kernel view, so that walks get the decode
 * bases from the kernel's variables (XP prototype PTEs) and the PFN database
 * check (stale). A dump without usable memory is refused here first, with a
 * line that says so plainly. */
int cli_open_memory(const struct cli *c, struct cli_memory *m)
{
	nm_error err = { { 0 }, { 0 } };
	int rc = cli_open_source(c, &m->src);

	m->xlat = NULL;
	m->pfn_checked = false;
	memset(&m->kernel, 0, sizeof(m->kernel));
	if (rc != CLI_EXIT_OK)
		return rc;
	if (refuse_unreadable_memory(nm_source_facts(m->src), &err) != 0)
		goto fail;
	if (cli_kernel_open(c, m->src, &m->kernel, &err) != 0)
		goto fail;
	if (!m->kernel.has_kdbg && !c->kernel_said)
		cli_warn(c, "%s: %s", m->kernel.kdbg_error.what, m->kernel.kdbg_error.why);
	m->xlat = m->kernel.xlat;
	m->pfn_checked = m->kernel.has_pfn_database;
	return CLI_EXIT_OK;
fail:
	nm_kernel_close(&m->kernel);
	nm_source_close(m->src);
	m->src = NULL;
	return c->kernel_said ? CLI_EXIT_BAD_INPUT : cli_fail_input(c, &err);
}

void cli_memory_walk(struct cli_memory *m, uint64_t va, struct nm_walk *out)
{
	nm_kernel_walk(&m->kernel, va, out);
}

void cli_close_memory(struct cli_memory *m)
{
	nm_kernel_close(&m->kernel);
	nm_source_close(m->src);
	m->xlat = NULL;
	m->src = NULL;
}

int cli_open_kernel_on(const struct cli *c, const nm_source *src, struct nm_kernel *k)
{
	nm_error err = { { 0 }, { 0 } };

	if (refuse_unreadable_memory(nm_source_facts(src), &err) != 0 ||
	    cli_kernel_open(c, src, k, &err) != 0)
		return c->kernel_said ? CLI_EXIT_BAD_INPUT : cli_fail_input(c, &err);
	if (!k->has_kdbg && !c->kernel_said)
		cli_warn(c, "%s: %s", k->kdbg_error.what, k->kdbg_error.why);
	return CLI_EXIT_OK;
}

int cli_open_kernel(const struct cli *c, nm_source **src, struct nm_kernel *k)
{
	int rc = cli_open_source(c, src);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_open_kernel_on(c, *src, k);
	if (rc != CLI_EXIT_OK) {
		nm_source_close(*src);
		*src = NULL;
	}
	return rc;
}

int cli_open_va_map(const struct cli *c, nm_source **src, struct nm_kernel *k,
		    struct nm_module_list *modules, struct nm_va_map **map)
{
	nm_error err = { { 0 }, { 0 } };
	int rc;

	*map = NULL;
	if (c->argc > 0)
		return cli_fail_usage("%s: unexpected argument '%s'", c->command, c->argv[0]);
	/* Heap, not stack: the map is large and every command that names
	 * regions holds one. */
	*map = calloc(1, sizeof(**map));
	if (!*map)
		return cli_fail_usage("out of memory");
	rc = cli_open_kernel(c, src, k);
	if (rc != CLI_EXIT_OK) {
		free(*map);
		*map = NULL;
		return rc;
	}
	memset(modules, 0, sizeof(*modules));
	if (!k->has_kdbg)
		return CLI_EXIT_OK;
	/* One walk of the module list serves the command and the map. */
	if (nm_modules_read(k, modules, &err) != 0) {
		modules->incomplete = true;
		snprintf(modules->stop_reason, sizeof(modules->stop_reason), "%.60s: %.90s", err.what, err.why);
	}
	nm_va_map_read(k, modules, *map, &err);
	return CLI_EXIT_OK;
}
