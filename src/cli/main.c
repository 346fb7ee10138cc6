/* ntmem: command-line entry. The arguments are read by getopt_long from the
 * one table of commands and options in usage.c: options may stand before or
 * after the command (contract: Invocation), "--opt=value", "-oDIR" and "--"
 * work as in other GNU tools, and an option is accepted only by the commands
 * the table gives it to. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "expect.h"
#include "usage.h"

/* One option as given, kept until the command is known. */
struct given_option {
	int id;
	const char *value;
};

struct parsed {
	struct given_option *given;
	unsigned ngiven;
	bool help, version, man, completion;
};

/* getopt_long's tables, built from usage_table (one entry per long name). */
struct getopt_tables {
	struct option longs[64];
	char shorts[32];
	const char *names[64];	/* long names, for "did you mean" */
	unsigned nlongs;
};

static void build_getopt_tables(struct getopt_tables *t)
{
	size_t ns = 0;

	memset(t, 0, sizeof(*t));
	t->shorts[ns++] = ':';	/* a missing value returns ':' */
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];
		bool seen = false;

		if (r->kind != USAGE_OPTION)
			continue;
		for (unsigned j = 0; j < t->nlongs && !seen; j++)
			seen = t->longs[j].val == r->id;
		if (seen)
			continue;
		if (r->name && t->nlongs + 1 < sizeof(t->longs) / sizeof(t->longs[0])) {
			t->longs[t->nlongs] = (struct option){ r->name, r->arg ? required_argument : no_argument,
							       NULL, r->id };
			t->names[t->nlongs++] = r->name;
		}
		if (r->short_name && ns + 3 < sizeof(t->shorts)) {
			t->shorts[ns++] = r->short_name;
			if (r->arg)
				t->shorts[ns++] = ':';
		}
	}
}

/* "--fro" / "--modul=x": the name typed, without dashes or value. */
static const char *suggest_option(const struct getopt_tables *t, const char *typed, char *buf, size_t size)
{
	const char *near;
	size_t len;

	while (*typed == '-')
		typed++;
	len = strcspn(typed, "=");
	if (len >= size)
		return NULL;
	memcpy(buf, typed, len);
	buf[len] = 0;
	near = cli_nearest(buf, t->names, t->nlongs);
	return near;
}

static int unknown_option(const struct getopt_tables *t, char **argv)
{
	const char *typed = argv[optind - 1];
	const char *near = NULL;
	char name[64];

	if (optopt && optopt < 256 && typed[0] == '-' && typed[1] != '-')
		return cli_fail_usage("unknown option '-%c' (see ntmem --help)", optopt);
	if (typed[0] == '-' && typed[1] == '-')
		near = suggest_option(t, typed, name, sizeof(name));
	if (near)
		return cli_fail_usage("unknown option '%s' (did you mean --%s?)", typed, near);
	return cli_fail_usage("unknown option '%s' (see ntmem --help)", typed);
}

/* Reads every option into P; non-options are left at argv[optind..]. */
static int read_options(int argc, char **argv, struct parsed *p)
{
	struct getopt_tables t;
	int id;

	build_getopt_tables(&t);
	p->given = calloc((size_t)argc + 1, sizeof(*p->given));
	if (!p->given)
		return cli_fail_usage("out of memory");
	optind = 0;	/* GNU: start afresh (main may run more than once under a fuzzer) */
	opterr = 0;
	for (;;) {
		id = getopt_long(argc, argv, t.shorts, t.longs, NULL);
		if (id == -1)
			break;
		if (id == '?')
			return unknown_option(&t, argv);
		if (id == ':')
			return cli_fail_usage("%s needs a value (see ntmem --help)", argv[optind - 1]);
		if (id == OPT_HELP)
			p->help = true;
		else if (id == OPT_VERSION)
			p->version = true;
		else if (id == OPT_MAN)
			p->man = true;
		else if (id == OPT_BASH_COMPLETION)
			p->completion = true;
		else
			p->given[p->ngiven++] = (struct given_option){ id, optarg };
	}
	return CLI_EXIT_OK;
}

/* "--module", "-o": an option's name for messages. */
static const char *spelled(int id, char *buf, size_t size)
{
	const struct usage_row *r = usage_option(id, NULL);

	if (r && r->name)
		snprintf(buf, size, "--%s", r->name);
	else
		snprintf(buf, size, "-%c", r ? r->short_name : '?');
	return buf;
}

static int number_option(const struct given_option *g, uint64_t max, uint64_t *v)
{
	char name[40];

	spelled(g->id, name, sizeof(name));
	if (cli_parse_number(g->value, v) != 0)
		return cli_fail_usage("%s: '%s' is not a number (hex by default, 0n for decimal)", name,
				      g->value);
	if (*v > max)
		return cli_fail_usage("%s: 0x%llx is more than 0x%llx", name, (unsigned long long)*v,
				      (unsigned long long)max);
	return CLI_EXIT_OK;
}

/* Puts option G into C, once the command is known to take it. */
static int apply_option(struct cli *c, const struct given_option *g)
{
	struct cli_command_options *o = &c->opt;
	uint64_t v = 0;

	switch (g->id) {
	case OPT_JSON:
		c->json = true;
		return CLI_EXIT_OK;
	case OPT_QUIET:
		c->quiet = true;
		return CLI_EXIT_OK;
	case OPT_RAW:
		c->raw = true;
		c->format = "raw";
		return CLI_EXIT_OK;
	case OPT_FORMAT:
		if (!nm_format_known(g->value))
			return cli_fail_usage("--format: '%s' is not one of raw, elf, kdump, dmp", g->value);
		c->format = g->value;
		return CLI_EXIT_OK;
	case OPT_VERBOSE:
		c->verbose = true;
		return CLI_EXIT_OK;
	case OPT_DTB:
		if (number_option(g, UINT64_MAX, &v) != CLI_EXIT_OK)
			return CLI_EXIT_USAGE;
		c->kopt.has_dtb = true;
		c->kopt.dtb = v;
		return CLI_EXIT_OK;
	case OPT_KDBG:
		/* 64 bits: an x64 KDBG lies in the upper half (0xfffff800...);
		 * a VA the dump's mode cannot hold fails validation, naming it */
		if (number_option(g, UINT64_MAX, &v) != CLI_EXIT_OK)
			return CLI_EXIT_USAGE;
		c->kopt.has_kdbg = true;
		c->kopt.kdbg_va = v;
		return CLI_EXIT_OK;
	case OPT_PAGEFILE:
		return cli_pagefile_spec(c, g->value);
	case OPT_OUTPUT:
		o->output = g->value;
		return CLI_EXIT_OK;
	case OPT_HTML:
		o->html = g->value;
		return CLI_EXIT_OK;
	case OPT_EXPECT:
		c->expect = g->value;
		return CLI_EXIT_OK;
	case OPT_JSONL:
		c->jsonl = true;
		return CLI_EXIT_OK;
	case OPT_COMPARE_WITH:
		o->compare_with = g->value;
		return CLI_EXIT_OK;
	case OPT_ALL:
		o->all = true;
		return CLI_EXIT_OK;
	case OPT_FORCE:
		o->force = true;
		return CLI_EXIT_OK;
	case OPT_KEEP_STALE:
		o->keep_stale = true;
		return CLI_EXIT_OK;
	case OPT_FILL:
		if (number_option(g, 0xFF, &v) != CLI_EXIT_OK)
			return CLI_EXIT_USAGE;
		o->has_fill = true;
		o->fill = (uint8_t)v;
		return CLI_EXIT_OK;
	case OPT_MODULE:
		if (o->nmodules >= CLI_MAX_ARGS)
			return cli_fail_usage("--module: at most %d", CLI_MAX_ARGS);
		o->modules[o->nmodules++] = g->value;
		return CLI_EXIT_OK;
	case OPT_BASE:
		if (o->nbases >= CLI_MAX_ARGS)
			return cli_fail_usage("--base: at most %d", CLI_MAX_ARGS);
		if (number_option(g, UINT64_MAX, &v) != CLI_EXIT_OK)
			return CLI_EXIT_USAGE;
		o->bases[o->nbases++] = v;	/* an x86 kernel refuses VAs above 4 GiB when carving */
		return CLI_EXIT_OK;
	default: {
		char name[40];

		return cli_fail_usage("%s: not handled by this build", spelled(g->id, name, sizeof(name)));
	}
	}
}

static int unknown_command(const char *name)
{
	const char *names[32];
	unsigned n = 0;
	const char *near;

	for (unsigned i = 0; i < usage_table_rows && n < 32; i++)
		if (usage_table[i].kind == USAGE_COMMAND)
			names[n++] = usage_table[i].name;
	near = cli_nearest(name, names, n);
	if (near)
		return cli_fail_usage("unknown command '%s' (did you mean '%s'?)", name, near);
	return cli_fail_usage("unknown command '%s' (see ntmem --help)", name);
}

/* `ntmem help [CMD]`, `ntmem [CMD] --help`. */
static int print_help(const char *name)
{
	const struct usage_row *cmd;

	if (!name || strcmp(name, "help") == 0) {
		usage_print_overview(stdout);
		return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
	}
	cmd = usage_command(name);
	if (!cmd)
		return unknown_command(name);
	usage_print_command(stdout, cmd);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
}

/* --jsonl: a command whose only argument is DUMP takes any number of
 * dumps; the others take one DUMP and their own arguments. */
static int run_jsonl(struct cli *c, const struct usage_row *cmd, char **args, int nargs)
{
	if (c->expect)
		return cli_fail_usage("--jsonl and --expect do not go together (--expect takes one document)");
	if (strcmp(cmd->arg, "DUMP") == 0)
		return cli_run_jsonl(c, cmd->run, args, nargs);
	if (nargs - 1 > CLI_MAX_ARGS)
		return cli_fail_usage("too many arguments (at most %d)", CLI_MAX_ARGS);
	c->dump_path = args[0];
	c->argc = nargs - 1;
	c->argv = args + 1;
	return cli_run_jsonl(c, cmd->run, args, 1);
}

/* The command on ARGS (DUMP and its arguments), once the options are in C. */
static int dispatch(struct cli *c, const struct usage_row *cmd, char **args, int nargs)
{
	if (c->jsonl)
		return run_jsonl(c, cmd, args, nargs);
	c->dump_path = args[0];
	c->argc = nargs - 1;
	c->argv = args + 1;
	if (c->expect)
		return cli_run_expect(c, cmd->run, c->expect);
	return cmd->run(c);
}

static int run(int argc, char **argv, struct parsed *p)
{
	struct cli c;
	const struct usage_row *cmd;
	int npos;

	int rc = read_options(argc, argv, p);
	if (rc != CLI_EXIT_OK)
		return rc;
	npos = argc - optind;
	if (p->man) {
		usage_print_man(stdout);
		return CLI_EXIT_OK;
	}
	if (p->completion) {
		usage_print_bash_completion(stdout);
		return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
	}
	if (p->version) {
		printf("ntmem %s\n", NTMEM_VERSION);
		return CLI_EXIT_OK;
	}
	if (p->help)
		return print_help(npos > 0 ? argv[optind] : NULL);
	if (npos == 0) {
		usage_print_overview(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0)
		return print_help(npos > 1 ? argv[optind + 1] : NULL);
	cmd = usage_command(argv[optind]);
	if (!cmd || !cmd->run)
		return unknown_command(argv[optind]);
	memset(&c, 0, sizeof(c));
	c.command = cmd->name;
	for (unsigned i = 0; i < p->ngiven; i++) {
		char name[40];

		if (!usage_option(p->given[i].id, cmd->name))
			return cli_fail_usage("%s: %s is not an option of %s (see ntmem help %s)", cmd->name,
					      spelled(p->given[i].id, name, sizeof(name)), cmd->name, cmd->name);
		if (apply_option(&c, &p->given[i]) != CLI_EXIT_OK)
			return CLI_EXIT_USAGE;
	}
	if (npos < 2)
		return cli_fail_usage("%s: no DUMP given (see ntmem help %s)", cmd->name, cmd->name);
	if (!c.jsonl && npos - 2 > CLI_MAX_ARGS)
		return cli_fail_usage("too many arguments (at most %d)", CLI_MAX_ARGS);
	if ((rc = cli_open_pagefiles(&c)) != CLI_EXIT_OK)
		return rc;
	rc = dispatch(&c, cmd, argv + optind + 1, npos - 1);
	cli_close_pagefiles(&c);
	return rc;
}

static int run_command_line(int argc, char **argv)
{
	struct parsed p = { 0 };
	int rc = run(argc, argv, &p);

	free(p.given);
	return rc;
}

/* Built as the fuzz_cli target, main is renamed and the harness owns
 * stdout: it is flushed and checked there, not closed. */
#ifdef main
#define CLOSE_STDOUT false
#else
#define CLOSE_STDOUT true
#endif

int main(int argc, char **argv)
{
	cli_prepare_streams();
	return cli_finish_output(run_command_line(argc, argv), CLOSE_STDOUT);
}
