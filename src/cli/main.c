/* ntmem: command-line entry. Global options may stand before or after the
 * command (contract: Invocation); everything else is the command's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(const struct cli *c);
	const char *usage;
};

static const struct command commands[] = {
	{ "info", cmd_info, "info DUMP" },
	{ "pte", cmd_pte, "pte DUMP VA..." },
	{ "read", cmd_read, "read DUMP VA LEN [-o FILE]" },
	{ "pools", cmd_pools, "pools DUMP" },
	{ "modules", cmd_modules, "modules DUMP" },
	{ "carve", cmd_carve, "carve DUMP -o DIR [--module NAME]... [--base VA]... [--all] [--fill BYTE] [--force]" },
	{ "pfn", cmd_pfn, "pfn DUMP PFN..." },
	{ "explain", cmd_explain, "explain DUMP" },
	{ "report", cmd_report, "report DUMP [-o DIR]" },
};

static void print_usage(FILE *f)
{
	fprintf(f, "usage: ntmem [--json] [--dtb PA] [--kdbg VA] [-q] [--raw] COMMAND DUMP [ARGS]\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  ntmem %s\n", commands[i].usage);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Consumes a global option at argv[*i]; returns 1 when it was one, 0 when
 * not, -1 on a usage error (already printed). */
static int take_global_option(struct cli *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	uint64_t v;

	if (strcmp(a, "--json") == 0) {
		c->json = true;
		return 1;
	}
	if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
		c->quiet = true;
		return 1;
	}
	if (strcmp(a, "--raw") == 0) {
		c->raw = true;
		return 1;
	}
	if (strcmp(a, "--dtb") == 0 || strcmp(a, "--kdbg") == 0) {
		if (*i + 1 >= argc) {
			cli_fail_usage("%s needs a value", a);
			return -1;
		}
		if (cli_parse_number(argv[*i + 1], &v) != 0) {
			cli_fail_usage("%s: '%s' is not a number", a, argv[*i + 1]);
			return -1;
		}
		if (a[2] == 'd') {
			c->kopt.has_dtb = true;
			c->kopt.dtb = v;
		} else {
			if (v > 0xFFFFFFFFu) {
				cli_fail_usage("--kdbg: 0x%llx is not a 32-bit address",
					       (unsigned long long)v);
				return -1;
			}
			c->kopt.has_kdbg = true;
			c->kopt.kdbg_va = (uint32_t)v;
		}
		(*i)++;
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char *rest[CLI_MAX_ARGS];
	struct cli c = { 0 };
	const struct command *cmd = NULL;
	int nrest = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int took;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_usage(stdout);
			return CLI_EXIT_OK;
		}
		if (strcmp(a, "--version") == 0) {
			printf("ntmem %s\n", NTMEM_VERSION);
			return CLI_EXIT_OK;
		}
		took = take_global_option(&c, argc, argv, &i);
		if (took < 0)
			return CLI_EXIT_USAGE;
		if (took)
			continue;
		if (!cmd) {
			cmd = find_command(a);
			if (!cmd) {
				cli_fail_usage("unknown command '%s' (try --help)", a);
				return CLI_EXIT_USAGE;
			}
			continue;
		}
		if (!c.dump_path) {
			c.dump_path = a;
			continue;
		}
		if (nrest >= CLI_MAX_ARGS)
			return cli_fail_usage("too many arguments (at most %d)", CLI_MAX_ARGS);
		rest[nrest++] = argv[i];
	}
	if (!cmd) {
		print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!c.dump_path)
		return cli_fail_usage("%s: no DUMP given (usage: ntmem %s)", cmd->name, cmd->usage);
	c.command = cmd->name;
	c.argc = nrest;
	c.argv = rest;
	return cmd->run(&c);
}
