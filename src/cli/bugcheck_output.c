#include "bugcheck_output.h"

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *bugcheck_labels_json(const struct nm_dump_facts *f)
{
	struct nm_bugcheck_info b;
	json_t *params = json_array();

	nm_bugcheck_describe(f->bugcheck_code, f->bugcheck_params[0], &b);
	for (int i = 0; i < 4; i++)
		json_array_append_new(params, json_pack("{s:i, s:o, s:o, s:s}", "index", i + 1,
			"value", cli_json_hex(f->bugcheck_params[i]),
			"meaning", string_or_null(b.params[i].meaning),
			"kind", nm_param_kind_name(b.params[i].kind)));
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "code", cli_json_hex(f->bugcheck_code),
			 "name", string_or_null(b.name), "summary", string_or_null(b.summary),
			 "cause", string_or_null(b.cause), "params", params);
}

int bugcheck_param_width(const struct nm_dump_facts *f)
{
	return f->arch == NM_ARCH_X64 || f->arch == NM_ARCH_ARM64 ? 16 : 8;
}

void bugcheck_labels_print(FILE *out, const struct nm_dump_facts *f)
{
	struct nm_bugcheck_info b;

	nm_bugcheck_describe(f->bugcheck_code, f->bugcheck_params[0], &b);
	fprintf(out, "  name:        %s\n", b.name ? b.name : "(not in ntmem's table)");
	for (int i = 0; i < 4; i++)
		fprintf(out, "  Arg%d: 0x%0*llx  %s\n", i + 1, bugcheck_param_width(f),
			(unsigned long long)f->bugcheck_params[i],
			b.params[i].meaning ? b.params[i].meaning : "");
}
