/* The command line described once: every command, option and exit status of
 * ntmem with its text, in one table (usage.c). The argument parser, --help,
 * `ntmem help CMD`, the man page (--man) and docs/cli.md all follow it, so a
 * new option is one row, and what the tool accepts is what its help says. */
#ifndef NTMEM_CLI_USAGE_H
#define NTMEM_CLI_USAGE_H

#include <stdbool.h>
#include <stdio.h>

struct cli;

enum usage_kind {
	USAGE_COMMAND,
	USAGE_OPTION,
	USAGE_EXIT,
	USAGE_STATE,		/* a page state (contract: Page states), for the man page */
};

/* Option identities, as getopt_long returns them: the short letter when the
 * option has one, else a number above any character. */
enum usage_option_id {
	OPT_HELP = 'h',
	OPT_QUIET = 'q',
	OPT_OUTPUT = 'o',
	OPT_VERBOSE = 'v',
	OPT_JSON = 256,
	OPT_DTB,
	OPT_KDBG,
	OPT_RAW,
	OPT_FORMAT,
	OPT_VERSION,
	OPT_MAN,
	OPT_MODULE,
	OPT_BASE,
	OPT_ALL,
	OPT_FILL,
	OPT_FORCE,
	OPT_KEEP_STALE,
	OPT_COMPARE_WITH,
	OPT_HTML,
	OPT_EXPECT,
	OPT_JSONL,
	OPT_BASH_COMPLETION,
	OPT_PAGEFILE,
};

/* Option flags. */
#define USAGE_REQUIRED   1u	/* the command needs it (shown without brackets) */
#define USAGE_REPEATABLE 2u	/* may be given more than once ("..." in synopses) */
#define USAGE_HIDDEN     4u	/* accepted, left out of --help (still in the man page) */

struct usage_row {
	enum usage_kind kind;
	/* command: its name; option: its long name without "--" (NULL when it
	 * has only a short form); exit: the status as digits. */
	const char *name;
	/* option: getopt_long's value (enum usage_option_id) */
	int id;
	/* option: its one-letter form, or 0 */
	char short_name;
	/* command: its positional arguments after the name ("DUMP VA LEN");
	 * option: the name of its value, NULL for a flag. */
	const char *arg;
	/* option or exit status: the commands it belongs to, space separated;
	 * NULL for all (a global option, a status any command may return). */
	const char *scope;
	unsigned flags;
	/* one sentence, no trailing newline */
	const char *text;
	/* command only: the code that runs it */
	int (*run)(const struct cli *c);
};

extern const struct usage_row usage_table[];
extern const unsigned usage_table_rows;

/* The command row named NAME, or NULL. */
const struct usage_row *usage_command(const char *name);
/* Whether option row R is taken by command CMD (a global option always is). */
bool usage_option_in(const struct usage_row *r, const char *cmd);
/* The option row whose getopt value is ID and that CMD takes (NULL: any
 * command); NULL when none. */
const struct usage_row *usage_option(int id, const char *cmd);

/* `ntmem --help`: every command, the global options, the exit statuses. */
void usage_print_overview(FILE *f);
/* `ntmem help CMD`, `ntmem CMD --help`: CMD's synopsis, options and exit statuses. */
void usage_print_command(FILE *f, const struct usage_row *cmd);
/* The man page ntmem(1) in roff, from the same table. */
void usage_print_man(FILE *f);
/* The bash completion script, from the same table (completion.c). */
void usage_print_bash_completion(FILE *f);

#endif
