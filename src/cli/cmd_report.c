/* ntmem report: the main job in one run: info, explain, pools and modules,
 * then a carve of every module when -o DIR is given (contract: report).
 *
 * Each part is produced by its own command, so the report says exactly what
 * those commands say: in text mode they print one after the other under a
 * heading; with --json each command's document is captured and placed under
 * the command's name (its "schema", "command" and "ntmem_version" keys dropped). A part whose
 * command is not available in this build is reported as such, not faked. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct report_part {
	const char *name;
	int (*run)(const struct cli *c);
	const char *title;
};

struct report_args {
	const char *out_dir;
	bool force, keep_stale;
};

static int parse_report_args(const struct cli *c, struct report_args *a)
{
	memset(a, 0, sizeof(*a));
	a->out_dir = c->opt.output;
	a->force = c->opt.force;
	a->keep_stale = c->opt.keep_stale;
	if (c->argc > 0)
		return cli_fail_usage("report: unexpected argument '%s' (see ntmem help report)", c->argv[0]);
	return CLI_EXIT_OK;
}

/* Runs a command with its stdout going to a temporary file; returns its exit
 * status and the bytes it printed (caller frees). */
static int run_captured(const struct cli *sub, int (*run)(const struct cli *), char **out, size_t *len)
{
	FILE *tmp = tmpfile();
	int saved, rc;
	long n;

	*out = NULL;
	*len = 0;
	if (!tmp)
		return CLI_EXIT_PARTIAL;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		fclose(tmp);
		return CLI_EXIT_PARTIAL;
	}
	rc = run(sub);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = ftell(tmp);
	if (n > 0 && fseek(tmp, 0, SEEK_SET) == 0 && (*out = malloc((size_t)n)) != NULL)
		*len = fread(*out, 1, (size_t)n, tmp);
	fclose(tmp);
	return rc;
}

/* The part's document without the envelope, or an object saying why not. */
static json_t *part_json(int rc, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *doc = text && len ? json_loadb(text, len, 0, &jerr) : NULL;

	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return json_pack("{s:s, s:i}", "unavailable",
				 rc == CLI_EXIT_USAGE ? "command not available in this build" : "no output",
				 "exit", rc);
	}
	json_object_del(doc, "schema");
	json_object_del(doc, "command");
	json_object_del(doc, "ntmem_version");
	return doc;
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

/* Exit statuses of parts after info: a part refusing the dump (bad input:
 * its line is on stderr) makes the report partial, since info was produced.
 * A part this build does not have (usage status of a placeholder) is marked
 * unavailable in the output and does not change the status: the dump is
 * not at fault. */
static int part_status(int rc)
{
	if (rc == CLI_EXIT_USAGE)
		return CLI_EXIT_OK;
	return rc == CLI_EXIT_BAD_INPUT ? CLI_EXIT_PARTIAL : rc;
}

/* Runs part P with the options in OPT (NULL: none). */
static int run_part(const struct cli *c, const struct report_part *p, const struct cli_command_options *opt,
		    json_t *doc)
{
	struct cli sub = *c;
	int rc;

	sub.command = p->name;
	sub.argv = NULL;
	sub.argc = 0;
	if (opt)
		sub.opt = *opt;
	else
		memset(&sub.opt, 0, sizeof(sub.opt));
	if (!c->json) {
		printf("\n==== %s ====\n", p->title);
		fflush(stdout);
		rc = p->run(&sub);
		fflush(stdout);
		if (rc == CLI_EXIT_USAGE)
			printf("(%s: not available in this build)\n", p->name);
	} else {
		char *text;
		size_t len;

		rc = run_captured(&sub, p->run, &text, &len);
		json_object_set_new(doc, p->name, part_json(rc, text, len));
		free(text);
	}
	return rc;
}

int cmd_report(const struct cli *c)
{
	static const struct report_part parts[] = {
		{ "info", cmd_info, "dump (ntmem info)" },
		{ "explain", cmd_explain, "crash (ntmem explain)" },
		{ "pools", cmd_pools, "kernel address space (ntmem pools)" },
		{ "modules", cmd_modules, "loaded modules (ntmem modules)" },
	};
	static const struct report_part carve = { "carve", cmd_carve, "carved images (ntmem carve --all)" };
	struct report_args a;
	struct cli_command_options carve_opt;
	json_t *doc = c->json ? cli_json_document(c) : NULL;
	int rc = parse_report_args(c, &a), status = CLI_EXIT_OK;

	if (rc != CLI_EXIT_OK) {
		json_decref(doc);
		return rc;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		rc = run_part(c, &parts[i], NULL, doc);
		if (i == 0 && rc == CLI_EXIT_BAD_INPUT) {	/* info already said why */
			json_decref(doc);
			return rc;
		}
		status = worst(status, part_status(rc));
	}
	if (a.out_dir) {
		memset(&carve_opt, 0, sizeof(carve_opt));
		carve_opt.output = a.out_dir;
		carve_opt.all = true;
		carve_opt.force = a.force;
		carve_opt.keep_stale = a.keep_stale;
		status = worst(status, part_status(run_part(c, &carve, &carve_opt, doc)));
	} else if (!c->json) {
		printf("\n(no -o DIR: driver images not carved; `ntmem report DUMP -o DIR` writes them)\n");
	}
	if (doc)
		cli_json_print(doc);
	return status;
}
