/* --expect: compare this run's JSON document with a stored one.
 *
 * Left out of the comparison, because they change between runs of the same
 * analysis of the same dump: the tool's version ("ntmem_version",
 * "version"), where the output went ("output_dir"), where the dump was read
 * from (the "path" of the "dump" object, and "file" of a --jsonl line).
 * Everything else, module paths included, is the analysis and is compared. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "expect.h"

#define MAX_SHOWN_DIFFERENCES 200
#define MAX_VALUE_TEXT 120
#define MAX_DEPTH 64

static bool volatile_key(const char *parent, const char *key)
{
	static const char *const anywhere[] = { "ntmem_version", "version", "output_dir" };

	for (size_t i = 0; i < sizeof(anywhere) / sizeof(anywhere[0]); i++)
		if (strcmp(key, anywhere[i]) == 0)
			return true;
	if (strcmp(key, "path") == 0 && parent && strcmp(parent, "dump") == 0)
		return true;
	return strcmp(key, "file") == 0 && !parent;
}

struct differ {
	void (*report)(void *ctx, const char *line);
	void *ctx;
	unsigned count;
};

/* A value as compact JSON, cut to MAX_VALUE_TEXT bytes; "(absent)" for none. */
static void value_text(const json_t *v, char *buf, size_t size)
{
	char *s;

	if (!v) {
		snprintf(buf, size, "(absent)");
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	if (!s) {
		snprintf(buf, size, "?");
		return;
	}
	if (strlen(s) > MAX_VALUE_TEXT)
		snprintf(buf, size, "%.*s...", MAX_VALUE_TEXT, s);
	else
		snprintf(buf, size, "%s", s);
	free(s);
}

static void differ_line(struct differ *d, const char *path, const json_t *want, const json_t *got)
{
	char line[2 * MAX_VALUE_TEXT + 1200], w[MAX_VALUE_TEXT + 8], g[MAX_VALUE_TEXT + 8];

	d->count++;
	value_text(want, w, sizeof(w));
	value_text(got, g, sizeof(g));
	snprintf(line, sizeof(line), "%s: expected %s, got %s", path[0] ? path : ".", w, g);
	d->report(d->ctx, line);
}

/* ".modules[3].name"; keys that are not plain words are quoted. */
static void child_path(char *out, size_t size, const char *path, const char *key, size_t index)
{
	bool plain = key && key[0];

	for (const char *k = key; plain && *k; k++)
		plain = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
			*k == '_';
	if (!key)
		snprintf(out, size, "%s[%zu]", path, index);
	else if (plain)
		snprintf(out, size, "%s.%s", path, key);
	else
		snprintf(out, size, "%s[\"%.200s\"]", path, key);
}

static void compare(struct differ *d, const char *path, const char *parent, const json_t *want,
		    const json_t *got, unsigned depth)
{
	char sub[1024];

	if (json_typeof(want) != json_typeof(got) || depth > MAX_DEPTH ||
	    (!json_is_object(want) && !json_is_array(want))) {
		if (!json_equal((json_t *)want, (json_t *)got))
			differ_line(d, path, want, got);
		return;
	}
	if (json_is_array(want)) {
		size_t nw = json_array_size(want), ng = json_array_size(got);

		for (size_t i = 0; i < nw || i < ng; i++) {
			child_path(sub, sizeof(sub), path, NULL, i);
			if (i < nw && i < ng)
				compare(d, sub, parent, json_array_get(want, i), json_array_get(got, i), depth + 1);
			else
				differ_line(d, sub, json_array_get(want, i), json_array_get(got, i));
		}
		return;
	}
	{
		const char *key;
		json_t *v;

		json_object_foreach((json_t *)want, key, v) {
			if (volatile_key(depth ? parent : NULL, key))
				continue;
			child_path(sub, sizeof(sub), path, key, 0);
			if (json_object_get(got, key))
				compare(d, sub, key, v, json_object_get(got, key), depth + 1);
			else
				differ_line(d, sub, v, NULL);
		}
		json_object_foreach((json_t *)got, key, v) {
			if (volatile_key(depth ? parent : NULL, key) || json_object_get(want, key))
				continue;
			child_path(sub, sizeof(sub), path, key, 0);
			differ_line(d, sub, NULL, v);
		}
	}
}

unsigned json_differences(const json_t *expected, const json_t *got,
			  void (*report)(void *ctx, const char *line), void *ctx)
{
	struct differ d = { report, ctx, 0 };

	compare(&d, "", NULL, expected, got, 0);
	return d.count;
}

struct shown {
	unsigned n;
};

static void print_difference(void *ctx, const char *line)
{
	struct shown *s = ctx;

	if (s->n++ < MAX_SHOWN_DIFFERENCES)
		fprintf(stderr, "ntmem: expect: %s\n", line);
}

int cli_run_expect(const struct cli *c, int (*run)(const struct cli *), const char *expect_path)
{
	struct cli sub = *c;
	struct captured cap;
	json_error_t jerr;
	json_t *want, *got;
	struct shown shown = { 0 };
	unsigned n;
	int status;

	want = json_load_file(expect_path, 0, &jerr);
	if (!want) {
		fprintf(stderr, "ntmem: %s: expect: not a JSON document: line %d: %s\n", expect_path, jerr.line,
			jerr.text);
		return CLI_EXIT_BAD_INPUT;
	}
	sub.json = true;
	cli_run_captured(&sub, run, false, &cap);
	status = cap.status;
	got = cap.out ? json_loadb(cap.out, cap.out_len, 0, &jerr) : NULL;
	if (got && c->json && fwrite(cap.out, 1, cap.out_len, stdout) != cap.out_len)
		status = CLI_EXIT_PARTIAL;
	captured_free(&cap);
	if (!got) {	/* the command said why on stderr (usage or bad input) */
		json_decref(want);
		return status == CLI_EXIT_OK ? CLI_EXIT_PARTIAL : status;
	}
	n = json_differences(want, got, print_difference, &shown);
	if (n > MAX_SHOWN_DIFFERENCES)
		fprintf(stderr, "ntmem: expect: ... and %u more differences\n", n - MAX_SHOWN_DIFFERENCES);
	json_decref(want);
	json_decref(got);
	return n ? CLI_EXIT_DIFFERENT : status;
}
