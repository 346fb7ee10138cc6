/* A page walk as the contract prints it (pte results, read's unreadable
 * pages). */
#include <stdio.h>

#include <ntmem/vmem.h>

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

/* The walk's paging-file entry as JSON: number and offset always; with
 * paging files given, whether the bytes were read from one (and where), or
 * why not. */
static json_t *pagefile_json(const struct nm_pagefiles *pf, const struct nm_walk *w)
{
	struct nm_vmem m = { .pagefiles = pf };
	struct nm_pagefile_lookup l;
	char why[320];
	json_t *o;

	if (!nm_vmem_pagefile(&m, w, &l))
		return NULL;
	o = json_pack("{s:I, s:o}", "number", (json_int_t)l.number, "offset", cli_json_hex(l.offset));
	if (!pf)
		return o;
	json_object_set_new(o, "recovered", json_boolean(l.outcome == NM_PAGEFILE_READ));
	if (l.path)
		cli_json_set_path(o, "file", l.path);
	if (l.outcome == NM_PAGEFILE_READ) {
		json_object_set_new(o, "file_offset", cli_json_hex(l.offset));
	} else {
		nm_pagefile_lookup_describe(&l, why, sizeof(why));
		json_object_set_new(o, "reason", json_string(nm_pagefile_outcome_name(l.outcome)));
		json_object_set_new(o, "why", json_string(why));
	}
	return o;
}

json_t *cli_walk_json(const struct nm_pagefiles *pf, const struct nm_walk *w)
{
	json_t *page_file = pagefile_json(pf, w);
	bool recovered = page_file && json_is_true(json_object_get(page_file, "recovered"));

	json_t *r = json_pack("{s:o, s:s}", "va", cli_json_hex(w->va), "state", nm_page_state_name(w->state));

	if (w->has_pa)
		json_object_set_new(r, "pa", cli_json_hex(w->pa));
	json_object_set_new(r, "large_page", json_boolean(w->large_page));
	json_object_set_new(r, "entries", entries_json(w));
	if (w->state == NM_PAGE_PAGEFILE && page_file)
		json_object_set_new(r, "pagefile", page_file);
	if (w->state == NM_PAGE_PROTOTYPE) {
		json_t *p = prototype_json(w);

		/* Without paging files the prototype object stays as it was. */
		if (page_file && pf)
			json_object_set_new(p, "pagefile", page_file);
		else
			json_decref(page_file);
		json_object_set_new(r, "prototype", p);
	}
	json_object_set_new(r, "readable", json_boolean(nm_walk_readable(w) || recovered));
	return r;
}

void cli_walk_describe(const struct nm_pagefiles *pf, const struct nm_walk *w, char *buf, size_t size)
{
	const char *name = nm_page_state_name(w->state);
	struct nm_vmem m = { .pagefiles = pf };
	struct nm_pagefile_lookup l;
	char how[320];

	if (pf && nm_vmem_pagefile(&m, w, &l)) {
		nm_pagefile_lookup_describe(&l, how, sizeof(how));
		if (w->state == NM_PAGE_PAGEFILE)
			snprintf(buf, size, "%s %u offset 0x%llx: %s", name, l.number,
				 (unsigned long long)l.offset, how);
		else
			snprintf(buf, size, "%s at 0x%llx -> pagefile %u offset 0x%llx: %s", name,
				 (unsigned long long)w->sw.proto_address, l.number, (unsigned long long)l.offset, how);
	} else if (w->state == NM_PAGE_PAGEFILE)
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
