#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntmem/carve_files.h>

#include "cli.h"

json_t *cli_json_document(const struct cli *c)
{
	return json_pack("{s:s, s:s, s:s}", "schema", "ntmem/1", "command", c->command, "ntmem_version",
			 NTMEM_VERSION);
}

json_t *cli_json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

void cli_json_print(json_t *doc)
{
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
}

void cli_json_set_path(json_t *obj, const char *key, const char *path)
{
	size_t n = strlen(path);
	char *text = malloc(3 * n + 1);
	char hex_key[64];

	if (!text)
		return;
	nm_utf8_sanitize(path, text, 3 * n + 1);
	json_object_set_new(obj, key, json_string(text));
	if (strcmp(text, path) != 0) {
		char *hex = malloc(2 * n + 1);

		for (size_t i = 0; hex && i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned char)path[i]);
		snprintf(hex_key, sizeof(hex_key), "%s_hex", key);
		if (hex)
			json_object_set_new(obj, hex_key, json_string(hex));
		free(hex);
	}
	free(text);
}
