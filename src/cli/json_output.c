#include <stdio.h>

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
