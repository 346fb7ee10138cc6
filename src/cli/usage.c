/* The command line of ntmem, described once (usage.h says who reads it).
 *
 * Rows are in the order help prints them: commands, then options (global
 * ones first), then exit statuses. An option taken by several commands with
 * a different meaning (-o is a FILE for read, a DIR for carve) has one row
 * per meaning; the parser merges rows of the same name. */
#include <string.h>

#include "cli.h"
#include "usage.h"

#define DUMP_NOTE "DUMP is a crash dump (.dmp), a raw physical image, an ELF core or a kdump file, " \
		  "plain or gzip-compressed"

const struct usage_row usage_table[] = {
	/* ---- commands ---- */
	{ USAGE_COMMAND, "info", 0, 0, "DUMP", NULL, 0,
	  "dump type, architecture, PAE, DTB, KDBG and how it was found, OS build, bugcheck, "
	  "processors, system time, physical memory runs", cmd_info },
	{ USAGE_COMMAND, "pte", 0, 0, "DUMP VA...", NULL, 0,
	  "the page walk of each VA: every paging entry's address and raw value, and the page's state",
	  cmd_pte },
	{ USAGE_COMMAND, "read", 0, 0, "DUMP VA LEN", NULL, 0,
	  "LEN bytes of kernel virtual memory as a hex dump (or raw into -o FILE); "
	  "pages that cannot be read are named, never silently zero", cmd_read },
	{ USAGE_COMMAND, "pools", 0, 0, "DUMP", NULL, 0,
	  "the kernel address-space map: pool regions and the other system regions, "
	  "with the kernel variables they come from", cmd_pools },
	{ USAGE_COMMAND, "modules", 0, 0, "DUMP", NULL, 0,
	  "loaded kernel modules (PsLoadedModuleList), in load order", cmd_modules },
	{ USAGE_COMMAND, "carve", 0, 0, "DUMP", NULL, 0,
	  "driver images out of kernel memory into DIR (NAME@BASE.mem, .pe, .holes.json), "
	  "with a map of the pages that could not be read", cmd_carve },
	{ USAGE_COMMAND, "pfn", 0, 0, "DUMP PFN...", NULL, 0,
	  "the PFN database entry of each page frame, and who owns the page it maps", cmd_pfn },
	{ USAGE_COMMAND, "explain", 0, 0, "DUMP", NULL, 0,
	  "the bugcheck with each parameter named and resolved, the context's EIP/ESP, "
	  "and stack words that point into modules", cmd_explain },
	{ USAGE_COMMAND, "report", 0, 0, "DUMP", NULL, 0,
	  "info, explain, pools and modules in one run, and a carve of every module "
	  "(with report.json) when -o DIR is given", cmd_report },
	{ USAGE_COMMAND, "help", 0, 0, "[COMMAND]", NULL, 0,
	  "this overview, or one command's options and exit statuses", NULL },

	/* ---- global options ---- */
	{ USAGE_OPTION, "json", OPT_JSON, 0, NULL, NULL, 0,
	  "one JSON document on stdout instead of text; diagnostics go to stderr", NULL },
	{ USAGE_OPTION, "dtb", OPT_DTB, 0, "PA", NULL, 0,
	  "page-directory base (CR3) to use instead of the dump's", NULL },
	{ USAGE_OPTION, "kdbg", OPT_KDBG, 0, "VA", NULL, 0,
	  "address of the KDBG (debugger data block) to use instead of the dump's or a scan's", NULL },
	{ USAGE_OPTION, "pagefile", OPT_PAGEFILE, 0, "[N=]FILE", "pte read carve report explain modules pools",
	  USAGE_REPEATABLE,
	  "the machine's paging file N (0 when N= is left out; pagefile.sys is 0): a page whose PTE points "
	  "into it is read from it (state stays pagefile, the output says recovered and the file offset)", NULL },
	{ USAGE_OPTION, "format", OPT_FORMAT, 0, "raw|elf|kdump|dmp", NULL, 0,
	  "read DUMP as this format instead of recognising it (by content, then name, then size); "
	  "a gzip file is still inflated and the format applies to what it holds", NULL },
	{ USAGE_OPTION, "raw", OPT_RAW, 0, NULL, NULL, 0,
	  "read DUMP as a flat physical memory image, whatever its content looks like (= --format raw)", NULL },
	{ USAGE_OPTION, "verbose", OPT_VERBOSE, 'v', NULL, NULL, 0,
	  "more detail: info lists every page-directory candidate of a DTB scan and its verdict", NULL },
	{ USAGE_OPTION, "quiet", OPT_QUIET, 'q', NULL, NULL, 0,
	  "no progress or warnings on stderr (errors still print)", NULL },
	{ USAGE_OPTION, "help", OPT_HELP, 'h', NULL, NULL, 0,
	  "this help; after a command, that command's help", NULL },
	{ USAGE_OPTION, "version", OPT_VERSION, 0, NULL, NULL, 0, "the version of ntmem", NULL },
	{ USAGE_OPTION, "expect", OPT_EXPECT, 0, "FILE", NULL, 0,
	  "compare this run's JSON with the document stored in FILE (the dump's path, output folders and "
	  "the version are not compared); on a difference exit 4 with one line per difference on stderr: "
	  "JSON path, expected, got", NULL },
	{ USAGE_OPTION, "jsonl", OPT_JSONL, 0, NULL, NULL, 0,
	  "one compact JSON object per line for each DUMP, with the dump's \"file\" and \"exit\" "
	  "(a dump that fails is an object with its \"error\"); commands that take only DUMP accept "
	  "several; the exit status is the worst one (docs/batch.md)", NULL },
	{ USAGE_OPTION, "bash-completion", OPT_BASH_COMPLETION, 0, NULL, NULL, USAGE_HIDDEN,
	  "the bash completion script, made from this help", NULL },
	{ USAGE_OPTION, "man", OPT_MAN, 0, NULL, NULL, USAGE_HIDDEN,
	  "the manual page ntmem(1), in roff, made from this help", NULL },

	/* ---- command options ---- */
	{ USAGE_OPTION, "output", OPT_OUTPUT, 'o', "FILE", "read", 0,
	  "write the raw bytes to FILE (unreadable pages as zeros, still named on stderr)", NULL },
	{ USAGE_OPTION, "output", OPT_OUTPUT, 'o', "DIR", "carve", USAGE_REQUIRED,
	  "the directory the carved files go to (created when missing)", NULL },
	{ USAGE_OPTION, "output", OPT_OUTPUT, 'o', "DIR", "report", 0,
	  "also carve every module into DIR and write DIR/report.json", NULL },
	{ USAGE_OPTION, "html", OPT_HTML, 0, "FILE", "report", 0,
	  "also write FILE: one self-contained HTML page with the kernel address space to scale (regions, "
	  "gaps, overlaps, each module as a band) and each module's pages coloured by state", NULL },
	{ USAGE_OPTION, "module", OPT_MODULE, 0, "NAME", "carve", USAGE_REPEATABLE,
	  "the module whose BaseDllName is NAME (any case, e.g. ntfs.sys)", NULL },
	{ USAGE_OPTION, "base", OPT_BASE, 0, "VA", "carve", USAGE_REPEATABLE,
	  "the module loaded at VA; an image no list entry names is carved from its own header", NULL },
	{ USAGE_OPTION, "all", OPT_ALL, 0, NULL, "carve", 0, "every module in the list", NULL },
	{ USAGE_OPTION, "fill", OPT_FILL, 0, "BYTE", "carve", 0,
	  "the byte that stands for unreadable bytes in .mem and .pe files (default 0)", NULL },
	{ USAGE_OPTION, "force", OPT_FORCE, 0, NULL, "carve report", 0,
	  "replace output files that exist (regular files only)", NULL },
	{ USAGE_OPTION, "keep-stale", OPT_KEEP_STALE, 0, NULL, "carve report", 0,
	  "keep the bytes of stale pages (the PFN database says the frame now belongs to another PTE) "
	  "instead of leaving holes", NULL },
	{ USAGE_OPTION, "compare-with", OPT_COMPARE_WITH, 0, "DIR", "carve", 0,
	  "compare each carved image with the file of the same name in DIR (e.g. the driver on disk)", NULL },

	/* ---- exit statuses ---- */
	{ USAGE_EXIT, "0", 0, 0, NULL, NULL, 0,
	  "done (holes in an image are findings, not errors)", NULL },
	{ USAGE_EXIT, "1", 0, 0, NULL, NULL, 0,
	  "usage error: unknown command or option, bad number, missing argument", NULL },
	{ USAGE_EXIT, "2", 0, 0, NULL, "info pte read pools modules carve pfn explain report", 0,
	  "the input is unreadable, not a supported dump, or inconsistent; stderr has one line "
	  "'ntmem: FILE: WHAT: WHY'", NULL },
	{ USAGE_EXIT, "3", 0, 0, NULL, "read", 0,
	  "a page in the range could not be read (named on stderr); the rest is still printed", NULL },
	{ USAGE_EXIT, "3", 0, 0, NULL, "pools modules", 0,
	  "done in part: no KDBG was found, or the kernel's lists end early", NULL },
	{ USAGE_EXIT, "3", 0, 0, NULL, "carve", 0,
	  "done in part: a module asked for is not in the list, a module could not be carved, "
	  "or --all met a list that ends early", NULL },
	{ USAGE_EXIT, "3", 0, 0, NULL, "pfn explain", 0,
	  "done in part: an entry or the module list could not be read", NULL },
	{ USAGE_EXIT, "3", 0, 0, NULL, "report", 0,
	  "done in part: one of the parts could not be produced in full", NULL },
	{ USAGE_EXIT, "4", 0, 0, NULL, NULL, 0,
	  "--expect found a difference (one line per difference on stderr: JSON path, expected, got)", NULL },

	/* ---- page states (contract: Page states; shared by pte, read, carve, report --html) ---- */
	{ USAGE_STATE, "valid", 0, 0, NULL, NULL, 0,
	  "hardware-valid mapping and the page is in the dump: its bytes are read", NULL },
	{ USAGE_STATE, "transition", 0, 0, NULL, NULL, 0,
	  "invalid PTE in transition: the page is still in physical memory and its bytes are recovered", NULL },
	{ USAGE_STATE, "demand_zero", 0, 0, NULL, NULL, 0,
	  "software PTE never materialised: the bytes are zeros by definition", NULL },
	{ USAGE_STATE, "pagefile", 0, 0, NULL, NULL, 0,
	  "software PTE pointing into a paging file: no bytes; the file number and offset are reported", NULL },
	{ USAGE_STATE, "prototype", 0, 0, NULL, NULL, 0,
	  "the PTE refers to a prototype PTE: resolved when the prototype can be read, else reported", NULL },
	{ USAGE_STATE, "not_mapped", 0, 0, NULL, NULL, 0,
	  "a paging entry on the way is zero or not present and carries no software meaning: no bytes "
	  "(a carve calls it \"discarded\" inside a discardable section such as INIT)", NULL },
	{ USAGE_STATE, "not_in_dump", 0, 0, NULL, NULL, 0,
	  "the mapping is valid but the physical page is absent from the dump (kernel dumps omit pages): "
	  "no bytes", NULL },
	{ USAGE_STATE, "stale", 0, 0, NULL, NULL, 0,
	  "the mapping is valid but the PFN database says the frame now belongs to another PTE: the bytes "
	  "exist but are not this page's", NULL },
};

const unsigned usage_table_rows = sizeof(usage_table) / sizeof(usage_table[0]);

const struct usage_row *usage_command(const char *name)
{
	for (unsigned i = 0; i < usage_table_rows; i++)
		if (usage_table[i].kind == USAGE_COMMAND && strcmp(usage_table[i].name, name) == 0)
			return &usage_table[i];
	return NULL;
}

/* Whether the space-separated LIST holds WORD. */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

bool usage_option_in(const struct usage_row *r, const char *cmd)
{
	return !r->scope || (cmd && in_list(r->scope, cmd));
}

const struct usage_row *usage_option(int id, const char *cmd)
{
	const struct usage_row *any = NULL;

	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_OPTION || r->id != id)
			continue;
		if (!cmd || usage_option_in(r, cmd))
			return r;
		if (!any)
			any = r;
	}
	return cmd ? NULL : any;
}

/* "-o, --output DIR", "--json", "-q, --quiet". */
static void option_form(const struct usage_row *r, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	if (r->short_name)
		n += (size_t)snprintf(buf + n, size - n, "-%c%s", r->short_name, r->name ? ", " : "");
	if (r->name && n < size)
		n += (size_t)snprintf(buf + n, size - n, "--%s", r->name);
	if (r->arg && n < size)
		snprintf(buf + n, size - n, " %s", r->arg);
}

/* "carve DUMP -o DIR [--module NAME]... [--all]". */
static void print_synopsis(FILE *f, const struct usage_row *cmd, bool globals)
{
	fprintf(f, "ntmem %s%s %s", globals ? "[GLOBAL OPTIONS] " : "", cmd->name, cmd->arg);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];
		bool req;

		if (r->kind != USAGE_OPTION || !r->scope || !usage_option_in(r, cmd->name))
			continue;
		req = r->flags & USAGE_REQUIRED;
		if (r->short_name)
			fprintf(f, " %s-%c%s%s%s", req ? "" : "[", r->short_name, r->arg ? " " : "",
				r->arg ? r->arg : "", req ? "" : "]");
		else
			fprintf(f, " %s--%s%s%s%s", req ? "" : "[", r->name, r->arg ? " " : "",
				r->arg ? r->arg : "", req ? "" : "]");
		if (r->flags & USAGE_REPEATABLE)
			fputs("...", f);
	}
	fputc('\n', f);
}

static void print_option(FILE *f, const struct usage_row *r)
{
	char form[64];

	option_form(r, form, sizeof(form));
	if (strlen(form) < 22)
		fprintf(f, "  %-22s %s\n", form, r->text);
	else
		fprintf(f, "  %s\n  %-22s %s\n", form, "", r->text);
}

static const char numbers_note[] =
	"Numbers (addresses, PFNs, lengths, counts, --fill) are hex, as in WinDbg: 80800000 is\n"
	"0x80800000, a 0x prefix is accepted, and 0n marks decimal (0n4096 is 0x1000).\n";

static void print_exits(FILE *f, const char *cmd)
{
	fputs("exit status:\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_EXIT || (cmd && !usage_option_in(r, cmd)))
			continue;
		if (!cmd && r->scope)
			fprintf(f, "  %s  (%s) %s\n", r->name, r->scope, r->text);
		else
			fprintf(f, "  %s  %s\n", r->name, r->text);
	}
}

void usage_print_overview(FILE *f)
{
	fputs("usage: ntmem [GLOBAL OPTIONS] COMMAND DUMP [ARGS]\n"
	      "       ntmem help COMMAND    (or ntmem COMMAND --help): that command's options\n\n"
	      "commands:\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_COMMAND)
			continue;
		fputs("  ", f);
		print_synopsis(f, r, false);
		fprintf(f, "      %s\n", r->text);
	}
	fputs("\nglobal options (before or after COMMAND):\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind == USAGE_OPTION && !r->scope && !(r->flags & USAGE_HIDDEN))
			print_option(f, r);
	}
	fputs("\ncommand options (see ntmem help COMMAND):\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];
		char form[64];

		if (r->kind != USAGE_OPTION || !r->scope || (r->flags & USAGE_HIDDEN))
			continue;
		option_form(r, form, sizeof(form));
		fprintf(f, "  %-22s (%s)\n", form, r->scope);
	}
	fputc('\n', f);
	fputs(numbers_note, f);
	fputs(DUMP_NOTE ".\n\n", f);
	print_exits(f, NULL);
}

void usage_print_command(FILE *f, const struct usage_row *cmd)
{
	fputs("usage: ", f);
	print_synopsis(f, cmd, true);
	fprintf(f, "\n%s.\n\noptions:\n", cmd->text);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind == USAGE_OPTION && r->scope && usage_option_in(r, cmd->name))
			print_option(f, r);
	}
	fputs("global options:\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind == USAGE_OPTION && !r->scope && !(r->flags & USAGE_HIDDEN))
			print_option(f, r);
	}
	fputc('\n', f);
	fputs(numbers_note, f);
	fputc('\n', f);
	print_exits(f, cmd->name);
}

/* roff text: a leading '.' or '\'' would be a request, '\' an escape, '-' a hyphen. */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void man_option(FILE *f, const struct usage_row *r)
{
	char form[64];

	option_form(r, form, sizeof(form));
	fputs(".TP\n.B ", f);
	roff(f, form);
	fputc('\n', f);
	roff(f, r->text);
	if (r->scope) {
		fputs(" (", f);
		roff(f, r->scope);
		fputc(')', f);
	}
	fputs(".\n", f);
}

void usage_print_man(FILE *f)
{
	fprintf(f, ".TH NTMEM 1 \"\" \"ntmem %s\" \"User Commands\"\n", NTMEM_VERSION);
	fputs(".SH NAME\nntmem \\- offline analysis of Windows kernel crash dumps and memory images\n"
	      ".SH SYNOPSIS\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_COMMAND)
			continue;
		fputs(".B ntmem\n", f);
		roff(f, "[GLOBAL OPTIONS] ");
		fprintf(f, "\\fB%s\\fR ", r->name);
		roff(f, r->arg);
		fputs("\n.br\n", f);
	}
	fputs(".SH DESCRIPTION\n", f);
	roff(f, DUMP_NOTE ".");
	fputs("\n.PP\n", f);
	roff(f, numbers_note);
	fputs(".SH COMMANDS\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_COMMAND)
			continue;
		fprintf(f, ".TP\n.B %s ", r->name);
		roff(f, r->arg);
		fputc('\n', f);
		roff(f, r->text);
		fputs(".\n", f);
	}
	fputs(".SH GLOBAL OPTIONS\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++)
		if (usage_table[i].kind == USAGE_OPTION && !usage_table[i].scope)
			man_option(f, &usage_table[i]);
	fputs(".SH COMMAND OPTIONS\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++)
		if (usage_table[i].kind == USAGE_OPTION && usage_table[i].scope)
			man_option(f, &usage_table[i]);
	fputs(".SH PAGE STATES\n", f);
	roff(f, "What pte, read, carve and report --html say about each page:");
	fputc('\n', f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_STATE)
			continue;
		fprintf(f, ".TP\n.B %s\n", r->name);
		roff(f, r->text);
		fputs(".\n", f);
	}
	fputs(".SH EXIT STATUS\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_EXIT)
			continue;
		fprintf(f, ".TP\n.B %s\n", r->name);
		if (r->scope) {
			roff(f, r->scope);
			fputs(": ", f);
		}
		roff(f, r->text);
		fputs(".\n", f);
	}
}
