#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_fail_input(const struct cli *c, const nm_error *err)
{
	fprintf(stderr, "ntmem: %s: %s: %s\n", c->dump_path ? c->dump_path : "-",
		err->what[0] ? err->what : "file", err->why[0] ? err->why : "unreadable");
	return CLI_EXIT_BAD_INPUT;
}

int cli_fail_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("ntmem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_USAGE;
}

void cli_warn(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	fputs("ntmem: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
