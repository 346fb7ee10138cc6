/* The JSON renderer of a carve result: the contract's carve modules[]. */
#include "carve_run.h"

static json_t *name_json(const char *name)
{
	char buf[1024];

	if (!name)
		return json_null();
	nm_utf8_sanitize(name, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *files_json(const struct carve_module *m)
{
	static const char *const suffix[3] = { ".mem", ".pe", ".holes.json" };
	static const char *const key[3] = { "mem", "pe", "holes" };
	json_t *files = json_object();

	for (int i = 0; i < 3; i++) {
		char fname[NM_OUTPUT_NAME_MAX + 16];

		snprintf(fname, sizeof(fname), "%s%s", m->stem, suffix[i]);
		json_object_set_new(files, key[i], json_string(fname));
	}
	return files;
}

static json_t *pages_json(const struct nm_carve *cv)
{
	json_t *o = json_object();

	for (int s = 0; s < NM_PAGE_STATE_COUNT; s++)
		if (cv->state_count[s])
			json_object_set_new(o, nm_page_state_name((enum nm_page_state)s),
					    json_integer((json_int_t)cv->state_count[s]));
	return o;
}

static json_t *sections_json(const struct nm_carve *cv)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < cv->pe.nsections; i++) {
		const struct nm_pe_section *s = &cv->pe.sections[i];

		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:o, s:s, s:I, s:I}",
			"name", s->name, "va", cli_json_hex((uint64_t)cv->base + s->virtual_address),
			"size", (json_int_t)s->virtual_size, "characteristics", cli_json_hex(s->characteristics),
			"kind", nm_section_kind_name(s->kind),
			"bytes_recovered", (json_int_t)cv->sections[i].recovered,
			"bytes_missing", (json_int_t)cv->sections[i].missing));
	}
	return a;
}

static json_t *section_name_json(const struct nm_carve *cv, int section)
{
	return section < 0 ? json_null() : json_string(cv->pe.sections[section].name);
}

struct holes_sink {
	const struct nm_carve *cv;
	json_t *holes;
};

static int hole_json(void *ctx, const struct nm_carve_hole *h)
{
	struct holes_sink *s = ctx;

	json_array_append_new(s->holes, json_pack("{s:o, s:o, s:s, s:o, s:s}",
		"rva_start", cli_json_hex(h->rva_start), "rva_end", cli_json_hex(h->rva_end),
		"state", nm_page_state_name(h->state), "section", section_name_json(s->cv, h->section),
		"reason", nm_hole_reason_name(h->reason)));
	return 0;
}

/* Pages whose bytes came from a paging file (--pagefile): where from. */
static int pagefile_run_json(void *ctx, const struct nm_carve_pagefile_run *r)
{
	struct holes_sink *s = ctx;
	struct nm_pagefile_lookup l;
	json_t *o;

	nm_pagefiles_lookup(s->cv->pagefiles, r->number, r->file_offset, &l);
	o = json_pack("{s:o, s:o, s:o, s:I, s:o}", "rva_start", cli_json_hex(r->rva_start),
		      "rva_end", cli_json_hex(r->rva_end), "section", section_name_json(s->cv, r->section),
		      "pagefile", (json_int_t)r->number, "file_offset", cli_json_hex(r->file_offset));
	cli_json_set_path(o, "file", l.path ? l.path : "");
	json_array_append_new(s->holes, o);
	return 0;
}

static json_t *tally_json(const struct nm_byte_tally *t)
{
	return json_pack("{s:I, s:I}", "bytes_recovered", (json_int_t)t->recovered,
			 "bytes_missing", (json_int_t)t->missing);
}

static json_t *kinds_json(const struct nm_carve *cv)
{
	json_t *o = json_object();

	for (int k = 0; k < 3; k++)
		json_object_set_new(o, nm_section_kind_name((enum nm_section_kind)k), tally_json(&cv->kinds[k]));
	json_object_set_new(o, "headers_other", tally_json(&cv->outside));
	return o;
}

static json_t *compare_json(const struct carve_compare *cmp)
{
	json_t *list;

	if (!cmp->found)
		return json_pack("{s:n, s:s}", "file", "error", cmp->error);
	if (cmp->error[0])
		return json_pack("{s:s, s:s}", "file", cmp->file, "error", cmp->error);
	list = json_array();
	for (unsigned i = 0; i < cmp->nmodified; i++)
		json_array_append_new(list, json_pack("{s:o, s:o, s:s}",
			"rva_start", cli_json_hex(cmp->modified[i].rva_start),
			"rva_end", cli_json_hex(cmp->modified[i].rva_end), "section", cmp->modified[i].section));
	return json_pack("{s:s, s:b, s:I, s:b, s:I, s:I, s:I, s:I, s:o}", "file", cmp->file,
			 "relocations", cmp->has_relocations, "relocations_applied", (json_int_t)cmp->relocs_applied,
			 "relocations_truncated", cmp->relocs_truncated,
			 "bytes_compared", (json_int_t)cmp->stats.bytes_compared,
			 "bytes_skipped_holes", (json_int_t)cmp->stats.bytes_skipped_holes,
			 "bytes_skipped_iat", (json_int_t)cmp->stats.bytes_skipped_iat,
			 "bytes_modified", (json_int_t)cmp->stats.bytes_modified, "modified", list);
}

static json_t *module_json(const struct carve_module *m)
{
	const struct nm_carve *cv = &m->cv;
	json_t *o = json_pack("{s:o, s:o, s:I}", "name", name_json(m->target.name),
			      "base", cli_json_hex(m->target.base), "size", (json_int_t)m->target.size);
	struct holes_sink holes = { cv, json_array() };

	if (m->skipped) {
		json_decref(holes.holes);
		json_object_set_new(o, "skipped", json_string(m->skipped_why));
		return o;
	}
	if (!m->carved) {
		json_decref(holes.holes);
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "what", m->error.what, "why", m->error.why));
		return o;
	}
	if (m->files_written)
		json_object_set_new(o, "files", files_json(m));
	json_object_set_new(o, "pages", pages_json(cv));
	json_object_set_new(o, "sections", sections_json(cv));
	json_object_set_new(o, "headers", json_string(nm_carve_headers_name(cv->headers)));
	if (cv->headers != NM_HEADERS_OK)
		json_object_set_new(o, "headers_error", json_pack("{s:s, s:s}",
				    "what", cv->header_error.what, "why", cv->header_error.why));
	if (m->files_written)
		json_object_set_new(o, "pe_headers", json_string(m->synthesized_headers ? "synthesized" : "rebuilt"));
	json_object_set_new(o, "bytes_recovered", json_integer((json_int_t)cv->total.recovered));
	json_object_set_new(o, "bytes_missing", json_integer((json_int_t)cv->total.missing));
	json_object_set_new(o, "kinds", kinds_json(cv));
	nm_carve_for_each_hole(cv, hole_json, &holes);
	json_object_set_new(o, "holes", holes.holes);
	if (cv->pagefiles) {
		struct holes_sink runs = { cv, json_array() };

		nm_carve_for_each_pagefile_run(cv, pagefile_run_json, &runs);
		json_object_set_new(o, "from_pagefile", runs.holes);
	}
	if (m->compared)
		json_object_set_new(o, "compare", compare_json(&m->compare));
	return o;
}

json_t *carve_modules_json(const struct carve_result *r)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < r->nmodules; i++)
		json_array_append_new(a, module_json(&r->modules[i]));
	return a;
}
