/* ntmem info: what the dump header says, in the contract's `dump` object. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ntmem/memory_facts.h>
#include <ntmem/pe_exports.h>

#include "bugcheck_output.h"
#include "cli.h"
#include "parts.h"

/* FILETIME counts 100 ns intervals since 1601-01-01; the fraction is shown
 * only when the writer recorded one. */
static void format_filetime(uint64_t ft, char *buf, size_t size)
{
	const uint64_t unix_epoch = UINT64_C(116444736000000000);
	uint64_t ticks, frac;
	time_t secs;
	struct tm tm;
	size_t n;

	if (ft < unix_epoch) {
		snprintf(buf, size, "1970-01-01T00:00:00Z");
		return;
	}
	ticks = ft - unix_epoch;
	secs = (time_t)(ticks / 10000000u);
	frac = ticks % 10000000u;
	gmtime_r(&secs, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		int digits = 7;

		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		n += (size_t)snprintf(buf + n, size - n, ".%0*llu", digits, (unsigned long long)frac);
	}
	snprintf(buf + n, size - n, "Z");
}

struct info_view {
	const struct nm_dump_facts *f;
	uint64_t dtb;
	uint64_t kdbg;
	const char *kdbg_source;	/* NULL when no KDBG address is known */
	bool memory_usable;
	bool has_kernel;		/* the kernel view opened: dtb and pae are its own */
	bool pae;
	enum nm_dtb_source dtb_source;
	bool dtb_cached;
	struct nm_dtb_scan scan;	/* when dtb_source is scan */
	bool headerless;		/* raw, ELF, kdump: the machine's facts come from memory */
	struct nm_memory_facts mem;	/* when headerless and the kernel view opened */
	bool has_build_number;		/* ntoskrnl's NtBuildNumber export was read */
	uint32_t build_number;		/* its value: build | 0xF0000000 (free) or 0xC... */
	nm_error build_number_error;	/* why not, when !has_build_number */
	/* The facts shown: the header's, or for a headerless image memory's. */
	uint32_t build, processors;
	uint64_t system_time;
	bool has_bugcheck;		/* false: "bugcheck": null */
	uint32_t bugcheck_code;
	uint64_t bugcheck_params[4];
};

/* The block the kernel layer validated (header, scan or option) replaces the
 * raw pointer above; when none validates, the raw pointer is still shown.
 * K is a kernel view the caller already holds (report), or NULL to open
 * one here; either way the facts read are the same. */
/* NtBuildNumber, exported by the kernel image (WRK init/initos.c: the
 * build in the low 16 bits, 0xF in the top nibble for a free build, 0xC
 * for a checked one): a second witness of the build beside NtBuildLab. */
static void read_build_number(struct nm_kernel *k, struct info_view *v)
{
	struct nm_vmem mem = nm_kernel_vmem(k);
	uint32_t rva;
	enum nm_page_state state;

	if (!k->has_kdbg) {
		nm_fail(&v->build_number_error, "kdbg", "no KDBG: the kernel image's base is not known");
		return;
	}
	if (nm_pe_find_export(&mem, k->kernel_base, "NtBuildNumber", &rva, &v->build_number_error) != 0)
		return;
	if (nm_vmem_u32(&mem, k->kernel_base + rva, &v->build_number, &state) != 0) {
		nm_fail(&v->build_number_error, "NtBuildNumber", "RVA 0x%x is unreadable (%s)", rva,
			nm_page_state_name(state));
		return;
	}
	v->has_build_number = true;
}

static void use_kernel(struct nm_kernel *k, struct info_view *v)
{
	v->has_kernel = true;
	v->dtb = k->dtb;
	v->pae = k->mode == &nm_mode_x86_pae;
	v->dtb_source = k->dtb_source;
	v->dtb_cached = k->dtb_cached;
	v->scan = k->dtb_scan;
	if (v->headerless) {
		nm_memory_facts_read(k, &v->mem);
		read_build_number(k, v);
	}
	if (k->has_kdbg) {
		v->kdbg = k->kdbg.va;
		v->kdbg_source = nm_kdbg_source_name(k->kdbg.source);
	}
}

static void use_kernel_kdbg(const struct cli *c, const nm_source *src, struct nm_kernel *held,
			    struct info_view *v)
{
	struct nm_kernel k;
	nm_error err = { { 0 }, { 0 } };

	if (!v->memory_usable)
		return;
	if (held) {
		use_kernel(held, v);
		return;
	}
	if (cli_kernel_open(c, src, &k, &err) != 0)
		return;
	use_kernel(&k, v);
	nm_kernel_close(&k);
}

static void fill_view(const struct cli *c, const nm_source *src, struct nm_kernel *held,
		      struct info_view *v)
{
	v->f = nm_source_facts(src);
	v->dtb = c->kopt.has_dtb ? c->kopt.dtb : v->f->dtb;
	v->memory_usable = v->f->max_pfn > 0;
	if (c->kopt.has_kdbg) {
		v->kdbg = c->kopt.kdbg_va;
		v->kdbg_source = "option";
	} else if (v->f->kdbg_va) {
		v->kdbg = v->f->kdbg_va;
		v->kdbg_source = "header";
	}
	v->headerless = v->f->format != NM_FORMAT_WINDOWS_CRASH_DUMP;
	use_kernel_kdbg(c, src, held, v);
	v->build = v->f->build;
	v->processors = v->f->processors;
	v->system_time = v->f->system_time;
	v->has_bugcheck = !v->headerless;
	v->bugcheck_code = v->f->bugcheck_code;
	memcpy(v->bugcheck_params, v->f->bugcheck_params, sizeof(v->bugcheck_params));
	if (!v->headerless)
		return;
	if (v->mem.has_build)
		v->build = v->mem.build;
	else if (v->has_build_number)
		v->build = v->build_number & 0xFFFF;
	if (!v->processors && v->mem.has_processors)
		v->processors = v->mem.processors;
	if (v->mem.has_system_time)
		v->system_time = v->mem.system_time;
	if (v->mem.bugcheck == NM_BUGCHECK_FOUND) {
		v->has_bugcheck = true;
		v->bugcheck_code = v->mem.bugcheck_code;
		for (int i = 0; i < 4; i++)
			v->bugcheck_params[i] = v->mem.bugcheck_params[i];
	}
}

/* Where the facts of a headerless image came from, and what memory said. */
static json_t *memory_json(const struct info_view *v)
{
	const struct nm_memory_facts *m = &v->mem;
	static const char *const seen[] = { "unknown", "none", "found" };

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}",
			 "build_lab", m->has_build ? json_string(m->build_lab) : json_null(),
			 "processors", m->has_processors ? json_integer(m->processors) : json_null(),
			 "system_time_known", json_boolean(m->has_system_time),
			 "nt_version", m->has_version ? json_pack("{s:I, s:I}", "major", (json_int_t)m->nt_major,
								      "minor", (json_int_t)m->nt_minor) : json_null(),
			 "kuser_shared_data", cli_json_hex(NM_KUSER_SHARED_DATA_X86),
			 "bugcheck", seen[m->bugcheck]);
}

/* dump.memory.nt_build_number: the export's value and what it says, or why
 * it could not be read (the export directory may be paged out: .edata is a
 * pageable section). */
static json_t *build_number_json(const struct info_view *v)
{
	if (!v->has_build_number)
		return json_pack("{s:n, s:s, s:s}", "value", "what", v->build_number_error.what, "why",
				 v->build_number_error.why);
	return json_pack("{s:o, s:I, s:s}", "value", cli_json_hex(v->build_number), "build",
			 (json_int_t)(v->build_number & 0xFFFF), "kind",
			 (v->build_number >> 28) == 0xF ? "free" : (v->build_number >> 28) == 0xC ? "checked" : "unknown");
}

/* The paging mode the walks use with this DTB: the header's word, or for
 * files that have none (raw images, ELF cores without a QEMU note) the
 * guess from the DTB's alignment, so that `pae` and `dtb` go together. */
static bool pae_in_use(const struct info_view *v)
{
	if (v->has_kernel)
		return v->pae;
	return v->f->arch == NM_ARCH_X86 ? nm_source_pae_for_dtb(v->f, v->dtb) : v->f->pae;
}

static json_t *runs_json(const struct nm_dump_facts *f)
{
	json_t *runs = json_array();

	for (uint32_t i = 0; i < f->nruns; i++) {
		uint64_t start = f->runs[i].base_pfn << NM_PAGE_SHIFT;
		uint64_t end = (f->runs[i].base_pfn + f->runs[i].page_count) << NM_PAGE_SHIFT;

		json_array_append_new(runs, json_pack("{s:o, s:o}", "start", cli_json_hex(start),
						      "end", cli_json_hex(end)));
	}
	return runs;
}

/* The context record's instruction and stack pointers, where the header
 * holds a context ntmem reads (x86, x64). */
static json_t *context_json(const struct nm_dump_facts *f)
{
	if (!f->has_context)
		return json_null();
	if (f->arch == NM_ARCH_X64)
		return json_pack("{s:o, s:o, s:o}", "rip", cli_json_hex(f->context64.rip),
				 "rsp", cli_json_hex(f->context64.rsp), "rbp", cli_json_hex(f->context64.rbp));
	return json_pack("{s:o, s:o, s:o}", "eip", cli_json_hex(f->context.eip),
			 "esp", cli_json_hex(f->context.esp), "ebp", cli_json_hex(f->context.ebp));
}

static void print_context(const struct nm_dump_facts *f)
{
	if (!f->has_context)
		printf("context:       none\n");
	else if (f->arch == NM_ARCH_X64)
		printf("context:       rip 0x%016llx rsp 0x%016llx\n", (unsigned long long)f->context64.rip,
		       (unsigned long long)f->context64.rsp);
	else
		printf("context:       eip 0x%08x esp 0x%08x\n", f->context.eip, f->context.esp);
}

/* How the DTB was found; for a scan, every candidate and its verdict. */
static json_t *dtb_scan_json(const struct info_view *v)
{
	json_t *list = json_array(), *rejected = json_object();
	for (uint32_t i = 0; i < v->scan.nlisted; i++) {
		const struct nm_dtb_candidate *cand = &v->scan.listed[i];
		const char *why = nm_dtb_reject_name(cand->verdict);

		json_array_append_new(list, json_pack("{s:o, s:b, s:I, s:s}", "dtb", cli_json_hex(cand->dtb),
						      "pae", cand->pae, "kernel_entries",
						      (json_int_t)cand->kernel_entries, "verdict", why));
		if (cand->verdict != NM_DTB_CHOSEN) {
			json_t *n = json_object_get(rejected, why);

			json_object_set_new(rejected, why, json_integer(n ? json_integer_value(n) + 1 : 1));
		}
	}
	return json_pack("{s:b, s:I, s:I, s:I, s:o, s:o}", "cached", v->dtb_cached,
			 "pages_scanned", (json_int_t)v->scan.pages_scanned,
			 "candidates", (json_int_t)v->scan.candidates,
			 "rejected", (json_int_t)(v->scan.candidates - (v->scan.candidates ? 1 : 0)),
			 "rejected_why", rejected, "listed", list);
}

static json_t *dump_json(const struct cli *c, const struct info_view *v)
{
	const struct nm_dump_facts *f = v->f;
	json_t *params = json_array();
	char when[64];
	json_t *d;

	for (int i = 0; i < 4; i++)
		json_array_append_new(params, cli_json_hex(v->bugcheck_params[i]));
	format_filetime(v->system_time, when, sizeof(when));
	d = json_pack("{s:n, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:o, s:I, s:o, s:I, s:o}",
		      "path",
		      "format", nm_format_name(f->format),
		      "type", nm_dump_type_name(f->type),
		      "arch", nm_arch_name(f->arch),
		      "pae", pae_in_use(v),
		      "dtb", cli_json_hex(v->dtb),
		      "kdbg", v->kdbg_source ? cli_json_hex(v->kdbg) : json_null(),
		      "kdbg_source", v->kdbg_source ? json_string(v->kdbg_source) : json_null(),
		      "build", (json_int_t)v->build,
		      "bugcheck", v->has_bugcheck ? json_pack("{s:o, s:o}", "code", cli_json_hex(v->bugcheck_code),
							       "params", params) : json_null(),
		      "processors", (json_int_t)v->processors,
		      "system_time", v->system_time ? json_string(when) : json_null(),
		      "pages_in_dump", (json_int_t)f->pages_in_dump,
		      "physical_runs", runs_json(f));
	cli_json_set_path(d, "path", c->dump_path);
	json_object_set_new(d, "dump_type_value", json_integer(f->dump_type_value));
	/* kdbg_va: the same string under the name pools uses beside its kdbg object */
	json_object_set_new(d, "kdbg_va", v->kdbg_source ? cli_json_hex(v->kdbg) : json_null());
	json_object_set_new(d, "machine", json_pack("{s:o, s:s}", "value", cli_json_hex(f->machine),
						    "name", nm_machine_name(f->machine)));
	json_object_set_new(d, "dtb_raw", cli_json_hex(f->dtb_raw));
	json_object_set_new(d, "page_tables_walked", json_boolean(nm_arch_has_walks(f->arch)));
	json_object_set_new(d, "truncated", nm_source_truncated(f)
		? json_pack("{s:I, s:I}", "size_needed", (json_int_t)f->size_needed,
			    "file_size", (json_int_t)f->file_size)
		: json_null());
	json_object_set_new(d, "context", context_json(f));
	json_object_set_new(d, "memory_usable", json_boolean(v->memory_usable));
	json_object_set_new(d, "compression", f->compression ? json_string(nm_compression_name(f->compression))
							     : json_null());
	if (!v->has_bugcheck)
		json_decref(params);
	json_object_set_new(d, "facts_source", json_string(v->headerless ? "memory" : "header"));
	json_object_set_new(d, "memory", v->headerless ? memory_json(v) : json_null());
	if (v->headerless && v->has_kernel)
		json_object_set_new(json_object_get(d, "memory"), "nt_build_number", build_number_json(v));
	json_object_set_new(d, "dtb_source", v->has_kernel ? json_string(nm_dtb_source_name(v->dtb_source))
							   : json_null());
	json_object_set_new(d, "dtb_scan", v->has_kernel && v->dtb_source == NM_DTB_FROM_SCAN
						   ? dtb_scan_json(v) : json_null());
	/* How the format was decided: "content", "name", "size" or "option". */
	json_object_set_new(d, "format_basis", f->format_basis ? json_string(f->format_basis) : json_null());
	json_object_set_new(d, "format_why", f->format_basis ? json_string(f->format_why) : json_null());
	return d;
}

static void print_scan(const struct cli *c, const struct info_view *v)
{
	uint32_t rejected = v->scan.candidates ? v->scan.candidates - 1 : 0;

	printf("dtb scan:      %llu pages, %u self-mapping directories, %u rejected\n",
	       (unsigned long long)v->scan.pages_scanned, v->scan.candidates, rejected);
	for (uint32_t i = 0; c->verbose && i < v->scan.nlisted; i++) {
		const struct nm_dtb_candidate *cand = &v->scan.listed[i];

		printf("  0x%09llx %-7s %4u kernel entries: %s\n", (unsigned long long)cand->dtb,
		       cand->pae ? "PAE" : "non-PAE", cand->kernel_entries, nm_dtb_reject_name(cand->verdict));
	}
}

static void print_text(const struct cli *c, const struct info_view *v)
{
	const struct nm_dump_facts *f = v->f;
	char when[64];

	format_filetime(v->system_time, when, sizeof(when));
	fputs("path:          ", stdout);
	cli_put_path(stdout, c->dump_path);
	putchar('\n');
	printf("format:        %s%s%s", nm_format_name(f->format), f->compression ? ", compressed with " : "",
	       f->compression ? nm_compression_name(f->compression) : "");
	if (f->format_basis)
		printf(" (by %s: %s)", f->format_basis, f->format_why);
	printf("\n");
	printf("type:          %s", nm_dump_type_name(f->type));
	if (f->format == NM_FORMAT_WINDOWS_CRASH_DUMP)
		printf(" (DumpType %u)", f->dump_type_value);
	printf("%s\n", v->memory_usable ? "" : ": no physical memory ntmem can use");
	printf("arch:          %s%s%s\n", nm_arch_name(f->arch), pae_in_use(v) ? " PAE" : "",
	       v->has_kernel && v->dtb_source == NM_DTB_FROM_SCAN ? " (paging mode from the directory scan)" :
	       v->dtb && (f->type == NM_DUMP_RAW || f->pae_unknown) ? " (paging mode guessed from the DTB)" : "");
	if (!nm_arch_has_walks(f->arch))
		printf("machine:       %s (0x%x): header facts only, ntmem does not walk its page tables\n",
		       nm_machine_name(f->machine), f->machine);
	printf("dtb:           0x%llx", (unsigned long long)v->dtb);
	if (v->dtb != f->dtb_raw && (v->has_kernel ? v->dtb_source == NM_DTB_FROM_HEADER : !c->kopt.has_dtb))
		printf(" (DirectoryTableBase 0x%llx with control bits masked)", (unsigned long long)f->dtb_raw);
	if (v->has_kernel)
		printf(" (%s%s)", nm_dtb_source_name(v->dtb_source), v->dtb_cached ? ", cached" : "");
	printf("\n");
	if (v->has_kernel && v->dtb_source == NM_DTB_FROM_SCAN)
		print_scan(c, v);
	if (v->kdbg_source)
		printf("kdbg:          0x%llx (%s)\n", (unsigned long long)v->kdbg, v->kdbg_source);
	else
		printf("kdbg:          unknown\n");
	printf("build:         %u", v->build);
	if (v->headerless && v->mem.has_build)
		printf(" (NtBuildLab \"%s\")", v->mem.build_lab);
	if (v->headerless && v->has_build_number)
		printf(" (NtBuildNumber 0x%08x)", v->build_number);
	printf("\n");
	if (v->has_bugcheck) {
		printf("bugcheck:      0x%x (0x%llx, 0x%llx, 0x%llx, 0x%llx)%s\n", v->bugcheck_code,
		       (unsigned long long)v->bugcheck_params[0], (unsigned long long)v->bugcheck_params[1],
		       (unsigned long long)v->bugcheck_params[2], (unsigned long long)v->bugcheck_params[3],
		       v->headerless ? " (KiBugCheckData)" : "");
		if (!v->headerless)
			bugcheck_labels_print(stdout, f);	/* name and labelled parameters (explain's table) */
	} else {
		printf("bugcheck:      none%s\n", v->mem.bugcheck == NM_BUGCHECK_NONE ? " (KiBugCheckData is clear)"
			: " recorded (a memory image has no dump header; KiBugCheckData unreadable)");
	}
	print_context(f);
	printf("processors:    %u\n", v->processors);
	printf("system time:   %s\n", v->system_time ? when : "unknown");
	printf("pages in dump: %llu (%llu MiB)\n", (unsigned long long)f->pages_in_dump,
	       (unsigned long long)(f->pages_in_dump / 256));
	if (nm_source_truncated(f))
		printf("truncated:     the %s layout needs %llu bytes, the file holds %llu\n",
		       nm_dump_type_name(f->type), (unsigned long long)f->size_needed,
		       (unsigned long long)f->file_size);
	printf("physical runs: %u\n", f->nruns);
	for (uint32_t i = 0; i < f->nruns; i++)
		printf("  0x%09llx-0x%09llx\n", (unsigned long long)(f->runs[i].base_pfn << NM_PAGE_SHIFT),
		       (unsigned long long)((f->runs[i].base_pfn + f->runs[i].page_count) << NM_PAGE_SHIFT));
}

void info_add_json(const struct cli *c, const nm_source *src, struct nm_kernel *k, json_t *doc)
{
	struct info_view v = { 0 };

	fill_view(c, src, k, &v);
	json_object_set_new(doc, "dump", dump_json(c, &v));
	/* Beside dump.bugcheck, which stays exactly the contract's shape. */
	json_object_set_new(doc, "bugcheck", v.headerless ? json_null() : bugcheck_labels_json(v.f));
}

void info_print_text(const struct cli *c, const nm_source *src, struct nm_kernel *k)
{
	struct info_view v = { 0 };

	fill_view(c, src, k, &v);
	print_text(c, &v);
}

int cmd_info(const struct cli *c)
{
	nm_source *src;
	int rc;

	if (c->argc > 0)
		return cli_fail_usage("info: unexpected argument '%s'", c->argv[0]);
	rc = cli_open_source(c, &src);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->json) {
		json_t *doc = cli_json_document(c);

		info_add_json(c, src, NULL, doc);
		cli_json_print(doc);
	} else {
		info_print_text(c, src, NULL);
	}
	nm_source_close(src);
	return CLI_EXIT_OK;
}
