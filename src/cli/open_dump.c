#include <stdio.h>

#include "cli.h"

/* The kernel layer (src/nt/) lands separately; until it is linked in, the
 * commands that need it say so instead of the build failing. */
#pragma weak nm_kernel_open

int cli_open_source(const struct cli *c, nm_source **src)
{
	nm_error err = { { 0 }, { 0 } };

	if (nm_source_open(c->dump_path, c->raw, src, &err) != 0)
		return cli_fail_input(c, &err);
	return CLI_EXIT_OK;
}

/* Raw images carry no header: PAE is inferred from the root's alignment
 * (a PDPT is 32-byte aligned, a page directory page aligned). */
static void xlat_config(const struct cli *c, const struct nm_dump_facts *f, struct nm_xlat_config *cfg)
{
	cfg->dtb = c->kopt.has_dtb ? c->kopt.dtb : f->dtb;
	cfg->pae = nm_source_pae_for_dtb(f, cfg->dtb);
	cfg->layout = nm_pte_layout_for_build(f->build);
	cfg->bases.proto_base = cfg->layout == NM_PTE_LAYOUT_XP ? NM_XP_DEFAULT_PROTO_BASE : 0;
}

int cli_open_memory(const struct cli *c, struct cli_memory *m)
{
	nm_error err = { { 0 }, { 0 } };
	const struct nm_dump_facts *f;
	struct nm_xlat_config cfg = { 0 };
	int rc = cli_open_source(c, &m->src);

	m->xlat = NULL;
	m->pfn_checked = false;
	if (rc != CLI_EXIT_OK)
		return rc;
	f = nm_source_facts(m->src);
	if (f->max_pfn == 0) {
		nm_fail(&err, "dump", "dump holds no physical memory this command can use (%s %s dump)",
			nm_arch_name(f->arch), nm_dump_type_name(f->type));
		goto fail;
	}
	if (f->type == NM_DUMP_RAW && !c->kopt.has_dtb) {
		nm_fail(&err, "dtb", "a raw image has no page-table root: give --dtb");
		goto fail;
	}
	if (f->format == NM_FORMAT_ELF && f->dtb == 0 && !c->kopt.has_dtb) {
		nm_fail(&err, "dtb", "no DTB in an ELF core (no QEMU register note): give --dtb");
		goto fail;
	}
	xlat_config(c, f, &cfg);
	if (nm_xlat_new(m->src, &cfg, &m->xlat, &err) != 0)
		goto fail;
	return CLI_EXIT_OK;
fail:
	nm_source_close(m->src);
	m->src = NULL;
	return cli_fail_input(c, &err);
}

void cli_memory_walk(struct cli_memory *m, uint64_t va, struct nm_walk *out)
{
	nm_xlat_walk(m->xlat, va, out);
}

void cli_close_memory(struct cli_memory *m)
{
	nm_xlat_free(m->xlat);
	nm_source_close(m->src);
	m->xlat = NULL;
	m->src = NULL;
}

int cli_open_kernel(const struct cli *c, nm_source **src, struct nm_kernel *k)
{
	nm_error err = { { 0 }, { 0 } };
	int rc;

	if (!nm_kernel_open) {
		nm_fail(&err, "kernel", "this build of ntmem has no kernel layer");
		return cli_fail_input(c, &err);
	}
	rc = cli_open_source(c, src);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (nm_kernel_open(*src, &c->kopt, k, &err) != 0) {
		nm_source_close(*src);
		*src = NULL;
		return cli_fail_input(c, &err);
	}
	if (!k->has_kdbg)
		cli_warn(c, "%s: %s", k->kdbg_error.what, k->kdbg_error.why);
	return CLI_EXIT_OK;
}
