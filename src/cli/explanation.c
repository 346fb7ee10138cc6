/* The explanation in plain words. The two cases of the seed thread get the
 * answer the thread arrived at; every other code gets its cause and where
 * each resolvable parameter lives. */
#include <stdarg.h>
#include <string.h>

#include "explain.h"

struct text {
	char *buf;
	size_t len, cap;
};

static void say(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len + 1 >= t->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n;
	if (t->len >= t->cap)
		t->len = t->cap - 1;
}

static const char *name_of(const struct nm_module *m)
{
	return m->name ? m->name : "an unnamed module";
}

static bool region_is_nonpaged(const struct nm_region *r)
{
	return r && strncmp(r->name, "nonpaged", 8) == 0;
}

static const char *kind_words(enum nm_section_kind k)
{
	switch (k) {
	case NM_SECTION_DISCARDABLE: return "discardable";
	case NM_SECTION_PAGEABLE: return "pageable";
	case NM_SECTION_NONPAGED: return "non-paged";
	}
	return "of unknown kind";
}

/* "srv.sys+0x1000 in section .text (non-paged)" */
static void say_module_place(struct text *t, const struct nm_resolved *r)
{
	say(t, "%s+0x%x", name_of(r->module), r->offset);
	if (r->has_section)
		say(t, " in section %s (%s)", r->section.name, kind_words(r->section.kind));
	else if (!r->headers_readable)
		say(t, " (its section is unknown: the module's header page is %s)",
		    nm_page_state_name(r->headers_state));
}

static void say_place(struct text *t, const struct nm_resolved *r)
{
	if (r->module)
		say_module_place(t, r);
	else if (r->region)
		say(t, "in region %s, in no loaded module", r->region->name);
	else
		say(t, "in no loaded module and no known region");
}

static void say_no_owner(struct text *t, const struct nm_pfn_owner *o)
{
	switch (o->link) {
	case NM_PTE_LINK_PROTOTYPE:
		say(t, "it is a prototype PTE, so the page is shared or backed by a file.");
		break;
	case NM_PTE_LINK_NOWHERE:
		say(t, "it points nowhere (its page is %s): the entry is corrupt or stale.",
		    nm_page_state_name(o->pte_page_state));
		break;
	default:
		say(t, "a frame on this list belongs to nobody.");
		break;
	}
}

/* 0x4E / 7 on a page of a driver image: the thread's answer. */
static void say_unlocked_nonpaged(struct text *t, const struct pfn_result *p)
{
	say(t, " That page was not locked by MmProbeAndLockPages: non-paged system memory is "
	       "resident by definition and probing it takes no reference, so the MmUnlockPages "
	       "that followed released a reference nobody had taken (share count %u, reference "
	       "count %u). A loaded driver image can be read directly, page by page, checking "
	       "each page first (MmIsAddressValid); no MDL is needed.",
	    p->entry.share_count, p->entry.reference_count);
}

static void explain_unlocked_too_often(struct text *t, const struct explain *x)
{
	const struct pfn_result *p = &x->params[1].pfn;
	const struct nm_resolved *w = &p->owner.where;

	say(t, "A driver unlocked a page more times than it locked it (Arg1 = 7).");
	if (!p->has_database || p->entry.out_of_range || !p->entry.readable) {
		say(t, " The page frame number 0x%llx (Arg2) cannot be looked up: its PFN entry is %s.",
		    (unsigned long long)p->entry.pfn, pfn_result_entry_state(p));
		return;
	}
	if (!p->owner.has_va) {
		say(t, " PFN 0x%llx (Arg2) is on the %s list and its PteAddress 0x%llx names no "
		       "owner: ", (unsigned long long)p->entry.pfn,
		    nm_pfn_list_name(p->entry.list), (unsigned long long)p->entry.pte_address);
		say_no_owner(t, &p->owner);
		return;
	}
	say(t, " PFN 0x%llx (Arg2) backs VA 0x%llx, ", (unsigned long long)p->entry.pfn,
	    (unsigned long long)p->owner.va);
	say_place(t, w);
	say(t, ".");
	if (w->module && (!w->has_section || w->section.kind == NM_SECTION_NONPAGED)) {
		say(t, " It is a page of a loaded driver image, which is non-paged system memory%s.",
		    w->has_section ? "" : " unless a section is marked pageable");
		say_unlocked_nonpaged(t, p);
	} else if (!w->module && region_is_nonpaged(w->region)) {
		say(t, " It is non-paged pool.");
		say_unlocked_nonpaged(t, p);
	} else if (w->module && w->section.kind == NM_SECTION_PAGEABLE) {
		say(t, " The section is pageable, so MmProbeAndLockPages does lock it: the counts "
		       "say the same MDL was unlocked twice, or unlocked after a failed probe.");
	}
	if (p->owner.link == NM_PTE_LINK_OTHER_FRAME)
		say(t, " Note: the PTE at 0x%llx no longer maps this frame (0x%llx).",
		    (unsigned long long)p->entry.pte_address, (unsigned long long)p->owner.pte_value);
}

static int first_param_of_kind(const struct explain *x, enum nm_param_kind kind)
{
	for (int i = 0; i < 4; i++)
		if (x->info.params[i].kind == kind && x->params[i].has_where)
			return i;
	return -1;
}

/* A bad memory reference (0x50 and its relatives): the thread's second case. */
static void explain_bad_reference(struct text *t, const struct explain *x, int va_index)
{
	const struct nm_resolved *r = &x->params[va_index].where;
	int ip = first_param_of_kind(x, NM_PARAM_IP);

	say(t, "%s: %s. The address referenced, 0x%llx (Arg%d), is ", x->info.name,
	    x->info.summary, (unsigned long long)r->va, va_index + 1);
	say_place(t, r);
	say(t, ".");
	if (nm_resolved_is_discarded(r)) {
		say(t, " That section is discardable: the page was freed after DriverEntry; %s.",
		    nm_resolved_pte_is_zero(r) ? "its PTE is zero"
					       : "its PTE no longer maps it");
		say(t, " Code that copies a driver image from its base to base + SizeOfImage runs "
		       "into this hole: check each page before reading it (MmIsAddressValid) or "
		       "skip discardable sections such as INIT.");
	} else {
		say(t, " Its page is %s%s in this dump.", nm_page_state_name(r->walk.state),
		    nm_resolved_pte_is_zero(r) ? " (its PTE is zero)" : "");
	}
	if (ip >= 0 && x->params[ip].value != 0) {
		say(t, " The instruction that made the reference, 0x%llx (Arg%d), is ",
		    (unsigned long long)x->params[ip].value, ip + 1);
		say_place(t, &x->params[ip].where);
		say(t, ".");
	}
}

static void explain_generic(struct text *t, const struct explain *x)
{
	say(t, "%s: %s.", x->info.name, x->info.summary);
	if (x->info.cause)
		say(t, " Cause (Arg1 = 0x%llx): %s.", (unsigned long long)x->params[0].value,
		    x->info.cause);
	for (int i = 0; i < 4; i++) {
		const struct explain_param *p = &x->params[i];

		if (p->has_where) {
			say(t, " Arg%d (%s) 0x%llx is ", i + 1, x->info.params[i].meaning,
			    (unsigned long long)p->value);
			say_place(t, &p->where);
			say(t, ", page %s.", nm_page_state_name(p->where.walk.state));
		} else if (p->has_pfn && p->pfn.owner.has_va) {
			say(t, " Arg%d (%s) 0x%llx backs VA 0x%llx, ", i + 1, x->info.params[i].meaning,
			    (unsigned long long)p->value, (unsigned long long)p->pfn.owner.va);
			say_place(t, &p->pfn.owner.where);
			say(t, ".");
		} else if (p->has_pfn) {
			say(t, " Arg%d (%s) 0x%llx: PFN entry %s.", i + 1, x->info.params[i].meaning,
			    (unsigned long long)p->value, pfn_result_entry_state(&p->pfn));
		}
	}
}

static void say_context(struct text *t, const struct explain *x)
{
	if (x->context64_resolved) {
		for (int i = 0; i < 4; i++)
			if (x->info.params[i].kind == NM_PARAM_IP && x->params[i].value == x->rip)
				return;
		say(t, " At the crash RIP was 0x%llx, ", (unsigned long long)x->rip);
		say_place(t, &x->rip_where);
		say(t, ".");
		return;
	}
	if (!x->has_context)
		return;
	for (int i = 0; i < 4; i++)
		if (x->info.params[i].kind == NM_PARAM_IP && x->params[i].value == x->eip)
			return;	/* already said where that instruction is */
	say(t, " At the crash EIP was 0x%x, ", x->eip);
	say_place(t, &x->eip_where);
	say(t, ".");
}

static bool is_bad_reference_code(uint32_t code)
{
	static const uint32_t codes[] = { 0x0A, 0x50, 0xBE, 0xC5, 0xCE, 0xD1, 0xD5, 0xD6 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return true;
	return false;
}

void explain_compose(struct explain *x)
{
	struct text t = { x->text, 0, sizeof(x->text) };
	int va;

	x->text[0] = '\0';
	if (!x->info.name) {
		say(&t, "Bug check 0x%08x is not in ntmem's table; its parameters are shown raw.",
		    x->info.code);
		say_context(&t, x);
		return;
	}
	if (x->header_only) {
		say(&t, "%s: %s.", x->info.name, x->info.summary);
		if (x->info.cause)
			say(&t, " Cause (Arg1 = 0x%llx): %s.",
			    (unsigned long long)x->params[0].value, x->info.cause);
		say(&t, " This dump holds no memory ntmem can translate, so no parameter is resolved.");
		if (x->has_context64 && x->rip_module[0])
			say(&t, " At the crash RIP was 0x%llx, in %s at offset 0x%llx (triage driver list).",
			    (unsigned long long)x->rip, x->rip_module, (unsigned long long)x->rip_offset);
		return;
	}
	va = first_param_of_kind(x, NM_PARAM_VA);
	if (x->info.code == 0x4E && x->params[0].value == 7)
		explain_unlocked_too_often(&t, x);
	else if (is_bad_reference_code(x->info.code) && va >= 0)
		explain_bad_reference(&t, x, va);
	else
		explain_generic(&t, x);
	say_context(&t, x);
}
