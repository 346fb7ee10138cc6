/* report --html: the kernel address space to scale (regions in lanes so
 * that overlapping ones stay visible, the gaps between them, the true
 * overlaps, each module as a band in its region, zoomed per region to the
 * span its modules cover) and per module a grid of its pages coloured by
 * state under its section names, each page with a tooltip. The bugcheck's
 * resolved addresses are marked on both. Names from the dump are escaped;
 * every loop is bounded by the result's own arrays. */
#include <inttypes.h>
#include <string.h>

#include "report_html.h"

#define SVG_WIDTH 1200
#define AXIS_LEFT 20
#define AXIS_WIDTH 1160
#define LANE_HEIGHT 30
#define MAX_MARKS 8
#define CELL 10			/* page cell pitch: 9 px square, 1 px gap */
#define CELLS_PER_ROW 64
#define GRID_LABEL 16

struct mark {
	uint64_t va;
	char label[8];			/* "P1", "EIP" */
	char what[160];
};

struct picture {
	FILE *f;
	const struct report_picture *p;
	uint64_t lo, hi;		/* the axis: [lo, hi) */
	unsigned nmarks;
	struct mark marks[MAX_MARKS];
};

/* ---- escaping ---------------------------------------------------------- */

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void size_text(uint64_t bytes, char *buf, size_t n)
{
	if (bytes >= (1ull << 40))
		snprintf(buf, n, "%.1f TiB", (double)bytes / (1ull << 40));
	else if (bytes >= (1ull << 30))
		snprintf(buf, n, "%.1f GiB", (double)bytes / (1ull << 30));
	else if (bytes >= (1u << 20))
		snprintf(buf, n, "%.1f MiB", (double)bytes / (1u << 20));
	else if (bytes >= 1024)
		snprintf(buf, n, "%.1f KiB", (double)bytes / 1024);
	else
		snprintf(buf, n, "%" PRIu64 " B", bytes);
}

/* ---- marks ------------------------------------------------------------ */

static void add_mark(struct picture *pic, uint64_t va, const char *label, const char *what)
{
	struct mark *m;

	if (pic->nmarks >= MAX_MARKS || va == 0)
		return;
	m = &pic->marks[pic->nmarks++];
	m->va = va;
	snprintf(m->label, sizeof(m->label), "%s", label);
	snprintf(m->what, sizeof(m->what), "%s", what ? what : "");
}

static void collect_marks(struct picture *pic)
{
	const struct explain *x = pic->p->explain;

	if (!x)
		return;
	for (int i = 0; i < 4; i++) {
		const char label[3] = { 'P', (char)('1' + i), 0 };

		if (!x->params[i].has_where)
			continue;
		add_mark(pic, x->params[i].where.va, label, x->info.params[i].meaning);
	}
	if (x->has_context) {
		add_mark(pic, x->eip_where.va, "EIP", "instruction pointer of the context record");
		add_mark(pic, x->esp_where.va, "ESP", "stack pointer of the context record");
	}
}

/* ---- the address space ------------------------------------------------- */

static double axis_x(const struct picture *pic, uint64_t va, uint64_t lo, uint64_t hi)
{
	if (va < lo)
		va = lo;
	if (va > hi)
		va = hi;
	return AXIS_LEFT + (double)(va - lo) * AXIS_WIDTH / (double)(hi - lo);
	(void)pic;
}

static void rect(FILE *f, double x0, double x1, double y, double h, const char *cls, double min_w)
{
	double w = x1 - x0;

	if (w < min_w)
		w = min_w;
	fprintf(f, "<rect class=\"%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\"", cls, x0, y, w, h);
}

/* At most a dozen ticks, and none past the top of the address space: an
 * x64 axis may end at 2^64 - 1, where adding a step wraps around. */
static void ticks(FILE *f, uint64_t lo, uint64_t hi, double y, double h)
{
	uint64_t span = hi - lo, step = 1ull << 20, t;

	while (span / step > 8 && step < (1ull << 62))
		step <<= 1;
	t = lo / step * step;
	if (t < lo)
		t += step;
	for (unsigned i = 0; i < 12 && t >= lo && t <= hi; i++, t += step) {
		double x = AXIS_LEFT + (double)(t - lo) * AXIS_WIDTH / (double)span;

		fprintf(f, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>\n", x, y, x, y + h);
		if (x + 70 < SVG_WIDTH)
			fprintf(f, "<text class=\"tick\" x=\"%.2f\" y=\"%.1f\">0x%08" PRIx64 "</text>\n", x + 2, y + 10, t);
		if (t > UINT64_MAX - step)
			break;
	}
}

/* Lanes: each region takes the first lane where it overlaps nothing. */
static unsigned assign_lanes(const struct nm_va_map *pm, unsigned *lane)
{
	uint64_t lane_end[NM_MAX_REGIONS];
	unsigned nlanes = 0;

	for (unsigned i = 0; i < pm->nregions; i++) {
		unsigned l = 0;

		while (l < nlanes && lane_end[l] > pm->regions[i].start)
			l++;
		if (l == nlanes)
			lane_end[nlanes++] = 0;
		lane_end[l] = pm->regions[i].end;
		lane[i] = l;
	}
	return nlanes;
}

static const struct nm_region *region_of(const struct nm_va_map *pm, uint64_t va)
{
	return pm ? nm_va_map_find(pm, va) : NULL;
}

static void module_title(FILE *f, const struct carve_module *m, const struct nm_region *r)
{
	char size[32];

	size_text(m->target.size, size, sizeof(size));
	fputs("<title>", f);
	put_escaped(f, m->display_name);
	fprintf(f, " 0x%08" PRIx64 "-0x%08" PRIx64 " (%s) in %s</title>", m->target.base,
		(uint64_t)m->target.base + m->target.size, size, r ? r->name : "no known region");
}

static void marks_on_axis(struct picture *pic, uint64_t lo, uint64_t hi, double y, double h)
{
	FILE *f = pic->f;

	for (unsigned i = 0; i < pic->nmarks; i++) {
		const struct mark *m = &pic->marks[i];
		double x;

		if (m->va < lo || m->va >= hi)
			continue;
		x = axis_x(pic, m->va, lo, hi);
		fprintf(f, "<g class=\"mark\"><line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>"
			"<text x=\"%.2f\" y=\"%.1f\">%s</text><title>%s 0x%08" PRIx64 ": ", x, y, x, y + h, x + 2,
			y + 9 + (i % 3) * 10.0, m->label, m->label, m->va);
		put_escaped(f, m->what);
		fputs("</title></g>\n", f);
	}
}

static void draw_overview(struct picture *pic)
{
	FILE *f = pic->f;
	const struct nm_va_map *pm = pic->p->pools;
	const struct carve_result *cr = pic->p->carve;
	unsigned lane[NM_MAX_REGIONS], nlanes = pm ? assign_lanes(pm, lane) : 0;
	double top = 20, cover_y = top, overlap_y = top + 14, lanes_y = top + 30;
	double height = lanes_y + (nlanes + 1) * LANE_HEIGHT + 10;
	uint64_t covered = pic->lo;

	fprintf(f, "<svg id=\"address-space\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
		"viewBox=\"0 0 %d %.0f\">\n", SVG_WIDTH, height, SVG_WIDTH, height);
	ticks(f, pic->lo, pic->hi, 0, height);
	/* Gaps: the axis that no region covers. */
	for (unsigned i = 0; pm && i <= pm->nregions; i++) {
		uint64_t next = i < pm->nregions ? pm->regions[i].start : pic->hi;

		if (next > covered) {
			char size[32];

			size_text(next - covered, size, sizeof(size));
			rect(f, axis_x(pic, covered, pic->lo, pic->hi), axis_x(pic, next, pic->lo, pic->hi), cover_y,
			     10, "gap", 0.5);
			fprintf(f, "><title>gap 0x%08" PRIx64 "-0x%08" PRIx64 " (%s): no region</title></rect>\n",
				covered, next, size);
		}
		if (i < pm->nregions && pm->regions[i].end > covered)
			covered = pm->regions[i].end;
	}
	for (unsigned i = 0; pm && i < pm->noverlaps; i++) {
		const struct nm_overlap *o = &pm->overlaps[i];

		rect(f, axis_x(pic, o->start, pic->lo, pic->hi), axis_x(pic, o->end, pic->lo, pic->hi), overlap_y, 10,
		     "overlap", 2);
		fprintf(f, "><title>overlap of %s and %s: 0x%08" PRIx64 "-0x%08" PRIx64 "</title></rect>\n", o->a, o->b,
			o->start, o->end);
	}
	for (unsigned i = 0; pm && i < pm->nregions; i++) {
		const struct nm_region *r = &pm->regions[i];
		double x0 = axis_x(pic, r->start, pic->lo, pic->hi), x1 = axis_x(pic, r->end, pic->lo, pic->hi);
		double y = lanes_y + lane[i] * LANE_HEIGHT;
		char size[32];

		size_text(r->end - r->start, size, sizeof(size));
		rect(f, x0, x1, y, LANE_HEIGHT - 4, "region", 1);
		fprintf(f, " data-region=\"%s\"><title>%s 0x%08" PRIx64 "-0x%08" PRIx64 " (%s), from ", r->name,
			r->name, r->start, r->end, size);
		put_escaped(f, r->source);
		fputs("</title></rect>\n", f);
		if (x1 - x0 > 7.0 * strlen(r->name))
			fprintf(f, "<text class=\"region\" x=\"%.2f\" y=\"%.1f\">%s</text>\n", x0 + 3, y + 11, r->name);
	}
	/* Module bands in their region's lane (at least 2 px wide, or they
	 * would vanish at this scale: the zoomed strips below are exact). */
	for (unsigned i = 0; cr && i < cr->nmodules; i++) {
		const struct carve_module *m = &cr->modules[i];
		const struct nm_region *r = region_of(pm, m->target.base);
		unsigned l = r ? lane[r - pm->regions] : nlanes;
		double y = lanes_y + l * LANE_HEIGHT + 14;

		rect(f, axis_x(pic, m->target.base, pic->lo, pic->hi),
		     axis_x(pic, (uint64_t)m->target.base + m->target.size, pic->lo, pic->hi), y, 10, "band mini", 2);
		fputs(">", f);
		module_title(f, m, r);
		fputs("</rect>\n", f);
	}
	for (unsigned i = 0; cr && i < cr->nmodules; i++)
		if (!region_of(pm, cr->modules[i].target.base)) {
			fprintf(f, "<text class=\"lane\" x=\"%d\" y=\"%.1f\">modules in no known region</text>\n",
				AXIS_LEFT, lanes_y + nlanes * LANE_HEIGHT + 11);
			break;
		}
	marks_on_axis(pic, pic->lo, pic->hi, 0, height);
	fputs("</svg>\n", f);
}

/* One strip per region that holds modules (and one for modules in none),
 * to scale over the span its modules cover. */
static void draw_region_strip(struct picture *pic, const struct nm_region *r)
{
	FILE *f = pic->f;
	const struct carve_result *cr = pic->p->carve;
	const struct nm_va_map *pm = pic->p->pools;
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned n = 0;
	double height = 58;

	for (unsigned i = 0; i < cr->nmodules; i++) {
		const struct carve_module *m = &cr->modules[i];

		if (region_of(pm, m->target.base) != r)
			continue;
		n++;
		if (m->target.base < lo)
			lo = m->target.base;
		if ((uint64_t)m->target.base + m->target.size > hi)
			hi = (uint64_t)m->target.base + m->target.size;
	}
	if (n == 0)
		return;
	if (hi <= lo)
		hi = lo + 1;
	fprintf(f, "<h3>%s: %u module(s), 0x%08" PRIx64 "-0x%08" PRIx64 " to scale</h3>\n",
		r ? r->name : "no known region", n, lo, hi);
	fprintf(f, "<svg class=\"strip\" data-region=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%.0f\" viewBox=\"0 0 %d %.0f\">\n", r ? r->name : "none", SVG_WIDTH, height, SVG_WIDTH,
		height);
	ticks(f, lo, hi, 0, height);
	for (unsigned i = 0, k = 0; i < cr->nmodules; i++) {
		const struct carve_module *m = &cr->modules[i];
		double x0, x1;

		if (region_of(pm, m->target.base) != r)
			continue;
		x0 = axis_x(pic, m->target.base, lo, hi);
		x1 = axis_x(pic, (uint64_t)m->target.base + m->target.size, lo, hi);
		rect(f, x0, x1, 16 + (k++ % 2) * 18, 16, "band", 1);
		fputs(" data-module=\"", f);
		put_escaped(f, m->display_name);
		fprintf(f, "@0x%" PRIx64 "\">", m->target.base);
		module_title(f, m, r);
		fputs("</rect>\n", f);
		if (x1 - x0 > 6.5 * strlen(m->display_name)) {
			fprintf(f, "<text class=\"band\" x=\"%.2f\" y=\"%d\">", x0 + 2, 28 + ((k - 1) % 2) * 18);
			put_escaped(f, m->display_name);
			fputs("</text>\n", f);
		}
	}
	marks_on_axis(pic, lo, hi, 0, height);
	fputs("</svg>\n", f);
}

/* ---- per module: the page grid --------------------------------------- */

static const char *section_label(const struct nm_carve *cv, unsigned page)
{
	int s = cv->pages[page].section;

	if (s >= 0)
		return cv->pe.sections[s].name;
	if (page == 0)
		return "headers";
	return cv->headers == NM_HEADERS_OK ? "(no section)" : "(sections unknown: no readable PE header)";
}

static const struct mark *mark_in_page(const struct picture *pic, const struct nm_carve *cv, unsigned page)
{
	uint64_t start = (uint64_t)cv->base + (uint64_t)page * NM_PAGE_SIZE;

	for (unsigned i = 0; i < pic->nmarks; i++)
		if (pic->marks[i].va >= start && pic->marks[i].va < start + NM_PAGE_SIZE)
			return &pic->marks[i];
	return NULL;
}

/* Page J is drawn in the group that starts at page I: the same section,
 * and the header page (RVA 0) always alone. */
static bool same_group(const struct nm_carve *cv, unsigned i, unsigned j)
{
	return cv->pages[j].section == cv->pages[i].section && (i > 0 || j == 0);
}

/* Rows of the grid: each run of pages of one section starts a new row
 * under its name. */
static unsigned grid_height(const struct nm_carve *cv)
{
	unsigned h = 0;

	for (unsigned i = 0; i < cv->npages;) {
		unsigned j = i;

		while (j < cv->npages && same_group(cv, i, j))
			j++;
		h += GRID_LABEL + ((j - i + CELLS_PER_ROW - 1) / CELLS_PER_ROW) * CELL + 4;
		i = j;
	}
	return h;
}

static void draw_page(struct picture *pic, const struct carve_module *m, unsigned page, unsigned x, unsigned y)
{
	FILE *f = pic->f;
	const struct nm_carve *cv = &m->cv;
	const struct nm_carve_page *pg = &cv->pages[page];
	const struct mark *mk = mark_in_page(pic, cv, page);
	const char *reason = nm_hole_reason_name((enum nm_hole_reason)pg->reason);

	fprintf(f, "<rect class=\"p %s%s\" x=\"%u\" y=\"%u\" width=\"%d\" height=\"%d\" data-rva=\"0x%x\">"
		"<title>RVA 0x%x, %s", carve_page_class(pg), mk ? " hit" : "", x, y, CELL - 1, CELL - 1,
		page * NM_PAGE_SIZE, page * NM_PAGE_SIZE, nm_page_state_name((enum nm_page_state)pg->state));
	fprintf(f, ", %s", reason ? reason : "read");
	fputs(", ", f);
	put_escaped(f, section_label(cv, page));
	if (pg->state == NM_PAGE_PAGEFILE)
		fprintf(f, ", page file %u offset 0x%" PRIx64, pg->pagefile_number, pg->pagefile_offset);
	if (mk) {
		fprintf(f, "; bugcheck %s 0x%08" PRIx64 ": ", mk->label, mk->va);
		put_escaped(f, mk->what);
	}
	fputs("</title></rect>\n", f);
}

static void draw_module(struct picture *pic, const struct carve_module *m, unsigned index)
{
	FILE *f = pic->f;
	const struct nm_carve *cv = &m->cv;
	char size[32];
	unsigned y = 0;

	size_text(m->target.size, size, sizeof(size));
	fprintf(f, "<section class=\"module\" id=\"m%u\"><h3>", index);
	put_escaped(f, m->display_name);
	fprintf(f, " at 0x%08" PRIx64 ", %s</h3>\n", m->target.base, size);
	if (m->skipped) {
		fputs("<p>skipped: ", f);
		put_escaped(f, m->skipped_why);
		fputs("</p></section>\n", f);
		return;
	}
	if (!m->carved) {
		fputs("<p class=\"error\">not carved: ", f);
		put_escaped(f, m->error.what);
		fputs(": ", f);
		put_escaped(f, m->error.why);
		fputs("</p></section>\n", f);
		return;
	}
	fprintf(f, "<p>%" PRIu64 " bytes recovered, %" PRIu64 " missing; headers %s", cv->total.recovered,
		cv->total.missing, nm_carve_headers_name(cv->headers));
	for (unsigned i = 0; i < pic->nmarks; i++)
		if (pic->marks[i].va >= cv->base && pic->marks[i].va < (uint64_t)cv->base + cv->size)
			fprintf(f, "; <b>bugcheck %s at +0x%" PRIx64 "</b>", pic->marks[i].label,
				pic->marks[i].va - cv->base);
	fputs("</p>\n", f);
	fprintf(f, "<svg class=\"pages\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\">\n",
		CELLS_PER_ROW * CELL + 200, grid_height(cv));
	for (unsigned i = 0; i < cv->npages;) {
		unsigned j = i;

		fprintf(f, "<text class=\"section\" x=\"0\" y=\"%u\">", y + 11);
		put_escaped(f, section_label(cv, i));
		if (cv->pages[i].section >= 0)
			fprintf(f, " (%s)", nm_section_kind_name(cv->pe.sections[cv->pages[i].section].kind));
		fprintf(f, " RVA 0x%x</text>\n", i * NM_PAGE_SIZE);
		y += GRID_LABEL;
		for (; j < cv->npages && same_group(cv, i, j); j++)
			draw_page(pic, m, j, ((j - i) % CELLS_PER_ROW) * CELL, y + ((j - i) / CELLS_PER_ROW) * CELL);
		y += ((j - i + CELLS_PER_ROW - 1) / CELLS_PER_ROW) * CELL + 4;
		i = j;
	}
	fputs("</svg></section>\n", f);
}

/* ---- the page --------------------------------------------------------- */

static const char STYLE[] =
	"body{font:13px/1.4 'Liberation Sans',Arial,sans-serif;margin:16px;color:#222;background:#fff}\n"
	"h1{font-size:20px}h2{font-size:16px;margin-top:24px}h3{font-size:13px;margin:14px 0 4px}\n"
	"svg text{font:10px 'Liberation Sans',Arial,sans-serif;fill:#222}\n"
	"line.tick{stroke:#ddd}text.tick{fill:#888}\n"
	".gap{fill:#eee;stroke:#bbb;stroke-width:.5}.overlap{fill:#d9363e}\n"
	".region{fill:#dfe8f5;stroke:#6b8cc7}text.region{fill:#345}\n"
	".band{fill:#345e9c;stroke:#fff;stroke-width:.5}.band:hover{fill:#f0a030}\n"
	".mark line{stroke:#d9363e;stroke-width:2}.mark text{fill:#d9363e;font-weight:bold}\n"
	"text.section{font-weight:bold}.p{stroke:none}.p.hit{stroke:#000;stroke-width:2}\n"
	".valid{fill:#2e9d4a}.transition{fill:#7cc7a0}.demand_zero{fill:#b9d7f0}.pagefile{fill:#f0a030}\n"
	".discarded{fill:#9a6fc9}.not_in_dump{fill:#9e9e9e}.stale{fill:#d9363e}.prototype{fill:#e8d44d}\n"
	".not_mapped{fill:#fff;stroke:#bbb;stroke-width:1}\n"
	".legend span{display:inline-block;margin-right:14px}.legend svg{vertical-align:middle;margin-right:4px}\n"
	"table{border-collapse:collapse}td,th{padding:1px 8px;text-align:left;font-size:12px}"
	"tr:nth-child(even){background:#f4f4f4}.error{color:#d9363e}\n";

static void legend(FILE *f)
{
	static const char *const classes[] = { "valid", "transition", "demand_zero", "pagefile", "discarded",
					       "not_in_dump", "stale", "prototype", "not_mapped" };

	fputs("<p class=\"legend\">", f);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		fprintf(f, "<span><svg width=\"10\" height=\"10\"><rect class=\"p %s\" width=\"9\" height=\"9\"/></svg>"
			"%s</span>", classes[i], classes[i]);
	fputs("</p>\n", f);
}

static void region_table(FILE *f, const struct nm_va_map *pm)
{
	fputs("<table><tr><th>region</th><th>start</th><th>end</th><th>size</th><th>from</th></tr>\n", f);
	for (unsigned i = 0; i < pm->nregions; i++) {
		const struct nm_region *r = &pm->regions[i];
		char size[32];

		size_text(r->end - r->start, size, sizeof(size));
		fprintf(f, "<tr><td>%s</td><td>0x%08" PRIx64 "</td><td>0x%08" PRIx64 "</td><td>%s</td><td>", r->name,
			r->start, r->end, size);
		put_escaped(f, r->source);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	for (unsigned i = 0; i < pm->noverlaps; i++)
		fprintf(f, "<p class=\"error\">overlap: %s and %s share 0x%08" PRIx64 "-0x%08" PRIx64 "</p>\n",
			pm->overlaps[i].a, pm->overlaps[i].b, pm->overlaps[i].start, pm->overlaps[i].end);
}

#define GIB (1ull << 30)

/* An end of 0 is the top of the address space (a region that runs to 2^64). */
static uint64_t end_or_top(uint64_t end)
{
	return end ? end : UINT64_MAX;
}

/* x86: the whole kernel half, 0x80000000 to 4 GiB (lower when a region or
 * module starts below it). x64: its kernel half is 128 TiB, where every
 * region would be a hairline, so the axis spans what the regions and the
 * modules cover, in whole GiB, still to scale. */
static void axis_bounds(struct picture *pic)
{
	const struct nm_va_map *pm = pic->p->pools;
	const struct carve_result *cr = pic->p->carve;
	bool wide = pic->p->facts->arch == NM_ARCH_X64;

	pic->lo = wide ? UINT64_MAX : 0x80000000u;
	pic->hi = wide ? 0 : 0x100000000ull;
	for (unsigned i = 0; pm && i < pm->nregions; i++) {
		if (pm->regions[i].start < pic->lo)
			pic->lo = pm->regions[i].start;
		if (wide && end_or_top(pm->regions[i].end) > pic->hi)
			pic->hi = end_or_top(pm->regions[i].end);
	}
	for (unsigned i = 0; cr && i < cr->nmodules; i++) {
		uint64_t base = cr->modules[i].target.base, end = base + cr->modules[i].target.size;

		if (base < pic->lo)
			pic->lo = base;
		if (wide && (end < base ? UINT64_MAX : end) > pic->hi)
			pic->hi = end < base ? UINT64_MAX : end;
	}
	if (!wide) {
		pic->lo &= ~0xFFFFFull;
		return;
	}
	if (pic->hi <= pic->lo) {	/* nothing placed: the kernel half */
		pic->lo = UINT64_C(0xFFFF800000000000);
		pic->hi = UINT64_MAX;
		return;
	}
	pic->lo &= ~(GIB - 1);
	pic->hi = pic->hi > UINT64_MAX - GIB ? UINT64_MAX : (pic->hi + GIB - 1) & ~(GIB - 1);
}

static void header(struct picture *pic)
{
	FILE *f = pic->f;
	const struct report_picture *p = pic->p;
	const struct explain *x = p->explain;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>ntmem report: ", f);
	put_escaped(f, p->dump_path);
	fprintf(f, "</title>\n<style>\n%s</style></head><body>\n<h1>ntmem report: ", STYLE);
	put_escaped(f, p->dump_path);
	fprintf(f, "</h1>\n<p>%s %s dump, %s%s, build %u", nm_format_name(p->facts->format),
		nm_dump_type_name(p->facts->type), nm_arch_name(p->facts->arch), p->facts->pae ? " PAE" : "",
		p->facts->build);
	if (x)
		fprintf(f, "; bugcheck 0x%08x %s", x->info.code, x->info.name ? x->info.name : "(unknown code)");
	fputs("</p>\n", f);
	for (unsigned i = 0; i < pic->nmarks; i++) {
		fprintf(f, "<p>bugcheck %s = 0x%08" PRIx64 ": ", pic->marks[i].label, pic->marks[i].va);
		put_escaped(f, pic->marks[i].what);
		fputs("</p>\n", f);
	}
}

int report_write_html(FILE *f, const struct report_picture *p)
{
	struct picture pic;
	const struct carve_result *cr = p->carve;

	memset(&pic, 0, sizeof(pic));
	pic.f = f;
	pic.p = p;
	collect_marks(&pic);
	axis_bounds(&pic);
	header(&pic);
	fprintf(f, "<h2>Kernel address space 0x%08" PRIx64 "-0x%08" PRIx64 ", to scale</h2>\n"
		"<p>Top row: gaps no region covers; second row: true overlaps; then the regions in lanes "
		"(overlapping regions in separate lanes) with each module as a band in its region "
		"(at least 2 px wide here; the strips below are exact). Red lines: the bugcheck's addresses.</p>\n",
		pic.lo, pic.hi);
	draw_overview(&pic);
	if (p->pools)
		region_table(f, p->pools);
	else
		fputs("<p class=\"error\">no address-space map (the report's pools part says why): regions unknown</p>\n", f);
	if (cr) {
		fputs("<h2>Modules in their regions</h2>\n", f);
		for (unsigned i = 0; p->pools && i < p->pools->nregions; i++)
			draw_region_strip(&pic, &p->pools->regions[i]);
		draw_region_strip(&pic, NULL);
		fputs("<h2>Pages of each module</h2>\n", f);
		legend(f);
		for (unsigned i = 0; i < cr->nmodules; i++)
			draw_module(&pic, &cr->modules[i], i);
	}
	fputs("</body></html>\n", f);
	return ferror(f) ? -1 : 0;
}
