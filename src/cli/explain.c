/* Building the explanation of a crash and printing it (contract: explain). */
#include "explain.h"
#include "bugcheck_output.h"

#include <string.h>

#include <ntmem/bytes.h>

#define PAGE_FILL 0x45474150u	/* "PAGE": a header field the writer never set */

static void resolve_param(struct crash_view *v, struct explain *x, int i, uint64_t value)
{
	struct explain_param *p = &x->params[i];
	enum nm_param_kind kind = x->info.params[i].kind;

	p->value = value;
	if (kind == NM_PARAM_PFN) {
		p->has_pfn = true;
		if (!pfn_result_read(&v->kernel, &v->resolver, value, &p->pfn))
			x->partial = true;
	} else if (nm_param_kind_resolvable(kind)) {
		p->has_where = true;
		nm_resolve(&v->resolver, value, &p->where);
	}
}

/* The header's context is usable when the writer filled it: a context that
 * is all zero or still the "PAGE" fill names no instruction. */
static bool context_usable(const struct nm_dump_facts *f)
{
	const struct nm_context_x86 *c = &f->context;

	if (!f->has_context || f->arch != NM_ARCH_X86)
		return false;
	if (c->eip == 0 && c->esp == 0)
		return false;
	return c->eip != PAGE_FILL && c->esp != PAGE_FILL;
}

static void add_candidate(struct crash_view *v, struct explain *x, uint32_t address,
			  uint32_t value)
{
	const struct nm_module *m;

	if (!v->has_modules || x->ncandidates >= EXPLAIN_MAX_CANDIDATES)
		return;
	m = nm_modules_find(&v->modules, value);
	if (!m)
		return;
	x->candidates[x->ncandidates++] = (struct stack_candidate){
		.address = address, .value = value, .module = m, .offset = value - m->base };
}

/* Words from ESP up through the next page: the frames of the functions that
 * were running, newest first. Without symbols a word that points into a
 * module is only a candidate return address. */
static void scan_stack(struct crash_view *v, struct explain *x)
{
	uint32_t start = x->esp & ~3u;
	uint64_t end = ((uint64_t)(start & ~(NM_PAGE_SIZE - 1))) + EXPLAIN_STACK_PAGES * NM_PAGE_SIZE;
	uint8_t page[NM_PAGE_SIZE];

	if (end > 0x100000000ULL)
		end = 0x100000000ULL;
	for (uint64_t a = start; a < end;) {
		uint32_t in_page = (uint32_t)(a & (NM_PAGE_SIZE - 1));
		uint32_t len = NM_PAGE_SIZE - in_page;

		if (nm_resolver_read(&v->resolver, a, page, len, &x->stack_stop_state) != 0) {
			x->stack_stopped = true;
			return;
		}
		for (uint32_t off = 0; off + 4 <= len; off += 4) {
			x->stack_words++;
			add_candidate(v, x, (uint32_t)(a + off), nm_le32(page + off));
		}
		a += len;
	}
}

/* x64: RIP and RSP of the header's CONTEXT, placed through memory like any
 * VA. The stack scan (32-bit words) is x86's; on x64 it is not made. */
static void resolve_context64(struct crash_view *v, struct explain *x)
{
	const struct nm_dump_facts *f = nm_source_facts(v->src);

	if (f->arch != NM_ARCH_X64 || !f->has_context || (f->context64.rip == 0 && f->context64.rsp == 0))
		return;
	x->has_context64 = x->context64_resolved = true;
	x->rip = f->context64.rip;
	x->rsp = f->context64.rsp;
	nm_resolve(&v->resolver, x->rip, &x->rip_where);
	nm_resolve(&v->resolver, x->rsp, &x->rsp_where);
}

static void resolve_context(struct crash_view *v, struct explain *x)
{
	const struct nm_dump_facts *f = nm_source_facts(v->src);

	resolve_context64(v, x);
	if (!context_usable(f))
		return;
	x->has_context = true;
	x->eip = f->context.eip;
	x->esp = f->context.esp;
	nm_resolve(&v->resolver, x->eip, &x->eip_where);
	nm_resolve(&v->resolver, x->esp, &x->esp_where);
	scan_stack(v, x);
}

void explain_build(struct crash_view *v, struct explain *x)
{
	const struct nm_dump_facts *f = nm_source_facts(v->src);

	memset(x, 0, sizeof(*x));
	x->param_width = bugcheck_param_width(f);
	nm_bugcheck_describe(f->bugcheck_code, f->bugcheck_params[0], &x->info);
	for (int i = 0; i < 4; i++)
		resolve_param(v, x, i, f->bugcheck_params[i]);
	resolve_context(v, x);
	explain_compose(x);
}

void explain_build_from_header(const struct nm_dump_facts *f, struct explain *x)
{
	memset(x, 0, sizeof(*x));
	x->param_width = bugcheck_param_width(f);
	x->header_only = true;
	nm_bugcheck_describe(f->bugcheck_code, f->bugcheck_params[0], &x->info);
	for (int i = 0; i < 4; i++) {
		x->params[i].value = f->bugcheck_params[i];
		if (nm_param_kind_resolvable(x->info.params[i].kind))
			x->partial = true;
	}
	explain_compose(x);
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *param_json(const struct explain *x, int i)
{
	const struct explain_param *p = &x->params[i];
	json_t *resolved = json_null();

	if (p->has_pfn)
		resolved = pfn_result_json(&p->pfn);
	else if (p->has_where)
		resolved = resolved_json(&p->where);
	return json_pack("{s:i, s:o, s:o, s:s, s:o}", "index", i + 1,
			 "value", cli_json_hex(p->value),
			 "meaning", string_or_null(x->info.params[i].meaning),
			 "kind", nm_param_kind_name(x->info.params[i].kind),
			 "resolved", resolved);
}

static json_t *bugcheck_json(const struct explain *x)
{
	json_t *params = json_array();

	for (int i = 0; i < 4; i++)
		json_array_append_new(params, param_json(x, i));
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "code", cli_json_hex(x->info.code),
			 "name", string_or_null(x->info.name),
			 "summary", string_or_null(x->info.summary),
			 "cause", string_or_null(x->info.cause),
			 "params", params);
}

static json_t *candidates_json(const struct explain *x)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < x->ncandidates; i++) {
		const struct stack_candidate *c = &x->candidates[i];

		/* "va" (the stack slot's VA, as every other document spells a VA)
		 * beside the contract's "address". */
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:o}",
			"address", cli_json_hex(c->address), "va", cli_json_hex(c->address),
			"value", cli_json_hex(c->value),
			"module", string_or_null(c->module->name), "offset", cli_json_hex(c->offset)));
	}
	return a;
}

void explain_add_json(json_t *obj, const struct explain *x)
{
	json_object_set_new(obj, "bugcheck", bugcheck_json(x));
	if (x->has_context)
		json_object_set_new(obj, "context", json_pack("{s:o, s:o}",
			"eip", resolved_json(&x->eip_where), "esp", resolved_json(&x->esp_where)));
	else if (x->context64_resolved)
		json_object_set_new(obj, "context", json_pack("{s:o, s:o}",
			"rip", resolved_json(&x->rip_where), "rsp", resolved_json(&x->rsp_where)));
	else if (x->has_context64)
		json_object_set_new(obj, "context", explain_context64_json(x));
	else
		json_object_set_new(obj, "context", json_null());
	json_object_set_new(obj, "stack_candidates", candidates_json(x));
	json_object_set_new(obj, "explanation", json_string(x->text));
}

static void print_param(FILE *f, const struct explain *x, int i)
{
	const struct explain_param *p = &x->params[i];
	const char *meaning = x->info.params[i].meaning;

	fprintf(f, "  Arg%d: 0x%0*llx  %s", i + 1, x->param_width ? x->param_width : 8, (unsigned long long)p->value,
		meaning ? meaning : "");
	if (meaning && x->info.params[i].kind != NM_PARAM_OTHER)
		fprintf(f, " [%s]", nm_param_kind_name(x->info.params[i].kind));
	fputc('\n', f);
	if (p->has_pfn)
		pfn_result_print(f, "        ", &p->pfn);
	else if (p->has_where)
		resolved_print(f, "        ", &p->where);
}

/* Prints TEXT wrapped at 76 columns, each line after INDENT. */
static void print_wrapped(FILE *f, const char *indent, const char *text)
{
	const char *s = text;

	while (*s) {
		size_t n = strlen(s), cut = n;

		if (n > 76) {
			cut = 76;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = 76;
		}
		fprintf(f, "%s%.*s\n", indent, (int)cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

static void print_stack(FILE *f, const struct explain *x)
{
	fprintf(f, "Stack candidates (words from ESP up that point into modules; "
		   "without symbols these are candidates only):\n");
	for (unsigned i = 0; i < x->ncandidates; i++) {
		const struct stack_candidate *c = &x->candidates[i];

		fprintf(f, "  0x%08x: 0x%08x  %s+0x%x\n", c->address, c->value,
			c->module->name ? c->module->name : "?", c->offset);
	}
	if (x->ncandidates == 0)
		fprintf(f, "  none in %u words\n", x->stack_words);
	if (x->stack_stopped)
		fprintf(f, "  (the scan stopped at a page that is %s)\n",
			nm_page_state_name(x->stack_stop_state));
}

void explain_print(FILE *f, const struct explain *x)
{
	if (x->info.name)
		fprintf(f, "%s (0x%x): %s\n", x->info.name, x->info.code, x->info.summary);
	else
		fprintf(f, "Bug check 0x%08x (not in ntmem's table)\n", x->info.code);
	for (int i = 0; i < 4; i++)
		print_param(f, x, i);
	if (x->has_context) {
		fprintf(f, "Context record:\n  EIP 0x%08x\n", x->eip);
		resolved_print(f, "        ", &x->eip_where);
		fprintf(f, "  ESP 0x%08x\n", x->esp);
		resolved_print(f, "        ", &x->esp_where);
		print_stack(f, x);
	} else if (x->context64_resolved) {
		fprintf(f, "Context record (x64):\n  RIP 0x%016llx\n", (unsigned long long)x->rip);
		resolved_print(f, "        ", &x->rip_where);
		fprintf(f, "  RSP 0x%016llx\n", (unsigned long long)x->rsp);
		resolved_print(f, "        ", &x->rsp_where);
		fprintf(f, "  (no stack scan on x64 yet: the scan reads 32-bit words)\n");
	} else if (x->has_context64) {
		explain_context64_print(f, x);
	} else {
		fprintf(f, "Context record: none usable in this dump\n");
	}
	fprintf(f, "Explanation:\n");
	print_wrapped(f, "  ", x->text);
}
