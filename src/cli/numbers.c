#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int has_hex_letter(const char *s)
{
	for (; *s; s++)
		if (strchr("abcdefABCDEF", *s))
			return 1;
	return 0;
}

int cli_parse_number(const char *s, uint64_t *out)
{
	int base = 10;
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
		if (!*s)
			return -1;
	} else if (has_hex_letter(s)) {
		base = 16;	/* WinDbg style: f7e8b000 */
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}
