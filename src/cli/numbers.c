/* Numbers on the command line, read as WinDbg reads them (contract:
 * Invocation): an analyst pastes addresses from WinDbg and from ntmem's own
 * tables, which are hex, so hex is the default and decimal is asked for. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_number(const char *s, uint64_t *out)
{
	int base = 16;
	char *end;
	unsigned long long v;

	if (!s)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'n' || s[1] == 'N')) {
		s += 2;
		base = 10;
	}
	/* strtoull would take a sign, spaces or a second prefix ("0x0x1"). */
	if (!isxdigit((unsigned char)s[0]) || (base == 10 && !isdigit((unsigned char)s[0])))
		return -1;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}
