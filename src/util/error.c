#include <ntmem/error.h>

#include <stdio.h>
#include <string.h>

int nm_fail(nm_error *err, const char *what, const char *why_fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	snprintf(err->what, sizeof(err->what), "%s", what ? what : "");
	va_start(ap, why_fmt);
	vsnprintf(err->why, sizeof(err->why), why_fmt, ap);
	va_end(ap);
	return -1;
}
