/* The explanation of a crash: the bugcheck with each parameter named and
 * resolved, the context record's EIP and ESP, stack words inside modules,
 * and a plain-words explanation. Shared by explain and report. */
#ifndef NTMEM_CLI_EXPLAIN_H
#define NTMEM_CLI_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <ntmem/bugcheck.h>

#include "crash_view.h"
#include "resolved_output.h"

#define EXPLAIN_STACK_PAGES 2		/* ESP's page and the one above it */
#define EXPLAIN_MAX_CANDIDATES 512
#define EXPLAIN_TEXT_MAX 4096

struct explain_param {
	uint64_t value;
	bool has_where;			/* kind va / ip / pte_address */
	struct nm_resolved where;
	bool has_pfn;			/* kind pfn */
	struct pfn_result pfn;
};

struct stack_candidate {
	uint32_t address, value;
	const struct nm_module *module;
	uint32_t offset;
};

struct explain {
	struct nm_bugcheck_info info;
	struct explain_param params[4];
	bool has_context;
	uint32_t eip, esp;
	struct nm_resolved eip_where, esp_where;
	unsigned ncandidates;
	struct stack_candidate candidates[EXPLAIN_MAX_CANDIDATES];
	unsigned stack_words;		/* words scanned */
	bool stack_stopped;		/* a stack page could not be read */
	enum nm_page_state stack_stop_state;
	char text[EXPLAIN_TEXT_MAX];	/* the explanation, plain words */
	/* The x64 context of a dump without translatable memory (a triage
	 * dump, a truncated file): RIP and RSP, RIP placed in the triage
	 * driver list when the dump has one (explain_context64.c). */
	bool has_context64;
	uint64_t rip, rsp;
	/* x64 full and bitmap dumps: RIP and RSP resolved through memory */
	bool context64_resolved;
	struct nm_resolved rip_where, rsp_where;
	int param_width;		/* hex digits of a parameter in text (bugcheck_param_width) */
	char rip_module[64];		/* "" when no driver holds RIP */
	uint64_t rip_offset;
	bool partial;			/* a parameter asked for could not be resolved */
	bool header_only;		/* the dump has no memory to resolve anything in */
};

/* Fills X from the dump behind V (X is large: allocate it). */
void explain_build(struct crash_view *v, struct explain *x);

/* The bugcheck of the header alone, for dumps without usable memory
 * (triage dumps): names and meanings, nothing resolved. */
void explain_build_from_header(const struct nm_dump_facts *f, struct explain *x);

/* Adds the x64 context record of SRC's header to X (built from the header);
 * places RIP in the triage driver list when SRC is a triage dump. */
void explain_context64_from_header(const nm_source *src, struct explain *x);
json_t *explain_context64_json(const struct explain *x);
void explain_context64_print(FILE *f, const struct explain *x);

/* Composes x->text from the resolved fields (explanation.c). */
void explain_compose(struct explain *x);

/* Adds "bugcheck", "context", "stack_candidates" and "explanation" to OBJ. */
void explain_add_json(json_t *obj, const struct explain *x);
void explain_print(FILE *f, const struct explain *x);

#endif
