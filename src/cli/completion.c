/* Bash completion for ntmem, written from the usage table (usage.c) like
 * --help and the man page, so that a new command or option completes as
 * soon as it has its row. `ntmem --bash-completion` prints the script;
 * make install puts it where bash-completion looks for it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "usage.h"

/* The option's spellings ("-o --output") separated by spaces. */
static void print_spellings(FILE *f, const struct usage_row *r, bool *first, const char *sep)
{
	if (r->short_name) {
		fprintf(f, "%s-%c", *first ? "" : sep, r->short_name);
		*first = false;
	}
	if (r->name) {
		fprintf(f, "%s--%s", *first ? "" : sep, r->name);
		*first = false;
	}
}

/* Whether an earlier row of the table already printed this option for CMD
 * (an option has one row per meaning: -o FILE for read, -o DIR for carve). */
static bool printed_before(unsigned i, const char *cmd)
{
	for (unsigned j = 0; j < i; j++) {
		const struct usage_row *a = &usage_table[j], *b = &usage_table[i];

		if (a->kind == USAGE_OPTION && a->id == b->id && usage_option_in(a, cmd))
			return true;
	}
	return false;
}

/* Options of CMD (NULL: the global ones), those with a value or those
 * without, separated by SEP (" " for a word list, "|" for a case pattern). */
static void print_options_sep(FILE *f, const char *cmd, bool with_value, const char *sep)
{
	bool first = true;

	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];
		bool mine = cmd ? (r->scope && usage_option_in(r, cmd)) : !r->scope;

		if (r->kind != USAGE_OPTION || !mine || (r->flags & USAGE_HIDDEN) || printed_before(i, cmd))
			continue;
		if (with_value != (r->arg != NULL))
			continue;
		print_spellings(f, r, &first, sep);
	}
}

static void print_options(FILE *f, const char *cmd, bool with_value)
{
	print_options_sep(f, cmd, with_value, " ");
}

void usage_print_bash_completion(FILE *f)
{
	fprintf(f, "# bash completion for ntmem %s: made by `ntmem --bash-completion` from the\n"
		   "# same table as --help and ntmem(1); do not edit.\n", NTMEM_VERSION);
	fputs("_ntmem()\n{\n    local cur prev cmd i\n    cur=${COMP_WORDS[COMP_CWORD]}\n"
	      "    prev=${COMP_WORDS[COMP_CWORD-1]}\n    cmd=\n"
	      "    for ((i = 1; i < COMP_CWORD; i++)); do\n        case ${COMP_WORDS[i]} in\n", f);
	/* Words that are the value of an option are not the command. */
	fputs("        ", f);
	print_options_sep(f, NULL, true, "|");
	fputs(") ((i++)) ;;\n        -*) ;;\n        *) cmd=${COMP_WORDS[i]}; break ;;\n        esac\n    done\n", f);
	/* The value of an option just typed, by command: -o is a FILE for
	 * read and a DIR for carve and report. */
	fputs("    case $cmd:$prev in\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];
		char scope[256];
		bool first = true;

		if (r->kind != USAGE_OPTION || !r->arg || (r->flags & USAGE_HIDDEN))
			continue;
		snprintf(scope, sizeof(scope), "%s", r->scope ? r->scope : "*");
		fputs("    ", f);
		for (char *save = NULL, *c = strtok_r(scope, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
			if (r->short_name)
				fprintf(f, "%s%s:-%c", first ? "" : "|", c, r->short_name), first = false;
			if (r->name)
				fprintf(f, "%s%s:--%s", first ? "" : "|", c, r->name), first = false;
		}
		if (strcmp(r->arg, "DIR") == 0)
			fputs(") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n", f);
		else if (strstr(r->arg, "FILE"))
			fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", f);
		else
			fputs(") return ;;\n", f);
	}
	fputs("    esac\n    if [[ -z $cmd ]]; then\n        if [[ $cur == -* ]]; then\n"
	      "            COMPREPLY=($(compgen -W \"", f);
	print_options(f, NULL, false);
	fputc(' ', f);
	print_options(f, NULL, true);
	fputs("\" -- \"$cur\"))\n        else\n            COMPREPLY=($(compgen -W \"", f);
	for (unsigned i = 0, n = 0; i < usage_table_rows; i++)
		if (usage_table[i].kind == USAGE_COMMAND)
			fprintf(f, "%s%s", n++ ? " " : "", usage_table[i].name);
	fputs("\" -- \"$cur\"))\n        fi\n        return\n    fi\n    if [[ $cur == -* ]]; then\n"
	      "        case $cmd in\n", f);
	for (unsigned i = 0; i < usage_table_rows; i++) {
		const struct usage_row *r = &usage_table[i];

		if (r->kind != USAGE_COMMAND)
			continue;
		fprintf(f, "        %s) COMPREPLY=($(compgen -W \"", r->name);
		print_options(f, r->name, false);
		fputc(' ', f);
		print_options(f, r->name, true);
		fputc(' ', f);
		print_options(f, NULL, false);
		fputc(' ', f);
		print_options(f, NULL, true);
		fputs("\" -- \"$cur\")) ;;\n", f);
	}
	fputs("        esac\n        return\n    fi\n"
	      "    if [[ $cmd == help ]]; then\n        COMPREPLY=($(compgen -W \"", f);
	for (unsigned i = 0, n = 0; i < usage_table_rows; i++)
		if (usage_table[i].kind == USAGE_COMMAND)
			fprintf(f, "%s%s", n++ ? " " : "", usage_table[i].name);
	fputs("\" -- \"$cur\"))\n        return\n    fi\n"
	      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n}\ncomplete -o filenames -F _ntmem ntmem\n", f);
}
