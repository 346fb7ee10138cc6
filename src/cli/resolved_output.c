#include "resolved_output.h"

#include <string.h>

static json_t *hex_or_null(bool has, uint64_t v)
{
	return has ? cli_json_hex(v) : json_null();
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

bool pfn_result_read(struct nm_kernel *k, struct nm_resolver *r, uint64_t pfn,
		     struct pfn_result *out)
{
	memset(out, 0, sizeof(*out));
	out->entry.pfn = pfn;
	out->has_database = k->has_pfn_database;
	out->self_map = nm_kernel_self_map(k);
	out->owner.link = NM_PTE_LINK_NONE;
	if (!k->has_pfn_database)
		return false;
	if (nm_pfn_read(k, pfn, &out->entry) != 0 || !out->entry.readable)
		return false;
	nm_pfn_owner_resolve(r, &out->entry, out->self_map, k->version->pte_layout, &out->owner);
	return !nm_pte_link_failed(out->owner.link);
}

const char *pfn_result_entry_state(const struct pfn_result *p)
{
	if (!p->has_database)
		return "no_database";
	if (p->entry.out_of_range)
		return "out_of_range";
	return nm_page_state_name(p->entry.entry_state);
}

static const char *module_name(const struct nm_module *m)
{
	return m && m->name ? m->name : NULL;
}

static json_t *pte_json(const struct nm_walk *w)
{
	const struct nm_walk_entry *e;

	if (w->nentries == 0 || w->nentries > 3)
		return json_null();
	e = &w->entries[w->nentries - 1];
	return json_pack("{s:s, s:o, s:o}", "level", nm_paging_level_name(e->level),
			 "address", cli_json_hex(e->address), "value", cli_json_hex(e->value));
}

json_t *resolved_json(const struct nm_resolved *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "va", cli_json_hex(r->va));
	json_object_set_new(o, "state", json_string(nm_page_state_name(r->walk.state)));
	json_object_set_new(o, "pa", hex_or_null(r->walk.has_pa, r->walk.pa));
	json_object_set_new(o, "module", r->module ? string_or_null(module_name(r->module)) : json_null());
	json_object_set_new(o, "section", string_or_null(r->has_section ? r->section.name : NULL));
	json_object_set_new(o, "offset", hex_or_null(r->module != NULL, r->offset));
	json_object_set_new(o, "region", string_or_null(r->region ? r->region->name : NULL));
	/* Extras: what an analyst asks next. */
	json_object_set_new(o, "module_base", hex_or_null(r->module != NULL, r->module ? r->module->base : 0));
	json_object_set_new(o, "section_kind",
			    string_or_null(r->has_section ? nm_section_kind_name(r->section.kind) : NULL));
	json_object_set_new(o, "pte", pte_json(&r->walk));
	json_object_set_new(o, "discarded", json_boolean(nm_resolved_is_discarded(r)));
	return o;
}

static json_t *owner_json(const struct pfn_result *p)
{
	const struct nm_resolved *w = &p->owner.where;

	if (!p->owner.has_va)
		return json_null();
	if (w->module)
		return json_pack("{s:o, s:o, s:o, s:o}",
				 "module", string_or_null(module_name(w->module)),
				 "section", string_or_null(w->has_section ? w->section.name : NULL),
				 "offset", cli_json_hex(w->offset),
				 "section_kind", string_or_null(w->has_section ?
						nm_section_kind_name(w->section.kind) : NULL));
	if (w->region)
		return json_pack("{s:s}", "region", w->region->name);
	return json_null();
}

json_t *pfn_result_json(const struct pfn_result *p)
{
	const struct nm_pfn_entry *e = &p->entry;
	bool has_entry = p->has_database && !e->out_of_range;
	json_t *o = json_object();

	json_object_set_new(o, "pfn", cli_json_hex(e->pfn));
	json_object_set_new(o, "pa", cli_json_hex(e->pfn << NM_PAGE_SHIFT));
	json_object_set_new(o, "entry_address", hex_or_null(has_entry, e->entry_address));
	json_object_set_new(o, "entry_state", json_string(pfn_result_entry_state(p)));
	if (!has_entry || !e->readable)
		return o;
	json_object_set_new(o, "list", json_string(nm_pfn_list_name(e->list)));
	json_object_set_new(o, "reference_count", json_integer(e->reference_count));
	json_object_set_new(o, "share_count", json_integer(e->share_count));
	json_object_set_new(o, "pte_address", cli_json_hex(e->pte_address));
	json_object_set_new(o, "va", hex_or_null(nm_self_map_holds_pte(p->self_map, e->pte_address),
						 e->va));
	json_object_set_new(o, "original_pte", cli_json_hex(e->original_pte));
	json_object_set_new(o, "owner", owner_json(p));
	/* Extras: whether the PTE named by PteAddress still maps this frame. */
	json_object_set_new(o, "pte_link", json_string(nm_pte_link_name(p->owner.link)));
	/* Under a large page the self-map VA is the PDE's; the frame's own VA differs. */
	json_object_set_new(o, "mapped_va", hex_or_null(p->owner.has_va, p->owner.va));
	json_object_set_new(o, "pte_value", hex_or_null(p->owner.has_pte_value, p->owner.pte_value));
	if (nm_pte_link_failed(p->owner.link))
		json_object_set_new(o, "pte_page_state",
				    json_string(nm_page_state_name(p->owner.pte_page_state)));
	json_object_set_new(o, "pte_frame", cli_json_hex(e->pte_frame));
	return o;
}

void resolved_where_text(const struct nm_resolved *r, char *buf, size_t len)
{
	int n;

	if (!r->module) {
		if (r->region)
			snprintf(buf, len, "region %s", r->region->name);
		else
			snprintf(buf, len, "no module, no known region");
		return;
	}
	n = snprintf(buf, len, "%s+0x%x", module_name(r->module) ? module_name(r->module) : "?",
		     r->offset);
	if (n < 0 || (size_t)n >= len)
		return;
	if (r->has_section)
		snprintf(buf + n, len - (size_t)n, " (section %s, %s)", r->section.name,
			 nm_section_kind_name(r->section.kind));
	else if (!r->headers_readable)
		snprintf(buf + n, len - (size_t)n, " (headers %s)",
			 nm_page_state_name(r->headers_state));
	else
		snprintf(buf + n, len - (size_t)n, " (in no section)");
}

void resolved_print(FILE *f, const char *indent, const struct nm_resolved *r)
{
	char where[200];

	resolved_where_text(r, where, sizeof(where));
	fprintf(f, "%sVA 0x%llx: %s", indent, (unsigned long long)r->va,
		nm_page_state_name(r->walk.state));
	if (r->walk.has_pa)
		fprintf(f, ", pa 0x%llx", (unsigned long long)r->walk.pa);
	if (nm_resolved_pte_is_zero(r))
		fprintf(f, ", PTE is zero");
	fprintf(f, "; %s", where);
	if (r->module && r->region)
		fprintf(f, "; region %s", r->region->name);
	fputc('\n', f);
}

void pfn_result_print(FILE *f, const char *indent, const struct pfn_result *p)
{
	const struct nm_pfn_entry *e = &p->entry;

	fprintf(f, "%sPFN 0x%llx (pa 0x%llx)", indent, (unsigned long long)e->pfn,
		(unsigned long long)(e->pfn << NM_PAGE_SHIFT));
	if (!p->has_database || e->out_of_range || !e->readable) {
		fprintf(f, ": entry %s\n", pfn_result_entry_state(p));
		return;
	}
	fprintf(f, ": entry at 0x%llx, list %s, reference count %u, share count %u (0x%x)\n",
		(unsigned long long)e->entry_address, nm_pfn_list_name(e->list), e->reference_count,
		e->share_count, e->share_count);
	fprintf(f, "%s  PteAddress 0x%llx, OriginalPte 0x%llx", indent, (unsigned long long)e->pte_address,
		(unsigned long long)e->original_pte);
	switch (p->owner.link) {
	case NM_PTE_LINK_NONE:
		fprintf(f, "; a page on the %s list has no owner\n", nm_pfn_list_name(e->list));
		return;
	case NM_PTE_LINK_PROTOTYPE:
		fprintf(f, "; a prototype PTE (0x%llx): a shared or file-backed page\n",
			(unsigned long long)p->owner.pte_value);
		return;
	case NM_PTE_LINK_NOWHERE:
		fprintf(f, "; PteAddress points nowhere (its page is %s): no owner can be named\n",
			nm_page_state_name(p->owner.pte_page_state));
		return;
	case NM_PTE_LINK_UNREADABLE:
		fprintf(f, "; the PTE's page is %s\n", nm_page_state_name(p->owner.pte_page_state));
		break;
	case NM_PTE_LINK_OTHER_FRAME:
		fprintf(f, "; that PTE (0x%llx) maps another frame now\n",
			(unsigned long long)p->owner.pte_value);
		break;
	case NM_PTE_LINK_MATCH:
		fprintf(f, "; that PTE (0x%llx) maps this frame\n",
			(unsigned long long)p->owner.pte_value);
		break;
	case NM_PTE_LINK_LARGE_PAGE:
		fprintf(f, "; that PDE (0x%llx) maps a large page holding this frame\n",
			(unsigned long long)p->owner.pte_value);
		break;
	}
	if (p->owner.has_va)
		resolved_print(f, indent, &p->owner.where);
}
