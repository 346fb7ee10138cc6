/* ntmem modules on a triage dump: the driver list the dump carries in place
 * of page tables (TRIAGE_DUMP DriverListOffset), for any machine. What a
 * triage entry does not hold is null in JSON: the LDR entry's address, the
 * region (no pool map without memory), an entry point the writer left 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "modules_triage.h"

struct triage_module {
	char *path;		/* the DUMP_STRING as UTF-8, NULL when unreadable */
	const char *name;	/* after the last '\\' of path */
};

static void name_of(const struct nm_triage_driver *d, struct triage_module *m)
{
	char *slash;

	m->path = d->name ? nm_utf16le_to_utf8(d->name, d->name_bytes) : NULL;
	m->name = m->path;
	if (m->path && (slash = strrchr(m->path, '\\')) != NULL)
		m->name = slash + 1;
}

static json_t *module_json(const struct nm_triage_driver *d, const struct triage_module *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", m->name ? json_string(m->name) : json_null());
	if (!m->name)
		json_object_set_new(o, "name_state", json_string("not_in_dump"));
	/* a bare name in the pool is no path */
	json_object_set_new(o, "path", m->path && m->name != m->path ? json_string(m->path) : json_null());
	json_object_set_new(o, "base", cli_json_hex(d->base));
	json_object_set_new(o, "end", cli_json_hex(d->base + d->size));
	json_object_set_new(o, "size", json_integer(d->size));
	json_object_set_new(o, "entry", d->entry_point ? cli_json_hex(d->entry_point) : json_null());
	json_object_set_new(o, "region", json_string("unknown"));
	json_object_set_new(o, "ldr_entry", json_null());
	json_object_set_new(o, "checksum", cli_json_hex(d->checksum));
	json_object_set_new(o, "timestamp", cli_json_hex(d->timestamp));
	json_object_set_new(o, "file_offset", cli_json_hex(d->entry_offset));
	return o;
}

/* Names come from the dump: control characters are shown as '?'. */
static void print_field(const char *s, int width)
{
	int n = 0;

	for (; *s; s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7F ? '?' : *s);
	for (; n < width; n++)
		putchar(' ');
}

static void print_header(const struct nm_dump_facts *f)
{
	int w = f->arch == NM_ARCH_X64 || f->arch == NM_ARCH_ARM64 ? 16 : 8;

	printf("driver list of the %s triage dump (no page tables: names, bases and sizes as the dump records them)\n",
	       nm_arch_name(f->arch));
	printf("%-*s %-*s %-8s %-24s %s\n", w, "start", w, "end", "size", "module", "path");
}

static void print_line(const struct nm_dump_facts *f, const struct nm_triage_driver *d,
		       const struct triage_module *m)
{
	int w = f->arch == NM_ARCH_X64 || f->arch == NM_ARCH_ARM64 ? 16 : 8;

	printf("%0*llx %0*llx %08x ", w, (unsigned long long)d->base, w,
	       (unsigned long long)(d->base + d->size), d->size);
	print_field(m->name ? m->name : "<unreadable>", 24);
	putchar(' ');
	print_field(m->path && m->name != m->path ? m->path : "-", 0);
	putchar('\n');
}

/* Into DOC when there is one, else as text. */
static int list(const nm_source *src, const struct nm_triage *t, json_t *doc)
{
	const struct nm_dump_facts *f = nm_source_facts(src);
	json_t *mods = NULL;

	if (doc)
		mods = json_array();
	else
		print_header(f);
	for (uint32_t i = 0; i < t->driver_count; i++) {
		struct nm_triage_driver d;
		struct triage_module m;

		nm_triage_driver(src, t, i, &d);
		name_of(&d, &m);
		if (doc)
			json_array_append_new(mods, module_json(&d, &m));
		else
			print_line(f, &d, &m);
		free(m.path);
	}
	if (doc) {
		json_object_set_new(doc, "modules", mods);
		json_object_set_new(doc, "complete", json_boolean(t->has_driver_list));
		json_object_set_new(doc, "source", json_string("triage_driver_list"));
		if (!t->has_driver_list)
			json_object_set_new(doc, "stop_reason", json_string("the triage dump holds no driver list"));
	} else {
		printf("%u module%s%s\n", t->driver_count, t->driver_count == 1 ? "" : "s",
		       t->has_driver_list ? " (triage driver list)"
					  : "; list not complete: the triage dump holds no driver list");
	}
	return t->has_driver_list ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
}

bool cli_is_triage_dump(const nm_source *src)
{
	return nm_source_facts(src)->type == NM_DUMP_TRIAGE &&
	       nm_source_facts(src)->format == NM_FORMAT_WINDOWS_CRASH_DUMP;
}

int cli_modules_triage_render(const struct cli *c, const nm_source *src, json_t *doc)
{
	struct nm_triage t;
	nm_error err = { { 0 }, { 0 } };

	if (nm_triage_open(src, &t, &err) != 0)
		return cli_fail_input(c, &err);
	return list(src, &t, doc);
}

int cli_modules_from_triage(const struct cli *c, bool *handled)
{
	nm_source *src;
	int rc = cli_open_source(c, &src);

	*handled = true;
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!cli_is_triage_dump(src)) {
		*handled = false;
		nm_source_close(src);
		return CLI_EXIT_OK;
	}
	if (c->argc > 0) {
		nm_source_close(src);
		return cli_fail_usage("%s: unexpected argument '%s'", c->command, c->argv[0]);
	}
	if (c->json) {
		json_t *doc = cli_json_document(c);

		rc = cli_modules_triage_render(c, src, doc);
		if (rc == CLI_EXIT_BAD_INPUT)
			json_decref(doc);
		else
			cli_json_print(doc);
	} else {
		rc = cli_modules_triage_render(c, src, NULL);
	}
	nm_source_close(src);
	return rc;
}
