/* ntmem info: what the dump header says, in the contract's `dump` object. */
#include <stdio.h>
#include <time.h>

#include "bugcheck_output.h"
#include "cli.h"

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
};

/* The block the kernel layer validated (header, scan or option) replaces the
 * raw pointer above; when none validates, the raw pointer is still shown. */
static void use_kernel_kdbg(const struct cli *c, const nm_source *src, struct info_view *v)
{
	struct nm_kernel k;
	nm_error err = { { 0 }, { 0 } };

	if (!v->memory_usable || nm_kernel_open(src, &c->kopt, &k, &err) != 0)
		return;
	if (k.has_kdbg) {
		v->kdbg = k.kdbg.va;
		v->kdbg_source = nm_kdbg_source_name(k.kdbg.source);
	}
	nm_kernel_close(&k);
}

static void fill_view(const struct cli *c, const nm_source *src, struct info_view *v)
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
	use_kernel_kdbg(c, src, v);
}

/* The paging mode the walks use with this DTB: the header's word, or for
 * files that have none (raw images, ELF cores without a QEMU note) the
 * guess from the DTB's alignment, so that `pae` and `dtb` go together. */
static bool pae_in_use(const struct info_view *v)
{
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

static json_t *dump_json(const struct cli *c, const struct info_view *v)
{
	const struct nm_dump_facts *f = v->f;
	json_t *params = json_array();
	char when[64];
	json_t *d;

	for (int i = 0; i < 4; i++)
		json_array_append_new(params, cli_json_hex(f->bugcheck_params[i]));
	format_filetime(f->system_time, when, sizeof(when));
	d = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:{s:o, s:o}, s:I, s:o, s:I, s:o}",
		      "path", c->dump_path,
		      "format", nm_format_name(f->format),
		      "type", nm_dump_type_name(f->type),
		      "arch", nm_arch_name(f->arch),
		      "pae", pae_in_use(v),
		      "dtb", cli_json_hex(v->dtb),
		      "kdbg", v->kdbg_source ? cli_json_hex(v->kdbg) : json_null(),
		      "kdbg_source", v->kdbg_source ? json_string(v->kdbg_source) : json_null(),
		      "build", (json_int_t)f->build,
		      "bugcheck", "code", cli_json_hex(f->bugcheck_code), "params", params,
		      "processors", (json_int_t)f->processors,
		      "system_time", f->system_time ? json_string(when) : json_null(),
		      "pages_in_dump", (json_int_t)f->pages_in_dump,
		      "physical_runs", runs_json(f));
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
	return d;
}

static void print_text(const struct cli *c, const struct info_view *v)
{
	const struct nm_dump_facts *f = v->f;
	char when[64];

	format_filetime(f->system_time, when, sizeof(when));
	printf("path:          %s\n", c->dump_path);
	printf("format:        %s%s%s\n", nm_format_name(f->format), f->compression ? ", compressed with " : "",
	       f->compression ? nm_compression_name(f->compression) : "");
	printf("type:          %s (DumpType %u)%s\n", nm_dump_type_name(f->type), f->dump_type_value,
	       v->memory_usable ? "" : ": no physical memory ntmem can use");
	printf("arch:          %s%s%s\n", nm_arch_name(f->arch), pae_in_use(v) ? " PAE" : "",
	       v->dtb && (f->type == NM_DUMP_RAW || f->pae_unknown) ? " (paging mode guessed from the DTB)" : "");
	if (!nm_arch_has_walks(f->arch))
		printf("machine:       %s (0x%x): header facts only, ntmem does not walk its page tables\n",
		       nm_machine_name(f->machine), f->machine);
	if (v->dtb != f->dtb_raw && !c->kopt.has_dtb)
		printf("dtb:           0x%llx (DirectoryTableBase 0x%llx with control bits masked)\n",
		       (unsigned long long)v->dtb, (unsigned long long)f->dtb_raw);
	else
		printf("dtb:           0x%llx\n", (unsigned long long)v->dtb);
	if (v->kdbg_source)
		printf("kdbg:          0x%llx (%s)\n", (unsigned long long)v->kdbg, v->kdbg_source);
	else
		printf("kdbg:          unknown\n");
	printf("build:         %u\n", f->build);
	printf("bugcheck:      0x%x (0x%llx, 0x%llx, 0x%llx, 0x%llx)\n", f->bugcheck_code,
	       (unsigned long long)f->bugcheck_params[0], (unsigned long long)f->bugcheck_params[1],
	       (unsigned long long)f->bugcheck_params[2], (unsigned long long)f->bugcheck_params[3]);
	bugcheck_labels_print(stdout, f);	/* name and labelled parameters (explain's table) */
	print_context(f);
	printf("processors:    %u\n", f->processors);
	printf("system time:   %s\n", f->system_time ? when : "unknown");
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

int cmd_info(const struct cli *c)
{
	nm_source *src;
	struct info_view v = { 0 };
	int rc;

	if (c->argc > 0)
		return cli_fail_usage("info: unexpected argument '%s'", c->argv[0]);
	rc = cli_open_source(c, &src);
	if (rc != CLI_EXIT_OK)
		return rc;
	fill_view(c, src, &v);
	if (c->json) {
		json_t *doc = cli_json_document(c);

		json_object_set_new(doc, "dump", dump_json(c, &v));
		/* Beside dump.bugcheck, which stays exactly the contract's shape. */
		json_object_set_new(doc, "bugcheck", bugcheck_labels_json(v.f));
		cli_json_print(doc);
	} else {
		print_text(c, &v);
	}
	nm_source_close(src);
	return CLI_EXIT_OK;
}
