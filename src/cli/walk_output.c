/* A page walk as the contract prints it (pte results, read's unreadable
 * pages). */
#include <stdio.h>

#include "cli.h"

static json_t *entries_json(const struct nm_walk *w)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < w->nentries && i < NM_MAX_PAGING_LEVELS; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:o}",
						   "level", nm_paging_level_name(w->entries[i].level),
						   "address", cli_json_hex(w->entries[i].address),
						   "value", cli_json_hex(w->entries[i].value)));
	return a;
}

static json_t *prototype_json(const struct nm_walk *w)
{
	json_t *p = json_pack("{s:o, s:b}", "address", cli_json_hex(w->sw.proto_address),
			      "resolved", w->proto_resolved);

	if (w->proto_resolved) {
		json_object_set_new(p, "value", cli_json_hex(w->proto_pte));
		json_object_set_new(p, "state", json_string(nm_page_state_name(w->proto_state)));
		if (w->proto_sw.subsection)
			json_object_set_new(p, "subsection", cli_json_hex(w->proto_sw.subsection_address));
	}
	return p;
}

json_t *cli_walk_json(const struct nm_walk *w)
{
	json_t *r = json_pack("{s:o, s:s}", "va", cli_json_hex(w->va), "state", nm_page_state_name(w->state));

	if (w->has_pa)
		json_object_set_new(r, "pa", cli_json_hex(w->pa));
	json_object_set_new(r, "large_page", json_boolean(w->large_page));
	json_object_set_new(r, "entries", entries_json(w));
	if (w->state == NM_PAGE_PAGEFILE)
		json_object_set_new(r, "pagefile", json_pack("{s:I, s:o}",
							     "number", (json_int_t)w->sw.pagefile_number,
							     "offset", cli_json_hex(w->sw.pagefile_offset)));
	if (w->state == NM_PAGE_PROTOTYPE)
		json_object_set_new(r, "prototype", prototype_json(w));
	json_object_set_new(r, "readable", json_boolean(nm_walk_readable(w)));
	return r;
}

void cli_walk_describe(const struct nm_walk *w, char *buf, size_t size)
{
	const char *name = nm_page_state_name(w->state);

	if (w->state == NM_PAGE_PAGEFILE)
		snprintf(buf, size, "%s %u offset 0x%llx", name, w->sw.pagefile_number,
			 (unsigned long long)w->sw.pagefile_offset);
	else if (w->state == NM_PAGE_PROTOTYPE && w->proto_resolved)
		snprintf(buf, size, "%s at 0x%llx -> %s", name, (unsigned long long)w->sw.proto_address,
			 nm_page_state_name(w->proto_state));
	else if (w->state == NM_PAGE_PROTOTYPE)
		snprintf(buf, size, "%s at 0x%llx (unresolved)", name, (unsigned long long)w->sw.proto_address);
	else if (w->has_pa)
		snprintf(buf, size, "%s, pa 0x%llx%s", name, (unsigned long long)w->pa,
			 w->large_page ? " (large page)" : "");
	else
		snprintf(buf, size, "%s", name);
}
