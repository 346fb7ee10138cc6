/* ntmem modules: PsLoadedModuleList in load order, WinDbg-`lm`-like, with
 * the address-space region that holds each image (contract: modules). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "parts.h"
#include "modules_triage.h"

static const char *region_of(const struct nm_va_map *m, uint64_t base)
{
	const struct nm_region *r = nm_va_map_find(m, base);

	return r ? r->name : "unknown";
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *module_json(const struct nm_module *mod, const struct nm_va_map *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", string_or_null(mod->name));
	if (!mod->name || mod->name_from_path)
		json_object_set_new(o, "name_state", json_string(nm_page_state_name(mod->name_state)));
	json_object_set_new(o, "name_source", !mod->name ? json_null()
				 : json_string(mod->name_from_path ? "full_dll_name" : "base_dll_name"));
	json_object_set_new(o, "path", string_or_null(mod->path));
	if (!mod->path)
		json_object_set_new(o, "path_state", json_string(nm_page_state_name(mod->path_state)));
	json_object_set_new(o, "base", cli_json_hex(mod->base));
	json_object_set_new(o, "end", cli_json_hex((uint64_t)mod->base + mod->size));
	json_object_set_new(o, "size", json_integer(mod->size));
	json_object_set_new(o, "entry", cli_json_hex(mod->entry_point));
	json_object_set_new(o, "region", json_string(region_of(m, mod->base)));
	json_object_set_new(o, "ldr_entry", cli_json_hex(mod->entry_va));
	return o;
}

void modules_add_json(json_t *doc, const struct nm_kernel *k, const struct nm_module_list *l,
		      const struct nm_va_map *m)
{
	json_t *mods = json_array();

	for (unsigned i = 0; i < l->count; i++)
		json_array_append_new(mods, module_json(&l->items[i], m));
	json_object_set_new(doc, "modules", mods);
	json_object_set_new(doc, "complete", json_boolean(k->has_kdbg && !l->incomplete));
	if (!k->has_kdbg)
		json_object_set_new(doc, "stop_reason", json_string(k->kdbg_error.why));
	else if (l->incomplete)
		json_object_set_new(doc, "stop_reason", json_string(l->stop_reason));
}

/* Names come from the dump: control characters would reach the terminal
 * as escape sequences, so text output shows them as '?'. */
static void print_field(const char *s, int width)
{
	int n = 0;

	for (; *s; s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7F ? '?' : *s);
	for (; n < width; n++)
		putchar(' ');
}

void modules_print_text(const struct nm_kernel *k, const struct nm_module_list *l,
			const struct nm_va_map *m)
{
	/* 8 hex digits for an x86 kernel (text unchanged), 16 for x64 */
	int w = k->mode && k->mode->va_bits > 32 ? 16 : 8;

	printf("%-*s %-*s %-8s %-24s %-20s %s\n", w, "start", w, "end", "size", "region", "module", "path");
	for (unsigned i = 0; i < l->count; i++) {
		const struct nm_module *mod = &l->items[i];
		char name[64];

		if (mod->name)
			snprintf(name, sizeof(name), "%s", mod->name);
		else
			snprintf(name, sizeof(name), "<%s>", nm_page_state_name(mod->name_state));
		printf("%0*llx %0*llx %08x %-24s ", w, (unsigned long long)mod->base,
		       w, (unsigned long long)mod->base + mod->size, mod->size, region_of(m, mod->base));
		print_field(name, 20);
		putchar(' ');
		print_field(mod->path ? mod->path : "<unreadable>", 0);
		putchar('\n');
	}
	printf("%u module%s%s%s\n", l->count, l->count == 1 ? "" : "s",
	       !k->has_kdbg || l->incomplete ? "; list not complete: " : "",
	       !k->has_kdbg ? k->kdbg_error.why : l->incomplete ? l->stop_reason : "");
}

int modules_warn_and_status(const struct cli *c, const struct nm_kernel *k, const struct nm_module_list *l)
{
	if (k->has_kdbg && l->incomplete)
		cli_warn(c, "module list: %s", l->stop_reason);
	return !k->has_kdbg || l->incomplete ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}

int cmd_modules(const struct cli *c)
{
	nm_source *src = NULL;
	struct nm_kernel k;
	struct nm_module_list l = { 0 };
	struct nm_va_map *m;
	bool triage;
	int rc = cli_modules_from_triage(c, &triage);

	if (triage)
		return rc;
	rc = cli_open_va_map(c, &src, &k, &l, &m);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->json) {
		json_t *doc = cli_json_document(c);

		modules_add_json(doc, &k, &l, m);
		cli_json_print(doc);
	} else {
		modules_print_text(&k, &l, m);
	}
	rc = modules_warn_and_status(c, &k, &l);
	nm_modules_free(&l);
	nm_kernel_close(&k);
	nm_source_close(src);
	free(m);
	return rc;
}
