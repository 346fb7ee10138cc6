/* The text renderer of a carve result: one row per module, then each
 * module's holes and comparison, then what the reasons mean. */
#include "carve_run.h"

/* Digits of a base: 8 on a 32-bit kernel (the x86 table is unchanged), 16
 * on x64, where kernel addresses use all 64 bits. */
static int base_digits(bool wide)
{
	return wide ? 16 : 8;
}

static void print_table_header(FILE *out, bool wide)
{
	fprintf(out, "%-22s %-*s %9s %9s %9s  %-15s %-15s %-15s %-13s %s\n", "module", base_digits(wide) + 2, "base",
		"size", "recovered", "missing", "nonpaged", "pageable", "discardable", "headers/other", "headers");
}

static void print_pair(FILE *out, const struct nm_byte_tally *t)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%llu/%llu", (unsigned long long)t->recovered, (unsigned long long)t->missing);
	fprintf(out, " %-15s", buf);
}

static void print_module_row(FILE *out, const struct carve_module *m, bool wide)
{
	const struct nm_carve *cv = &m->cv;

	fprintf(out, "%-22.22s 0x%0*llx 0x%07x %9llu %9llu ", m->display_name, base_digits(wide),
		(unsigned long long)cv->base, cv->size,
		(unsigned long long)cv->total.recovered, (unsigned long long)cv->total.missing);
	print_pair(out, &cv->kinds[NM_SECTION_NONPAGED]);
	print_pair(out, &cv->kinds[NM_SECTION_PAGEABLE]);
	print_pair(out, &cv->kinds[NM_SECTION_DISCARDABLE]);
	print_pair(out, &cv->outside);
	fprintf(out, "%s\n", nm_carve_headers_name(cv->headers));
}

static void print_pagefile_pages(FILE *out, const struct nm_carve *cv, const struct nm_carve_hole *h)
{
	unsigned shown = 0;

	for (uint32_t rva = h->rva_start; rva < h->rva_end && shown < 4; rva += NM_PAGE_SIZE, shown++) {
		const struct nm_carve_page *p = &cv->pages[rva >> NM_PAGE_SHIFT];

		fprintf(out, "%s page file %u @0x%llx", shown ? "," : "   ", p->pagefile_number,
			(unsigned long long)p->pagefile_offset);
	}
	if (h->rva_start + shown * NM_PAGE_SIZE < h->rva_end)
		fprintf(out, ", ...");
}

struct hole_printer {
	FILE *out;
	const struct nm_carve *cv;
};

static int print_hole_detail(void *ctx, const struct nm_carve_hole *h)
{
	const struct hole_printer *p = ctx;

	fprintf(p->out, "  hole     0x%05x-0x%05x  %-8s %-15s (%s)", h->rva_start, h->rva_end,
		h->section >= 0 ? p->cv->pe.sections[h->section].name : "-", nm_hole_reason_name(h->reason),
		nm_page_state_name(h->state));
	if (h->state == NM_PAGE_PAGEFILE)
		print_pagefile_pages(p->out, p->cv, h);
	fputc('\n', p->out);
	return 0;
}

static void print_compare_detail(FILE *out, const struct carve_compare *cmp)
{
	if (!cmp->found)
		fprintf(out, "  compare: no original file of that name\n");
	else if (cmp->error[0])
		fprintf(out, "  compare: %s\n", cmp->error);
	else
		fprintf(out, "  compared with %s (relocated): %llu bytes, %llu modified\n", cmp->file,
			(unsigned long long)cmp->stats.bytes_compared, (unsigned long long)cmp->stats.bytes_modified);
	for (unsigned i = 0; i < cmp->nmodified; i++)
		fprintf(out, "  modified 0x%05x-0x%05x  %s\n", cmp->modified[i].rva_start, cmp->modified[i].rva_end,
			cmp->modified[i].section);
}

static int count_hole(void *ctx, const struct nm_carve_hole *h)
{
	(void)h;
	++*(unsigned *)ctx;
	return 0;
}

static int count_pagefile_run(void *ctx, const struct nm_carve_pagefile_run *r)
{
	(void)r;
	++*(unsigned *)ctx;
	return 0;
}

/* Bytes that are no hole because a paging file (--pagefile) held them. */
static int print_pagefile_run(void *ctx, const struct nm_carve_pagefile_run *r)
{
	const struct hole_printer *p = ctx;
	struct nm_pagefile_lookup l;

	nm_pagefiles_lookup(p->cv->pagefiles, r->number, r->file_offset, &l);
	fprintf(p->out, "  from pagefile 0x%05x-0x%05x  %-8s paging file %u at 0x%llx (", r->rva_start, r->rva_end,
		r->section >= 0 ? p->cv->pe.sections[r->section].name : "-", r->number,
		(unsigned long long)r->file_offset);
	cli_put_path(p->out, l.path ? l.path : "?");
	fputs(")\n", p->out);
	return 0;
}

/* What follows the table for one module: its holes and its comparison.
 * Returns whether anything was printed. */
static bool print_details(FILE *out, const struct carve_module *m, bool wide)
{
	struct hole_printer p = { out, &m->cv };
	unsigned holes = 0;

	nm_carve_for_each_hole(&m->cv, count_hole, &holes);
	nm_carve_for_each_pagefile_run(&m->cv, count_pagefile_run, &holes);
	if (holes == 0 && !m->compared)
		return false;
	fprintf(out, "\n%s at 0x%0*llx:\n", m->display_name, base_digits(wide), (unsigned long long)m->cv.base);
	nm_carve_for_each_hole(&m->cv, print_hole_detail, &p);
	nm_carve_for_each_pagefile_run(&m->cv, print_pagefile_run, &p);
	if (m->compared)
		print_compare_detail(out, &m->compare);
	return true;
}

void carve_print_text(FILE *out, const struct carve_result *r)
{
	bool details = false;

	print_table_header(out, r->wide);
	for (unsigned i = 0; i < r->nmodules; i++)
		if (r->modules[i].carved)
			print_module_row(out, &r->modules[i], r->wide);
	for (unsigned i = 0; i < r->nmodules; i++)
		if (r->modules[i].carved && print_details(out, &r->modules[i], r->wide))
			details = true;
	if (details)
		fprintf(out, "\nreasons: discarded = INIT/discardable pages freed after DriverEntry; "
			"paged_out = pageable (PAGE*) pages in a page file;\n"
			"beyond_pagefile_end = in a page file, past the end of the one given (--pagefile);\n"
			"stale = the frame was reused (PFN database); not_in_dump = mapped but absent "
			"from this dump; headers_missing = no PE header page\n");
}

void carve_print_summary(FILE *out, const struct carve_result *r)
{
	fprintf(out, "carved %u module(s) into ", r->carved);
	if (r->out_dir)
		cli_put_path(out, r->out_dir);
	else
		fputs("memory", out);
	if (r->skipped)
		fprintf(out, " (%u list entr%s at a base already carved: skipped)", r->skipped,
			r->skipped == 1 ? "y" : "ies");
	fprintf(out, ": %llu bytes recovered, %llu missing%s\n", (unsigned long long)r->bytes_recovered,
		(unsigned long long)r->bytes_missing, r->failed ? " (some modules failed: see above)" : "");
}
