/* --jsonl: one compact JSON object per dump per line, for pipelines over
 * folders of dumps (docs/batch.md). Each dump is a separate run of the
 * command with its own exit status; a dump that fails is a line too. */
#include <stdlib.h>
#include <string.h>

#include <ntmem/carve_files.h>

#include "capture.h"
#include "expect.h"

static int worst(int a, int b)
{
	return a > b ? a : b;
}

/* The last non-empty line of TEXT (what the command said when it failed),
 * as valid UTF-8. */
static json_t *last_line(const char *text)
{
	const char *end, *start;
	char line[1024], clean[1024];

	if (!text)
		return json_string("no output");
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(line, sizeof(line), "%.*s", (int)(end - start), start);
	nm_utf8_sanitize(line, clean, sizeof(clean));
	return json_string(clean[0] ? clean : "no output");
}

/* The document with "file" and "exit" after "command", or an error object. */
static json_t *line_object(const struct cli *c, const char *dump, const struct captured *cap)
{
	json_error_t jerr;
	json_t *doc = cap->out ? json_loadb(cap->out, cap->out_len, 0, &jerr) : NULL;
	json_t *line = json_pack("{s:s, s:s, s:s, s:i}", "schema", "ntmem/1", "command", c->command, "file", dump,
				 "exit", cap->status);
	const char *key;
	json_t *v;

	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		json_object_set_new(line, "ntmem_version", json_string(NTMEM_VERSION));
		json_object_set_new(line, "error", last_line(cap->err));
		return line;
	}
	json_object_foreach(doc, key, v)
		if (!json_object_get(line, key))
			json_object_set(line, key, v);
	if (!json_object_get(line, "ntmem_version"))
		json_object_set_new(line, "ntmem_version", json_string(NTMEM_VERSION));
	json_decref(doc);
	return line;
}

int cli_run_jsonl(const struct cli *c, int (*run)(const struct cli *), char **dumps, int ndumps)
{
	int status = CLI_EXIT_OK;

	for (int i = 0; i < ndumps; i++) {
		struct cli sub = *c;
		struct captured cap;
		json_t *line;

		sub.dump_path = dumps[i];
		sub.json = true;
		cli_run_captured(&sub, run, true, &cap);
		if (cap.err && cap.err_len)	/* diagnostics still reach the user */
			fwrite(cap.err, 1, cap.err_len, stderr);
		line = line_object(c, dumps[i], &cap);
		status = worst(status, cap.status);
		captured_free(&cap);
		if (json_dumpf(line, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || fputc('\n', stdout) == EOF ||
		    fflush(stdout) != 0) {
			json_decref(line);
			fprintf(stderr, "ntmem: stdout: write failed\n");
			return worst(status, CLI_EXIT_PARTIAL);
		}
		json_decref(line);
	}
	return status;
}
