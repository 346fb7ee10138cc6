/* ntmem pools: the kernel address-space map with the variables behind it
 * (contract: pools; rules: docs/address-space.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parts.h"

/* Addresses print at the kernel's width: 8 hex digits on x86 (unchanged
 * text), 16 on x64. */
static int hex_width(const struct nm_va_map *m)
{
	return m->x64 ? 16 : 8;
}

static json_t *variables_json(const struct nm_va_map *m, json_t **states, json_t **addresses)
{
	json_t *vars = json_object();

	*states = json_object();
	*addresses = json_object();
	for (unsigned i = 0; i < NM_VAR_COUNT; i++) {
		const struct nm_kernel_variable *v = &m->variables[i];
		const char *name = nm_kernel_var_name(i);

		if (!v->present)
			continue;
		json_object_set_new(vars, name, v->readable ? cli_json_hex(v->value) : json_null());
		json_object_set_new(*addresses, name, cli_json_hex(v->address));
		if (!v->readable)
			json_object_set_new(*states, name, json_string(nm_page_state_name(v->state)));
	}
	return vars;
}

static json_t *regions_json(const struct nm_region *r, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:s}", "name", r[i].name,
				      "start", cli_json_hex(r[i].start), "end", cli_json_hex(r[i].end),
				      "size", (json_int_t)(r[i].end - r[i].start), "source", r[i].source);

		if (r[i].bound == NM_BOUND_LIMIT)
			json_object_set_new(o, "bound", json_string("limit"));
		json_array_append_new(a, o);
	}
	return a;
}

/* Calls VISIT for every hole between consecutive regions of the map
 * (regions known only as limits place nothing and are skipped). */
static void for_each_gap(const struct nm_va_map *m, void (*visit)(void *, uint64_t, uint64_t),
			 void *ctx)
{
	uint64_t reach = 0;
	bool first = true;

	for (unsigned i = 0; i < m->nregions; i++) {
		if (m->regions[i].bound == NM_BOUND_LIMIT)
			continue;
		if (first)
			reach = m->regions[i].start;
		first = false;
		if (m->regions[i].start > reach)
			visit(ctx, reach, m->regions[i].start);
		if (m->regions[i].end > reach)
			reach = m->regions[i].end;
	}
}

static void gap_json(void *ctx, uint64_t start, uint64_t end)
{
	json_array_append_new(ctx, json_pack("{s:o, s:o, s:I}", "start", cli_json_hex(start),
					     "end", cli_json_hex(end), "size", (json_int_t)(end - start)));
}

static json_t *overlaps_json(const struct nm_va_map *m)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < m->noverlaps; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o}", "a", m->overlaps[i].a,
						   "b", m->overlaps[i].b,
						   "start", cli_json_hex(m->overlaps[i].start),
						   "end", cli_json_hex(m->overlaps[i].end)));
	return a;
}

static json_t *system_va_type_json(const struct nm_system_va_map *v)
{
	if (!v->found)
		return json_pack("{s:b, s:s}", "found", 0, "why", v->why);
	return json_pack("{s:b, s:o, s:I, s:I}", "found", 1, "address", cli_json_hex(v->address),
			 "entries", (json_int_t)v->entries, "entry_size", (json_int_t)1 << v->shift);
}

void pools_add_json(json_t *doc, const struct nm_kernel *k, const struct nm_va_map *m)
{
	json_t *states, *addresses, *gaps = json_array();

	json_object_set_new(doc, "variables", variables_json(m, &states, &addresses));
	json_object_set_new(doc, "variable_addresses", addresses);
	json_object_set_new(doc, "unreadable_variables", states);
	json_object_set_new(doc, "regions", regions_json(m->regions, m->nregions));
	for_each_gap(m, gap_json, gaps);
	json_object_set_new(doc, "gaps", gaps);
	json_object_set_new(doc, "overlaps", overlaps_json(m));
	json_object_set_new(doc, "dynamic_va", json_boolean(m->dynamic_va));
	if (m->x64)
		json_object_set_new(doc, "x64_layout", json_string(m->x64_layout_note));
	if (m->dynamic_va) {
		json_object_set_new(doc, "limits", regions_json(m->limits, m->nlimits));
		json_object_set_new(doc, "system_va_type", system_va_type_json(&m->va_types));
	}
	if (m->regions_dropped)
		json_object_set_new(doc, "regions_dropped", json_integer(m->regions_dropped));
	if (m->split_note[0])
		json_object_set_new(doc, "pool_split_note", json_string(m->split_note));
	if (m->initial_check.done)
		json_object_set_new(doc, "initial_pool_check",
				    json_pack("{s:I, s:I, s:b}",
					      "initial_size", (json_int_t)m->initial_check.size,
					      "mapped_from_start", (json_int_t)m->initial_check.mapped,
					      "agrees", m->initial_check.mapped == m->initial_check.size));
	/* kdbg_va / kdbg_source: strings, as info gives them, beside the object */
	json_object_set_new(doc, "kdbg_va", k->has_kdbg ? cli_json_hex(k->kdbg.va) : json_null());
	json_object_set_new(doc, "kdbg_source", k->has_kdbg ? json_string(nm_kdbg_source_name(k->kdbg.source))
							    : json_null());
	if (k->has_kdbg)
		json_object_set_new(doc, "kdbg", json_pack("{s:o, s:s, s:I}", "va", cli_json_hex(k->kdbg.va),
							    "source", nm_kdbg_source_name(k->kdbg.source),
							    "size", (json_int_t)k->kdbg.size));
	else
		json_object_set_new(doc, "kdbg_error", json_pack("{s:s, s:s}", "what", k->kdbg_error.what,
								  "why", k->kdbg_error.why));
}

/* x64 regions run to terabytes: GiB and TiB there (x86 text unchanged). */
static void print_size(uint64_t bytes, bool x64)
{
	if (x64 && bytes >= (UINT64_C(1) << 40) && bytes % (UINT64_C(1) << 40) == 0)
		printf("%7llu TiB", (unsigned long long)(bytes >> 40));
	else if (x64 && bytes >= (UINT64_C(1) << 30) && bytes % (UINT64_C(1) << 30) == 0)
		printf("%7llu GiB", (unsigned long long)(bytes >> 30));
	else if (x64 && bytes >= (UINT64_C(1) << 30))
		printf("%7.2f GiB", (double)bytes / (UINT64_C(1) << 30));
	else if (bytes >= 0x100000 && bytes % 0x100000 == 0)
		printf("%7llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes >= 0x100000)
		printf("%7.2f MiB", (double)bytes / 0x100000);
	else
		printf("%7llu KiB", (unsigned long long)(bytes >> 10));
}

static void gap_text(void *ctx, uint64_t start, uint64_t end)
{
	int w = hex_width((const struct nm_va_map *)ctx);

	printf("  %0*llx %0*llx ", w, (unsigned long long)start, w, (unsigned long long)end);
	print_size(end - start, w > 8);
	printf("  (gap)\n");
}

/* Prints the regions in order, with the gaps between them in place. */
static void print_map(const struct nm_va_map *m)
{
	uint64_t reach = 0;

	bool first = true;

	int w = hex_width(m);

	printf("  %-*s %-*s %11s  %-24s %s\n", w, "start", w, "end", "size", "region", "source");
	for (unsigned i = 0; i < m->nregions; i++) {
		const struct nm_region *r = &m->regions[i];

		if (r->bound == NM_BOUND_LIMIT)
			continue;	/* listed under "Limits" */
		if (!first && r->start > reach)
			gap_text((void *)m, reach, r->start);
		printf("  %0*llx %0*llx ", w, (unsigned long long)r->start, w, (unsigned long long)r->end);
		print_size(r->end - r->start, m->x64);
		printf("  %-24s %s\n", r->name, r->source);
		if (r->end > reach)
			reach = r->end;
		first = false;
	}
}

static const struct nm_region *find_region(const struct nm_va_map *m, const char *name)
{
	for (unsigned i = 0; i < m->nregions; i++)
		if (strcmp(m->regions[i].name, name) == 0)
			return &m->regions[i];
	return NULL;
}

/* The two things the seed thread got wrong, stated from this dump's map. */
static void print_reading_notes(const struct nm_va_map *m)
{
	const struct nm_region *ini = find_region(m, "nonpaged_pool_initial");
	const struct nm_region *exp = find_region(m, "nonpaged_pool_expansion");
	const struct nm_region *pp = find_region(m, "paged_pool");
	const struct nm_region *pte = find_region(m, "system_ptes");

	bool between = ini && exp && pp && pp->start >= ini->end && pp->end <= exp->start;

	printf("\nReading the map:\n");
	if (ini && exp)
		printf("  Non-paged pool has two parts: the initial pool %08llx-%08llx and the expansion\n"
		       "  pool %08llx-%08llx (where it begins is the kernel's own record,\n"
		       "  MmSystemPtesStart[1]). MmNonPagedPoolStart..MmNonPagedPoolEnd spans both, so it\n"
		       "  also spans everything between them%s.\n",
		       (unsigned long long)ini->start, (unsigned long long)ini->end,
		       (unsigned long long)exp->start, (unsigned long long)exp->end,
		       between ? ", paged pool included" : "");
	else if (m->split_note[0])
		printf("  Non-paged pool is not split into its initial and expansion parts: %s.\n",
		       m->split_note);
	if (m->initial_check.done && m->initial_check.mapped != m->initial_check.size)
		printf("  Cross-check: 0x%x bytes are mapped from MmNonPagedPoolStart, the initial pool is\n"
		       "  0x%x bytes by the kernel's values (%s); the mapping does not set the boundary.\n",
		       m->initial_check.mapped, m->initial_check.size,
		       m->initial_check.mapped < m->initial_check.size
		       ? "pages not yet touched, or left out of the dump" : "mapped past its end");
	if (pte)
		printf("  Drivers loaded after boot live in system PTE space %08llx-%08llx, not in pool\n"
		       "  (see `ntmem modules`: the region column).\n",
		       (unsigned long long)pte->start, (unsigned long long)pte->end);
	if (m->noverlaps)
		printf("  The kernel's own values overlap: %u overlap%s, listed above (OVERLAP).\n",
		       m->noverlaps, m->noverlaps == 1 ? "" : "s");
	else
		printf("  No two regions overlap%s.\n", between ? ": the pools do not overlap" : "");
}

static void print_variables(const struct nm_va_map *m)
{
	printf("\nKernel variables (KDBG slot -> variable address = value):\n");
	for (unsigned i = 0; i < NM_VAR_COUNT; i++) {
		const struct nm_kernel_variable *v = &m->variables[i];

		if (!v->present)
			continue;
		if (v->readable)
			printf("  %-30s @%0*llx = %0*llx\n", nm_kernel_var_name(i), hex_width(m),
			       (unsigned long long)v->address, hex_width(m), (unsigned long long)v->value);
		else
			printf("  %-30s @%0*llx   unreadable (%s)\n", nm_kernel_var_name(i), hex_width(m),
			       (unsigned long long)v->address, nm_page_state_name(v->state));
	}
}

void pools_print_text(const struct nm_kernel *k, const struct nm_va_map *m)
{
	printf("Kernel address space: %s, build %u, %s%s\n", k->version->name, k->build,
	       k->mode->label, m->dynamic_va ? ", dynamic kernel VA" : "");
	if (!k->has_kdbg) {
		printf("  no KDBG: %s: %s\n", k->kdbg_error.what, k->kdbg_error.why);
		return;
	}
	if (m->x64)
		printf("  (%s)\n", m->x64_layout_note);
	else if (m->dynamic_va && m->va_types.found)
		printf("  (the kernel's own map: MiSystemVaType at %08x, %u entries of %u MiB)\n",
		       m->va_types.address, m->va_types.entries, 1u << (m->va_types.shift - 20));
	else if (m->dynamic_va)
		printf("  (MiSystemVaType not found: %s; only the fixed regions are placed, the limits\n"
		       "  below are in JSON `regions` too, marked \"bound\": \"limit\")\n", m->va_types.why);
	print_map(m);
	if (m->regions_dropped)
		printf("  ... and %u more regions not shown (at most %u are kept)\n", m->regions_dropped,
		       NM_MAX_REGIONS);
	if (m->dynamic_va && m->nlimits) {
		printf("\nLimits (this version places pool and system PTEs %s; these are bounds,\n"
		       "not a map):\n", m->x64 ? "at boot" : "on demand");
		for (unsigned i = 0; i < m->nlimits; i++)
			printf("  %0*llx %0*llx  %-24s %s\n", hex_width(m), (unsigned long long)m->limits[i].start,
			       hex_width(m), (unsigned long long)m->limits[i].end, m->limits[i].name,
			       m->limits[i].source);
	}
	for (unsigned i = 0; i < m->noverlaps; i++)
		printf("  OVERLAP %s / %s: %0*llx-%0*llx\n", m->overlaps[i].a, m->overlaps[i].b,
		       hex_width(m), (unsigned long long)m->overlaps[i].start,
		       hex_width(m), (unsigned long long)m->overlaps[i].end);
	if (!m->dynamic_va && !m->x64)
		print_reading_notes(m);
	print_variables(m);
}

int pools_warn_and_status(const struct cli *c, const struct nm_kernel *k, const struct nm_va_map *m)
{
	for (unsigned i = 0; i < NM_VAR_COUNT; i++)
		if (m->variables[i].present && !m->variables[i].readable)
			cli_warn(c, "%s at 0x%0*llx is unreadable (%s)", nm_kernel_var_name(i), hex_width(m),
				 (unsigned long long)m->variables[i].address,
				 nm_page_state_name(m->variables[i].state));
	return !k->has_kdbg || m->incomplete ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}

int cmd_pools(const struct cli *c)
{
	nm_source *src = NULL;
	struct nm_kernel k;
	struct nm_va_map *m;
	struct nm_module_list modules = { 0 };
	int rc = cli_open_va_map(c, &src, &k, &modules, &m);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->json) {
		json_t *doc = cli_json_document(c);

		pools_add_json(doc, &k, m);
		cli_json_print(doc);
	} else {
		pools_print_text(&k, m);
	}
	rc = pools_warn_and_status(c, &k, m);
	nm_modules_free(&modules);
	nm_kernel_close(&k);
	nm_source_close(src);
	free(m);
	return rc;
}
