/* explain's x64 context record when the dump has no memory to resolve it
 * in: RIP and RSP from the header (DUMP_HEADER64 ContextRecord), RIP placed
 * by the triage driver list (base <= RIP < base + SizeOfImage). The
 * contract's resolved object is kept; what cannot be known is null. */
#include <stdlib.h>
#include <string.h>

#include "explain.h"

static void place_rip(const nm_source *src, struct explain *x)
{
	struct nm_triage t;
	nm_error err = { { 0 }, { 0 } };

	if (nm_triage_open(src, &t, &err) != 0)
		return;
	for (uint32_t i = 0; i < t.driver_count; i++) {
		struct nm_triage_driver d;
		char *path, *name;

		nm_triage_driver(src, &t, i, &d);
		if (x->rip < d.base || x->rip - d.base >= d.size)
			continue;
		x->rip_offset = x->rip - d.base;
		path = d.name ? nm_utf16le_to_utf8(d.name, d.name_bytes) : NULL;
		name = path && strrchr(path, '\\') ? strrchr(path, '\\') + 1 : path;
		snprintf(x->rip_module, sizeof(x->rip_module), "%s", name ? name : "?");
		free(path);
		return;
	}
}

void explain_context64_from_header(const nm_source *src, struct explain *x)
{
	const struct nm_dump_facts *f = nm_source_facts(src);

	if (f->arch != NM_ARCH_X64 || !f->has_context || (f->context64.rip == 0 && f->context64.rsp == 0))
		return;
	x->has_context64 = true;
	x->rip = f->context64.rip;
	x->rsp = f->context64.rsp;
	if (f->type == NM_DUMP_TRIAGE)
		place_rip(src, x);
	explain_compose(x);
}

static json_t *where_json(uint64_t va, const char *module, uint64_t offset)
{
	return json_pack("{s:o, s:n, s:n, s:o, s:n, s:o, s:n}", "va", cli_json_hex(va), "state", "pa",
			 "module", module && module[0] ? json_string(module) : json_null(), "section",
			 "offset", module && module[0] ? cli_json_hex(offset) : json_null(), "region");
}

json_t *explain_context64_json(const struct explain *x)
{
	return json_pack("{s:o, s:o}", "rip", where_json(x->rip, x->rip_module, x->rip_offset),
			 "rsp", where_json(x->rsp, NULL, 0));
}

void explain_context64_print(FILE *f, const struct explain *x)
{
	fprintf(f, "Context record (x64, from the header):\n  RIP 0x%016llx", (unsigned long long)x->rip);
	if (x->rip_module[0])
		fprintf(f, "  %s+0x%llx (triage driver list)", x->rip_module, (unsigned long long)x->rip_offset);
	fprintf(f, "\n  RSP 0x%016llx\n", (unsigned long long)x->rsp);
}
