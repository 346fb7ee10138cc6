#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

/* Paths are bytes: a newline or an escape sequence in a file name must
 * not break the one-line message or reach the terminal, so control
 * characters are shown as '?', as module names are. */
void cli_put_path(FILE *f, const char *path)
{
	for (const unsigned char *p = (const unsigned char *)(path ? path : "-"); *p; p++)
		fputc(*p < 0x20 || *p == 0x7F ? '?' : *p, f);
}

void cli_error_prefix(const struct cli *c)
{
	fputs("ntmem: ", stderr);
	cli_put_path(stderr, c->dump_path);
	fputs(": ", stderr);
}

int cli_fail_input(const struct cli *c, const nm_error *err)
{
	cli_error_prefix(c);
	fprintf(stderr, "%s: %s\n", err->what[0] ? err->what : "file", err->why[0] ? err->why : "unreadable");
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
